"""Fixed-window rate limits for the public endpoints, in Redis (or the local cache without Redis).

A window is one minute; a key counts events and expires with its window. One round trip (a script) for all keys.
Without Redis nothing can be counted: its errors go up, and the collect endpoint answers 503 (nothing stored).
"""

import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache

from campaigns.process_cache import redis_raw

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int


# Every key: add its cost, start its expiry when this added the first events of the window; the counts back.
_HIT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
    local cost = tonumber(ARGV[i + 1])
    local count = redis.call('INCRBY', key, cost)
    if count == cost then redis.call('EXPIRE', key, ARGV[1]) end
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
    return rate_limits_hit(requests=[(limits, cost)], now=now)[0]


def rate_limits_hit(*, requests: list[tuple[list[Limit], int]], now: float | None = None) -> list[int | None]:
    """rate_limit_hit for several requests in one round trip (the collect writer's group), in their order."""
    if not any(limits for limits, _cost in requests):
        return [None] * len(requests)
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
    prefix = _prefix()
    keys = [f"{prefix}{limit.key}:{window}" for limits, _cost in requests for limit in limits]
    costs = [cost for limits, cost in requests for _limit in limits]
    client = redis_raw()
    if client is not None:
        counts = _hit_script(client)(keys=keys, args=[WINDOW_SECONDS + 5, *costs])
    else:
        counts = []
        for key, cost in zip(keys, costs, strict=True):
            cache.add(key, 0, WINDOW_SECONDS + 5)
            counts.append(cache.incr(key, cost))
    answers, position = [], 0
    for limits, _cost in requests:
        mine = counts[position:position + len(limits)]
        position += len(limits)
        over = any(count > limit.limit for count, limit in zip(mine, limits, strict=True))
        answers.append(retry_after if over else None)
    return answers
