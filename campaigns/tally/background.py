"""The tally of a process that has no Celery worker (tasks in-process, the SQLite demo): one background thread.

A request that stored events nudges the thread after its commit and returns; the thread drains. Nudges that
arrive while it drains, or within the debounce window after a drain began, are folded into one more drain at
the end of that window, so a burst costs about one drain a window and the last event of a burst is counted
without waiting for another one. Counting stays exactly once whatever the threads and processes: the drain
moves the tally's cursor in the transaction that writes the counts (see drain.py).
"""

import logging
import os
import threading
import time

from django.db import close_old_connections

from campaigns.ingest.write_turn import portable_write_turn
from campaigns.tally.drain import batch_size_default, tally_batch

logger = logging.getLogger(__name__)

# The nudge's debounce window (nudge.py), which the thread keeps too.
DEBOUNCE_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0
THREAD_NAME = "retarget-tally"


class _Drainer:
    def __init__(self) -> None:
        self.due = threading.Event()
        self.start_lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.pid = 0

    def nudge(self) -> None:
        self.due.set()
        if self.thread is not None and self.thread.is_alive() and self.pid == os.getpid():
            return
        with self.start_lock:
            # A forked child inherits the parent's object but not its thread: it starts its own.
            if self.thread is None or not self.thread.is_alive() or self.pid != os.getpid():
                self.pid = os.getpid()
                self.thread = threading.Thread(target=self.run, name=THREAD_NAME, daemon=True)
                self.thread.start()

    def run(self) -> None:
        next_start = 0.0
        failures = 0
        while True:
            self.due.wait()
            wait = next_start - time.monotonic()
            if wait > 0:
                time.sleep(wait)  # the nudges of this window are counted by the one drain that follows it
            # Cleared before the drain reads: an event committed after this point has nudged again.
            self.due.clear()
            started = time.monotonic()
            next_start = started + DEBOUNCE_SECONDS
            try:
                close_old_connections()  # as a request would: a connection too old or found broken is replaced
                counted = _drain()
            except Exception:
                # A database that stays locked or unreachable must not end the thread: counting would stop
                # for the life of the process. The events stay stored and are counted by a later drain.
                failures += 1
                next_start = time.monotonic() + min(DEBOUNCE_SECONDS * 2**failures, RETRY_MAX_SECONDS)
                logger.exception("tally in-process: drain failed, trying again in %.0f s",
                                 next_start - time.monotonic())
                self.due.set()
                continue
            failures = 0
            if counted:
                logger.info("tally in-process: counted %s events in %.2f s", counted, time.monotonic() - started)


def _drain() -> int:
    """Batch after batch while each comes full (a backlog); one that is not ends the drain until the next window.

    On SQLite each batch takes its turn at the process's write lock with the collect requests.
    """
    batch_size = batch_size_default()
    total = 0
    while True:
        with portable_write_turn():
            counted = tally_batch(batch_size=batch_size)
        total += counted
        if counted < batch_size:
            return total


_drainer = _Drainer()


def tally_soon() -> None:
    """Have this process's tally thread drain soon (at once, or at the end of the current debounce window)."""
    _drainer.nudge()
