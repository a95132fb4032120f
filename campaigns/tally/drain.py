"""The drain: stored events counted batch by batch, exactly once, in commit order.

Exactly once: the tally reads the events past its cursor (TallyCursor) in commit order, and moves the
cursor in the transaction that writes what they add. A worker that dies mid-batch rolls back; the same
events are read again. One worker at a time counts (an advisory lock, lock.py; another one finds it taken and
leaves), so events are counted in the order they were stored: an exposure before the conversion that
follows it.

Commit order, not id order: ids are handed out when rows are inserted, and a request that got lower ids
may commit after one that got higher ids. Each event carries its transaction's id (Event.tx), and a batch
takes only events of transactions older than every transaction still running in this database (sql.py's
horizon), in (tx, id) order: all of those have finished, so nothing can later appear behind the cursor. A
transaction left open for long on this database holds the tally back (counted late, never lost).

On PostgreSQL a batch is folded by set-based SQL (sql.py); other databases (the SQLite demo) use the Python fold
(portable.py). Both count the same things the same way (tests/campaigns/test_tally_folds.py holds them together).
"""

import time

from django.db import connection, transaction

from campaigns.models import Event, TallyCursor
from campaigns.tally import portable, sql
from campaigns.tally.lock import tally_lock

# Larger batches spread the per-batch statements over more events, and update each recurring counter row (a day's
# page, transition, origin and variant rows) once per batch rather than once per 25,000 events: every update leaves
# a row version that the next batch's upsert must step over until it is pruned. The sorts stay in work_mem (sql.py).
BATCH_SIZE = 50_000
TIME_BUDGET_SECONDS = 20.0

EVENTS = Event._meta.db_table
CURSOR = TallyCursor._meta.db_table

# Events stored and not counted yet: past the cursor (or all of them before the first batch made it).
_PENDING = f"""
SELECT count(*) FROM {EVENTS} AS e
WHERE (e.tx, e.id) > (SELECT coalesce(max(c.last_tx), 0), coalesce(max(c.last_id), 0) FROM {CURSOR} AS c WHERE c.id = 1)
"""
_CURSOR_ENSURE = f"INSERT INTO {CURSOR} (id, last_tx, last_id) VALUES (1, 0, 0) ON CONFLICT (id) DO NOTHING"


def tally_drain(*, batch_size: int = BATCH_SIZE, time_budget: float = TIME_BUDGET_SECONDS) -> int:
    """Count stored events batch by batch until none is left (or the time is up); returns how many."""
    deadline = time.monotonic() + time_budget
    total = 0
    while True:
        counted = tally_batch(batch_size=batch_size)
        total += counted
        if counted == 0 or time.monotonic() > deadline:
            return total


def tally_pending() -> int:
    with connection.cursor() as cursor:
        cursor.execute(_PENDING)
        return cursor.fetchone()[0]


def tally_batch(*, batch_size: int = BATCH_SIZE) -> int:
    """Claim and count the next batch in commit order; 0 when there is nothing to count or another worker keeps
    the tally busy for longer than the lock's wait (it counts these events too)."""
    with transaction.atomic():
        if connection.vendor != "postgresql":
            cursor_ensure()
            return portable.tally_batch(batch_size=batch_size)
        # The lock first: a transaction waiting for it has written nothing, so it has no transaction id and
        # does not hold back the horizon of the batch it waits for.
        if not tally_lock():
            return 0
        cursor_ensure()
        return sql.tally_batch(batch_size=batch_size)


def batch_size_default() -> int:
    """The size of a full batch on this database (the Python fold commits smaller ones, see portable.py)."""
    return BATCH_SIZE if connection.vendor == "postgresql" else portable.BATCH_SIZE


def cursor_ensure() -> None:
    """The tally's cursor row, made before the first batch."""
    with connection.cursor() as cursor:
        cursor.execute(_CURSOR_ENSURE)
