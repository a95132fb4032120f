"""The stage funnel's daily rollups (campaigns/journeys/funnel_rollups.py): read, they answer as the stage rows do
(counts exactly, medians to within half a fine bucket) for every filter the map offers, built or not; page views
folded later (a conversion to the next stage on another day, a stage reached earlier than known), an erasure and
simulated journeys make the days they change stale, and the rebuild counts them."""

import datetime as dt
import itertools
import random

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from campaigns.journeys.funnel import stage_funnel
from campaigns.journeys.funnel_rollups import PAST_DAYS_WAIT, REBUILD_SECONDS, funnel_day_build
from campaigns.journeys.rollups import journey_rollups_mark, journey_rollups_refresh
from campaigns.journeys.selectors import JourneyFilter, journey_funnel_read, journey_stage_reaches_get
from campaigns.journeys.services import journey_setup_replace
from campaigns.journeys.simulate import journeys_simulate, journeys_simulated_delete
from campaigns.models import JourneyStageDaily, JourneyStageDay, JourneyVisitorStage
from campaigns.services.visitor_data import visitor_data_erase
from campaigns.tally import drain as tally
from tests.campaigns.events_kit import now_ms
from tests.campaigns.journeys.journey_kit import funnels_close
from tests.campaigns.journeys.test_label_reads import DAY, GROUPS, counters_generate
from tests.campaigns.test_tally_journeys import MINUTE_MS, send, walk

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="rollups are built on PostgreSQL only"),
]

DAY_MS = 86_400_000
WIDE = JourneyFilter(start=DAY - dt.timedelta(days=1), end=DAY + dt.timedelta(days=7))


def exact(site, where):
    return stage_funnel(reached=journey_stage_reaches_get(site=site, where=where))


def build_all(site=None) -> int:
    journey_rollups_mark()
    built = 0
    while funnel_day_build(site_id=site.id if site else None, min_age=0):
        built += 1
    return built


@pytest.fixture
def staged(site, outsider_site):
    rng = random.Random(11)
    counters_generate(site, rng)
    counters_generate(outsider_site, rng)
    return site


def test_the_rollups_answer_as_the_stage_rows_do_for_every_filter(staged):
    days = set(JourneyVisitorStage.objects.filter(site=staged).values_list("day", flat=True))
    journey_rollups_refresh()
    assert set(JourneyStageDay.objects.filter(site=staged, stale=False).values_list("day", flat=True)) == days
    segments = itertools.product((None, "desktop", "mobile"), (None, "google", "direct"), (None, True, False))
    windows = (WIDE, JourneyFilter(start=DAY + dt.timedelta(days=1), end=DAY + dt.timedelta(days=2)))
    for (device, source, returning), window in itertools.product(segments, windows):
        where = JourneyFilter(start=window.start, end=window.end, device=device, source=source, returning=returning)
        funnel, status = journey_funnel_read(site=staged, where=where)
        assert status.rolled == sum(window.start <= day <= window.end for day in days)
        assert funnels_close(funnel, exact(staged, where)), where
        assert sum(row.visitors for row in funnel) == JourneyVisitorStage.objects.filter(
            site=staged, day__gte=where.start, day__lte=where.end,
            **{name: value for name, value in (("device", device), ("source", source), ("returning", returning))
               if value is not None}).count()
    funnel, _status = journey_funnel_read(site=staged, where=WIDE)
    assert any(row.converted and row.median_to_next for row in funnel)  # the test compares real medians


def test_days_not_built_are_read_from_the_stage_rows_and_summed_with_the_others(staged):
    build_all()
    JourneyStageDay.objects.filter(site=staged, day=DAY + dt.timedelta(days=2)).delete()
    JourneyStageDaily.objects.filter(site=staged, day=DAY + dt.timedelta(days=3)).delete()  # built, now empty
    JourneyStageDay.objects.filter(site=staged, day=DAY + dt.timedelta(days=3)).update(built_at=None)
    funnel, status = journey_funnel_read(site=staged, where=WIDE)
    assert status.rolled == JourneyStageDay.objects.filter(site=staged, built_at__isnull=False).count()
    assert funnels_close(funnel, exact(staged, WIDE))
    # Another order of stages than the rollups' reads the stage rows only.
    asked = ["decision", "awareness", "retention"]
    funnel, status = journey_funnel_read(site=staged, where=WIDE, stages=asked)
    assert status.rolled == 0
    assert funnels_close(funnel, stage_funnel(reached=journey_stage_reaches_get(site=staged, where=WIDE),
                                              stages=asked))


def test_a_rebuild_is_claimed_once_and_can_be_repeated(staged, outsider_site):
    built = build_all(staged)
    assert built == JourneyStageDay.objects.filter(site=staged).count() > 0
    assert JourneyStageDay.objects.filter(site=outsider_site, stale=True).exists()  # one site's days only
    before = sorted(JourneyStageDaily.objects.filter(site=staged).values_list(
        "day", "stage", "device", "source", "returning", "visitors", "converted", "coarse", "fine"), key=repr)
    assert funnel_day_build(site_id=staged.id, min_age=0) is None
    JourneyStageDay.objects.filter(site=staged).update(stale=True, built_at=timezone.now() - dt.timedelta(hours=1))
    assert build_all(staged) == built
    assert sorted(JourneyStageDaily.objects.filter(site=staged).values_list(
        "day", "stage", "device", "source", "returning", "visitors", "converted", "coarse", "fine"), key=repr) == before


def stale_days(site) -> set:
    return set(JourneyStageDay.objects.filter(site=site, stale=True).values_list("day", flat=True))


