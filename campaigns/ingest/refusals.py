"""Refusals: events and whole requests the collect endpoint refused, counted per site and day (RejectedEventCount),
so that a site's owner can see what their widget sends that we do not keep; and the origins refused for not being
allowed (RefusedOrigin), so that the installation check can name them.

Refused origins come from a public endpoint, so they are bounded twice: Redis keeps at most REFUSED_ORIGINS_KEPT
distinct origins per site between two flushes (a new one beyond that is dropped), and the database keeps the
REFUSED_ORIGINS_KEPT most recently refused per site.
"""

import logging
from collections import Counter
from datetime import date, datetime

from django.db import DatabaseError, OperationalError, connection, transaction
from django.utils import timezone

from campaigns.ingest.origins import origin_normalize
from campaigns.ingest.write_turn import EventsStoreBusy, portable_write_turn, sqlite_busy
from campaigns.models import RefusedOrigin, RejectedEventCount, Site
from campaigns.models.installation import ORIGIN_MAX_LENGTH, REFUSED_ORIGINS_KEPT
from campaigns.process_cache import cache_key, redis_raw

logger = logging.getLogger(__name__)

# Whole requests refused, noted in Redis until refusals_flush moves them into RejectedEventCount.
REFUSALS_KEY = "refusals:pending"
# Refused origins noted in Redis: one hash per site (origin -> requests), and the set of sites that have one.
REFUSED_ORIGINS_KEY = "refused-origins:{site_id}"
REFUSED_ORIGINS_SITES_KEY = "refused-origins:sites"
# Counts a refused origin unless the site's hash already holds REFUSED_ORIGINS_KEPT others: atomic, one round trip.
_NOTE_ORIGIN_LUA = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 or redis.call('HLEN', KEYS[1]) < tonumber(ARGV[2]) then
    redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
    redis.call('SADD', KEYS[2], ARGV[3])
