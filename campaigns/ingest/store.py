"""The store of the collect endpoint: accepted events, in one statement.

A 202 means the events are in PostgreSQL: one statement inserts the events, skipping ids the site
already has. Each row carries its transaction id, which is all the tally needs to find it (it reads
past its cursor in commit order), so storing an event costs one row and nothing else. Storing never
depends on Redis; only the nudge that asks a worker to count sooner does.
"""

import json
import logging
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

import msgspec
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction

from campaigns.ingest.body import MAX_USER_AGENT_CHARS
from campaigns.ingest.write_turn import ERROR_STORE_BUSY, EventsStoreBusy, portable_write_turn, sqlite_busy
from campaigns.models import Event
from campaigns.tally.nudge import tally_nudge

logger = logging.getLogger(__name__)

CONSENT = "consent"
PAGEVIEW = "pageview"


class EventRow(NamedTuple):
    """An accepted event as it will be stored (the collect endpoint checks events into this type)."""

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
    "variant_id", "url", "payload", "device", "ip_hash", "ip_truncated", "user_agent", "widget_version", "tx",
)

# One statement, the same text for any number of batches and events: the events not stored yet. Each batch
# travels as one JSON array (see events_batch_json): its sender's fields, then its rows in EventRow's field
# order, then the widget version the batch named (kept on its page views only: the installation check reads it).
# The whole parameter is serialized in C and parsed once by jsonb; rows get ids in the order sent.
# `tx` is the column's default made explicit (see Event.tx). Two forms: _INSERT_SQL skips the ids the site has
# already; _INSERT_NEW_SQL stores every row and fails whole when one is there already.
_INSERT_NEW_SQL = f"""
INSERT INTO {Event._meta.db_table} ({", ".join(_COLUMNS)})
SELECT (b->>0)::bigint, (e->>0)::uuid, e->>1, 'epoch'::timestamptz + (e->>2)::bigint * interval '1 millisecond',
    'epoch'::timestamptz + (b->>1)::bigint * interval '1 microsecond', e->>3, e->>4, (e->>5)::bigint,
    (e->>6)::bigint, e->>7, (e->>8)::jsonb, b->>2, b->>3,
    CASE WHEN e->>1 = '{CONSENT}' THEN b->>4 ELSE '' END,
    CASE WHEN e->>1 = '{CONSENT}' THEN b->>5 ELSE '' END,
    CASE WHEN e->>1 = '{PAGEVIEW}' THEN coalesce(b->>7, '') ELSE '' END,
    pg_current_xact_id()::text::bigint
FROM jsonb_array_elements(%(batches)s::jsonb) WITH ORDINALITY AS q(b, bn),
    jsonb_array_elements(q.b->6) WITH ORDINALITY AS r(e, n)
ORDER BY q.bn, r.n
"""
# Outside a transaction the plain form is tried first, and the skipping one runs only when it found a stored id.
# Skipping costs PostgreSQL a speculative insertion per row and its confirmation in the WAL (bench/event_ids_bench.py:
# the plain form takes 0.72-0.84x its CPU), for rows that are new all but always: an id comes again only when a
# client retries a batch whose answer it lost.
_INSERT_SQL = _INSERT_NEW_SQL + "ON CONFLICT (site_id, event_id) DO NOTHING\n"
_UNIQUE_CONSTRAINT = "event_unique_per_site"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def events_batch_json(
    *,
    site_id: int,
    events: list[EventRow],
    received_at: datetime,
    device: str,
    ip_hash: str,
    ip_truncated: str,
    user_agent: str,
    widget_version: str = "",
) -> bytes:
    """One request's events as events_record_batches takes them (and as the collect writer carries them).

    The truncated IP and the User-Agent are kept on consent events only, as proof of the decision; the widget
    version (checked by collect: widget_version_of) on page views only.
    """
    received_us = (received_at - _EPOCH) // timedelta(microseconds=1)
    return msgspec.json.encode(
        (site_id, received_us, device, ip_hash, ip_truncated, user_agent[:MAX_USER_AGENT_CHARS], events,
         widget_version)
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
    widget_version: str = "",
) -> int:
    """Store the events not stored yet, in one statement; returns how many were new.

    `events` are EventRow, or any tuples with its fields in its order (the endpoint's EventIn).
    """
    if not events:
        return 0
    if connection.vendor != "postgresql":
        try:
            with portable_write_turn():
                inserted = _insert_portable(
                    site_id, events, (received_at, device, ip_hash, ip_truncated, user_agent, widget_version)
                )
        except OperationalError as error:
            if sqlite_busy(error):
                raise EventsStoreBusy(ERROR_STORE_BUSY) from error
            raise
        if inserted:
            transaction.on_commit(tally_nudge)
        return inserted
    batch = events_batch_json(site_id=site_id, events=events, received_at=received_at, device=device,
                              ip_hash=ip_hash, ip_truncated=ip_truncated, user_agent=user_agent,
                              widget_version=widget_version)
    return events_record_batches(batches=[batch])


