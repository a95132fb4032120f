"""The two folds of the tally agree: the set-based SQL (tally/sql.py) and the Python fold the demo runs
(tally/portable.py).

Hypothesis draws streams of stored events (every event type and message type, duplicates, holdouts, consent,
purchases with awkward values, times around the site's midnight and the attribution window's edges, two sites
sharing visitor ids) and drains them in batches of random sizes between the stores, so conversions arrive
before their exposure and steps before their assignment. Each stream is stored and drained twice in savepoints,
once per fold, and everything the tally writes must come out the same: assignments, funnel steps, daily counters
with their segments, responses, consent records, the journey map's tables (page views carry journeys, valid or
not, in sessions shared by events arriving in any order) and the audience counters (page views name audiences of
their site, of the other site, unknown ones and values that are no ids).
"""

import copy
import difflib
import json
import os
import uuid
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from campaigns import services
from campaigns.ingest.store import EventRow, events_record
from campaigns.journeys.paths import Cleanup, Group
from campaigns.journeys.services import journey_setup_replace
from campaigns.models import (
    Assignment,
    Audience,
    AudienceDaily,
    AudienceVisitorDay,
    CampaignActivity,
    ConsentRecord,
    FunnelStep,
    JourneyPageDaily,
    JourneySession,
    JourneyTransitionDaily,
    JourneyVisitorStage,
    OriginActivity,
    OriginMinute,
    Response,
    VariantDailyStats,
)
from campaigns.tally import drain as tally
from campaigns.tally.segments import visit_segment
from tests.campaigns.folds import BATCH, PYTHON, SQL, SQL_NEEDS_POSTGRESQL
from widget.demo.management.commands.demo_seed import DEMO_CAMPAIGNS

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason=SQL_NEEDS_POSTGRESQL)

MESSAGE_TYPES = ("popup", "bar", "slide_in", "nps", "feedback", "lead", "cart_recovery", "consent")
# One goal per campaign, in turn.
GOALS = (
    {"type": "cta_click"},
    {"type": "submit"},
    {"type": "url", "url": {"op": "starts_with", "value": "https://shop.example/thanks"}},
    {"type": "event", "event": "signup", "attribution_days": 1},
    {"type": "purchase", "attribution_days": 1},
    {"type": "purchase", "attribution_days": 7},
    {"type": "event", "event": "purchase"},
    {"type": "url", "url": {"op": "contains", "value": "THANKS", "case_sensitive": True}, "attribution_days": 1},
)
# 23:30 in Santiago (UTC-3 in November), 02:30 in UTC: an hour later is another day on the site, three hours
# earlier another day in UTC, so an event's day depends on its site's zone.
START = datetime(2026, 11, 10, 2, 30, tzinfo=UTC)
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
# Event times as offsets from START in ms, few enough that events share them: an exposure at 0 and a conversion at
# the attribution window's edge (one or seven days later) or just past it, or before the exposure.
OFFSETS = (-1, 0, 1, HOUR_MS, 2 * HOUR_MS, DAY_MS, DAY_MS + 1, 3 * DAY_MS, 7 * DAY_MS, 7 * DAY_MS + 1, -3 * HOUR_MS)
VISITORS = ("v0", "v1")
URLS = ("https://shop.example/", "https://shop.example/thanks/1", "https://shop.example/THANKS?order=1",
        "https://shop.example/cart")
SOURCES = ("google/cpc", "  News.Example\t", "", None, "bücher.example", 42)
DEVICES = ("desktop", "mobile", "tablet")
# Every type of event; those that interact most (exposures, conversions) more often.
KINDS = ("pageview", "exposure", "impression", "impression", "close", "click", "submit", "conversion", "conversion",
         "consent")
# The campaigns whose goal a conversion or a page view reaches, drawn more often for a campaign event.
CONVERTING = (2, 3, 4, 5, 6)


