"""The two folds of the tally, callable side by side on the test database.

tally.tally_batch picks the fold by database: the set-based SQL on PostgreSQL, the Python fold
(tally/portable.py) on any other (the SQLite demo). CI runs PostgreSQL, so the tests force the Python
fold there through `python_tally_batch`, the same claim-and-fold the demo runs, in the caller's transaction.
"""

from django.db import connection, transaction

from campaigns.tally import drain as tally
from campaigns.tally import portable as tally_portable

SQL = "sql"
PYTHON = "python"
FOLDS = (SQL, PYTHON)
SQL_NEEDS_POSTGRESQL = "the set-based SQL fold needs PostgreSQL"


def python_tally_batch(*, batch_size: int = tally.BATCH_SIZE) -> int:
    """tally.tally_batch as it runs on SQLite, on whichever database the suite has.

    A test helper, not a production switch: on PostgreSQL the Python fold reads events in (tx, id) order with
    no horizon and no lock, which is only safe when one transaction writes at a time (SQLite, or one test).
    """
    with transaction.atomic():
        tally.cursor_ensure()
        return tally_portable.tally_batch(batch_size=batch_size)


def sql_tally_batch(*, batch_size: int = tally.BATCH_SIZE) -> int:
    assert connection.vendor == "postgresql", SQL_NEEDS_POSTGRESQL
    return tally.tally_batch(batch_size=batch_size)


BATCH = {SQL: sql_tally_batch, PYTHON: python_tally_batch}
