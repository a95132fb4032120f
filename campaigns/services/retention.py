"""Retention: raw events, consent proof and responses (answers and leads) are deleted after each site's
retention for each; counters and assignments stay. Deletes go in bounded chunks so a large backlog never holds
one long transaction.
"""

import logging
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from campaigns.models import ConsentRecord, Event, Response, Site, TallyCursor

logger = logging.getLogger(__name__)

CHUNK = 5000


def events_expire(*, site: Site, now=None) -> tuple[int, int]:
    """Delete the site's expired events (not those still waiting to be counted) and consent records, and its
    expired responses (responses_expire); returns the events and consent records deleted."""
    now = now or timezone.now()
    events = _delete_chunked(
        table=Event._meta.db_table,
        where=f"site_id = %s AND received_at < %s AND (tx, id) <= "
        f"(SELECT c.last_tx, c.last_id FROM {TallyCursor._meta.db_table} AS c WHERE c.id = 1)",
        params=[site.id, now - timedelta(days=site.event_retention_days)],
    )
    consents = _delete_chunked(
        table=ConsentRecord._meta.db_table,
        where="site_id = %s AND received_at < %s",
        params=[site.id, now - timedelta(days=site.consent_retention_days)],
    )
    responses = responses_expire(site=site, now=now)
    if events or consents or responses:
        logger.info("events_expire: site %s: %s events, %s consent records, %s responses deleted",
                    site.id, events, consents, responses)
    return events, consents


def responses_expire(*, site: Site, now=None) -> int:
    """Delete the site's answers and leads older than its response retention (by when they were sent)."""
    now = now or timezone.now()
    return _delete_chunked(
        table=Response._meta.db_table,
        where="site_id = %s AND created_at < %s",
        params=[site.id, now - timedelta(days=site.response_retention_days)],
    )


def _delete_chunked(*, table: str, where: str, params: list) -> int:
    deleted = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {where} LIMIT {CHUNK})", params
            )
            deleted += cursor.rowcount
            if cursor.rowcount < CHUNK:
                return deleted