@pytest.fixture
def shops(owner, outsider_site):
    """Eight campaigns, one per message type, on a site in Santiago's time zone; one more on a UTC site.

    The streams store an impression and its form's answer at one time of receipt: without a minimum fill time, so
    that the folds' answers are compared, not only their refusals."""
    site = services.site_create(owner=owner, name="Santiago shop", allowed_origins=["https://shop.example"],
                                time_zone="America/Santiago", form_min_fill_seconds=0)
    contents = {}
    for spec in DEMO_CAMPAIGNS:  # the first of each type (a later lead hands out a file this site does not have)
        contents.setdefault(spec["message_type"], spec["variants"][0]["content"])
    campaigns = []
    for i, message_type in enumerate(MESSAGE_TYPES):
        variants = [{"name": name, "weight": 50, "content": copy.deepcopy(contents[message_type])}
                    for name in ("A", "B")[: 1 if message_type == "consent" else 2]]
        campaigns.append(services.campaign_create(
            site=site, name=f"Every type: {message_type}", message_type=message_type, status="active",
            triggers=[{"type": "page_load", "delay": 0}], goal=GOALS[i], variants=variants,
        ))
    campaigns.append(services.campaign_create(
        site=outsider_site, name="Elsewhere", message_type="popup", status="active",
        triggers=[{"type": "page_load", "delay": 0}], goal={"type": "purchase", "attribution_days": 7},
        variants=[{"name": "A", "weight": 50, "content": copy.deepcopy(contents["popup"])}],
    ))
    # Page groups with stages, and a clean-up rule, for the journey tables.
    journey_setup_replace(site=site, groups=[
        Group(name="Thanks", rule={"op": "contains", "value": "thanks"}, stage="retention", order=1),
        Group(name="Cart", rule={"op": "equals", "value": "/cart"}, stage="decision", order=2),
        Group(name="Home", rule={"op": "equals", "value": "/"}, stage="awareness", order=3),
    ], cleanups=[Cleanup(pattern="^/THANKS", replacement="/thanks")])
    # Two audiences on the site and one on the other: a page view naming the other site's counts for neither.
    found = Shops((campaign, list(campaign.variants.order_by("id").values_list("id", flat=True)))
                  for campaign in campaigns)
    found.audiences = [
        Audience.objects.create(site=site, name="Readers", rule={"attr": "views.Blog", "op": "gte", "value": 2}).id,
        Audience.objects.create(site=site, name="Buyers", rule={"attr": "cart.value", "op": "gt", "value": 0}).id,
        Audience.objects.create(site=outsider_site, name="Away", rule={"attr": "nps", "op": "exists"}).id,
    ]
    return found


class Shops(list):
    """The campaigns with their variant ids, and `audiences`: the ids an event's audience indices stand for."""

    audiences: list[int]


# ---------------------------------------------------------------- what a stream is made of

# The widget's own device when it sends one; "phone", a number and null are not devices: the sender's is kept.
segments = st.one_of(st.none(), st.fixed_dictionaries(
    {"source": st.sampled_from(SOURCES), "returning": st.booleans()},
    optional={"device": st.sampled_from([*DEVICES, "phone", 3, None])},
))
# A page view's segment as the collect endpoint makes it from what the widget's journey carries.
visit_segments = st.builds(
    visit_segment, sessions=st.sampled_from([1, 2, None]),
    utm=st.sampled_from([{}, {"source": "google", "medium": "cpc"}, {"source": " News "}]),
    referrer=st.sampled_from(["", "https://Blog.Example/a", "https://b\u00fccher.example/", "not a url"]),
)
answers = st.fixed_dictionaries({
    "form": st.sampled_from(["nps", "feedback", "lead", "survey"]),
    "score": st.sampled_from([None, 0, 9, 10, 11, -1, True, 7.5]),
    "followup": st.sampled_from(["", "Fast shipping", "x" * 6000]),
    "email": st.sampled_from(["", "ann@example.com", "not-an-email"]),
    "consent": st.sampled_from([None, True, False, "yes"]),
    "choices": st.sampled_from([None, ["Price", "Size"], [1, "ok"], "Price"]),
})
# A page view's journey as the widget sends it (steps within the kept positions and past them, a reload, a
# previous page that is a URL), now and then one the fold must leave out or half use.
journeys = st.one_of(
    st.fixed_dictionaries({"prev": st.sampled_from([None, "/", "/cart", "/thanks/1", "/cart?coupon=1"]),
                           "step": st.sampled_from([1, 2, 3, 10, 11, 12])}),
    st.sampled_from([{"step": "2"}, {"step": 0}, {"step": 2.5}, {"step": 3.0}, {"step": 10**9}, {"prev": 5, "step": 2},
                     {"prev": "/cart"}, ["x"], None]),
)
# A page view's `data.audiences`: integers index `Shops.audiences` (UNKNOWN: an id no audience has), the rest is
# sent as it is (the fold leaves it out).
UNKNOWN = 99
audience_lists = st.sampled_from([[0], [0, 1], [1, 1], [0, "x"], [2], [2, 0], [True], [UNKNOWN], [1.5], "0", [], None])
decisions = st.fixed_dictionaries({
    "decision": st.sampled_from(["granted", "denied", "custom", "maybe"]),
    "categories": st.sampled_from([["necessary"], ["necessary", "marketing"], "all", []]),
    "consent_id": st.sampled_from(["", "c-1", "c-2"]),
    "policy_version": st.sampled_from(["", "2026-01"]),
})
conversions = st.fixed_dictionaries({
    "name": st.sampled_from(["purchase", "purchase", "signup", "other"]),
    "value": st.sampled_from([None, 10, 12.5, 0.005, 0.015, 2.675, -3, 0, 1e12, "5", True, 999_999_999.994]),
})


