"""The journey map's filter choices (campaigns/journeys/choices.py): the worker's, computed from the label rollups
and a bounded read of the counters, answer as the whole scan of the counters does; the page reads them and scans
no counter for them; without them it computes them itself from the counters."""

import datetime as dt
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.journeys.choices import (
    PATHS_DAYS,
    journey_choices_refresh,
    journey_paths_choices,
    journey_paths_get,
    journey_segments_choices,
    journey_segments_get,
)
from campaigns.journeys.rollups import journey_rollups_refresh
from campaigns.journeys.services import journey_setup_replace
from campaigns.models import JourneyPageDaily
from tests.campaigns.journeys.test_label_reads import DAY, GROUPS, counters_generate

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker builds them on PostgreSQL only"),
]

PAGES = JourneyPageDaily._meta.db_table


@pytest.fixture
def counted(site, outsider_site):
    rng = random.Random(11)
    counters_generate(site, rng)
    counters_generate(outsider_site, rng)
    journey_setup_replace(site=site, groups=GROUPS, cleanups=[])
    return site


def test_the_workers_choices_are_those_of_the_whole_scan(counted, django_assert_num_queries):
    segments, paths = journey_segments_get(site=counted), journey_paths_get(site=counted, limit=200)
    assert journey_rollups_refresh() == 10  # both sites' five days, then their choices
    with django_assert_num_queries(0):  # the page's reads: one cache key, no query
        assert journey_segments_choices(site=counted) == segments
        assert journey_paths_choices(site=counted, limit=200) == paths
        assert journey_paths_choices(site=counted, limit=3) == paths[:3]


def test_a_segment_of_a_day_not_rolled_up_yet_is_offered_and_old_paths_leave(counted):
    journey_rollups_refresh()
    late = DAY + dt.timedelta(days=PATHS_DAYS + 10)
    JourneyPageDaily.objects.create(site=counted, day=late, step=1, path="/new", device="tv", source="mastodon",
                                    pageviews=3)
    kept = journey_choices_refresh(site_id=counted.id, now=10**10)  # the paths kept are old enough to be read again
    assert "tv" in kept["segments"]["device"] and "mastodon" in kept["segments"]["source"]
    assert kept["paths"] == [("/new", 3)]  # the generated days are more than PATHS_DAYS before it
    assert journey_segments_get(site=counted) == kept["segments"]


def test_the_map_scans_no_counter_for_its_choices(client, owner, counted):
    journey_rollups_refresh()
    client.force_login(owner)
    url = reverse("admin:campaigns_site_journeys", args=[counted.id])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"since": DAY.isoformat(), "until": (DAY + dt.timedelta(days=4)).isoformat()})
    assert response.status_code == 200
    assert "mobile" in response.content.decode()
    assert [query["sql"] for query in queries if PAGES in query["sql"]] == []
