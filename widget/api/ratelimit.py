"""Fixed-window rate limits for the public endpoints, in Redis (or the local cache without Redis).

A window is one minute; a key counts events and expires with its window. One round trip (a script) for all keys.
"""

import logging
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache

from campaigns.redis_raw import redis_raw

WINDOW_SECONDS = 60
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int


# Every key: add the cost, start its expiry when this added the first events of the window; the counts back.
_HIT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
    local count = redis.call('INCRBY', key, ARGV[1])
    if count == tonumber(ARGV[1]) then redis.call('EXPIRE', key, ARGV[2]) end
    counts[i] = count
end
return counts
"""


@lru_cache(maxsize=4)
def _hit_script(client):
    return client.register_script(_HIT_SCRIPT)


def _prefix() -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:rl:"


def rate_limit_hit(*, limits: list[Limit], cost: int, now: float | None = None) -> int | None:
    """Count `cost` against every limit; None when all hold, else the seconds until the window ends."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
    prefix = _prefix()
    keys = [f"{prefix}{limit.key}:{window}" for limit in limits]
    client = redis_raw()
    if client is not None:
        import redis

        try:
            counts = _hit_script(client)(keys=keys, args=[cost, WINDOW_SECONDS + 5])
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
