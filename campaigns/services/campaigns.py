"""Writes on sites and campaigns. Every status change goes through here (admin actions, API)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from campaigns.content import content_clean
from campaigns.models import Campaign, Site, Variant
from campaigns.selectors.assets import magnet_asset_errors, site_assets_by_ref
from campaigns.selectors.config import config_invalidate
from campaigns.targeting.validation import validate_campaign_rules

RULE_FIELDS = ("triggers", "targeting", "frequency", "schedule", "goal")
RULE_DEFAULTS = {"triggers": [], "frequency": {}, "schedule": {}, "goal": {}}  # targeting: None is "everyone"
ERROR_ENDS_BEFORE_START = "ends_at: must be after starts_at"
ERROR_NO_VARIANT = "variants: at least one variant is required"


class CampaignInvalid(Exception):
    """A campaign's input refused: every problem at once, each a line "field.path: message"."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def campaigns_set_status(*, campaigns, status: str) -> int:
    """Change the status of campaigns; returns how many changed. The config of their sites is dropped."""
    ids = list(campaigns.exclude(status=status).values_list("id", flat=True))
    with transaction.atomic():
        changed = Campaign.objects.filter(id__in=ids).update(status=status)
    for public_key in Site.objects.filter(campaigns__id__in=ids).values_list("public_key", flat=True).distinct():
        config_invalidate(public_key=public_key)
    return changed


@transaction.atomic
def campaign_duplicate(*, campaign: Campaign) -> Campaign:
    """A draft copy with the same rules and variants; results are not copied."""
    variants = list(campaign.variants.all())
    copy = Campaign.objects.get(pk=campaign.pk)
    copy.pk = None
    copy.id = None
    copy.name = f"{campaign.name} (copy)"
    copy.status = Campaign.Status.DRAFT
    copy.save()
    Variant.objects.bulk_create(
        [Variant(campaign=copy, name=v.name, weight=v.weight, content=v.content) for v in variants]
    )
    return copy


def site_create(*, owner, name: str, allowed_origins: list[str] | None = None, **fields) -> Site:
    site = Site(owner=owner, name=name, allowed_origins=[] if allowed_origins is None else allowed_origins, **fields)
    site.full_clean()
    site.save()
    return site


def site_update(*, site: Site, **fields) -> Site:
    """The given fields changed, checked as the model checks them (ValidationError), and saved."""
    for field, value in fields.items():
        setattr(site, field, value)
    site.full_clean()
    site.save()
    return site


def site_delete(*, site: Site) -> None:
    site.delete()


@transaction.atomic
def campaign_create(*, site: Site, name: str, message_type: str, variants: list[dict], check_assets: bool = True,
                    **fields) -> Campaign:
    """A campaign and its variants, validated exactly as in admin and the API. `check_assets=False` lets a gallery
    draft name a lead magnet file the site does not have yet: the admin asks for it when the draft is saved, and
    until then no link is handed out."""
    campaign = Campaign(site=site, name=name, message_type=message_type, **fields)
    campaign.full_clean()
    campaign.save()
    for spec in variants:
        variant_create(campaign=campaign, check_assets=check_assets, **spec)
    return campaign


def variant_create(*, campaign: Campaign, name: str, weight: int = 50, content: dict,
                   check_assets: bool = True) -> Variant:
    cleaned, errors = content_clean(message_type=campaign.message_type, content=content)
    if not errors and check_assets:
        errors = magnet_asset_errors(site_id=campaign.site_id, content=cleaned)
    if errors:
        raise ValidationError({"content": errors})
    variant = Variant(campaign=campaign, name=name, weight=weight, content=cleaned)
    variant.full_clean()
    variant.save()
    return variant


def campaign_input_errors(*, campaign: Campaign | None, fields: dict, variants: list[dict] | None) -> list[str]:
    """Every problem of a campaign's new values, read over the stored campaign's (an update may send only some):
    its rules against the site's kept query parameters, its dates, and each variant's content for its message
    type. Cleans each variant's content in place."""
    merged = {key: fields.get(key, getattr(campaign, key, None) if campaign else None) for key in RULE_FIELDS}
    merged = {key: (RULE_DEFAULTS.get(key) if value is None and key != "targeting" else value)
              for key, value in merged.items()}
    site = fields.get("site", getattr(campaign, "site", None) if campaign else None)
    kept = frozenset(site.kept_query_params or ()) if site is not None else None
    errors = validate_campaign_rules(**merged, kept_params=kept)
    starts_at = fields.get("starts_at", getattr(campaign, "starts_at", None))
    ends_at = fields.get("ends_at", getattr(campaign, "ends_at", None))
    if starts_at and ends_at and ends_at <= starts_at:
        errors.append(ERROR_ENDS_BEFORE_START)
    message_type = fields.get("message_type", getattr(campaign, "message_type", "popup"))
    refs = site_assets_by_ref(site_id=site.id) if site is not None and variants else None
    for index, variant in enumerate(variants or []):
        cleaned, content_errors = content_clean(message_type=message_type, content=variant.get("content", {}))
        if not content_errors and site is not None:
            content_errors = magnet_asset_errors(site_id=site.id, content=cleaned, refs=refs)
        errors += [f"variants[{index}].{message}" for message in content_errors]
        variant["content"] = cleaned
    if not campaign and not variants:
        errors.append(ERROR_NO_VARIANT)
    return errors


@transaction.atomic
def campaign_save(*, campaign: Campaign | None, variants: list[dict] | None, **fields) -> Campaign:
    """A new campaign (campaign None) or the given fields of one changed, with its variants: every problem raised
    at once (CampaignInvalid). On a change, variants with an id are updated, without one created, and omitted ones
    kept (weight 0 stops one)."""
    errors = campaign_input_errors(campaign=campaign, fields=fields, variants=variants)
    if errors:
        raise CampaignInvalid(errors)
    if campaign is None:
        return campaign_create(variants=[{k: v for k, v in spec.items() if k != "id"} for spec in variants], **fields)
    for field, value in fields.items():
        setattr(campaign, field, value)
    campaign.save()
    if variants is not None:
        existing = {variant.id: variant for variant in campaign.variants.all()}
        for spec in variants:
            spec = dict(spec)
            variant = existing.get(spec.pop("id", None))
            if variant is None:
                variant_create(campaign=campaign, **spec)
                continue
            for field, value in spec.items():
                setattr(variant, field, value)
            variant.save()
    return campaign
