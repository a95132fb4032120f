"""The stage funnel from the per-visitor stage rows."""

import random
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from campaigns.journeys.funnel import (
    GAP_FINE,
    GAP_FINE_RATIO,
    UNKNOWN_STAGE,
    StageReach,
    gap_bucket,
    gap_seconds,
    median_from_buckets,
    stage_funnel,
)
from campaigns.journeys.paths import STAGES
from campaigns.models.journeys import Stage

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


READERS = [StageReach(f"reader{i}", "awareness", at(i)) for i in range(4)]  # read the blog, never bought
SEARCHER = [StageReach("searcher", "consideration", at(0)), StageReach("searcher", "decision", at(3))]
BUYER = [
    StageReach("buyer", "awareness", at(0)),
    StageReach("buyer", "consideration", at(10)),
    StageReach("buyer", "decision", at(12)),
    StageReach("buyer", "retention", at(20)),
]
# Bought first, read the blog afterwards: reached awareness after consideration, so it converts to nothing.
BACKWARDS = [StageReach("late", "consideration", at(0)), StageReach("late", "awareness", at(30))]


def test_the_funnel_counts_visitors_conversions_and_median_times():
    funnel = stage_funnel(reached=[*READERS, *SEARCHER, *BUYER, *BACKWARDS])
    rows = [(row.stage, row.visitors, row.converted, row.conversion, row.median_to_next) for row in funnel]
    assert rows == [
        ("awareness", 6, 1, pytest.approx(1 / 6), timedelta(minutes=10)),
        ("consideration", 3, 2, pytest.approx(2 / 3), timedelta(minutes=2.5)),  # median of 3 and 2 minutes
        ("decision", 2, 1, 0.5, timedelta(minutes=8)),
        ("retention", 1, 0, 0.0, None),
        ("advocacy", 0, 0, None, None),
    ]
    assert [row.share for row in funnel] == [1.0, 0.5, pytest.approx(2 / 6), pytest.approx(1 / 6), 0.0]


def test_the_funnel_takes_the_stages_asked_and_the_share_of_all_visitors():
    funnel = stage_funnel(reached=[*SEARCHER, *BUYER], stages=["consideration", "decision"], base=10)
    assert [(row.stage, row.visitors, row.share, row.conversion) for row in funnel] == [
        ("consideration", 2, 0.2, 1.0), ("decision", 2, 0.2, None),
    ]


def test_a_visitor_is_counted_once_per_stage_at_their_first_time():
    reached = [StageReach("v", "decision", at(5)), StageReach("v", "decision", at(1)),
               StageReach("v", "retention", at(4))]
    funnel = stage_funnel(reached=reached, stages=["decision", "retention"])
    assert (funnel[0].visitors, funnel[0].median_to_next) == (1, timedelta(minutes=3))


def test_an_unknown_stage_is_refused():
    with pytest.raises(ValueError, match="'purchase' is not a journey stage"):
        stage_funnel(reached=[], stages=["purchase"])
    assert UNKNOWN_STAGE.startswith("{stage!r}")


def test_the_models_stages_are_the_funnels_in_the_same_order():
    assert tuple(Stage.values) == STAGES


def test_the_visitors_counted_in_a_stage_are_those_whose_row_is_in_the_period():
    # The searcher reached decision outside the period: not counted there, but their conversion to it counts.
    reached = [StageReach("searcher", "consideration", at(0)), StageReach("searcher", "decision", at(3), counted=False),
               StageReach("buyer", "decision", at(1))]
    funnel = stage_funnel(reached=reached, stages=["consideration", "decision"])
    assert [(row.visitors, row.converted) for row in funnel] == [(1, 1), (1, 0)]
    assert funnel[0].median_to_next == timedelta(minutes=3)


@pytest.mark.parametrize("seconds", [0, 0.3, 0.999, 1, 1.5, 59, 60, 61, 3599.5, 86_400 * 3 + 7, 86_400 * 400])
def test_a_gap_falls_in_a_bucket_whose_middle_is_within_half_a_fine_bucket(seconds):
    coarse, fine = gap_bucket(seconds)
    assert 0 <= fine < GAP_FINE
    middle = gap_seconds((coarse, fine))
    assert abs(middle - seconds) <= (GAP_FINE_RATIO - 1) / 2 * seconds + 1 / GAP_FINE
    assert gap_bucket(middle) == (coarse, fine)


@pytest.mark.parametrize("count", [1, 2, 7, 1000, 1001])
def test_the_median_from_buckets_is_the_median_of_the_gaps_within_half_a_fine_bucket(count):
    rng = random.Random(count)
    gaps = [rng.lognormvariate(6, 3) for _ in range(count)]
    buckets = Counter(gap_bucket(gap) for gap in gaps)
    coarse = Counter()
    for (index, _fine), n in buckets.items():
        coarse[index] += n
    asked = []

    def fine_of(index):
        asked.append(index)
        return {fine: n for (at_index, fine), n in buckets.items() if at_index == index}

    exact = statistics.median(gaps)
    assert median_from_buckets(coarse=coarse, fine_of=fine_of) == pytest.approx(exact, rel=(GAP_FINE_RATIO - 1) / 2)
    assert len(asked) <= 2  # only the middle ones' coarse buckets are read finely
    assert median_from_buckets(coarse=Counter(), fine_of=fine_of) is None
