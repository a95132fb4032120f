"""Reads for the tally and results: counters, campaigns to allocate, the tally's lag and its worker."""

from datetime import UTC, datetime

from django.core.cache import cache
from django.db import connection
from django.db.models import Sum
from django.utils.dateparse import parse_datetime

from campaigns.models import Campaign, Event, TallyCursor, Variant, VariantDailyStats


def variant_totals(*, campaign_id: int) -> dict[int | None, dict[str, float]]:
    """Counters summed over days, per variant id (None: the holdout)."""
    rows = (
        VariantDailyStats.objects.filter(campaign_id=campaign_id)
        .values("variant_id")
        .annotate(**{name: Sum(name) for name in VariantDailyStats.COUNTERS})
    )
    return {row.pop("variant_id"): row for row in rows}


def campaigns_auto_allocated():
    """Active campaigns whose weights the allocation task may change, with their variants."""
    return Campaign.objects.filter(
        status=Campaign.Status.ACTIVE, allocation_mode=Campaign.Allocation.AUTO
    ).prefetch_related("variants")


def variants_of(*, campaign: Campaign) -> list[Variant]:
    return list(campaign.variants.order_by("id"))


# The first event past the tally's cursor, in the order the tally reads them (the (tx, id) index answers it).
_OLDEST_UNCOUNTED = f"""
SELECT e.received_at FROM {Event._meta.db_table} AS e
WHERE (e.tx, e.id) > (%s, %s) ORDER BY e.tx, e.id LIMIT 1
"""


def tally_lag_seconds(*, now: datetime) -> float:
    """Age of the oldest event stored and not counted yet; 0 when every event is counted."""
    last = TallyCursor.objects.filter(id=1).values_list("last_tx", "last_id").first() or (0, 0)
    with connection.cursor() as cursor:
        cursor.execute(_OLDEST_UNCOUNTED, list(last))
        row = cursor.fetchone()
    if row is None:
        return 0.0
    received_at = parse_datetime(row[0]) if isinstance(row[0], str) else row[0]
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=UTC)
    return max(0.0, (now - received_at).total_seconds())


# When a Celery worker last ran the tally (unix seconds), for /readyz: a worker that stopped consuming shows there.
WORKER_SEEN_KEY = "worker:seen"


def worker_last_seen() -> float | None:
    """When a Celery worker last ran the tally (unix seconds), None if never noted."""
    return cache.get(WORKER_SEEN_KEY)
