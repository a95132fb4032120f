"""The installation check's one write: an owner adds a refused origin to the site's allowed origins."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from campaigns.ingest.origins import origin_normalize
from campaigns.models import RefusedOrigin, Site

ERROR_NOT_AN_ORIGIN = _("{origin!r} is not an origin (scheme://host[:port]).")


@transaction.atomic
def site_origin_add(*, site: Site, origin: str) -> str:
    """Add `origin` to the site's allowed origins (once) and forget it as refused; returns it normalized."""
    normalized = origin_normalize(origin)
    if normalized is None:
        raise ValidationError(ERROR_NOT_AN_ORIGIN.format(origin=origin))
    site = Site.objects.select_for_update().get(pk=site.pk)
    if normalized not in {origin_normalize(o) for o in site.allowed_origins or []}:
        site.allowed_origins = [*(site.allowed_origins or []), normalized]
        site.save(update_fields=["allowed_origins"])
    RefusedOrigin.objects.filter(site=site, origin=normalized).delete()
    return normalized
