"""The nudge: after a commit that stored events, a drain is queued (or, without a worker, this process's tally
thread is woken), at most one now and one at the end of a debounce window across all web processes.

Queueing is by the drain task's name through Celery's registry, so that this module (and the store that calls it)
does not import the tasks, which import the services.
"""

import logging
import time

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from kombu.exceptions import OperationalError as BrokerError

from campaigns.outages import DATABASE_ERRORS, REDIS_ERRORS
from campaigns.process_cache import cache_key, redis_raw
from campaigns.tally.background import DEBOUNCE_SECONDS, tally_soon

logger = logging.getLogger(__name__)

NUDGE_KEY = "tally:nudge"
NUDGE_DEBOUNCE_SECONDS = DEBOUNCE_SECONDS
TALLY_DRAIN_TASK = "campaigns.tally_drain"  # campaigns/tasks.py's tally_drain
# After a failed nudge, the next is tried no sooner than this: the events wait for beat's drain (every few seconds).
NUDGE_FAILED_QUIET_SECONDS = 5.0
# Per process: when this process may next try to claim the nudge (monotonic seconds).
_nudge_quiet_until = 0.0


def tally_nudge() -> None:
    """Ask for a drain now and again at the end of a debounce window; at most that across all web processes.

    The first nudge of a window drains at once; events stored later in the window are drained by the
    nudge queued for its end, so none waits for beat. A process that lost the race knows when the
    winner's window ends and stays quiet until then, so most requests do not touch Redis at all.
    Without a worker (TALLY_IN_THREAD) the process's own tally thread does the same, off the request's path.

    It runs after the events' commit: a failure to reach Redis or the broker (or, with tasks in-process, the
    database in the drain itself) is logged and goes no further, so the request (or the collect writer's group) is
    still answered "stored"; the next drain counts the events (beat's, every few seconds).
    """
    global _nudge_quiet_until
    if settings.TALLY_IN_THREAD:
        tally_soon()
        return
    now = time.monotonic()
    if now < _nudge_quiet_until:
        return  # a drain is already queued for the end of the current window, after this commit
    try:
        _tally_nudge_send(now=now)
    except (*REDIS_ERRORS, BrokerError, *DATABASE_ERRORS) as error:
        _nudge_quiet_until = now + NUDGE_FAILED_QUIET_SECONDS
        logger.warning("tally_nudge failed (%s: %s); the next drain counts the events", error.__class__.__name__,
                       error)


def _tally_nudge_send(*, now: float) -> None:
    global _nudge_quiet_until
    window_ms = int(NUDGE_DEBOUNCE_SECONDS * 1000)
    client = redis_raw()
    if client is not None:
        key = cache_key(NUDGE_KEY)
        pipe = client.pipeline(transaction=False)
        pipe.set(key, 1, nx=True, px=window_ms)
        pipe.pttl(key)
        won, left_ms = pipe.execute()
    else:
        won, left_ms = cache.add(NUDGE_KEY, 1, NUDGE_DEBOUNCE_SECONDS), window_ms
    _nudge_quiet_until = now + max(left_ms, 0) / 1000
    if won:
        tally_drain = current_app.tasks[TALLY_DRAIN_TASK]
        tally_drain.delay()
        if not tally_drain.app.conf.task_always_eager:  # in-process tasks (the demo) cannot wait
            tally_drain.apply_async(countdown=NUDGE_DEBOUNCE_SECONDS)
