"""Refusals: events and whole requests the collect endpoint refused, counted per site and day (RejectedEventCount),
so that a site's owner can see what their widget sends that we do not keep."""

import logging
from collections import Counter
from datetime import date

from django.db import OperationalError, connection

from campaigns.ingest.write_turn import EventsStoreBusy, portable_write_turn, sqlite_busy
from campaigns.models import RejectedEventCount, Site
from campaigns.process_cache import cache_key, redis_raw

logger = logging.getLogger(__name__)

# Whole requests refused, noted in Redis until refusals_flush moves them into RejectedEventCount.
REFUSALS_KEY = "refusals:pending"

# Reasons under which whole refused requests are counted: the events of a batch over its rate limit or over
# MAX_BATCH_EVENTS are counted one by one; a request whose events could not be read, once.
REFUSED_ORIGIN = "request_origin"
REFUSED_CONTENT_TYPE = "request_content_type"
REFUSED_TOO_LARGE = "request_too_large"
REFUSED_MALFORMED = "request_malformed"
REFUSED_TOO_MANY = "too_many_in_batch"
REFUSED_RATE_LIMITED = "rate_limited"


def rejected_events_count(*, site_id: int, day: date, reasons: Counter) -> None:
    """Add to the per-site, per-day counts of refused events: one statement.

    On SQLite a count that does not get the write lock in time is dropped with a warning, as refusals_note drops
    one when Redis is unavailable: a debugging aid is not worth failing the request that refused the events.
    """
    try:
        _rejected_rows_add([(site_id, day, reason, count) for reason, count in reasons.items()])
    except OperationalError as error:
        if not (isinstance(error, EventsStoreBusy) or sqlite_busy(error)):
            raise
        logger.warning("rejected_events_count: the database stayed locked, %s refused events went uncounted",
                       sum(reasons.values()))


def _rejected_rows_add(rows: list[tuple[int, date, str, int]]) -> None:
    """(site, day, reason, count) rows added to RejectedEventCount in one upsert."""
    if not rows:
        return
    table = RejectedEventCount._meta.db_table
    items = sorted(rows)  # a stable order, so concurrent upserts lock rows in the same order
    sql = (
        f"INSERT INTO {table} (site_id, day, reason, count) VALUES "
        + ", ".join(["(%s, %s, %s, %s)"] * len(items))
        + f" ON CONFLICT (site_id, day, reason) DO UPDATE SET count = {table}.count + EXCLUDED.count"
    )
    with portable_write_turn(), connection.cursor() as cursor:
        cursor.execute(sql, [value for row in items for value in row])


def refusals_note(*, site_id: int, day: date, reason: str, count: int = 1) -> None:
    """A whole request refused (wrong origin, too large, malformed, over its rate limit...), counted per site.

    Noted in Redis, one command, so that whoever floods us with refused requests never causes a database
    write per request; refusals_flush (beat, every minute) moves the counts into RejectedEventCount.
    Without Redis (the demo) written at once.
    """
    client = redis_raw()
    if client is None:
        rejected_events_count(site_id=site_id, day=day, reasons=Counter({reason: count}))
        return
    import redis

    try:
        client.hincrby(cache_key(REFUSALS_KEY), f"{site_id}|{day.isoformat()}|{reason}", count)
    except redis.RedisError:
        logger.warning("refusals_note: Redis unavailable, a refusal went uncounted", exc_info=True)


def refusals_flush() -> int:
    """Move the refusals noted in Redis into RejectedEventCount; returns how many were moved.

    Read and emptied in one transaction; should the database write fail, the counts go back to Redis.
    """
    client = redis_raw()
    if client is None:
        return 0
    key = cache_key(REFUSALS_KEY)
    pipe = client.pipeline(transaction=True)
    pipe.hgetall(key)
    pipe.delete(key)
    noted, _deleted = pipe.execute()
    if not noted:
        return 0
    rows = []
    for field, value in noted.items():
        site_id, day, reason = field.decode().split("|", 2)
        rows.append((int(site_id), date.fromisoformat(day), reason, int(value)))
    live = set(Site.objects.filter(id__in={row[0] for row in rows}).values_list("id", flat=True))
    try:
        _rejected_rows_add([row for row in rows if row[0] in live])
    except Exception:
        restore = client.pipeline(transaction=True)
        for field, value in noted.items():
            restore.hincrby(key, field, int(value))
        restore.execute()
        raise
    return sum(int(value) for value in noted.values())