@st.composite
def an_event(draw, campaigns: int) -> dict:
    """One event as the collect endpoint would accept it (campaign and variant as indices into `shops`)."""
    kind = draw(st.sampled_from(KINDS))
    data: dict = {}
    campaign = variant = None
    if kind in ("exposure", "impression", "close", "click", "submit"):
        campaign = draw(st.one_of(st.sampled_from(CONVERTING), st.integers(0, campaigns - 1)))
        variant = draw(st.integers(-1 if kind == "exposure" else 0, 1))  # -1: the holdout
    if kind in ("exposure", "impression", "pageview"):
        segment = draw(st.one_of(segments, visit_segments) if kind == "pageview" else segments)
        if segment is not None:
            data["segment"] = segment
    if kind == "pageview" and draw(st.integers(0, 4)):
        data["journey"] = draw(journeys)
    if kind == "pageview" and draw(st.integers(0, 2)):
        data["audiences"] = draw(audience_lists)
    if kind == "submit":
        data.update(draw(answers))
    if kind == "consent":
        data.update(draw(decisions))
        campaign = draw(st.sampled_from([None, MESSAGE_TYPES.index("consent")]))
    if kind == "conversion":
        data.update(draw(conversions))
    return {
        "id": str(uuid.UUID(int=draw(st.integers(0, 2**64)))),
        "kind": kind,
        "offset": draw(st.sampled_from(OFFSETS)),
        "visitor": draw(st.sampled_from(VISITORS + (("",) if kind in ("pageview", "consent") else ()))),
        "campaign": campaign,
        "variant": variant,
        "url": draw(st.sampled_from(URLS)),
        "data": data,
        "elsewhere": kind in ("pageview", "conversion") and draw(st.sampled_from((False, False, True))),
        "session": draw(st.sampled_from(("s", "s", "t", ""))),
    }


POOL = 18


@st.composite
def streams(draw) -> tuple[list[dict], list[tuple]]:
    """A pool of events, each stored once in a random order, a few of them again (a retried request), in requests
    of one to six events, with drains of a few events (or none) between the requests; then everything is drained."""
    pool = draw(st.lists(an_event(len(MESSAGE_TYPES)), min_size=POOL, max_size=POOL))
    order = list(draw(st.permutations(range(POOL))))
    for again in draw(st.lists(st.integers(0, POOL - 1), max_size=4)):
        order.insert(draw(st.integers(0, len(order))), again)
    ops: list[tuple] = []
    while order:
        size = draw(st.integers(1, 6))
        ops.append(("store", order[:size], draw(st.sampled_from(DEVICES))))
        del order[:size]
        drain = draw(st.sampled_from((None, 1, 2, 5)))
        if drain:
            ops.append(("drain", drain, None))
    return pool, ops


def row_of(spec: dict, shops) -> EventRow:
    campaign_id = variant_id = None
    if spec["campaign"] is not None:
        campaign, variant_ids = shops[spec["campaign"]]
        campaign_id = campaign.id
        if spec["variant"] is not None and spec["variant"] >= 0:
            variant_id = variant_ids[min(spec["variant"], len(variant_ids) - 1)]
    ts_ms = int(START.timestamp() * 1000) + spec["offset"]
    data = spec["data"]
    if isinstance(data.get("audiences"), list):
        ids = [*shops.audiences, 10**9]
        data = {**data, "audiences": [
            ids[min(x, len(ids) - 1)] if type(x) is int else x for x in data["audiences"]]}
    return EventRow(event_id=spec["id"], type=spec["kind"], ts_ms=ts_ms, visitor_id=spec["visitor"],
                    session_id=spec.get("session", "s"),
                    campaign_id=campaign_id, variant_id=variant_id, url=spec["url"],
                    payload_json=json.dumps(data))


