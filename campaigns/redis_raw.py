"""Redis for the collect endpoint's hot path, without the cost of Django's cache layer on every call.

Django's RedisCache builds a new client object for each operation (a large share of a small request).
This module keeps one client per process, on the server the default cache uses, and names keys the
way that cache does, so `cache.delete()` and `cache.clear()` still reach what is written here.
Returns None without a Redis cache (the demo): callers then use `django.core.cache.cache`.
"""

import os
import pickle
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache

REDIS_CACHE_BACKEND = "django.core.cache.backends.redis.RedisCache"


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
