"""Reads: the widget config of a site, built, cached and invalidated."""

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache as once

from django.conf import settings
from django.core.cache import cache
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone

from campaigns.content import content_clean, magnet_of
from campaigns.models import Audience, Campaign, PageGroup, Site, Variant
from campaigns.models.site import consent_mode_map_default
from campaigns.outages import DATABASE_ERRORS, REDIS_ERRORS
from campaigns.process_cache import LocalCopies, cache_key, loads, redis_raw
from campaigns.selectors.assets import site_assets_by_ref
from campaigns.targeting.compile import config_compile

# The version changes with the body's shape, so that a body cached in an older shape is never served.
CONFIG_CACHE_PREFIX = "config:v3:"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SiteConfig:
    """A site's widget config, ready to serve: the same bytes for every visitor."""

    site_id: int
    body: bytes
    etag: str
    allowed_origins: tuple[str, ...]


def config_cache_key(public_key: str) -> str:
    return CONFIG_CACHE_PREFIX + public_key


def campaigns_live(*, site: Site, now: datetime):
    """Active campaigns inside their start/end dates, with their variants (two queries)."""
    return (
        Campaign.objects.filter(site=site, status=Campaign.Status.ACTIVE)
        .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now))
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .prefetch_related(Prefetch("variants", queryset=Variant.objects.order_by("id")))
        .order_by("-priority", "id")
    )


def next_schedule_boundary(*, site: Site, now: datetime) -> datetime | None:
    """The next start or end of an active campaign: the config must change then, unsaved."""
    active = Campaign.objects.filter(site=site, status=Campaign.Status.ACTIVE)
    start = active.filter(starts_at__gt=now).order_by("starts_at").values_list("starts_at", flat=True).first()
    end = active.filter(ends_at__gt=now).order_by("ends_at").values_list("ends_at", flat=True).first()
    upcoming = [moment for moment in (start, end) if moment is not None]
    return min(upcoming) if upcoming else None


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _magnet_public(content: dict, *, refs) -> dict:
    """The public side of a lead magnet: its title alone, and only when the site has its file (the reference, and
    the file, stay on the server until a stored lead earns a signed link)."""
    magnet = magnet_of(content)
    if magnet is None:
        return content
    content = {key: value for key, value in content.items() if key != "magnet"}
    if magnet[0] in refs():
        content["magnet"] = {"title": magnet[1]}
    return content


def site_config_build(*, site: Site, now: datetime) -> dict:
    refs = once(lambda: site_assets_by_ref(site_id=site.id))  # read once, only for a magnet
    campaigns = [
        entry for campaign in campaigns_live(site=site, now=now)
        if (entry := campaign_config_build(campaign, asset_refs=refs))
    ]
    return {"site": site_config_head(site=site), "campaigns": campaigns}


def site_audiences_config(*, site: Site) -> dict:
    """The site's audiences and page groups, only when it has some (two queries): what a campaign's targeting may
    name, and what the widget counts and evaluates before each page view (targeting/compile.py compiles both)."""
    audiences = [{"id": a.id, "rule": a.rule} for a in Audience.objects.filter(site=site).order_by("id")]
    groups = [
        {"name": g.name, "url_rule": g.url_rule, "stage": g.stage}
        for g in PageGroup.objects.filter(site=site).order_by("order", "id")
    ]
    extras = {}
    if audiences:
        extras["audiences"] = audiences
    if groups:
        extras["groups"] = groups
    return extras


def campaign_config_build(campaign: Campaign, *, asset_refs=None) -> dict | None:
    """A campaign as the widget reads it (before compilation), with its valid variants; None when it has none.
    `asset_refs` (a callable, read once) saves a query per magnet when a whole site is built."""
    refs = asset_refs or once(lambda: site_assets_by_ref(site_id=campaign.site_id))
    variants = []
    for variant in campaign.variants.all():
        content, errors = content_clean(message_type=campaign.message_type, content=variant.content)
        if errors:
            continue  # an invalid variant never reaches a website
        if "magnet" in content:
            content = _magnet_public(content, refs=refs)
        weight = variant.weight
        if campaign.winner_id is not None:
            weight = 100 if variant.id == campaign.winner_id else 0  # a declared winner takes all traffic
        variants.append({"id": variant.id, "name": variant.name, "weight": weight, "content": content})
    if not variants:
        return None
    return {
        "id": campaign.id,
        "type": campaign.message_type,
        "priority": campaign.priority,
        "language": campaign.language or None,
        "starts_at": _iso(campaign.starts_at),
        "ends_at": _iso(campaign.ends_at),
        "schedule": {"weekdays": None, "hours": None, **(campaign.schedule or {})},
        "triggers": campaign.triggers or [],
        "targeting": campaign.targeting,
        "frequency": campaign.frequency or {},
        "goal": campaign.goal or {},
        "control_share": 0.0 if campaign.winner_id is not None else campaign.control_share,
        "variants": variants,
    }