def events_record_batches(*, batches: list[bytes]) -> int:
    """Store the events of several requests (events_batch_json each) in one statement; returns how many were new.

    PostgreSQL only. The collect writer stores the batches of concurrent requests this way, one transaction
    (one commit) for all of them.
    """
    inserted = _insert({"batches": (b"[" + b",".join(batches) + b"]").decode()})
    if inserted:
        transaction.on_commit(tally_nudge)
    return inserted


def _insert(params: dict) -> int:
    """Run the insert; on a connection found dead, once more on a new one.

    This replaces Django's health check (a `SELECT 1` before the first query of each request, a round trip
    and a tenth of the request's CPU): a dead connection fails the insert itself, and the insert may simply
    run again, since stored ids are skipped. Inside a transaction the error goes up as it is.
    """
    try:
        return _insert_once(params)
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        logger.info("events_record: the database connection was gone; inserting on a new one")
        connection.close()
        return _insert_once(params)


def _insert_once(params: dict) -> int:
    with _insert_cursor() as cursor:
        if not connection.in_atomic_block:  # inside one, a failed statement would abort the whole transaction
            try:
                cursor.execute(_INSERT_NEW_SQL, params)
                return cursor.rowcount
            except IntegrityError as error:
                if getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) != _UNIQUE_CONSTRAINT:
                    raise
        cursor.execute(_INSERT_SQL, params)
        return cursor.rowcount


def _insert_cursor():
    """A cursor for the collect insert: bound on the server and prepared (unless DB_PREPARED_STATEMENTS is off).

    Django binds parameters on the client, so PostgreSQL would parse and plan this statement, the rows quoted
    into its text, on every request. Prepared, it is planned once per connection: less CPU on both sides.
    Wrapped as Django wraps its own cursors: database errors, query logging and counting in tests.
    """
    connection.health_check_done = True  # the insert itself is the check, see _insert
    if not settings.DB_PREPARED_STATEMENTS:
        return connection.cursor()
    connection.ensure_connection()  # prepared only with settings' prepare_threshold (Django's None turns it off)
    with connection.wrap_database_errors:
        raw = _prepared_cursor_class()(connection.connection)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


@lru_cache(maxsize=1)
def _prepared_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):
        def execute(self, query, params=None, *, prepare=True, binary=None):
            return super().execute(query, params, prepare=prepare, binary=binary)

    return PreparedCursor


@transaction.atomic
def _insert_portable(site_id: int, events: list[EventRow], sender: tuple) -> int:
    """SQLite (the demo): the same result in three statements inside one transaction."""
    received_at, device, ip_hash, ip_truncated, user_agent, widget_version = sender
    wanted = {event.event_id for event in events}
    existing = {
        str(u) for u in Event.objects.filter(site_id=site_id, event_id__in=wanted).values_list("event_id", flat=True)
    }
    fresh, seen = [], set()
    for event in events:
        if event.event_id in existing or event.event_id in seen:
            continue
        seen.add(event.event_id)
        proof = event.type == CONSENT
        fresh.append(Event(
            site_id=site_id, event_id=event.event_id, type=event.type,
            ts=datetime.fromtimestamp(event.ts_ms / 1000, tz=UTC), received_at=received_at,
            visitor_id=event.visitor_id, session_id=event.session_id, campaign_id=event.campaign_id,
            variant_id=event.variant_id, url=event.url, payload=json.loads(event.payload_json), device=device,
            ip_hash=ip_hash, ip_truncated=ip_truncated if proof else "",
            user_agent=user_agent[:MAX_USER_AGENT_CHARS] if proof else "",
            widget_version=widget_version if event.type == PAGEVIEW else "",
        ))
    return len(Event.objects.bulk_create(fresh))
