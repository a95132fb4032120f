"""The worker's heartbeat for /readyz."""

import logging
import time

from django.core.cache import cache

from campaigns.outages import REDIS_ERRORS
from campaigns.selectors.tally import WORKER_SEEN_KEY

logger = logging.getLogger(__name__)


def worker_seen_note() -> None:
    """Note that a worker runs now; without Redis it cannot be noted, and the worker has nothing to run anyway."""
    try:
        cache.set(WORKER_SEEN_KEY, time.time(), None)
    except REDIS_ERRORS:
        logger.warning("worker_seen_note: Redis unreachable")
