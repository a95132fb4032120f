"""Does the message move people along? A campaign's exposed visitors against its holdout: the share who went on to a
further journey stage after their assignment, and the share who reached the campaign's goal, each with the
difference and its interval from the statistics engine (campaigns/stats.py).

Definitions (docs/interventions.md, "Does the message move people along?", says the same for owners):
- The arms are the campaign's assignments (Assignment): exposed, a visitor assigned to any variant; holdout, a
  visitor assigned to the holdout (variant null), who was shown nothing.
- **The stage a visitor had reached when assigned** is the highest stage (awareness 1 … advocacy 5) among their
  JourneyVisitorStage rows with `first_at` at or before the assignment's `first_exposed_at`; 0 when none.
- **Moved on**: the visitor first reached a stage with a higher ordinal than that one after their assignment
  (`first_at` later than `first_exposed_at`), whenever it was. Stages can be skipped, so any further stage counts;
  a visitor who had reached advocacy cannot move on, in either arm. Both arms count every assigned visitor, so the
  denominators are the campaign's own exposed and holdout visitors.
- **Converted**: the tally filled the assignment's `converted_on` (the campaign's goal, within its attribution
  window, as the results page counts it).
- The difference is exposed minus holdout, in points of share (absolute), from `stats.frequentist_test` on
  `stats.binomial_arm`s, at the campaign's α (and with its confidence sequence when the campaign asks for one).

Counted in SQL: one grouped query over the assignments, with a correlated look-up of the stage rows per assignment
(the stage rows' unique key starts with site and visitor).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from campaigns import stats
from campaigns.journeys.exits import stage_ordinal_sql
from campaigns.models import Assignment, Campaign, JourneyVisitorStage


@dataclass(frozen=True)
class ArmCounts:
    visitors: int = 0
    moved_on: int = 0
    converted: int = 0


@dataclass(frozen=True)
class Comparison:
    """Exposed against holdout for one share: both shares, the difference (points of share) and its interval."""

    exposed_share: float | None
    holdout_share: float | None
    difference: float | None
    ci: tuple[float, float] | None
    p_value: float | None
    error: str | None


@dataclass(frozen=True)
class JourneyEffect:
    campaign_id: int
    exposed: ArmCounts
    holdout: ArmCounts
    moved_on: Comparison
    converted: Comparison


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _compare(*, exposed: int, exposed_hits: int, holdout: int, holdout_hits: int, alpha: float,
             sequential_tuning: float | None) -> Comparison:
    result = stats.frequentist_test(
        a=stats.binomial_arm(visitors=holdout, conversions=holdout_hits),
        b=stats.binomial_arm(visitors=exposed, conversions=exposed_hits),
        relative=False, alpha=alpha, sequential_tuning=sequential_tuning,
    )
    return Comparison(exposed_share=_share(exposed_hits, exposed), holdout_share=_share(holdout_hits, holdout),
                      difference=result.expected, ci=result.ci, p_value=result.p_value, error=result.error)


def journey_effect(*, campaign_id: int, exposed: ArmCounts, holdout: ArmCounts, alpha: float = 0.05,
                   sequential_tuning: float | None = None) -> JourneyEffect:
    """The comparison on counts already read (plain data: what the page shows, and what the tests compute)."""
    common = {"alpha": alpha, "sequential_tuning": sequential_tuning}
    return JourneyEffect(
        campaign_id=campaign_id, exposed=exposed, holdout=holdout,
        moved_on=_compare(exposed=exposed.visitors, exposed_hits=exposed.moved_on, holdout=holdout.visitors,
                          holdout_hits=holdout.moved_on, **common),
        converted=_compare(exposed=exposed.visitors, exposed_hits=exposed.converted, holdout=holdout.visitors,
                           holdout_hits=holdout.converted, **common),
    )


def journey_counts_by_campaign(*, campaign_ids: Sequence[int]) -> dict[int, tuple[ArmCounts, ArmCounts]]:
    """(exposed, holdout) counts per campaign that has assignments, in one grouped query."""
    if not campaign_ids:  # no query to run, and building it (two correlated subqueries) takes milliseconds
        return {}
    stages = JourneyVisitorStage.objects.filter(site_id=OuterRef("site_id"), visitor_id=OuterRef("visitor_id"))
    reached = (stages.filter(first_at__lte=OuterRef("first_exposed_at")).annotate(ordinal=stage_ordinal_sql())
               .order_by("-ordinal").values("ordinal")[:1])
    further = (stages.filter(first_at__gt=OuterRef("first_exposed_at")).annotate(ordinal=stage_ordinal_sql())
               .filter(ordinal__gt=OuterRef("reached")))
    exposed, holdout = Q(variant_id__isnull=False), Q(variant_id__isnull=True)
    converted, moved = Q(converted_on__isnull=False), Q(moved=True)
    rows = (
        Assignment.objects.filter(campaign_id__in=list(campaign_ids))
        .annotate(reached=Coalesce(Subquery(reached, output_field=IntegerField()), Value(0)))
        .annotate(moved=Exists(further))
        .values("campaign_id")
        .annotate(
            exposed=Count("id", filter=exposed), exposed_moved=Count("id", filter=exposed & moved),
            exposed_converted=Count("id", filter=exposed & converted),
            holdout=Count("id", filter=holdout), holdout_moved=Count("id", filter=holdout & moved),
            holdout_converted=Count("id", filter=holdout & converted),
        )
        .order_by("campaign_id")
    )
    return {
        row["campaign_id"]: (
            ArmCounts(visitors=row["exposed"], moved_on=row["exposed_moved"], converted=row["exposed_converted"]),
            ArmCounts(visitors=row["holdout"], moved_on=row["holdout_moved"], converted=row["holdout_converted"]),
        )
        for row in rows
    }


def _settings(campaign: Campaign) -> dict:
    frequentist = campaign.stats_engine == Campaign.Engine.FREQUENTIST
    sequential = campaign.stats_sequential_tuning if frequentist and campaign.stats_sequential_tuning else None
    return {"alpha": campaign.stats_alpha, "sequential_tuning": sequential}


def journey_effects_get(*, campaigns: Sequence[Campaign]) -> list[JourneyEffect]:
    """The journey effect of each campaign that has a holdout visitor and an exposed one, in the given order."""
    counts = journey_counts_by_campaign(campaign_ids=[campaign.id for campaign in campaigns])
    found = []
    for campaign in campaigns:
        exposed, holdout = counts.get(campaign.id, (ArmCounts(), ArmCounts()))
        if exposed.visitors and holdout.visitors:
            found.append(journey_effect(campaign_id=campaign.id, exposed=exposed, holdout=holdout,
                                        **_settings(campaign)))
    return found


def campaign_journey_effect(*, campaign: Campaign) -> JourneyEffect | None:
    """One campaign's journey effect; None without a holdout visitor or an exposed one."""
    found = journey_effects_get(campaigns=[campaign])
    return found[0] if found else None
