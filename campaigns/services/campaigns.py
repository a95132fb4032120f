"""Writes on sites and campaigns. Every status change goes through here (admin actions, API)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from campaigns.content import content_clean
from campaigns.models import Campaign, Site, Variant
from campaigns.selectors import config_invalidate


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


def site_create(*, owner, name: str, allowed_origins: list[str], **fields) -> Site:
    site = Site(owner=owner, name=name, allowed_origins=allowed_origins, **fields)
    site.full_clean()
    site.save()
    return site


@transaction.atomic
def campaign_create(*, site: Site, name: str, message_type: str, variants: list[dict], **fields) -> Campaign:
    """A campaign and its variants, validated exactly as in admin and the API."""
    campaign = Campaign(site=site, name=name, message_type=message_type, **fields)
    campaign.full_clean()
    campaign.save()
    for spec in variants:
        variant_create(campaign=campaign, **spec)
    return campaign


def variant_create(*, campaign: Campaign, name: str, weight: int = 50, content: dict) -> Variant:
    cleaned, errors = content_clean(message_type=campaign.message_type, content=content)
    if errors:
        raise ValidationError({"content": errors})
    variant = Variant(campaign=campaign, name=name, weight=weight, content=cleaned)
    variant.full_clean()
    variant.save()
    return variant
