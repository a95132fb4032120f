"""The tally's advisory lock on PostgreSQL: one tally counts at a time, and an erasure waits for it."""

from django.db import OperationalError, connection, transaction

LOCK_NAMESPACE = 0x5274  # "Rt": the first key of our advisory locks
LOCK_TALLY = 1
LOCK_WAIT_SECONDS = 2.0


def tally_lock(*, wait_seconds: float = LOCK_WAIT_SECONDS) -> bool:
    """Take the tally's advisory lock (released at commit), waiting at most wait_seconds; False when it stayed taken.

    Waiters queue in order, so workers draining together take turns batch by batch rather than one keeping
    the lock; one that waits too long leaves (the holder counts its events too).
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{int(wait_seconds * 1000)}ms'")
        try:
            with transaction.atomic():  # a savepoint: a timeout must not abort the caller's transaction
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, LOCK_TALLY])
        except OperationalError:
            return False
        finally:
            cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
    return True
