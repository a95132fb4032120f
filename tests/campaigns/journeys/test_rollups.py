"""The journey map's daily rollups by label (campaigns/journeys/rollups/): read, they answer as the counters by
path do, for every filter the map offers; editing groups, or a page view folded late for a past day, makes the
days it touches read from the counters or rebuilt; a rebuild can be repeated."""

import datetime as dt
import itertools
import random
from dataclasses import replace

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from campaigns import tasks
from campaigns.journeys.flow import counts_labelled
from campaigns.journeys.paths import Group
from campaigns.journeys.rollups import journey_rollup_build, journey_rollups_mark, journey_rollups_refresh
from campaigns.journeys.selectors import JourneyFilter, journey_counts_get, journey_label_counts_read
from campaigns.journeys.services import journey_setup_get, journey_setup_replace
from campaigns.models import (
    JourneyLabelDaily,
    JourneyLabelMoveDaily,
    JourneyPageDaily,
    JourneyRollupDay,
    JourneyRollupWeek,
    JourneyTransitionDaily,
)
from campaigns.tally import drain as tally
from tests.campaigns.events_kit import now_ms
from tests.campaigns.journeys.test_label_reads import DAY, GROUPS, counters_generate
from tests.campaigns.test_tally_journeys import MINUTE_MS, send, walk

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="rollups are built on PostgreSQL only"),
]

DAY_MS = 86_400_000
# The generated counters' five days, and a day without counters either side.
WIDE = JourneyFilter(start=DAY - dt.timedelta(days=1), end=DAY + dt.timedelta(days=5))
REGROUPED = [
    Group(name="Shop", rule={"op": "regex", "value": "^/(product|cart|checkout)"}, stage="decision", order=1),
    Group(name="Blog", rule={"op": "contains", "value": "blog"}, stage="awareness", order=2),
]


def from_counters(site, where: JourneyFilter, steps: int):
    groups, _cleanups = journey_setup_get(site=site)
    pages, transitions = journey_counts_get(site=site, where=where)
    return counts_labelled(pages=pages, transitions=transitions, groups=groups, steps=steps)


def read(site, where: JourneyFilter, steps: int = 5):
    groups, _cleanups = journey_setup_get(site=site)
    return journey_label_counts_read(site=site, where=where, groups=groups, steps=steps)


def rollup_rows(site) -> list:
    return sorted(repr(tuple(value for key, value in row.items() if key != "id"))
                  for model in (JourneyLabelDaily, JourneyLabelMoveDaily) for row in model.objects.filter(site=site)
                  .values())


@pytest.fixture
def counted(site, outsider_site):
    rng = random.Random(7)
    counters_generate(site, rng)
    counters_generate(outsider_site, rng)
    journey_setup_replace(site=site, groups=GROUPS, cleanups=[])
    journey_setup_replace(site=outsider_site, groups=REGROUPED, cleanups=[])
    return site


def test_the_rollups_answer_as_the_counters_do_for_every_filter(counted):
    assert journey_rollups_refresh() == 10  # five days of each site
    segments = itertools.product((None, "desktop", "mobile"), (None, "google", "direct"), (None, True, False))
    for (device, source, returning), steps in itertools.product(segments, (1, 5, 10)):
        where = JourneyFilter(start=WIDE.start, end=WIDE.end, device=device, source=source, returning=returning)
        counts, status = read(counted, where, steps)
        assert (status.days, status.rolled, status.regrouping) == (7, 5, 0)
        assert counts == from_counters(counted, where, steps), where
    # A flow from a page or back from a goal reads the pages and the moves out, not the moves between labels.
    groups, _cleanups = journey_setup_get(site=counted)
    without, _status = journey_label_counts_read(site=counted, where=WIDE, groups=groups, moves=False)
    assert without == replace(from_counters(counted, WIDE, 10), moves=())


def test_days_not_built_yet_are_read_from_the_counters_and_summed_with_the_others(counted):
    journey_rollups_refresh()
    JourneyRollupDay.objects.filter(site=counted, day=DAY + dt.timedelta(days=2)).delete()
    counts, status = read(counted, WIDE)
    assert status.rolled == 4
    assert counts == from_counters(counted, WIDE, 5)


def test_edited_groups_regroup_history_at_once_and_the_rebuild_catches_up(counted, outsider_site):
    journey_rollups_refresh()
    journey_setup_replace(site=counted, groups=REGROUPED, cleanups=[])
    counts, status = read(counted, WIDE)
    assert (status.rolled, status.regrouping) == (0, 5)
    assert counts == from_counters(counted, WIDE, 5)
    assert {page.path for page in counts.pages} >= {"Shop", "Blog"}
    assert journey_rollups_mark() == 5  # the edited site's days only
    assert not JourneyRollupDay.objects.filter(site=outsider_site, stale=True).exists()
    assert journey_rollups_refresh() == 5
    counts, status = read(counted, WIDE)
    assert (status.rolled, status.regrouping) == (5, 0)
    assert counts == from_counters(counted, WIDE, 5)


def test_a_rebuild_can_be_repeated_and_each_day_is_claimed_once(counted, outsider_site):
    assert tasks.journey_rollups_refresh(site_id=counted.id) == 5  # the task: one site's days
    assert not JourneyRollupDay.objects.filter(site=counted, stale=True).exists()
    assert JourneyRollupDay.objects.filter(site=outsider_site, stale=True).count() == 5
    before = rollup_rows(counted)
    assert journey_rollup_build(site_id=counted.id) is None  # nothing left to claim
    JourneyRollupDay.objects.filter(site=counted).update(stale=True, built_at=timezone.now() - dt.timedelta(hours=1))
    assert tasks.journey_rollups_refresh() == 10
    assert rollup_rows(counted) == before
    assert tasks.journey_rollups_refresh(site_id=10**9) == 0  # a site gone