end
return 0
"""

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


def refusals_note(*, site_id: int, day: date, reason: str, count: int = 1, origin: str | None = None) -> None:
    """A whole request refused (wrong origin, too large, malformed, over its rate limit...), counted per site;
    `origin`, for a request refused for its origin, is kept to be named (refused_origin_note).

    Noted in Redis, one round trip, so that whoever floods us with refused requests never causes a database
    write per request; refusals_flush (beat, every minute) moves the counts into RejectedEventCount.
    Without Redis (the demo) written at once.
    """
    origin = _origin_kept(origin) if reason == REFUSED_ORIGIN else None
    client = redis_raw()
    if client is None:
        rejected_events_count(site_id=site_id, day=day, reasons=Counter({reason: count}))
        if origin:
            try:
                _refused_origins_write({(site_id, origin): 1}, at=timezone.now())
            except OperationalError as error:  # as rejected_events_count: the refusal is answered all the same
                if not (isinstance(error, EventsStoreBusy) or sqlite_busy(error)):
                    raise
                logger.warning("refusals_note: the database stayed locked, a refused origin went unnoted")
        return
    import redis

    try:
        pipe = client.pipeline(transaction=False)
        pipe.hincrby(cache_key(REFUSALS_KEY), f"{site_id}|{day.isoformat()}|{reason}", count)
        if origin:
            _origin_note(pipe, site_id=site_id, origin=origin)
        pipe.execute()
    except redis.RedisError:
        logger.warning("refusals_note: Redis unavailable, a refusal went uncounted", exc_info=True)


def refused_origin_note(*, site_id: int, origin: str | None) -> None:
    """An origin refused without a refusal to count: the config endpoint's answer to a page it does not allow (the
    browser then keeps the widget from reading the config, so such a page never reaches collect). One Redis round
    trip, on that refused path only; nothing for an allowed origin."""
    origin = _origin_kept(origin)
    if not origin:
        return
    client = redis_raw()
    if client is None:
        try:
            _refused_origins_write({(site_id, origin): 1}, at=timezone.now())
        except DatabaseError:
            # The config is answered all the same: a debugging aid is not worth failing it.
            logger.warning("refused_origin_note: a refused origin went unnoted", exc_info=True)
        return
    import redis

    try:
        pipe = client.pipeline(transaction=False)
        _origin_note(pipe, site_id=site_id, origin=origin)
        pipe.execute()
    except redis.RedisError:
        logger.warning("refused_origin_note: Redis unavailable, a refused origin went unnoted", exc_info=True)


def refused_origins_pending(*, site_id: int) -> dict[str, int]:
    """The refused origins of a site noted in Redis and not flushed yet (origin -> requests): at most
    REFUSED_ORIGINS_KEPT."""
    client = redis_raw()
    if client is None:
        return {}
    noted = client.hgetall(cache_key(REFUSED_ORIGINS_KEY.format(site_id=site_id)))
    return {field.decode(): int(value) for field, value in noted.items()}


def _origin_kept(origin: str | None) -> str | None:
    """The origin as it is named and stored, or None for one that is not an origin (nothing to add)."""
    normalized = origin_normalize(origin) if origin else None
    return normalized if normalized and len(normalized) <= ORIGIN_MAX_LENGTH else None


def _origin_note(pipe, *, site_id: int, origin: str) -> None:
    keys = [cache_key(REFUSED_ORIGINS_KEY.format(site_id=site_id)), cache_key(REFUSED_ORIGINS_SITES_KEY)]
    pipe.eval(_NOTE_ORIGIN_LUA, 2, *keys, origin, REFUSED_ORIGINS_KEPT, site_id)


def _refused_origins_write(counts: dict[tuple[int, str], int], *, at: datetime) -> None:
    """Add to RefusedOrigin, then keep each site's REFUSED_ORIGINS_KEPT most recent (a few rows per site)."""
    if not counts:
        return
    live = set(Site.objects.filter(id__in={site_id for site_id, _ in counts}).values_list("id", flat=True))
    with portable_write_turn(), transaction.atomic():
        for (site_id, origin), count in sorted(counts.items()):
            if site_id not in live:
                continue
            row, made = RefusedOrigin.objects.get_or_create(
                site_id=site_id, origin=origin, defaults={"count": count, "last_at": at}
            )
            if not made:
                RefusedOrigin.objects.filter(id=row.id).update(count=row.count + count, last_at=at)
        for site_id in sorted(live):
            kept = RefusedOrigin.objects.filter(site_id=site_id).order_by("-last_at", "-id")[:REFUSED_ORIGINS_KEPT]
            kept_ids = list(kept.values_list("id", flat=True))
            RefusedOrigin.objects.filter(site_id=site_id).exclude(id__in=kept_ids).delete()


def refusals_flush() -> int:
    """Move the refusals noted in Redis into RejectedEventCount; returns how many were moved.

    Read and emptied in one transaction; should the database write fail, the counts go back to Redis.
    """
    client = redis_raw()
    if client is None:
        return 0
    _refused_origins_flush(client)
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


def _refused_origins_flush(client) -> None:
    """Move the refused origins noted in Redis into RefusedOrigin (should the write fail, they go back)."""
    sites_key = cache_key(REFUSED_ORIGINS_SITES_KEY)
    pipe = client.pipeline(transaction=True)
    pipe.smembers(sites_key)
    pipe.delete(sites_key)
    site_ids, _deleted = pipe.execute()
    if not site_ids:
        return
    keys = {int(site_id): cache_key(REFUSED_ORIGINS_KEY.format(site_id=int(site_id))) for site_id in site_ids}
    pipe = client.pipeline(transaction=True)
    for key in keys.values():
        pipe.hgetall(key)
        pipe.delete(key)
    answers = pipe.execute()
    noted = {site_id: answers[2 * i] for i, site_id in enumerate(keys)}
    counts = {
        (site_id, field.decode()): int(value) for site_id, fields in noted.items() for field, value in fields.items()
    }
    try:
        _refused_origins_write(counts, at=timezone.now())
    except Exception:
        # The refusal counts are flushed all the same; the origins wait for the next flush, and the cause is logged.
        logger.warning("refusals_flush: the refused origins could not be written, kept for the next flush",
                       exc_info=True)
        restore = client.pipeline(transaction=True)
        for (site_id, origin), count in counts.items():
            restore.hincrby(keys[site_id], origin, count)
            restore.sadd(sites_key, site_id)
        restore.execute()
        raise