def site_config_head(*, site: Site) -> dict:
    """The config's `site` part (the site's audiences and page groups read with it: two queries)."""
    return {
        "key": site.public_key,
        "tz": site.time_zone,
        "language": site.language,
        "consent": {
            "required": site.consent_required,
            "policy_url": site.privacy_policy_url,
            "policy_version": site.policy_version,
            "show_before_consent": site.show_before_consent,
            **site_consent_extras(site=site),
        },
        "cap": {
            "max_overlays_per_session": site.max_overlays_per_session,
            "min_overlay_gap_seconds": site.min_overlay_gap_seconds,
        },
        "endpoints": {"events": reverse("widget:events", kwargs={"public_key": site.public_key})},
        **site_audiences_config(site=site),
    }


def site_consent_extras(*, site: Site) -> dict:
    """What the widget needs of the consent options, only when set: `source` (another consent tool to read),
    `gcm` (Consent Mode type -> category, to send updates or to read them) and `erase` (a denial asks the server
    to erase the visitor)."""
    extras = {}
    if site.consent_source != Site.ConsentSource.OURS:
        extras["source"] = site.consent_source
    if site.consent_mode or site.consent_source == Site.ConsentSource.GCM:
        extras["gcm"] = site.consent_mode_map or consent_mode_map_default()
    if site.consent_erase_on_denial:
        extras["erase"] = True
    return extras


# Per process: the last config served for each site. For LOCAL_CONFIG_TRUST_SECONDS it is served as is; after
# that, while the small version key in Redis still names it, so a hit rarely costs more than one short GET
# instead of moving and unpickling the whole body. A change drops this process's copy at once (signals) and the
# other processes' within LOCAL_CONFIG_TRUST_SECONDS: nothing next to the max-age browsers and CDNs keep it for.
LOCAL_CONFIG_TRUST_SECONDS = 1.0
_LOCAL_CONFIGS = LocalCopies()


def config_version_key(public_key: str) -> str:
    return CONFIG_CACHE_PREFIX + "version:" + public_key


def _local_config(public_key: str) -> SiteConfig | None:
    client = redis_raw()
    entry = _LOCAL_CONFIGS.get(public_key, max_age=LOCAL_CONFIG_TRUST_SECONDS)
    if client is None or entry is None:
        return None
    config, trusted = entry
    if trusted:
        return config
    version = client.get(cache_key(config_version_key(public_key)))
    if version is None or loads(version) != config.etag:
        return None
    _LOCAL_CONFIGS.keep(public_key, config)
    return config


def _local_config_keep(public_key: str, config: SiteConfig) -> None:
    if redis_raw() is None:
        return  # the local-memory cache is already in process
    _LOCAL_CONFIGS.keep(public_key, config)


# Per process: the last config each site was served with, and when it was last known good. While the database or
# Redis cannot be reached, it is served (same body, same ETag) for up to settings.CONFIG_STALE_SECONDS.
_LAST_GOOD_CONFIGS = LocalCopies()


def site_config_get(*, public_key: str) -> SiteConfig | None:
    """The site's config; during an outage of the database or Redis its last good one, for a while.

    Raises the outage's error when this process has no config of the site, or only one older than
    CONFIG_STALE_SECONDS: the endpoint then answers 503.
    """
    try:
        config = _site_config_fresh(public_key=public_key)
    except (*DATABASE_ERRORS, *REDIS_ERRORS) as error:
        entry = _LAST_GOOD_CONFIGS.get(public_key, max_age=settings.CONFIG_STALE_SECONDS)
        if entry is None or not entry[1]:
            raise
        logger.warning("site_config_get: %s; serving the last good config of %s", error.__class__.__name__,
                       public_key)
        return entry[0]
    if config is not None:
        _LAST_GOOD_CONFIGS.keep(public_key, config)
    return config


def _site_config_fresh(*, public_key: str) -> SiteConfig | None:
    """The cached config, or built and cached until the next schedule boundary; None for an unknown key."""
    local = _local_config(public_key)
    if local is not None:
        return local
    key = config_cache_key(public_key)
    cached = cache.get(key)
    if cached is not None:
        _local_config_keep(public_key, cached)
        return cached
    site = Site.objects.filter(public_key=public_key).first()
    if site is None:
        return None
    now = timezone.now()
    # The widget evaluates the compiled fields; previews and /decide read the readable ones beside them.
    config = config_compile(config=site_config_build(site=site, now=now), now=int(now.timestamp() * 1000))
    # The version covers the allowed origins too: they decide the CORS answer served with this body.
    canonical = json.dumps([config, site.allowed_origins], sort_keys=True, separators=(",", ":"))
    version = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    config["version"] = version
    body = json.dumps(config, separators=(",", ":")).encode()
    result = SiteConfig(
        site_id=site.id, body=body, etag=f'"{version}"', allowed_origins=tuple(site.allowed_origins or ())
    )
    timeout = settings.CONFIG_CACHE_SECONDS
    boundary = next_schedule_boundary(site=site, now=now)
    if boundary is not None:
        timeout = max(1, min(timeout, int((boundary - now).total_seconds()) + 1))
    # The version key lives no longer than the config: when either is gone, the next request rebuilds.
    cache.set_many({key: result, config_version_key(public_key): result.etag}, timeout)
    _local_config_keep(public_key, result)
    return result


def config_invalidate(*, public_key: str) -> None:
    _LOCAL_CONFIGS.forget(public_key)
    _LAST_GOOD_CONFIGS.forget(public_key)
    cache.delete_many([config_cache_key(public_key), config_version_key(public_key)])