def stream_store(*, shops, pool: list[dict], ops: list[tuple], fold: str) -> None:
    home, away = shops[0][0].site_id, shops[-1][0].site_id
    batch = BATCH[fold]
    for op, arg, device in ops:
        if op == "drain":
            batch(batch_size=arg)
            continue
        for site_id in (home, away):
            rows = [row_of(pool[i], shops) for i in arg if pool[i]["elsewhere"] == (site_id == away)]
            if rows:
                events_record(site_id=site_id, events=rows, received_at=START, device=device, ip_hash="h",
                              ip_truncated="203.0.113.0", user_agent="UA/1.0", widget_version=f"0.{len(device)}")
    while batch(batch_size=tally.BATCH_SIZE):
        pass


# ---------------------------------------------------------------- what the tally wrote

def tally_written(campaign_ids: list[int]) -> dict:
    """Everything the tally writes, keyed by what identifies it (row ids differ between the two runs)."""
    steps = [*Assignment.STEPS.values()]
    assignments = {
        (a["campaign_id"], a["visitor_id"]): a
        for a in Assignment.objects.filter(campaign_id__in=campaign_ids).values(
            "campaign_id", "visitor_id", "site_id", "variant_id", "first_exposed_at", "revenue", "device", "source",
            "returning", *steps)
    }
    funnel = sorted(FunnelStep.objects.filter(campaign_id__in=campaign_ids).values_list(
        "campaign_id", "variant_id", "visitor_id", "step", "day"), key=repr)
    counters = {}
    for row in VariantDailyStats.objects.filter(campaign_id__in=campaign_ids).values():
        key = (row["campaign_id"], row["variant_id"], row["day"], row["device"], row["source"], row["returning"])
        counters[key] = {name: row[name] for name in VariantDailyStats.COUNTERS if row[name]}
    responses = sorted(
        ({k: v for k, v in row.items() if k != "id"} for row in Response.objects.values()), key=repr)
    consents = sorted(
        ({k: v for k, v in row.items() if k != "id"} for row in ConsentRecord.objects.values()), key=repr)
    journeys = {
        model.__name__: sorted(({k: v for k, v in row.items() if k != "id"} for row in model.objects.values()),
                               key=repr)
        for model in (JourneyPageDaily, JourneyTransitionDaily, JourneySession, JourneyVisitorStage,
                      OriginActivity, OriginMinute, CampaignActivity, AudienceDaily, AudienceVisitorDay)
    }
    return {"assignments": assignments, "funnel_steps": funnel, "counters": counters, "responses": responses,
            "consent_records": consents, **journeys, "pending": tally.tally_pending()}


def folded(*, shops, pool, ops, fold: str) -> dict:
    """The stream stored and drained with one fold, in a savepoint rolled back afterwards."""
    savepoint = transaction.savepoint()
    try:
        stream_store(shops=shops, pool=pool, ops=ops, fold=fold)
        return tally_written([campaign.id for campaign, _variants in shops])
    finally:
        transaction.savepoint_rollback(savepoint)


def lines(part) -> list[str]:
    """One line per row, sorted, so that a difference reads as the rows only one fold wrote."""
    rows = part.items() if isinstance(part, dict) else enumerate(part) if isinstance(part, list) else [("", part)]
    return sorted(f"{key!r}: {value!r}" for key, value in rows)


def differences(sql: dict, python: dict) -> str:
    """The parts on which the folds disagree, as a diff: - the SQL fold's rows, + the Python fold's."""
    found = []
    for part in sql:
        if sql[part] != python[part]:
            found += difflib.unified_diff(lines(sql[part]), lines(python[part]), f"{part} (SQL fold)",
                                          f"{part} (Python fold)", lineterm="", n=0)
    return "\n".join(found)


def an(kind: str, *, offset: int = 0, visitor: str = "v0", campaign: int | None = None, variant: int | None = 0,
       **data) -> dict:
    """One event of a hand-written stream (the rare cases random streams reach too seldom to guard every run)."""
    return {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}/{offset}/{visitor}/{campaign}/{data}")), "kind": kind,
            "offset": offset, "visitor": visitor, "campaign": campaign,
            "variant": variant if campaign is not None else None, "url": URLS[1], "data": data, "elsewhere": False}


