"""Segments in the tally: every count is booked under the visitor's assignment segment, and the segments add up.

Like test_tally.py, each test runs with both folds: the set-based SQL (PostgreSQL only) and the Python
fold (forced on PostgreSQL, as the SQLite demo runs it). Both must give the same rows.
"""

import uuid
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.models import Assignment, VariantDailyStats
from campaigns.selectors.counters import variant_totals
from campaigns.tally import drain as tally
from campaigns.tally.segments import source_normalize
from tests.campaigns.events_kit import BROWSER_UA, event, now_ms, post_events
from tests.conftest import popup_campaign_create

# Every test here runs with each fold of the tally (tests/campaigns/conftest.py).
pytestmark = pytest.mark.usefixtures("tally_fold")

HOUR_MS = 3_600_000
MOBILE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Mobile/15E148 Safari/604.1"
)
TABLET_UA = (
    "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Mobile/15E148 Safari/604.1"
)
UA = {"desktop": BROWSER_UA, "mobile": MOBILE_UA, "tablet": TABLET_UA}


def send(client, site, events, *, device: str = "desktop"):
    for start in range(0, len(events), 50):
        assert post_events(client, site, events[start : start + 50], HTTP_USER_AGENT=UA[device]).status_code == 202


def seg(source, returning=False) -> dict:
    return {"segment": {"source": source, "returning": returning}}


def by_segment(campaign) -> dict:
    """Counters summed over days, per (variant, device, source, returning)."""
    rows: dict = defaultdict(lambda: defaultdict(int))
    for row in VariantDailyStats.objects.filter(campaign_id=campaign.id).values():
        key = (row["variant_id"], row["device"], row["source"], row["returning"])
        for name in VariantDailyStats.COUNTERS:
            rows[key][name] += row[name]
    return rows


def assert_segments_add_up_to_the_totals(campaign):
    totals = variant_totals(campaign_id=campaign.id)
    summed: dict = defaultdict(lambda: defaultdict(int))
    for (variant_id, *_segment), counts in by_segment(campaign).items():
        for name, value in counts.items():
            summed[variant_id][name] += value
    assert {v: dict(c) for v, c in summed.items()} == {v: dict(c) for v, c in totals.items()}


@pytest.fixture
def shop(site):
    return popup_campaign_create(site=site, name="Buy", goal={"type": "purchase", "attribution_days": 7})


def test_events_in_different_segments_split_the_counters_and_add_up_to_the_totals(client, site, shop):
    a, b = shop.variants.order_by("id")
    start = now_ms() - 2 * HOUR_MS
    send(client, site, [
        event("exposure", campaign=shop, variant=a, visitor="v1", ts=start, data=seg("google/cpc")),
        event("impression", campaign=shop, variant=a, visitor="v1", ts=start + 1, data=seg("google/cpc")),
        event("click", campaign=shop, variant=a, visitor="v1", ts=start + 2),
        event("impression", campaign=shop, variant=a, visitor="v3", ts=start + 3, data=seg("news.example", True)),
        event("impression", campaign=shop, variant=b, visitor="v4", ts=start + 4, data=seg("direct", True)),
    ])
    send(client, site, [
        event("impression", campaign=shop, variant=a, visitor="v2", ts=start, data=seg("google/cpc")),
        event("close", campaign=shop, variant=a, visitor="v2", ts=start + 1),
        event("exposure", campaign=shop, variant=None, visitor="vh", ts=start + 2, data=seg("news.example")),
    ], device="mobile")
    send(client, site, [
        event("conversion", visitor="v1", ts=start + HOUR_MS, data={"name": "purchase", "value": 10}),
        event("conversion", visitor="v1", ts=start + HOUR_MS + 1, data={"name": "purchase", "value": 20}),
        event("conversion", visitor="v2", ts=start + HOUR_MS, data={"name": "purchase", "value": 5}),
        event("conversion", visitor="vh", ts=start + HOUR_MS, data={"name": "purchase", "value": 7}),
    ])
    tally.tally_drain()

    rows = by_segment(shop)
    desktop_google = rows[(a.id, "desktop", "google/cpc", False)]
    assert (desktop_google["exposed"], desktop_google["impressions"], desktop_google["clicks"]) == (1, 1, 1)
    assert (desktop_google["conversions"], desktop_google["converters"]) == (2, 1)
    assert desktop_google["revenue_sum"] == Decimal("30.00")
    assert desktop_google["revenue_sum_squares"] == Decimal("900.0000")
    mobile_google = rows[(a.id, "mobile", "google/cpc", False)]
    assert (mobile_google["exposed"], mobile_google["closes"], mobile_google["revenue_sum"]) == (1, 1, Decimal("5"))
    assert rows[(a.id, "desktop", "news.example", True)]["impression_visitors"] == 1
    assert rows[(b.id, "desktop", "direct", True)]["exposed"] == 1
    assert rows[(None, "mobile", "news.example", False)]["revenue_sum"] == Decimal("7")
    assert len(rows) == 5
    assert_segments_add_up_to_the_totals(shop)
    totals = variant_totals(campaign_id=shop.id)
    assert (totals[a.id]["exposed"], totals[a.id]["converters"], totals[a.id]["revenue_sum"]) == (3, 2, Decimal("35"))