def test_page_views_folded_later_make_the_days_they_change_stale(client, site):
    journey_setup_replace(site=site, groups=GROUPS, cleanups=[])
    now = now_ms()
    today = timezone.localdate()
    where = JourneyFilter(start=today - dt.timedelta(days=5), end=today)
    send(client, site, walk(["/blog/a"], start=now - 3 * DAY_MS, visitor="reader", session="r1"))
    send(client, site, walk(["/blog/b", "/product/x"], start=now - 30 * MINUTE_MS, visitor="late", session="l2"))
    tally.tally_drain()
    journey_rollups_refresh(min_age=0)
    assert not stale_days(site)
    assert funnels_close(journey_funnel_read(site=site, where=where)[0], exact(site, where))

    # The reader reaches consideration today: their awareness row, three days ago, now converts.
    send(client, site, walk(["/product/y"], start=now - 10 * MINUTE_MS, visitor="reader", session="r2"))
    # The late visitor's page view of yesterday arrives: their awareness row moves from today to yesterday.
    send(client, site, walk(["/blog/a"], start=now - DAY_MS, visitor="late", session="l1"))
    tally.tally_drain()
    journey_rollups_mark()
    three_days_ago, yesterday = today - dt.timedelta(days=3), today - dt.timedelta(days=1)
    assert stale_days(site) == {three_days_ago, yesterday, today}
    # Until rebuilt, the built days read as they were (yesterday, never built, from the stage rows): the late
    # visitor counts in today's rollup and yesterday's rows, and the reader has not converted yet.
    funnel, status = journey_funnel_read(site=site, where=where)
    assert status.rolled == 2 and status.as_of is not None
    assert (funnel[0].visitors, funnel[0].converted) == (3, 2)
    journey_rollups_refresh()  # yesterday, never built, at once; the others were built less than REBUILD_SECONDS ago
    assert stale_days(site) == {three_days_ago, today}
    journey_rollups_refresh(min_age=0)
    assert not stale_days(site)
    funnel, _status = journey_funnel_read(site=site, where=where)
    assert funnels_close(funnel, exact(site, where))
    assert (funnel[0].visitors, funnel[0].converted) == (2, 2)
    today_only = JourneyFilter(start=today, end=today)
    assert journey_funnel_read(site=site, where=today_only)[0][0].visitors == 0  # the late awareness left today
    assert funnels_close(journey_funnel_read(site=site, where=today_only)[0], exact(site, today_only))


def test_an_erasure_and_simulated_journeys_make_their_days_stale(client, site):
    journey_setup_replace(site=site, groups=GROUPS, cleanups=[])
    now = now_ms()
    today = timezone.localdate()
    where = JourneyFilter(start=today - dt.timedelta(days=30), end=today)
    send(client, site, walk(["/blog/a", "/product/x"], start=now - 2 * DAY_MS, visitor="v1", session="s1"))
    send(client, site, walk(["/blog/b"], start=now - 20 * MINUTE_MS, visitor="v2", session="s2"))
    tally.tally_drain()
    journey_rollups_refresh(min_age=0)
    visitor_data_erase(site=site, requested_by=None, channel="command", visitor_id="v1")
    assert stale_days(site) == {today - dt.timedelta(days=2)}
    journey_rollups_refresh(min_age=0)
    assert journey_funnel_read(site=site, where=where)[0][0].visitors == 1
    assert funnels_close(journey_funnel_read(site=site, where=where)[0], exact(site, where))

    journeys_simulate(site=site, days=7, visitors=40, seed=3)
    simulated = set(JourneyVisitorStage.objects.filter(site=site, visitor_id__startswith="sim").values_list(
        "day", flat=True))
    assert simulated and simulated <= stale_days(site)
    journey_rollups_refresh(min_age=0)
    assert funnels_close(journey_funnel_read(site=site, where=where)[0], exact(site, where))
    journeys_simulated_delete(site=site)
    assert simulated <= stale_days(site)
    journey_rollups_refresh(min_age=0)
    assert journey_funnel_read(site=site, where=where)[0][0].visitors == 1


def test_the_map_reads_the_funnel_from_the_rollups_and_says_as_of_when(client, owner, staged):
    client.force_login(owner)
    url = reverse("admin:campaigns_site_journeys", args=[staged.id])
    query = {"since": WIDE.start.isoformat(), "until": WIDE.end.isoformat()}
    before = client.get(url, query).content.decode()
    assert 'id="funnel-as-of"' not in before
    build_all()
    after = client.get(url, query).content.decode()
    assert 'id="funnel-as-of"' in after
    funnel = after[after.index('id="funnel"'):after.index("</table>", after.index('id="funnel"'))]
    assert funnel == before[before.index('id="funnel"'):before.index("</table>", before.index('id="funnel"'))]


def test_days_before_yesterday_wait_longer_for_their_rebuild(site):
    today = dt.date.today()
    old, recent = today - dt.timedelta(days=3), today
    for day in (old, recent):
        JourneyStageDay.objects.create(site=site, day=day, stale=True,
                                       built_at=timezone.now() - dt.timedelta(seconds=REBUILD_SECONDS + 60))
    assert funnel_day_build(site_id=site.id) == (site.id, recent)
    assert funnel_day_build(site_id=site.id) is None  # the old day waits PAST_DAYS_WAIT times longer
    JourneyStageDay.objects.filter(site=site, day=old).update(
        built_at=timezone.now() - dt.timedelta(seconds=REBUILD_SECONDS * PAST_DAYS_WAIT + 60))
    assert funnel_day_build(site_id=site.id) == (site.id, old)
