"""The journey counters read back for the map: summed over the days and segment asked."""

import datetime as dt
import itertools

import pytest

from campaigns.journeys.flow import flow_from_counts, flow_from_sessions
from campaigns.journeys.funnel import stage_funnel
from campaigns.journeys.selectors import (
    JourneyFilter,
    journey_counts_get,
    journey_sessions_get,
    journey_stage_reaches_get,
)
from campaigns.models import JourneyPageDaily, JourneySession, JourneyTransitionDaily, JourneyVisitorStage
from tests.campaigns.journeys.journey_kit import fold
from tests.campaigns.journeys.test_flow import GROUPS, SESSIONS

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 12, 1)
NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
_visitors = itertools.count()


def store(site, sessions, *, day=DAY, device="desktop", source="direct", returning=False):
    """The rows the fold writes for these sessions (one day, one segment), as its docstring says."""
    pages, transitions, rows = fold(sessions)
    segment = {"device": device, "source": source, "returning": returning}
    for page in pages:
        JourneyPageDaily.objects.create(site=site, day=day, step=page.step, path=page.path, pageviews=page.pageviews,
                                        entries=page.entries, **segment)
    for move in transitions:
        JourneyTransitionDaily.objects.create(site=site, day=day, step=move.step, from_path=move.from_path,
                                              path=move.path, count=move.count, **segment)
    for row in rows:
        positions = {f"path_{position}": path for position, path in enumerate(row.paths, start=1)}
        JourneySession.objects.create(site=site, visitor_id=f"v{next(_visitors)}", session_id="s1", day=day,
                                      started_at=NOON, last_at=NOON, steps=row.steps, pageviews=row.steps,
                                      **positions, **segment)


def test_counts_read_back_give_the_flow_of_the_sessions_stored(site, outsider_site):
    store(site, SESSIONS[:2])
    store(site, SESSIONS[2:], day=DAY + dt.timedelta(days=1))
    store(outsider_site, SESSIONS)
    pages, transitions = journey_counts_get(site=site, where=JourneyFilter(start=DAY, end=DAY + dt.timedelta(days=1)))
    expected_pages, expected_transitions, _rows = fold(SESSIONS)
    assert sorted(pages, key=repr) == sorted(expected_pages, key=repr)
    assert sorted(transitions, key=repr) == sorted(expected_transitions, key=repr)
    assert flow_from_counts(pages=pages, transitions=transitions, groups=GROUPS) == flow_from_counts(
        pages=expected_pages, transitions=expected_transitions, groups=GROUPS)


def test_the_filter_keeps_the_days_and_the_segment_asked(site):
    store(site, [["/a", "/b"]], device="mobile", source="google/cpc")
    store(site, [["/a"]] * 2, device="desktop", returning=True)
    store(site, [["/a"]] * 4, day=DAY - dt.timedelta(days=1))

    def views(**segment):
        pages, _transitions = journey_counts_get(site=site, where=JourneyFilter(start=DAY, end=DAY, **segment))
        return sum(page.pageviews for page in pages)

    assert (views(), views(device="mobile"), views(source="google/cpc"), views(returning=True),
            views(returning=False), views(device="tablet")) == (4, 2, 2, 2, 2, 0)


def test_sessions_are_read_back_grouped_by_their_paths(site):
    store(site, [*SESSIONS, SESSIONS[0], ["/x"] * 12])
    rows = journey_sessions_get(site=site, where=JourneyFilter(start=DAY, end=DAY))
    assert sum(row.sessions for row in rows) == 5
    assert any(row.sessions == 2 and row.paths == ("/blog/a", "/product/x", "/cart") for row in rows)
    assert any(len(row.paths) == 10 and row.steps == 12 for row in rows)
    _pages, _transitions, expected = fold([*SESSIONS, SESSIONS[0], ["/x"] * 12])
    assert flow_from_sessions(sessions=rows, groups=GROUPS, goal="Cart") == flow_from_sessions(
        sessions=expected, groups=GROUPS, goal="Cart")


def test_the_funnel_counts_the_stages_reached_in_the_days_asked_and_conversions_whenever(site, outsider_site):
    def reached(where, visitor, stage, day, hour):
        first_at = dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)
        JourneyVisitorStage.objects.create(site=where, visitor_id=visitor, stage=stage, first_at=first_at, day=day,
                                           path="/")

    later = DAY + dt.timedelta(days=3)
    reached(site, "reader", "awareness", DAY, 9)
    reached(site, "buyer", "awareness", DAY, 9)
    reached(site, "buyer", "consideration", later, 10)  # after the days asked: still their journey
    reached(site, "gone", "awareness", DAY - dt.timedelta(days=9), 9)
    reached(outsider_site, "reader", "consideration", DAY, 10)
    reaches = journey_stage_reaches_get(site=site, where=JourneyFilter(start=DAY, end=DAY))
    assert sorted((row.visitor_id, row.stage) for row in reaches) == [
        ("buyer", "awareness"), ("buyer", "consideration"), ("reader", "awareness")]
    assert [row.counted for row in sorted(reaches, key=lambda row: (row.visitor_id, row.stage))] == [
        True, False, True]
    funnel = stage_funnel(reached=reaches, stages=["awareness", "consideration"])
    assert (funnel[0].visitors, funnel[0].converted, funnel[0].median_to_next) == (2, 1, dt.timedelta(days=3, hours=1))
    assert funnel[1].visitors == 0  # the buyer reached consideration after the days asked
