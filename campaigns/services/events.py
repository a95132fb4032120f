"""Writes of the collect endpoint: accepted events (with their inbox rows) and rejection counts.

A 202 means the events are in PostgreSQL: one statement inserts the events, skipping ids the
site already has, and queues exactly the new ones for the tally. Redis is not on this path.
"""

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.core.cache import cache
from django.db import connection, transaction

from campaigns.models import Event, EventInbox, RejectedEventCount

logger = logging.getLogger(__name__)

INBOX_BUCKETS = 16
NUDGE_KEY = "tally:nudge"
NUDGE_DEBOUNCE_SECONDS = 1
CONSENT = "consent"


@dataclass(frozen=True)
class EventRow:
    """An accepted event as it will be stored."""

    event_id: str
    type: str
    ts_ms: int
    visitor_id: str
    session_id: str
    campaign_id: int | None
    variant_id: int | None
    url: str
    payload_json: str


_COLUMNS = (
    "site_id", "event_id", "type", "ts", "received_at", "visitor_id", "session_id", "campaign_id",
    "variant_id", "url", "payload", "device", "ip_hash", "ip_truncated", "user_agent",
)


def events_record(
    *,
    site_id: int,
    events: list[EventRow],
    received_at: datetime,
    device: str,
    ip_hash: str,
    ip_truncated: str,
    user_agent: str,
) -> int:
    """Store the events not stored yet and queue them for the tally, in one statement; returns how many were new.

    The truncated IP and the User-Agent are kept on consent events only, as proof of the decision.
    """
    if not events:
        return 0
    rows = []
    for event in events:
        proof = event.type == CONSENT
        rows.append(
            (
                site_id, event.event_id, event.type, datetime.fromtimestamp(event.ts_ms / 1000, tz=UTC),
                received_at, event.visitor_id, event.session_id, event.campaign_id, event.variant_id, event.url,
                event.payload_json, device, ip_hash, ip_truncated if proof else "", user_agent[:512] if proof else "",
            )
        )
    if connection.vendor == "postgresql":
        inserted = _insert_postgresql(rows)
    else:
        inserted = _insert_portable(rows)
    if inserted:
        transaction.on_commit(tally_nudge)
    return inserted


def _insert_postgresql(rows: list[tuple]) -> int:
    event_table = Event._meta.db_table
    inbox_table = EventInbox._meta.db_table
    placeholders = "(" + ", ".join(["%s"] * 10 + ["%s::jsonb"] + ["%s"] * 4) + ")"
    sql = (
        f"WITH new AS (INSERT INTO {event_table} ({', '.join(_COLUMNS)}) VALUES "
        + ", ".join([placeholders] * len(rows))
        + " ON CONFLICT (site_id, event_id) DO NOTHING RETURNING id, visitor_id)"
        f" INSERT INTO {inbox_table} (event_id, bucket)"
        f" SELECT id, ('x' || substr(md5(visitor_id), 1, 8))::bit(32)::bigint %% {INBOX_BUCKETS} FROM new ORDER BY id"
    )
    params = [value for row in rows for value in row]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@transaction.atomic
def _insert_portable(rows: list[tuple]) -> int:
    """SQLite (the demo): the same result in three statements inside one transaction."""
    import json

    site_id = rows[0][0]
    wanted = {row[1] for row in rows}
    existing = {
        str(u) for u in Event.objects.filter(site_id=site_id, event_id__in=wanted).values_list("event_id", flat=True)
    }
    fresh, seen = [], set()
    for row in rows:
        if row[1] in existing or row[1] in seen:
            continue
        seen.add(row[1])
        values = dict(zip(_COLUMNS, row, strict=True))
        values["payload"] = json.loads(values["payload"])
        fresh.append(Event(**values))
    created = Event.objects.bulk_create(fresh)
    EventInbox.objects.bulk_create(
        [EventInbox(event_id=event.pk, bucket=_bucket_md5(event.visitor_id)) for event in created]
    )
    return len(created)


def _bucket_md5(visitor_id: str) -> int:
    # The same bucket as the PostgreSQL statement computes: all events of a visitor share a bucket.
    import hashlib

    return int(hashlib.md5(visitor_id.encode()).hexdigest()[:8], 16) % INBOX_BUCKETS  # noqa: S324


def tally_nudge() -> None:
    """Ask for a drain, at most once a second across all web processes; beat drains anyway."""
    from campaigns.tasks import tally_drain

    if cache.add(NUDGE_KEY, 1, NUDGE_DEBOUNCE_SECONDS):
        tally_drain.delay()


def rejected_events_count(*, site_id: int, day: date, reasons: Counter) -> None:
    """Add to the per-site, per-day counts of refused events: one statement."""
    if not reasons:
        return
    table = RejectedEventCount._meta.db_table
    items = sorted(reasons.items())  # a stable order, so concurrent upserts lock rows in the same order
    sql = (
        f"INSERT INTO {table} (site_id, day, reason, count) VALUES "
        + ", ".join(["(%s, %s, %s, %s)"] * len(items))
        + f" ON CONFLICT (site_id, day, reason) DO UPDATE SET count = {table}.count + EXCLUDED.count"
    )
    params = [value for reason, count in items for value in (site_id, day, reason, count)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
