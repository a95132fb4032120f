"""The intervention points read from the daily exit rollups (built with the walk rollups) and their weekly sums are
the points read from the session rows: the same exits, visitors lost, stages, paths and campaigns, for any segment
filter, with some days built and others not, and after the groups are edited (the stale days read the rows)."""

import datetime as dt
import random

import pytest
from django.db import connection

from campaigns.journeys.exits import intervention_exits_read
from campaigns.journeys.interventions import intervention_points_get
from campaigns.journeys.session_rollups import journey_walks_build, journey_walks_update
from campaigns.models import (
    Campaign,
    JourneyExitDaily,
    JourneyExitPathsDaily,
    JourneyExitPathsWeekly,
    JourneyExitWeekly,
    JourneyWalkWeek,
)
from tests.campaigns.journeys.test_label_reads import DAY, FILTERS, GROUPS, counters_generate
from tests.campaigns.journeys.test_session_rollups import EDITED, LAST, MONDAY, WEEK_FILTERS, spread
from tests.conftest import popup_campaign_create

pytestmark = pytest.mark.django_db


def _points(site, groups, filters=FILTERS) -> list:
    found = []
    for where in filters:
        for name, points in intervention_points_get(site=site, where=where, groups=groups, limit=100).items():
            found.append((where, name, [(p.label, p.step, p.exits, p.lost, p.by_ordinal, p.paths, p.group, p.stage,
                                         p.campaigns) for p in points]))
    return found


@pytest.fixture
def generated(site, outsider_site):
    rng = random.Random(3)
    counters_generate(site, rng)
    counters_generate(outsider_site, rng)
    for number, rule in enumerate(({"attr": "path", "op": "starts_with", "value": "/blog/"},
                                   {"attr": "path", "op": "equals", "value": "/cart"},
                                   {"all": [{"attr": "path", "op": "contains", "value": "check"},
                                            {"attr": "pageviews_total", "op": "gte", "value": 2}]})):
        campaign = popup_campaign_create(site=site, name=f"c{number}")
        Campaign.objects.filter(id=campaign.id).update(targeting=rule, status=Campaign.Status.ACTIVE)
    return site


def test_the_points_from_the_exit_rollups_are_the_points_from_the_session_rows(generated, outsider_site):
    site = generated
    exact = _points(site, GROUPS)
    assert any(points for _, _, points in exact) and any(p[8] for _, _, points in exact for p in points)
    journey_walks_build(site=site, day=DAY + dt.timedelta(days=2), groups=GROUPS)  # one day built, the rest not
    assert _points(site, GROUPS) == exact
    journey_walks_update(site=site, groups=GROUPS, full=True, today=LAST)
    read = intervention_exits_read(site=site, where=FILTERS[0], groups=GROUPS)
    assert len(read.built) == 5 and all(row.labelled for row in read.exits)  # every day from the rollups
    assert _points(site, GROUPS) == exact
    assert not JourneyExitDaily.objects.filter(site=outsider_site).exists()
    assert not JourneyExitPathsDaily.objects.filter(site=outsider_site).exists()
    # The groups edited: every day is stale, read from the rows, until the task builds them again.
    edited = _points(site, EDITED)
    assert not intervention_exits_read(site=site, where=FILTERS[0], groups=EDITED).built
    journey_walks_update(site=site, groups=EDITED, today=LAST)
    assert len(intervention_exits_read(site=site, where=FILTERS[0], groups=EDITED).built) == 5
    assert _points(site, EDITED) == edited


@pytest.mark.skipif(connection.vendor != "postgresql", reason="week rows are built on PostgreSQL only")
def test_whole_weeks_read_the_exits_summed_after_their_days(generated, outsider_site):
    site = generated
    spread(site, 21)
    exact, edited = _points(site, GROUPS, WEEK_FILTERS), _points(site, EDITED, WEEK_FILTERS)
    journey_walks_update(site=site, groups=GROUPS, full=True, today=DAY + dt.timedelta(days=25))
    assert JourneyWalkWeek.objects.filter(site=site, week=MONDAY).exists()
    read = intervention_exits_read(site=site, where=WEEK_FILTERS[0], groups=GROUPS)
    assert MONDAY in read.weeks and not set(read.built) & {MONDAY + dt.timedelta(days=n) for n in range(7)}
    assert _points(site, GROUPS, WEEK_FILTERS) == exact
    assert not JourneyExitWeekly.objects.filter(site=outsider_site).exists()
    # Read from the week rows: without the day rows of a week every filter reads whole, the points are the same.
    second = {"site": site, "day__gte": MONDAY + dt.timedelta(days=7), "day__lt": MONDAY + dt.timedelta(days=14)}
    JourneyExitDaily.objects.filter(**second).delete()
    JourneyExitPathsDaily.objects.filter(**second).delete()
    assert _points(site, GROUPS, WEEK_FILTERS) == exact
    # And they are what is read: emptied, the week's exits are gone from the points.
    JourneyExitWeekly.objects.filter(site=site, week=MONDAY + dt.timedelta(days=7)).delete()
    JourneyExitPathsWeekly.objects.filter(site=site, week=MONDAY + dt.timedelta(days=7)).delete()
    assert _points(site, GROUPS, WEEK_FILTERS) != exact
    # Edited groups: neither the weeks nor their days are read, the session rows are.
    assert not intervention_exits_read(site=site, where=WEEK_FILTERS[0], groups=EDITED).weeks
    assert _points(site, EDITED, WEEK_FILTERS) == edited
