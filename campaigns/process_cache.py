"""What a process keeps for the public endpoints' hot paths: copies of shared values, and Redis without Django's
cache layer.

One staleness protocol for every per-process copy (the widget configs, their last good copies served during an
outage, the collect site maps, the set of site keys): a copy records when it was last known good, on this process's
monotonic clock (`clock()`), and whoever reads it says how old it may be, in seconds: `stale(checked_at,
max_age=...)`, or `LocalCopies.get(key, max_age=...)`. A change drops this process's copy at once (the signals call
`forget`) and the other processes' within the max_age their readers give.

Redis: Django's RedisCache builds a new client object for each operation (a large share of a small request).
`redis_raw()` keeps one client per process, on the server the default cache uses, and `cache_key()` names keys the
way that cache does, so `cache.delete()` and `cache.clear()` still reach what is written here. It returns None
without a Redis cache (the demo): callers then use `django.core.cache.cache`.
"""

import os
import pickle
import time
from collections import OrderedDict
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache

REDIS_CACHE_BACKEND = "django.core.cache.backends.redis.RedisCache"

clock = time.monotonic


def stale(checked_at: float, *, max_age: float, now: float | None = None) -> bool:
    """Whether a copy last known good at `checked_at` (a `clock()` reading) is at least `max_age` seconds old."""
    return (clock() if now is None else now) - checked_at >= max_age


class LocalCopies:
    """Copies of shared values by key, the least recently kept dropped beyond `size`."""

    def __init__(self, *, size: int = 1024) -> None:
        self.size = size
        self._copies: OrderedDict[str, tuple[object, float]] = OrderedDict()

    def get(self, key: str, *, max_age: float) -> tuple[object, bool] | None:
        """(value, fresh) or None: fresh while last known good less than `max_age` seconds ago. A reader that may
        still use an older copy (after checking it against its source, or during an outage) gets it too."""
        entry = self._copies.get(key)
        if entry is None:
            return None
        value, checked_at = entry
        return value, not stale(checked_at, max_age=max_age)

    def keep(self, key: str, value) -> None:
        """Remember `value` as known good now (also how a reader that checked an older copy renews it)."""
        self._copies[key] = (value, clock())
        self._copies.move_to_end(key)
        while len(self._copies) > self.size:
            self._copies.popitem(last=False)

    def forget(self, key: str) -> None:
        self._copies.pop(key, None)


@lru_cache(maxsize=4)
def _client(location: str, pid: int):
    import redis

    # One connection held by the client: taking one from the pool and giving it back costs more CPU than
    # the command itself (two commands on every collect request). Web and Celery workers run one request
    # or task at a time; a pipeline still takes its own connection from the pool. Keyed by process id, so
    # a forked child never shares its parent's socket.
    return redis.Redis.from_url(
        location, socket_timeout=1, socket_connect_timeout=1, single_connection_client=True
    )


def redis_raw():
    """The Redis client of the default cache, or None when the cache is not Redis."""
    config = settings.CACHES["default"]
    if config.get("BACKEND") != REDIS_CACHE_BACKEND:
        return None
    location = config["LOCATION"]
    return _client(location if isinstance(location, str) else location[0], os.getpid())


def cache_key(key: str) -> str:
    """The key Django's cache uses for `key` (prefix and version included)."""
    return cache.make_key(key)


def loads(raw: bytes | None):
    """A value as Django's RedisCache stores it: a plain integer, or a pickle."""
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return pickle.loads(raw)  # noqa: S301 (our own cache, written by dumps below or by Django)


def dumps(value) -> bytes | int:
    return value if type(value) is int else pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
