"""The stage funnel: visitors reaching each journey stage, conversion to the next and the median time between them.

Read from the per-visitor stage rows (JourneyVisitorStage: when a visitor first reached a stage). Stages need not be
reached in order (a search ad can land a visitor on a product page, skipping awareness): a visitor counts for every
stage they reached, and converts from a stage to the next when they reached the next one at or after reaching it.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.journeys.paths import STAGES

UNKNOWN_STAGE = "{stage!r} is not a journey stage (one of {stages})"


@dataclass(frozen=True)
class StageReach:
    """A visitor first reached a stage at `first_at` (one JourneyVisitorStage row)."""

    visitor_id: str
    stage: str
    first_at: datetime


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
    """The funnel over `stages` in the given order (by default all five)."""
    stages_check(stages)
    first: dict[str, dict[str, datetime]] = defaultdict(dict)  # stage -> visitor -> first reached
    for row in reached:
        seen = first[row.stage].get(row.visitor_id)
        if seen is None or row.first_at < seen:
            first[row.stage][row.visitor_id] = row.first_at
    sums = []
    for index, stage in enumerate(stages):
        here = first[stage]
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