def test_a_conversion_in_a_later_session_counts_under_the_segment_of_the_first_exposure(client, site, shop):
    a = shop.variants.order_by("id").first()
    start = now_ms() - 3 * HOUR_MS
    send(client, site, [
        event("impression", campaign=shop, variant=a, visitor="v", ts=start, data=seg("google/cpc")),
    ])
    tally.tally_drain()
    # Next session: on the phone, a returning visitor from a newsletter, who buys.
    later = [
        event("impression", campaign=shop, variant=a, visitor="v", ts=start + HOUR_MS, session="s_2",
              data=seg("newsletter/email", True)),
        event("click", campaign=shop, variant=a, visitor="v", ts=start + HOUR_MS + 1, session="s_2"),
        event("conversion", visitor="v", ts=start + HOUR_MS + 2, session="s_2",
              data={"name": "purchase", "value": 12.5}),
    ]
    send(client, site, later, device="mobile")
    tally.tally_drain()

    assignment = Assignment.objects.get(campaign_id=shop.id, visitor_id="v")
    assert (assignment.device, assignment.source, assignment.returning) == ("desktop", "google/cpc", False)
    rows = by_segment(shop)
    assert list(rows) == [(a.id, "desktop", "google/cpc", False)]
    row = rows[(a.id, "desktop", "google/cpc", False)]
    assert (row["impressions"], row["impression_visitors"], row["clicks"], row["engaged_visitors"]) == (2, 1, 1, 1)
    assert (row["conversions"], row["converters"], row["revenue_sum"]) == (1, 1, Decimal("12.5"))


def test_an_event_of_a_visitor_without_an_assignment_counts_under_its_own_segment(client, site, shop):
    a = shop.variants.order_by("id").first()
    send(client, site, [event("click", campaign=shop, variant=a, visitor="lost")], device="tablet")
    tally.tally_drain()

    assert list(by_segment(shop)) == [(a.id, "tablet", "direct", False)]
    assert not Assignment.objects.exists()


DEVICES_SENT = [
    ("tablet", "tablet"),  # an iPad in desktop mode: its User-Agent says Macintosh, the widget saw its touch points
    ("mobile", "mobile"),
    ("desktop", "desktop"),
    ("phone", "desktop"),  # not a device: the User-Agent's
    ("TABLET", "desktop"),
    (3, "desktop"),
    (None, "desktop"),
    (["tablet"], "desktop"),
]


def test_the_device_the_widget_sends_wins_over_the_user_agent_when_it_is_a_device(client, site, shop):
    a = shop.variants.order_by("id").first()
    events = [event("impression", campaign=shop, variant=a, visitor=f"v{i}",
                    data={"segment": {"source": "direct", "returning": False, "device": sent}})
              for i, (sent, _expected) in enumerate(DEVICES_SENT)]
    events.append(event("impression", campaign=shop, variant=a, visitor="not-an-object", data={"segment": "tablet"}))
    send(client, site, events)  # a desktop browser's User-Agent
    tally.tally_drain()

    found = {a.visitor_id: a.device for a in Assignment.objects.filter(campaign_id=shop.id)}
    assert found == {**{f"v{i}": expected for i, (_sent, expected) in enumerate(DEVICES_SENT)},
                     "not-an-object": "desktop"}
    assert_segments_add_up_to_the_totals(shop)


SOURCES = [
    ("google/cpc", "google/cpc"),
    ("  Google/CPC \t", "google/cpc"),
    ("WWW.News.Example", "www.news.example"),
    ("AZ@[`{~IK", "az@[`{~ik"),  # A-Z only, as ASCII maps them whatever the locale (no dotless i)
    ("", "direct"),
    ("   ", "direct"),
    (None, "direct"),
    (42, "direct"),
    (["google"], "direct"),
    ("x" * 100, "x" * 64),
    ("bücher.example", "other"),
    ("line\nbreak", "other"),
]


