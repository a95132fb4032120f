"""The stage funnel: visitors reaching each journey stage, conversion to the next and the median time between them.

Read from the per-visitor stage rows (JourneyVisitorStage: when a visitor first reached a stage). A visitor counts in
a stage when they first reached it in the period asked (its days and segment: the row's); they convert to the next
stage when they reached it at or after, whenever that was (after the period too). Stages need not be reached in
order (a search ad can land a visitor on a product page, skipping awareness), so a visitor counts in every stage
they reached in the period.

Each stage is a cohort of its own rows, so the funnel of a period is a sum over its days: the worker keeps it per
day (campaigns/journeys/funnel_rollups.py), with the times to the next stage as histograms of GAP_FINE_RATIO wide
buckets, from which the median is read to within half a bucket (0.45 %).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.journeys.paths import STAGES

UNKNOWN_STAGE = "{stage!r} is not a journey stage (one of {stages})"


@dataclass(frozen=True)
class StageReach:
    """A visitor first reached a stage at `first_at` (one JourneyVisitorStage row); `counted`: the row is in the
    period asked (its days and segment), so the visitor counts in that stage."""

    visitor_id: str
    stage: str
    first_at: datetime
    counted: bool = True


@dataclass(frozen=True)
class FunnelStage:
    stage: str
    visitors: int
    # visitors / base: all visitors of the period when the reader gives it, else those of the funnel's first stage.
    share: float
    # Of these visitors, those who reached the next stage at or after this one, and their share (None: last stage).
    converted: int
    conversion: float | None
    # The median time from this stage to the next, over the visitors who converted (None when none did).
    median_to_next: timedelta | None


def stages_check(stages: Sequence[str]) -> None:
    for stage in stages:
        if stage not in STAGES:
            raise ValueError(UNKNOWN_STAGE.format(stage=stage, stages=", ".join(STAGES)))


def stage_funnel(
    *, reached: Iterable[StageReach], stages: Sequence[str] = STAGES, base: int | None = None
) -> list[FunnelStage]:
    """The funnel over `stages` in the given order (by default all five), from the stage rows of the visitors counted
    and their rows of the stages that follow."""
    stages_check(stages)
    first: dict[str, dict[str, datetime]] = defaultdict(dict)  # stage -> visitor -> first reached
    counted: dict[str, set[str]] = defaultdict(set)
    for row in reached:
        seen = first[row.stage].get(row.visitor_id)
        if seen is None or row.first_at < seen:
            first[row.stage][row.visitor_id] = row.first_at
        if row.counted:
            counted[row.stage].add(row.visitor_id)
    sums = []
    for index, stage in enumerate(stages):
        here = {visitor: at for visitor, at in first[stage].items() if visitor in counted[stage]}
        gaps = []
        if index + 1 < len(stages):
            following = first[stages[index + 1]]
            gaps = [
                (following[visitor] - at).total_seconds()
                for visitor, at in here.items()
                if visitor in following and following[visitor] >= at
            ]
        sums.append(StageSums(stage=stage, visitors=len(here), converted=len(gaps),
                              median_seconds=statistics.median(gaps) if gaps else None))
    return funnel_from_sums(sums=sums, base=base)


@dataclass(frozen=True)
class StageSums:
    """What a funnel stage is computed from: its visitors, those who converted to the next stage and the median
    of their times to it in seconds (None when none did); stage_funnel sums them from the rows, the funnel
    selector in SQL."""

    stage: str
    visitors: int
    converted: int = 0
    median_seconds: float | None = None


def funnel_from_sums(*, sums: Sequence[StageSums], base: int | None = None) -> list[FunnelStage]:
    """The funnel's stages from their sums, in the order given (the last one converts to nothing)."""
    denominator = base if base else (sums[0].visitors if sums else 0)
    funnel = []
    for index, row in enumerate(sums):
        last = index + 1 == len(sums)
        funnel.append(
            FunnelStage(
                stage=row.stage,
                visitors=row.visitors,
                share=row.visitors / denominator if denominator else 0.0,
                converted=0 if last else row.converted,
                conversion=None if last or not row.visitors else row.converted / row.visitors,
                median_to_next=None if last or row.median_seconds is None else timedelta(
                    seconds=row.median_seconds),
            )
        )
    return funnel


# ---------------------------------------------------------------- times to the next stage as histograms

# A gap of a second or more falls in a "coarse" bucket of ratio GAP_RATIO (1 + floor(log of the gap)), split into
# GAP_FINE buckets of equal ratio (GAP_FINE_RATIO, 0.9 % wide); under a second, coarse bucket 0 is split linearly.
# A median is located by the coarse sums first, then read from one coarse bucket's fine counts (funnel_rollups.py).
GAP_RATIO = 1.25
GAP_FINE = 25
GAP_FINE_RATIO = GAP_RATIO ** (1 / GAP_FINE)
GapBucket = tuple[int, int]  # (coarse, fine)


def gap_bucket(seconds: float) -> GapBucket:
    if seconds < 1:
        return 0, min(int(seconds * GAP_FINE), GAP_FINE - 1)
    exponent = math.log(seconds) / math.log(GAP_RATIO)
    whole = math.floor(exponent)
    return 1 + whole, min(int((exponent - whole) * GAP_FINE), GAP_FINE - 1)


def gap_bucket_sql(gap: str) -> tuple[str, str]:
    """gap_bucket in SQL over a gap in seconds (float8): (coarse, fine) expressions."""
    exponent = f"(ln({gap}) / ln({GAP_RATIO}))"
    coarse = f"CASE WHEN {gap} < 1 THEN 0 ELSE 1 + floor({exponent})::int END"
    fine = (f"least(CASE WHEN {gap} < 1 THEN floor({gap} * {GAP_FINE}) "
            f"ELSE floor(({exponent} - floor({exponent})) * {GAP_FINE}) END, {GAP_FINE - 1})::int")
    return coarse, fine


def gap_seconds(bucket: GapBucket) -> float:
    """A bucket's middle (geometric above a second): within half a fine bucket of every gap in it."""
    coarse, fine = bucket
    if coarse == 0:
        return (fine + 0.5) / GAP_FINE
    return GAP_RATIO ** (coarse - 1 + (fine + 0.5) / GAP_FINE)


def median_from_buckets(*, coarse: Mapping[int, int], fine_of) -> float | None:
    """The median gap (statistics.median's: the mean of the two middle ones for an even count) of a histogram given
    as its coarse sums and, on demand, `fine_of(coarse)` -> {fine: count} of one coarse bucket."""
    total = sum(coarse.values())
    if not total:
        return None
    middles = []
    for rank in sorted({(total - 1) // 2, total // 2}):
        below = 0
        for index in sorted(coarse):
            if rank < below + coarse[index]:
                fine = fine_of(index)
                for part in sorted(fine):
                    below += fine[part]
                    if rank < below:
                        middles.append(gap_seconds((index, part)))
                        break
                break
            below += coarse[index]
    return sum(middles) / len(middles) if len(middles) == 2 else middles[0]


def middle_coarse(coarse: Mapping[int, int]) -> set[int]:
    """The coarse buckets the middle gaps fall in: the ones median_from_buckets reads finely."""
    total = sum(coarse.values())
    found, below = set(), 0
    ranks = {(total - 1) // 2, total // 2} if total else set()
    for index in sorted(coarse):
        found |= {index for rank in ranks if below <= rank < below + coarse[index]}
        below += coarse[index]
    return found