PURCHASE_1_DAY, SIGNUP_1_DAY, PURCHASE_7_DAYS = 4, 3, 5  # indices into GOALS (and `shops`)
# Purchases counted before the exposure that makes their visitor's assignment (credited late), at the window's
# edges; a signup on the edge of an event goal's window; the same visitor buying twice in one batch on two days.
LATE_AND_ON_THE_EDGE = (
    [an("conversion", offset=HOUR_MS, name="purchase", value=12.5),
     an("conversion", offset=DAY_MS, name="purchase", value=2.675),
     an("conversion", offset=DAY_MS + 1, name="purchase", value=3),
     an("conversion", offset=DAY_MS, name="signup"),
     an("exposure", campaign=PURCHASE_1_DAY), an("impression", campaign=SIGNUP_1_DAY, variant=1)],
    [("store", [0, 1, 2, 3], "mobile"), ("drain", 5, None), ("store", [4, 5], "desktop")],
)
TWO_DAYS_IN_ONE_BATCH = (
    [an("exposure", visitor="v1", campaign=PURCHASE_7_DAYS, variant=-1),
     an("conversion", visitor="v1", offset=HOUR_MS, name="purchase", value=10),
     an("conversion", visitor="v1", offset=3 * DAY_MS, name="purchase", value=0.015),
     an("click", visitor="v1", campaign=PURCHASE_7_DAYS, variant=1, offset=2 * HOUR_MS)],
    [("store", [0], "tablet"), ("drain", 1, None), ("store", [1, 2, 3], "desktop")],
)

# One visitor's session arriving last page first, with a reload and a page view that never arrives (its position
# filled from the next one's journey), one batch at a time; a second session reaching the same stage at the same
# time in the same batch (the lower id wins); a page view without a visitor id.
def a_view(offset: int, path: str, prev: str | None, step: int, *, session: str = "s", visitor: str = "v0") -> dict:
    return {**an("pageview", offset=offset, visitor=visitor, journey={"prev": prev, "step": step},
                 segment={"source": "google/cpc", "returning": step > 1}),
            "url": f"https://shop.example{path}", "session": session}


# The same visitor in an audience on two page views of a day (one visitor, two page views) and on the next day in two
# batches; another visitor on the same day; a page view naming an audience twice counts once.
AUDIENCES_OVER_DAYS = (
    [{**an("pageview", audiences=[0, 1]), "session": "s"},
     {**an("pageview", offset=1, audiences=[0, 0]), "session": "s"},
     {**an("pageview", offset=DAY_MS, audiences=[0]), "session": "s"},
     {**an("pageview", visitor="v1", audiences=[1, 2]), "session": "s"}],
    [("store", [0, 1], "mobile"), ("drain", 1, None), ("store", [2, 3], "desktop")],
)

JOURNEY_BACKWARDS = (
    [a_view(0, "/", None, 1), a_view(1, "/", "/", 2), a_view(HOUR_MS, "/cart", "/cart", 4),
     a_view(2 * HOUR_MS, "/THANKS?order=1", "/cart?x=1", 5), a_view(2 * HOUR_MS, "/thanks/1", None, 1, session="t"),
     a_view(0, "/", None, 1, visitor="")],
    [("store", [3, 4], "mobile"), ("drain", 2, None), ("store", [2], "desktop"), ("drain", 1, None),
     ("store", [1, 0, 5], "tablet")],
)


# A longer hunt: TALLY_FOLDS_EXAMPLES=2000 .venv/bin/pytest tests/campaigns/test_tally_folds.py
EXAMPLES = int(os.environ.get("TALLY_FOLDS_EXAMPLES", "25"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stream=streams())
@example(stream=LATE_AND_ON_THE_EDGE)
@example(stream=TWO_DAYS_IN_ONE_BATCH)
@example(stream=JOURNEY_BACKWARDS)
@example(stream=AUDIENCES_OVER_DAYS)
def test_both_folds_write_the_same_tally_for_any_stream_of_events(shops, stream):
    pool, ops = stream
    sql = folded(shops=shops, pool=pool, ops=ops, fold=SQL)
    python = folded(shops=shops, pool=pool, ops=ops, fold=PYTHON)
    assert sql["pending"] == python["pending"] == 0
    assert sql == python, "the folds disagree:\n" + differences(sql, python)


def test_audience_counters_count_page_views_and_distinct_visitors_per_day(shops):
    """The hand-written stream, by hand: audience 0 has three page views of v0 over two days and none of another
    visitor; audience 1 one page view each of v0 and v1 on the first day; the other site's audience nothing."""
    pool, ops = AUDIENCES_OVER_DAYS
    for fold in (SQL, PYTHON):
        written = folded(shops=shops, pool=pool, ops=ops, fold=fold)
        readers, buyers, _away = shops.audiences
        got = sorted((row["audience_id"], str(row["day"]), row["pageviews"], row["visitors"])
                     for row in written["AudienceDaily"])
        # START is 23:30 on the 9th in Santiago: the first day, and a day later the 10th.
        assert got == sorted([(readers, "2026-11-09", 2, 1), (readers, "2026-11-10", 1, 1),
                              (buyers, "2026-11-09", 2, 2)]), fold
