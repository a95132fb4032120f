"""The embedded database's one writer at a time (SQLite, the demo): collect's store, its refusal counts and the tally
thread of a process take turns here. On PostgreSQL, which has no single writer, there is nothing to wait for."""

import threading
from contextlib import contextmanager

from django.db import OperationalError, connection

ERROR_STORE_BUSY = "the database stayed locked by another writer"
# SQLite has one writer at a time. This process's collect requests and its tally thread wait for their turn here,
# each woken as soon as the one before it commits; waiting in SQLite's busy handler instead, which polls with
# growing sleeps, a writer could lose the race to newcomers for seconds.
PORTABLE_WRITE_LOCK = threading.RLock()
# SQLite's primary result codes SQLITE_BUSY and SQLITE_LOCKED (extended codes keep them in their low byte).
_SQLITE_BUSY_CODES = frozenset({5, 6})


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


def sqlite_busy(error: OperationalError) -> bool:
    code = getattr(error.__cause__, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _SQLITE_BUSY_CODES
