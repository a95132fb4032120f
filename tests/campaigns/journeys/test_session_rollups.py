"""The session rollups answer as the session rows do: flows from a chosen page and back from a goal drawn from the
walk steps (built per day by the task, or summed from the rows) equal flow_from_sessions on the rows by path, for
any filter, after the groups are edited and after a late row for a past day; the task is idempotent."""

import datetime as dt
import random

import pytest
from django.db import connection

from campaigns import tasks
from campaigns.journeys import walk_sums
from campaigns.journeys.flow import SessionPaths, flow_from_sessions, sessions_labelled
from campaigns.journeys.paths import Group
from campaigns.journeys.selectors import JourneyFilter, journey_sessions_get
from campaigns.journeys.services import journey_setup_replace
from campaigns.journeys.session_rollups import (
    journey_groups_key,
    journey_walks_build,
    journey_walks_get,
    journey_walks_update,
)
from campaigns.journeys.walk_weeks import WEEKS_A_RUN, weeks_readable
from campaigns.journeys.walks import flow_from_walks, walk_steps_by_anchor
from campaigns.models import JourneySession, JourneyWalkDaily, JourneyWalkDay, JourneyWalkWeek
from tests.campaigns.journeys.test_label_reads import DAY, FILTERS, GROUPS, counters_generate

pytestmark = pytest.mark.django_db

LAST = DAY + dt.timedelta(days=4)
FIELDS = ("day", "anchor", "backward", "device", "source", "returning", "sessions", "steps")
ANCHORS = ({"start": "Blog"}, {"goal": "Buy"}, {"goal": "/about"}, {"start": "/search"}, {"start": "/nowhere"})
# The groups edited: renamed, reordered, one gone.
EDITED = [
    Group(name="Articles", rule={"op": "starts_with", "value": "/blog/"}, stage="awareness", order=1),
    Group(name="SEO", rule={"op": "starts_with", "value": "/blog/seo/"}, stage="awareness", order=2),
    Group(name="Buy", rule={"op": "contains", "value": "check"}, stage="decision", order=4),
]


def _flows_equal_the_rows(site, groups, filters=FILTERS) -> None:
    for where in filters:
        rows = journey_sessions_get(site=site, where=where)
        for anchor in ANCHORS:
            name, backward = anchor.get("goal") or anchor.get("start"), "goal" in anchor
            steps = journey_walks_get(site=site, where=where, groups=groups, anchor=name, backward=backward)
            for columns, top in ((4, 3), (10, 50)):
                exact = flow_from_sessions(sessions=rows, groups=groups, steps=columns, top=top, **anchor)
                assert flow_from_walks(steps=steps, backward=backward, columns=columns, top=top) == exact, (
                    where, anchor, columns)
                # Only the columns drawn read: the same flow.
                some = journey_walks_get(site=site, where=where, groups=groups, anchor=name, backward=backward,
                                         columns=columns)
                assert all(step.column < columns for step in some)
                assert flow_from_walks(steps=some, backward=backward, columns=columns, top=top) == exact


def test_a_flow_from_the_walk_steps_is_the_flow_from_the_sessions():
    rng = random.Random(5)
    names = ["A", "B", "C", "D", "E"]
    for _ in range(100):
        sessions = [SessionPaths(paths=tuple(rng.choice(names) for _ in range(length)),
                                 steps=length + rng.choice((0, 0, 2)), sessions=rng.randint(1, 3))
                    for length in (rng.randint(1, 10) for _ in range(rng.randint(0, 30)))]
        sessions = sessions_labelled(sessions=sessions)
        by_anchor = walk_steps_by_anchor(sessions=sessions)
        for anchor in ("A", "C"):
            for backward in (False, True):
                steps = by_anchor.get((anchor, backward), [])
                for columns, top in ((1, 2), (3, 1), (5, 5), (10, 3)):
                    expected = flow_from_sessions(sessions=sessions, steps=columns, top=top,
                                                  **{"goal" if backward else "start": anchor})
                    assert flow_from_walks(steps=steps, backward=backward, columns=columns, top=top) == expected


def test_the_rollups_read_as_the_session_rows_before_and_after_they_are_built(site, outsider_site):
    rng = random.Random(1)
    counters_generate(site, rng)
    counters_generate(outsider_site, rng)
    _flows_equal_the_rows(site, GROUPS)  # nothing built: every day from the rows
    assert journey_walks_update(site=site, groups=GROUPS, full=True, today=LAST) == 5
    assert set(JourneyWalkDay.objects.filter(site=site).values_list("groups_key", flat=True)) == {
        journey_groups_key(groups=GROUPS)}
    _flows_equal_the_rows(site, GROUPS)
    # The built days are read from their rollups, not from the rows.
    where = FILTERS[0]
    before = journey_walks_get(site=site, where=where, groups=GROUPS, anchor="Blog", backward=False)
    JourneySession.objects.filter(site=site).delete()
    assert journey_walks_get(site=site, where=where, groups=GROUPS, anchor="Blog", backward=False) == before
    assert not JourneyWalkDaily.objects.filter(site=outsider_site).exists()


def test_edited_groups_read_the_rows_until_the_task_rebuilds_every_day(site):
    counters_generate(site, random.Random(2))
    journey_walks_update(site=site, groups=GROUPS, full=True, today=LAST)
    _flows_equal_the_rows(site, EDITED)  # built with other groups: read from the rows
    assert journey_walks_update(site=site, groups=EDITED, today=LAST) == 5  # not only the recent days
    assert set(JourneyWalkDay.objects.filter(site=site).values_list("groups_key", flat=True)) == {
        journey_groups_key(groups=EDITED)}
    _flows_equal_the_rows(site, EDITED)


