"""Fixed-window rate limits for the public endpoints, in Redis (or the local cache without Redis).

A window is one minute; a key counts events and expires with its window. One round trip for all keys.
"""

import logging
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 60
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int


@lru_cache(maxsize=1)
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def _prefix() -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:rl:"


def rate_limit_hit(*, limits: list[Limit], cost: int, now: float | None = None) -> int | None:
    """Count `cost` against every limit; None when all hold, else the seconds until the window ends."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
    keys = [f"{_prefix()}{limit.key}:{window}" for limit in limits]
    if settings.REDIS_URL:
        import redis

        pipe = _redis(settings.REDIS_URL).pipeline(transaction=False)
        for key in keys:
            pipe.incrby(key, cost)
            pipe.expire(key, WINDOW_SECONDS + 5, nx=True)
        try:
            counts = pipe.execute()[::2]
        except redis.RedisError:
            # Without Redis nothing can be counted; refusing every visitor would be worse than not limiting.
            logger.warning("rate limit: Redis unavailable, not limiting", exc_info=True)
            return None
    else:
        counts = []
        for key in keys:
            cache.add(key, 0, WINDOW_SECONDS + 5)
            counts.append(cache.incr(key, cost))
    if any(count > limit.limit for count, limit in zip(counts, limits, strict=True)):
        return retry_after
    return None
