"""The site map collect checks events against: a site's id, origins, kept query parameters, maximum order value,
its campaigns' variant ids and their lead magnets, cached so that a collect request costs no query."""

import time
from dataclasses import dataclass, field

from django.core.cache import cache

from campaigns.content import magnet_of
from campaigns.ingest.url_hygiene import DEFAULT_KEPT_PARAMS
from campaigns.models import Site, Variant
from campaigns.process_cache import LocalCopies, cache_key, dumps, loads, redis_raw
from campaigns.selectors.assets import site_assets_by_ref

DEFAULT_KEPT = frozenset(DEFAULT_KEPT_PARAMS)

# The version changes with SiteIngest's fields, so that a map cached without some is never read.
INGEST_CACHE_PREFIX = "ingest:v3:"
INGEST_CACHE_SECONDS = 60
# An unknown campaign id in an event refreshes a cached map at most this often (a campaign created
# a moment ago is accepted quickly; a client sending random ids cannot force a query per request).
INGEST_REFRESH_SECONDS = 5
UNKNOWN_SITE_SECONDS = 10


@dataclass(frozen=True)
class SiteIngest:
    """What the collect endpoint needs to know about a site, without a query per event."""

    site_id: int
    allowed_origins: tuple[str, ...]
    # campaign id -> ids of its variants
    campaigns: dict[int, frozenset[int]] = field(default_factory=dict)
    built_at: float = 0.0
    # The query parameters stored page URLs keep (campaigns/ingest/url_hygiene.py).
    kept_params: frozenset[str] = DEFAULT_KEPT
    # A purchase or conversion value above this is refused (Site.max_order_value).
    max_order_value: float = 100_000.0
    # variant id -> (asset id, title) of the lead magnet its submit earns (only those whose file the site has).
    magnets: dict[int, tuple[int, str]] = field(default_factory=dict)


def ingest_cache_key(public_key: str) -> str:
    return INGEST_CACHE_PREFIX + public_key


def _site_ingest_build(*, public_key: str) -> SiteIngest | None:
    """One query: the site with its campaigns' variant ids (campaigns without variants included)."""
    rows = list(
        Site.objects.filter(public_key=public_key).values_list(
            "id", "allowed_origins", "kept_query_params", "campaigns__id", "campaigns__variants__id", "max_order_value"
        )
    )
    if not rows:
        return None
    campaigns: dict[int, set[int]] = {}
    for _site_id, _origins, _kept, campaign_id, variant_id, _max_order_value in rows:
        if campaign_id is not None:
            variants = campaigns.setdefault(campaign_id, set())
            if variant_id is not None:
                variants.add(variant_id)
    return SiteIngest(
        site_id=rows[0][0],
        magnets=_magnets(site_id=rows[0][0]),
        allowed_origins=tuple(rows[0][1] or ()),
        campaigns={c: frozenset(v) for c, v in campaigns.items()},
        built_at=time.time(),
        kept_params=frozenset(name for name in rows[0][2] or () if isinstance(name, str)),
        max_order_value=float(rows[0][5]),
    )


def _magnets(*, site_id: int) -> dict[int, tuple[int, str]]:
    """The lead variants with a magnet whose file the site has (one query, a second only when there are some)."""
    wanted = {}
    for variant_id, content in Variant.objects.filter(
        campaign__site_id=site_id, campaign__message_type="lead", content__has_key="magnet"
    ).values_list("id", "content"):
        if (magnet := magnet_of(content)) is not None:
            wanted[variant_id] = magnet
    refs = site_assets_by_ref(site_id=site_id) if wanted else {}
    return {variant_id: (refs[ref], title) for variant_id, (ref, title) in wanted.items() if ref in refs}


# Per process, as the config endpoint does: the map is served from memory for a second, then read again.
LOCAL_TRUST_SECONDS = 1.0
_LOCAL = LocalCopies()


def site_ingest_get(*, public_key: str, refresh: bool = False) -> SiteIngest | None:
    """The cached map, or built (one query); None for an unknown key (remembered briefly).

    Read on every collect request: from this process's copy for up to a second, else straight from Redis
    when the cache is Redis (one round trip, none of the cache layer's per-call cost), under the key the
    cache would use, so invalidation through `cache.delete` reaches it.
    """
    key = ingest_cache_key(public_key)
    client = redis_raw()
    if not refresh:
        local = _LOCAL.get(key, max_age=LOCAL_TRUST_SECONDS) if client is not None else None
        if local is not None and local[1]:
            return local[0] or None
        cached = loads(client.get(cache_key(key))) if client is not None else cache.get(key)
        if cached is not None:
            if client is not None:
                _LOCAL.keep(key, cached)
            return cached or None  # False marks an unknown key
    ingest = _site_ingest_build(public_key=public_key)
    timeout = INGEST_CACHE_SECONDS if ingest else UNKNOWN_SITE_SECONDS
    if client is not None:
        client.set(cache_key(key), dumps(ingest or False), ex=timeout)
        _LOCAL.keep(key, ingest or False)
    else:
        cache.set(key, ingest or False, timeout)
    return ingest


def site_ingest_forget(*, public_key: str) -> None:
    """A site, campaign or variant changed: drop the map here and in Redis."""
    key = ingest_cache_key(public_key)
    _LOCAL.forget(key)
    cache.delete(key)


def site_ingest_refresh_due(*, ingest: SiteIngest) -> bool:
    return time.time() - ingest.built_at > INGEST_REFRESH_SECONDS