def test_a_late_row_for_a_past_day_is_built_by_the_full_run_only(site):
    counters_generate(site, random.Random(3))
    journey_walks_update(site=site, groups=GROUPS, full=True, today=LAST)
    late = JourneySession.objects.filter(site=site, day=DAY).first()
    JourneySession.objects.filter(id=late.id).update(path_2="/checkout", steps=2, pageviews=late.pageviews + 1)
    JourneySession.objects.create(site=site, visitor_id="late", session_id="s", day=DAY, started_at=late.started_at,
                                  last_at=late.last_at, steps=1, pageviews=1, path_1="/search")
    assert journey_walks_update(site=site, groups=GROUPS, today=LAST) == 0  # past the recent days
    assert journey_walks_update(site=site, groups=GROUPS, full=True, today=LAST) == 1
    _flows_equal_the_rows(site, GROUPS)


def test_the_task_is_idempotent(site):
    counters_generate(site, random.Random(4))
    journey_setup_replace(site=site, groups=GROUPS, cleanups=[])
    tasks.journey_walks_update(site_id=site.id, full=True)
    built = sorted(map(repr, JourneyWalkDaily.objects.filter(site=site).values()))
    days = sorted(map(repr, JourneyWalkDay.objects.filter(site=site).values()))
    assert built and len(days) == 5
    tasks.journey_walks_update(site_id=site.id, full=True)
    tasks.journey_walks_update(site_id=site.id + 1000)  # a site that is gone
    assert sorted(map(repr, JourneyWalkDaily.objects.filter(site=site).values())) == built
    assert sorted(map(repr, JourneyWalkDay.objects.filter(site=site).values())) == days


def spread(site, days: int) -> None:
    """The generated sessions moved over `days` days from DAY, so that whole weeks hold some."""
    for n, row_id in enumerate(JourneySession.objects.filter(site=site).order_by("id").values_list("id", flat=True)):
        JourneySession.objects.filter(id=row_id).update(day=DAY + dt.timedelta(days=n % days))


MONDAY = DAY + dt.timedelta(days=(7 - DAY.weekday()) % 7)
WEEK_FILTERS = (
    JourneyFilter(start=DAY, end=DAY + dt.timedelta(days=20)),
    JourneyFilter(start=MONDAY, end=MONDAY + dt.timedelta(days=6), source="google"),
    JourneyFilter(start=MONDAY + dt.timedelta(days=1), end=MONDAY + dt.timedelta(days=15), device="mobile",
                  returning=True),
)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="week rows are built on PostgreSQL only")
def test_whole_weeks_are_read_from_their_week_rows_built_after_their_days(site, outsider_site):
    rng = random.Random(6)
    for built in (site, outsider_site):
        counters_generate(built, rng)
        spread(built, 21)
    today = DAY + dt.timedelta(days=25)
    journey_walks_update(site=site, groups=GROUPS, full=True, today=today)
    weeks = sorted(JourneyWalkWeek.objects.filter(site=site).values_list("week", flat=True))
    assert len(weeks) == WEEKS_A_RUN and MONDAY in weeks and MONDAY + dt.timedelta(days=7) in weeks
    _flows_equal_the_rows(site, GROUPS, WEEK_FILTERS)

    # A day rebuilt after its week's sum: the week is read from its days until it is summed again.
    late = JourneySession.objects.filter(site=site, day=MONDAY + dt.timedelta(days=2)).first()
    JourneySession.objects.filter(id=late.id).update(path_1="/search", pageviews=late.pageviews + 1)
    journey_walks_build(site=site, day=late.day, groups=GROUPS)

    def readable():
        key = journey_groups_key(groups=GROUPS)
        states = {day: (k, at) for day, k, at in JourneyWalkDay.objects.filter(site=site).values_list(
            "day", "groups_key", "built_at")}
        return weeks_readable(site=site, start=DAY, end=today, key=key, states=states)

    assert MONDAY not in readable() and MONDAY + dt.timedelta(days=7) in readable()
    _flows_equal_the_rows(site, GROUPS, WEEK_FILTERS)
    journey_walks_update(site=site, groups=GROUPS, today=today)
    assert MONDAY in readable()
    _flows_equal_the_rows(site, GROUPS, WEEK_FILTERS)
    # Read from the week rows: without the day rows of a week every filter reads whole, the flows are the same.
    second = MONDAY + dt.timedelta(days=7)
    JourneyWalkDaily.objects.filter(site=site, day__gte=second, day__lt=second + dt.timedelta(days=7)).delete()
    _flows_equal_the_rows(site, GROUPS, WEEK_FILTERS)
    # Edited groups: the week rows are not read (the days, built with the old groups, neither).
    _flows_equal_the_rows(site, EDITED, WEEK_FILTERS)


def test_the_rows_walked_in_python_are_the_rows_walked_with_numpy(site, monkeypatch):
    counters_generate(site, random.Random(6))
    day = JourneySession.objects.filter(site=site).values_list("day", flat=True).first()
    assert journey_walks_build(site=site, day=day, groups=GROUPS)
    built = sorted(map(repr, JourneyWalkDaily.objects.filter(site=site).values(*FIELDS)))
    monkeypatch.setattr(walk_sums, "_KEY_LIMIT", 1)  # as with too many labels for walk_rows' keys
    assert journey_walks_build(site=site, day=day, groups=GROUPS, force=True)
    assert sorted(map(repr, JourneyWalkDaily.objects.filter(site=site).values(*FIELDS))) == built
