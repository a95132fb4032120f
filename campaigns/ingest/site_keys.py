"""The public keys of every site, held by each process: the widget's endpoints refuse an unknown key without a query.

A key that is not in the set never reaches the database, nor the config and ingest caches (whose negative entries
do not help against random keys). The set holds the keys only (a few hundred kilobytes for thousands of sites) and
is loaded whole, in one query of one column. A version in the cache changes whenever a site is saved or deleted
(campaigns/signals.py): a key not in the set reads it (one Redis GET, so a site created by another process is known
at once), a key in the set at most every CHECK_SECONDS (so a deleted site's key is refused soon everywhere); the keys
are loaded again when it changed, and in any case after KNOWN_KEYS_REFRESH_SECONDS. With the local-memory cache (no
Redis), which other processes do not share, an unknown key loads the keys again at most every CHECK_SECONDS. Ages are
measured as every per-process copy's are (campaigns/process_cache.py: `clock`, `stale`).
"""

import logging
import math
import re
import secrets
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from redis.exceptions import RedisError

from campaigns.models import Site
from campaigns.process_cache import cache_key, clock, loads, redis_raw, stale

VERSION_KEY = "site-keys:version"
LOCAL_CACHE_BACKEND = "django.core.cache.backends.locmem.LocMemCache"
CHECK_SECONDS = 1.0
# Site.public_key's alphabet and length (public_key_new): anything else, NUL and control characters included, is
# not a key and is never looked up.
KEY_FORM = re.compile(r"[A-Za-z0-9_-]{1,40}")

logger = logging.getLogger(__name__)


class _Known(NamedTuple):
    keys: frozenset[str]
    version: int | None
    # False until loaded, after a site changed here, or when the last load failed: every key is then looked up by
    # the caller as if there were no set.
    trusted: bool
    loaded_at: float
    checked_at: float
    # After the cache failed to answer, the version is not read again before CHECK_SECONDS (a cache that times out
    # would otherwise hold every request with an unknown key for the timeout).
    cache_failed_at: float = -math.inf


# Replaced whole, never changed in place: a thread reads one consistent state without a lock.
_known = _Known(keys=frozenset(), version=None, trusted=False, loaded_at=-math.inf, checked_at=-math.inf)


def site_key_known(*, public_key: str) -> bool:
    """False for a key no site has; True for a site's key, or while the keys cannot be trusted (not loaded yet, or
    the database unavailable): the caller's own lookup then decides."""
    if not KEY_FORM.fullmatch(public_key):
        return False
    known, now = _known, clock()
    due = stale(known.checked_at, max_age=CHECK_SECONDS, now=now)
    if not known.trusted or stale(known.loaded_at, max_age=settings.KNOWN_KEYS_REFRESH_SECONDS, now=now):
        if due:
            known = _load(now=now, version=_version(now=now))
    elif _cache_is_local():
        # No cache shared with the other processes, so no version to read: an unknown key loads the keys again, at
        # most every CHECK_SECONDS (a site created by another process is known within that time).
        if due and public_key not in known.keys:
            known = _load(now=now, version=None)
    elif (due or public_key not in known.keys) and stale(known.cache_failed_at, max_age=CHECK_SECONDS, now=now):
        version = _version(now=now)
        known = _load(now=now, version=version) if version != known.version else _checked(now=now)
    return not known.trusted or public_key in known.keys


def _cache_is_local() -> bool:
    return settings.CACHES["default"]["BACKEND"] == LOCAL_CACHE_BACKEND


def _version(*, now: float) -> int | None:
    """The version in the cache, read before the keys: a site created meanwhile changes it again."""
    global _known
    try:
        client = redis_raw()
        return loads(client.get(cache_key(VERSION_KEY))) if client is not None else cache.get(VERSION_KEY)
    except RedisError:
        # Taken as unchanged while the cache is away: the keys are still loaded again after the refresh period.
        logger.warning("site keys: the cache is unavailable, version not read", exc_info=True)
        _known = _known._replace(cache_failed_at=now)
        return _known.version


def _checked(*, now: float) -> _Known:
    global _known
    _known = _known._replace(checked_at=now)
    return _known


def _load(*, now: float, version: int | None) -> _Known:
    global _known
    try:
        keys = frozenset(Site.objects.values_list("public_key", flat=True))
    except DatabaseError:
        # Tried again after CHECK_SECONDS; meanwhile every key goes to the caller's lookup, which answers the outage.
        logger.warning("site keys: the database is unavailable, keys not loaded", exc_info=True)
        _known = _known._replace(trusted=False, checked_at=now)
        return _known
    _known = _Known(keys=keys, version=version, trusted=True, loaded_at=now, checked_at=now,
                    cache_failed_at=_known.cache_failed_at)
    return _known


def site_keys_changed() -> None:
    """A site was created, changed or deleted: every process loads the keys again, this one at its next request."""
    global _known
    _known = _known._replace(trusted=False, checked_at=-math.inf)
    try:
        cache.set(VERSION_KEY, secrets.randbits(62), None)
    except RedisError:
        logger.warning("site keys: the cache is unavailable, other processes see the change on their refresh",
                       exc_info=True)