def test_a_late_page_view_makes_its_day_stale_and_the_rebuild_counts_it(client, site):
    now = now_ms()
    send(client, site, walk(["/", "/blog/a"], start=now - DAY_MS, session="s1"))
    send(client, site, walk(["/", "/cart"], start=now - 10 * MINUTE_MS, session="s2"))
    tally.tally_drain()
    assert journey_rollups_refresh() == 2
    where = JourneyFilter(start=dt.date.today() - dt.timedelta(days=3), end=dt.date.today() + dt.timedelta(days=1))
    assert read(site, where)[0] == from_counters(site, where, 5)
    send(client, site, walk(["/checkout"], start=now - DAY_MS + 5 * MINUTE_MS, session="s3"))
    tally.tally_drain()
    assert journey_rollups_mark() == 1
    (late_day,) = JourneyRollupDay.objects.filter(site=site, stale=True).values_list("day", flat=True)
    counts, status = read(site, where)
    assert status.rolled == 2 and status.as_of is not None
    assert "/checkout" not in {page.path for page in counts.pages}  # read from the rollup built before it
    assert journey_rollups_refresh() == 0  # built less than REBUILD_SECONDS ago: a later run rebuilds it
    assert journey_rollups_refresh(min_age=0) == 1
    assert not JourneyRollupDay.objects.filter(site=site, day=late_day, stale=True).exists()
    counts, _status = read(site, where)
    assert "/checkout" in {page.path for page in counts.pages}
    assert counts == from_counters(site, where, 5)


def test_the_map_says_how_fresh_the_counts_are_and_when_it_regroups(client, owner, counted):
    client.force_login(owner)
    url = reverse("admin:campaigns_site_journeys", args=[counted.id])
    query = {"since": WIDE.start.isoformat(), "until": WIDE.end.isoformat()}
    page = client.get(url, query).content.decode()
    assert 'id="counts-as-of"' not in page and 'id="regrouping"' not in page
    journey_rollups_refresh()
    page = client.get(url, query).content.decode()
    assert 'id="counts-as-of"' in page and 'id="regrouping"' not in page
    journey_setup_replace(site=counted, groups=REGROUPED, cleanups=[])
    page = client.get(url, query).content.decode()
    assert 'id="regrouping"' in page and "7 days of 7" in page


def _spread(site) -> None:
    """The generated counters (five days from DAY) copied to the next twenty days, so that whole weeks have them."""
    for model in (JourneyPageDaily, JourneyTransitionDaily):
        rows = list(model.objects.filter(site=site))
        for _copy in range(4):  # each copy five days after the last
            for row in rows:
                row.pk, row.day = None, row.day + dt.timedelta(days=5)
            model.objects.bulk_create(rows)


MONDAY = DAY + dt.timedelta(days=(7 - DAY.weekday()) % 7)


def test_whole_weeks_are_read_from_their_sums_built_after_their_days(counted, outsider_site):
    for site in (counted, outsider_site):
        _spread(site)
    journey_rollups_refresh()
    assert set(JourneyRollupWeek.objects.filter(site=counted).values_list("week", flat=True)) == {
        MONDAY, MONDAY + dt.timedelta(days=7)}  # the whole weeks; the others lack days
    windows = [(DAY, DAY + dt.timedelta(days=24)), (MONDAY, MONDAY + dt.timedelta(days=6)),
               (MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=13))]
    segments = ((None, None, None), ("mobile", None, True), (None, "google", None))

    def all_equal():
        for (start, end), (device, source, returning) in itertools.product(windows, segments):
            where = JourneyFilter(start=start, end=end, device=device, source=source, returning=returning)
            assert read(counted, where, 5)[0] == from_counters(counted, where, 5), where

    all_equal()
    # A day rebuilt after its week's sum: the week is read from its days until summed again.
    late = MONDAY + dt.timedelta(days=2)
    JourneyPageDaily.objects.create(site=counted, day=late, step=1, path="/blog/late", device="mobile",
                                    source="google", returning=True, pageviews=7, entries=7)
    JourneyRollupDay.objects.filter(site=counted, day=late).update(stale=True)
    assert journey_rollup_build(site_id=counted.id, min_age=0) == (counted.id, late)
    all_equal()  # the week's sum lacks the late page views: its days are read
    journey_rollups_refresh(min_age=0)
    all_equal()
    # Read from the week sums: without the day rows of a week every window reads whole, the counts are the same.
    second = MONDAY + dt.timedelta(days=7)
    JourneyLabelDaily.objects.filter(site=counted, day__gte=second, day__lt=second + dt.timedelta(days=7)).delete()
    JourneyLabelMoveDaily.objects.filter(site=counted, day__gte=second, day__lt=second + dt.timedelta(days=7)).delete()
    windows[2] = (MONDAY + dt.timedelta(days=7), MONDAY + dt.timedelta(days=15))
    all_equal()
    # Edited groups: neither the weeks nor the days are read until rebuilt.
    journey_setup_replace(site=counted, groups=REGROUPED, cleanups=[])
    all_equal()

