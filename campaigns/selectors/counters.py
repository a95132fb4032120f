"""Reads of what the tally wrote: a campaign's counters summed per variant, and the campaigns allocation updates."""

from django.db.models import Sum

from campaigns.models import Campaign, Variant, VariantDailyStats


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
