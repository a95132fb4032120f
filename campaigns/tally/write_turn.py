"""SQLite has one writer at a time: this process's collect requests and its tally thread take turns here.

Each writer is woken as soon as the one before it commits; waiting in SQLite's busy handler instead, which polls
with growing sleeps, a writer could lose the race to newcomers for seconds. On PostgreSQL there is nothing to wait
for.
"""

import threading
from contextlib import contextmanager

from django.db import OperationalError, connection

ERROR_STORE_BUSY = "the database stayed locked by another writer"
PORTABLE_WRITE_LOCK = threading.RLock()


class EventsStoreBusy(OperationalError):
    """The embedded database (SQLite) stayed locked by another writer for longer than its busy timeout: nothing
    was stored, and the same batch may simply be sent again."""


@contextmanager
def portable_write_turn():
    """On SQLite, this process's turn to write, waited for no longer than the database's busy timeout (then
    EventsStoreBusy); on PostgreSQL, which has no single writer, nothing to wait for."""
    if connection.vendor == "postgresql":
        yield
        return
    if not PORTABLE_WRITE_LOCK.acquire(timeout=connection.settings_dict["OPTIONS"].get("timeout", 5)):
        raise EventsStoreBusy(ERROR_STORE_BUSY)
    try:
        yield
    finally:
        PORTABLE_WRITE_LOCK.release()
