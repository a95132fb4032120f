"""Retention: raw events and consent proof are deleted after each site's retention; counters, assignments
and responses stay. Deletes go in bounded chunks so a large backlog never holds one long transaction.
"""

import logging
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from campaigns.models import ConsentRecord, Event, Site, TallyCursor

logger = logging.getLogger(__name__)

CHUNK = 5000


def events_expire(*, site: Site, now=None) -> tuple[int, int]:
    """Delete the site's expired events (not those still waiting to be counted) and consent records."""
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
    if events or consents:
        logger.info("events_expire: site %s: %s events, %s consent records deleted", site.id, events, consents)
    return events, consents


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
