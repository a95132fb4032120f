"""A draft campaign made from a gallery template."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from campaigns.gallery.catalog import gallery_template_get
from campaigns.models import Campaign, Site
from campaigns.services import campaign_create

ERROR_NOT_YOUR_SITE = "You can only add campaigns to your own sites."


def _countdowns_end(*, variants: list[dict], ends_at: datetime) -> None:
    """A countdown that names no end counts down to the campaign's end."""
    stamp = ends_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for variant in variants:
        countdown = variant["content"].get("countdown")
        if isinstance(countdown, dict) and not countdown.get("ends_at") and not countdown.get("minutes"):
            countdown["ends_at"] = stamp


def campaign_from_template(
    *, template_key: str, site: Site, owner, name: str | None = None, now: datetime | None = None,
    fields: dict | None = None,
) -> Campaign:
    """A draft campaign of `site` with the template's rules and variants, validated as the admin form validates
    a campaign (raises ValidationError). `owner` is the person asking: they must own or help run the site.
    `fields` replaces some of the template's rule fields (a draft made for one place: its targeting, triggers).
    Raises KeyError for an unknown template and PermissionDenied for someone else's site."""
    template = gallery_template_get(key=template_key)
    if not Site.objects.for_user(owner).filter(pk=site.pk).exists():
        raise PermissionDenied(ERROR_NOT_YOUR_SITE)
    rule_fields = {**template.campaign_fields(), **(fields or {})}
    variants = template.variants()
    if template.ends_in_days:
        rule_fields["ends_at"] = (now or timezone.now()) + timedelta(days=template.ends_in_days)
        _countdowns_end(variants=variants, ends_at=rule_fields["ends_at"])
    return campaign_create(
        site=site, name=name or template.name, message_type=template.message_type, status=Campaign.Status.DRAFT,
        variants=variants, check_assets=False, **rule_fields,
    )
