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
(the stage rows' unique key starts with site and visitor). That is some 7 µs an assignment (6-12 s for 850,000 with
the rows cached, 24 s without), so a read counts campaigns itself only up to LIVE_ASSIGNMENTS assignments in all,
in the order given; the others are read from the counts the worker keeps (JourneyEffectCounts: every campaign with
a holdout, counted again every REFRESH_SECONDS by `journey_effects_refresh`; the pages say as of when), or listed
as being counted until the worker's first count is done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns import stats
from campaigns.journeys.exits import stage_ordinal_sql
from campaigns.models import Assignment, Campaign, JourneyEffectCounts, JourneyVisitorStage

# The assignments a read counts itself, all campaigns together (about 7 ms); beyond, it reads the worker's counts.
LIVE_ASSIGNMENTS = 1_000
# How often the worker counts a running (active or paused) campaign again; any other one, once a day.
REFRESH_SECONDS = 10 * 60
IDLE_REFRESH_SECONDS = 24 * 60 * 60
# How long a task run holds a campaign it counts (a count that takes longer is taken over by the next run).
CLAIM_SECONDS = 30 * 60
RUNNING = (Campaign.Status.ACTIVE, Campaign.Status.PAUSED)


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
    as_of: dt.datetime | None = None  # when the worker counted it; None: counted on this read


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
                   sequential_tuning: float | None = None, as_of: dt.datetime | None = None) -> JourneyEffect:
    """The comparison on counts already read (plain data: what the page shows, and what the tests compute)."""
    common = {"alpha": alpha, "sequential_tuning": sequential_tuning}
    return JourneyEffect(
        campaign_id=campaign_id, exposed=exposed, holdout=holdout, as_of=as_of,
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


def _assignments_capped(campaign_id: int, cap: int) -> int:
    """The campaign's assignments, counted up to `cap` + 1 at most (from the unique key's index)."""
    return Assignment.objects.filter(campaign_id=campaign_id).values("id")[:cap + 1].count()


def journey_effects_read(*, campaigns: Sequence[Campaign]) -> tuple[list[JourneyEffect], list[Campaign]]:
    """(the journey effect of each campaign that has a holdout visitor and an exposed one, in the given order; the
    campaigns whose counts the worker has not kept yet and that are too big to count here). Campaigns are counted
    here, in order, while their assignments add up to at most LIVE_ASSIGNMENTS; the others are read from the
    worker's counts (with their `as_of`). Without a worker to keep them (settings.JOURNEY_EFFECTS_KEPT off: tasks
    run in-process), every campaign is counted here."""
    if not settings.JOURNEY_EFFECTS_KEPT:
        live = [campaign.id for campaign in campaigns]
    else:
        live, left = [], LIVE_ASSIGNMENTS
        for campaign in campaigns:
            size = _assignments_capped(campaign.id, left)
            if size <= left:
                live.append(campaign.id)
                left -= size
    counts = journey_counts_by_campaign(campaign_ids=live)
    kept = {row.campaign_id: row for row in JourneyEffectCounts.objects.filter(
        campaign_id__in=[campaign.id for campaign in campaigns if campaign.id not in live], counted_at__isnull=False)}
    found, pending = [], []
    for campaign in campaigns:
        as_of = None
        if campaign.id in live:
            exposed, holdout = counts.get(campaign.id, (ArmCounts(), ArmCounts()))
        elif campaign.id in kept:
            exposed, holdout = _arms(kept[campaign.id])
            as_of = kept[campaign.id].counted_at
        else:
            pending.append(campaign)
            continue
        if exposed.visitors and holdout.visitors:
            found.append(journey_effect(campaign_id=campaign.id, exposed=exposed, holdout=holdout, as_of=as_of,
                                        **_settings(campaign)))
    return found, pending


def campaign_journey_effect(*, campaign: Campaign) -> JourneyEffect | None:
    """One campaign's journey effect; None without a holdout visitor or an exposed one (or before the worker's first
    count of a big campaign)."""
    found, _pending = journey_effects_read(campaigns=[campaign])
    return found[0] if found else None


def _arms(row: JourneyEffectCounts) -> tuple[ArmCounts, ArmCounts]:
    return (ArmCounts(visitors=row.exposed, moved_on=row.exposed_moved_on, converted=row.exposed_converted),
            ArmCounts(visitors=row.holdout, moved_on=row.holdout_moved_on, converted=row.holdout_converted))


def _claim(campaign_id: int) -> bool:
    """True when this run may count the campaign now: no other run holds it."""
    now = timezone.now()
    JourneyEffectCounts.objects.get_or_create(campaign_id=campaign_id)
    return bool(JourneyEffectCounts.objects.filter(campaign_id=campaign_id).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)).update(
        claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS)))


def journey_effect_count(*, campaign: Campaign) -> bool:
    """Count the campaign's journey effect and keep it, unless another run holds it; whether it was counted."""
    if not _claim(campaign.id):
        return False
    started = timezone.now()  # what the count saw: the rows written by then
    exposed, holdout = journey_counts_by_campaign(campaign_ids=[campaign.id]).get(
        campaign.id, (ArmCounts(), ArmCounts()))
    JourneyEffectCounts.objects.filter(campaign_id=campaign.id).update(
        exposed=exposed.visitors, exposed_moved_on=exposed.moved_on, exposed_converted=exposed.converted,
        holdout=holdout.visitors, holdout_moved_on=holdout.moved_on, holdout_converted=holdout.converted,
        counted_at=started, claimed_until=None)
    return True


def journey_effects_due(*, now: dt.datetime | None = None) -> list[Campaign]:
    """The campaigns whose kept counts are missing or old (a running one's after REFRESH_SECONDS, any other's after
    IDLE_REFRESH_SECONDS), never counted first, then the oldest counts: those with a holdout now, or counted
    before. Small ones too (they take milliseconds): a page that has counted its share itself reads them."""
    now = now or timezone.now()
    kept = dict(JourneyEffectCounts.objects.values_list("campaign_id", "counted_at"))
    due = []
    for campaign in Campaign.objects.filter(Q(control_share__gt=0) | Q(id__in=list(kept))).order_by("id"):
        counted_at = kept.get(campaign.id)
        age = REFRESH_SECONDS if campaign.status in RUNNING else IDLE_REFRESH_SECONDS
        if counted_at is None or counted_at <= now - dt.timedelta(seconds=age):
            due.append(campaign)
    return sorted(due, key=lambda campaign: (kept.get(campaign.id) is not None, kept.get(campaign.id) or now))


def journey_effects_refresh(*, now: dt.datetime | None = None) -> int:
    """Count every campaign due (journey_effects_due); how many this run counted (another run holds the rest)."""
    return sum(journey_effect_count(campaign=campaign) for campaign in journey_effects_due(now=now))