def test_the_traffic_source_is_normalized_the_same_way_by_the_tally_on_every_database(client, site, shop):
    a = shop.variants.order_by("id").first()
    events = [event("impression", campaign=shop, variant=a, visitor=f"v{i}", data=seg(raw, True))
              for i, (raw, _expected) in enumerate(SOURCES)]
    events += [
        event("impression", campaign=shop, variant=a, visitor="no-data"),
        event("impression", campaign=shop, variant=a, visitor="not-an-object", data={"segment": "google"}),
        event("impression", campaign=shop, variant=a, visitor="truthy", data={"segment": {"returning": "yes"}}),
    ]
    send(client, site, events)
    tally.tally_drain()

    found = {a.visitor_id: (a.source, a.returning) for a in Assignment.objects.filter(campaign_id=shop.id)}
    for i, (raw, expected) in enumerate(SOURCES):
        assert source_normalize(raw) == expected, raw
        assert found[f"v{i}"] == (expected, True), raw
    assert found["no-data"] == found["not-an-object"] == found["truthy"] == ("direct", False)
    assert_segments_add_up_to_the_totals(shop)


def test_a_resent_exposure_is_counted_once_in_its_segment(client, site, shop):
    a = shop.variants.order_by("id").first()
    exposure = event("impression", campaign=shop, variant=a, visitor="v", data=seg("google/cpc"))
    send(client, site, [exposure])
    tally.tally_drain()
    send(client, site, [exposure], device="mobile")  # the widget retried after a lost answer
    tally.tally_drain()

    assert {k: v["impressions"] for k, v in by_segment(shop).items()} == {(a.id, "desktop", "google/cpc", False): 1}


# The property: whatever the segments, devices and batch sizes, each visitor's counts sit in exactly one segment,
# the one of their first exposure, and the segments add up to the totals.
POOL = 14
SEGMENT_CHOICES = [("google/cpc", False), ("news.example", True), ("direct", False)]


class _Rollback(Exception):
    pass


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kinds=st.lists(st.sampled_from(["exposure", "impression", "click", "close", "conversion"]),
                   min_size=POOL, max_size=POOL),
    visitors=st.lists(st.integers(0, 3), min_size=POOL, max_size=POOL),
    segments=st.lists(st.integers(0, len(SEGMENT_CHOICES) - 1), min_size=POOL, max_size=POOL),
    devices=st.lists(st.sampled_from(["desktop", "mobile"]), min_size=POOL, max_size=POOL),
    batch_size=st.integers(1, 6),
)
def test_each_visitor_is_counted_in_the_segment_of_their_first_exposure(
    client, site, shop, kinds, visitors, segments, devices, batch_size
):
    a = shop.variants.order_by("id").first()
    start = now_ms() - HOUR_MS
    first: dict[str, tuple] = {}
    try:
        with transaction.atomic():
            for i in range(POOL):
                visitor, source_returning = f"v{visitors[i]}", SEGMENT_CHOICES[segments[i]]
                if kinds[i] == "conversion":
                    raw = event("conversion", visitor=visitor, ts=start + i, id=str(uuid.uuid4()),
                                data={"name": "purchase", "value": i + 1})
                else:
                    raw = event(kinds[i], campaign=shop, variant=a, visitor=visitor, ts=start + i,
                                id=str(uuid.uuid4()), data=seg(*source_returning))
                if kinds[i] in ("exposure", "impression"):
                    first.setdefault(visitor, (devices[i], *source_returning))
                send(client, site, [raw], device=devices[i])
            while tally.tally_batch(batch_size=batch_size):
                pass

            rows = by_segment(shop)
            exposed: dict = defaultdict(int)
            for segment in first.values():
                exposed[(a.id, *segment)] += 1
            assert {k: v["exposed"] for k, v in rows.items() if v["exposed"]} == dict(exposed)
            assigned = {(a.id, *s) for s in first.values()}
            for key, counts in rows.items():
                if key not in assigned:  # only a visitor's events before any exposure count elsewhere
                    assert counts["exposed"] == counts["conversions"] == counts["revenue_sum"] == 0
            assert_segments_add_up_to_the_totals(shop)
            raise _Rollback
    except _Rollback:
        pass
