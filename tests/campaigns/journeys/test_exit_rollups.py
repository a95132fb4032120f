"""The intervention points read from the daily exit rollups (built with the walk rollups) are the points read from
the session rows: the same exits, visitors lost, stages, paths and campaigns, for any segment filter, with some days
built and others not, and after the groups are edited (the stale days read the rows)."""

import datetime as dt
import random

import pytest

from campaigns.journeys.exits import intervention_exits_read
from campaigns.journeys.interventions import intervention_points_get
from campaigns.journeys.session_rollups import journey_walks_build, journey_walks_update
from campaigns.models import Campaign, JourneyExitDaily, JourneyExitPathsDaily
from tests.campaigns.journeys.test_label_reads import DAY, FILTERS, GROUPS, counters_generate
from tests.campaigns.journeys.test_session_rollups import EDITED, LAST
from tests.conftest import popup_campaign_create

pytestmark = pytest.mark.django_db


def _points(site, groups) -> list:
    found = []
    for where in FILTERS:
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
