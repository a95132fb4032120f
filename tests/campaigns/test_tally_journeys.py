"""The journey fold (campaigns/tally/journeys.py), with each fold of the tally: page views sent as the widget sends
them, through the collect endpoint, drained, and the journey tables read back."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from campaigns.ingest.store import EventRow, events_record
from campaigns.journeys.flow import entry_exit_tables
from campaigns.journeys.paths import Cleanup, Group
from campaigns.journeys.selectors import JourneyFilter, journey_counts_get
from campaigns.journeys.services import journey_setup_replace
from campaigns.models import JourneyPageDaily, JourneySession, JourneyTransitionDaily, JourneyVisitorStage
from campaigns.models.journeys import STEP_LATER
from campaigns.tally import drain as tally
from tests.campaigns.events_kit import event, now_ms, post_events

pytestmark = pytest.mark.usefixtures("tally_fold")

MINUTE_MS = 60_000
SHOP = "https://shop.example"


def view(path: str, *, step: int, prev: str | None, visitor: str = "v1", session: str = "s1", ts: int,
         source: str = "google/cpc", **extra) -> dict:
    """A page view as the widget sends it: its journey and segment."""
    return event("pageview", visitor=visitor, session=session, ts=ts, url=SHOP + path, data={
        "journey": {"prev": prev, "step": step}, "segment": {"source": source, "returning": False}}, **extra)


def walk(paths: list[str], *, start: int, visitor: str = "v1", session: str = "s1", gap: int = MINUTE_MS) -> list:
    """A session's page views, one a minute, each with the previous page's path."""
    views, prev = [], None
    for index, path in enumerate(paths):
        views.append(view(path, step=index + 1, prev=prev, visitor=visitor, session=session,
                          ts=start + index * gap))
        prev = path.split("?", 1)[0]
    return views


def send(client, site, events) -> None:
    response = post_events(client, site, events)
    assert response.status_code == 202 and response.json()["rejected"] == []


def pages(site) -> dict:
    return {(row.step, row.path): (row.pageviews, row.entries) for row in JourneyPageDaily.objects.filter(site=site)}


def moves(site) -> dict:
    return {(row.step, row.from_path, row.path): row.count
            for row in JourneyTransitionDaily.objects.filter(site=site)}


def session_of(site, session: str = "s1") -> JourneySession:
    return JourneySession.objects.get(site=site, session_id=session)


def everything(site) -> dict:
    """The four tables' rows, without row ids (to compare two ways of folding the same page views)."""
    def rows(model):
        return sorted((tuple(v for k, v in row.items() if k != "id") for row in model.objects.filter(site=site)
                       .values()), key=repr)
    return {model.__name__: rows(model)
            for model in (JourneyPageDaily, JourneyTransitionDaily, JourneySession, JourneyVisitorStage)}


def days(site) -> JourneyFilter:
    today = datetime.now(UTC).date()
    return JourneyFilter(start=today - timedelta(days=8), end=today + timedelta(days=1))


def exit_table(site):
    page_counts, transitions = journey_counts_get(site=site, where=days(site))
    return entry_exit_tables(pages=page_counts, transitions=transitions)


def test_a_session_is_counted_as_pages_moves_a_session_row_and_exits(client, site):
    send(client, site, walk(["/blog/a?utm_source=google", "/product/shoe", "/cart"], start=now_ms() - 10 * MINUTE_MS))
    tally.tally_drain()
    assert pages(site) == {(1, "/blog/a"): (1, 1), (2, "/product/shoe"): (1, 0), (3, "/cart"): (1, 0)}
    assert moves(site) == {(2, "/blog/a", "/product/shoe"): 1, (3, "/product/shoe", "/cart"): 1}
    row = session_of(site)
    assert (row.paths, row.steps, row.pageviews, row.visitor_id) == (("/blog/a", "/product/shoe", "/cart"), 3, 3, "v1")
    assert (row.device, row.source, row.returning) == ("desktop", "google/cpc", False)
    assert row.last_at - row.started_at == timedelta(minutes=2)
    page_rows = JourneyPageDaily.objects.filter(site=site)
    assert {(r.device, r.source, r.returning) for r in page_rows} == {("desktop", "google/cpc", False)}
    _entries, exits = exit_table(site)
    assert [(row.label, row.exits) for row in exits] == [("/cart", 1)]


def test_a_reload_is_a_page_view_and_a_move_from_the_page_to_itself(client, site):
    send(client, site, walk(["/product/shoe", "/product/shoe?reload=1", "/cart"], start=now_ms() - 5 * MINUTE_MS))
    tally.tally_drain()
    assert pages(site) == {(1, "/product/shoe"): (1, 1), (2, "/product/shoe"): (1, 0), (3, "/cart"): (1, 0)}
    assert moves(site)[(2, "/product/shoe", "/product/shoe")] == 1
    assert session_of(site).paths == ("/product/shoe", "/product/shoe", "/cart")
    _entries, exits = exit_table(site)
    assert [(row.label, row.pageviews, row.exits) for row in exits] == [("/cart", 1, 1)]


def test_page_views_arriving_in_any_order_and_batch_give_the_same_rows(client, site, outsider_site):
    start = now_ms() - 30 * MINUTE_MS
    views = walk(["/", "/blog/a", "/product/shoe", "/cart", "/checkout"], start=start)
    send(client, site, views)
    tally.tally_drain()
    in_order = everything(site)
    # The same page views on another site (the same ids are another site's events), last first, one batch each.
    outsider_site.allowed_origins = [SHOP]
    outsider_site.save(update_fields=["allowed_origins"])
    for one in reversed(views):
        send(client, outsider_site, [one])
        tally.tally_drain()
    reversed_rows = {name: [r[1:] for r in rows] for name, rows in everything(outsider_site).items()}
    assert reversed_rows == {name: [r[1:] for r in rows] for name, rows in in_order.items()}
    row = session_of(outsider_site)
    assert (row.paths, row.steps, row.pageviews) == (("/", "/blog/a", "/product/shoe", "/cart", "/checkout"), 5, 5)
    assert row.started_at == datetime.fromtimestamp(start / 1000, UTC)


def test_a_later_page_view_folded_first_fills_the_previous_position_from_its_journey(client, site):
    start = now_ms() - 10 * MINUTE_MS
    first, second = walk(["/blog/a", "/product/shoe"], start=start)
    send(client, site, [second])
    tally.tally_drain()
    row = session_of(site)
    assert (row.paths, row.steps, row.pageviews) == (("/blog/a", "/product/shoe"), 2, 1)
    send(client, site, [first])
    tally.tally_drain()
    row = session_of(site)
    assert (row.paths, row.steps, row.pageviews, row.started_at) == (
        ("/blog/a", "/product/shoe"), 2, 2, datetime.fromtimestamp(start / 1000, UTC))
    assert pages(site) == {(1, "/blog/a"): (1, 1), (2, "/product/shoe"): (1, 0)}


def test_a_page_view_sent_twice_is_counted_once(client, site):
    views = walk(["/blog/a", "/cart"], start=now_ms() - 5 * MINUTE_MS)
    send(client, site, views)
    send(client, site, views)  # a retried request
    tally.tally_drain()
    send(client, site, views[1:])
    tally.tally_drain()
    assert pages(site) == {(1, "/blog/a"): (1, 1), (2, "/cart"): (1, 0)}
    assert moves(site) == {(2, "/blog/a", "/cart"): 1}
    assert session_of(site).pageviews == 2


def test_thirty_idle_minutes_start_a_new_session_with_its_own_entry(client, site):
    start = now_ms() - 3 * 60 * MINUTE_MS
    # The widget's session ends after 30 idle minutes: the next page view has a new session id and no previous page.
    send(client, site, [*walk(["/blog/a", "/product/shoe"], start=start, session="s1"),
                        *walk(["/product/shoe", "/cart"], start=start + 32 * MINUTE_MS, session="s2")])
    tally.tally_drain()
    assert pages(site) == {(1, "/blog/a"): (1, 1), (2, "/product/shoe"): (1, 0), (1, "/product/shoe"): (1, 1),
                           (2, "/cart"): (1, 0)}
    assert moves(site) == {(2, "/blog/a", "/product/shoe"): 1, (2, "/product/shoe", "/cart"): 1}
    assert [session_of(site, s).paths for s in ("s1", "s2")] == [("/blog/a", "/product/shoe"),
                                                                 ("/product/shoe", "/cart")]


def test_each_stage_keeps_when_the_visitor_first_reached_it(client, site):
    journey_setup_replace(site=site, groups=[
        Group(name="Blog", rule={"op": "starts_with", "value": "/blog/"}, stage="awareness", order=1),
        Group(name="Product", rule={"op": "starts_with", "value": "/product/"}, stage="consideration", order=2),
        Group(name="Cart", rule={"op": "equals", "value": "/cart"}, stage="decision", order=3),
        Group(name="Home", rule={"op": "equals", "value": "/"}, order=4),
    ], cleanups=[Cleanup(pattern="^/product/<slug>/?$", replacement="/product/*")])
    start = now_ms() - 3 * 60 * MINUTE_MS
    later = walk(["/product/boot", "/cart"], start=start + 60 * MINUTE_MS, session="s2")
    earlier = walk(["/", "/blog/a", "/product/shoe"], start=start, session="s1")
    send(client, site, later)  # the later session arrives first
    tally.tally_drain()
    send(client, site, earlier)
    tally.tally_drain()
    reached = {row.stage: (row.path, row.session_id, row.first_at)
               for row in JourneyVisitorStage.objects.filter(site=site, visitor_id="v1")}
    at = lambda ms: datetime.fromtimestamp(ms / 1000, UTC)  # noqa: E731
    assert reached == {
        "awareness": ("/blog/a", "s1", at(start + MINUTE_MS)),
        "consideration": ("/product/*", "s1", at(start + 2 * MINUTE_MS)),
        "decision": ("/cart", "s2", at(start + 61 * MINUTE_MS)),
    }
    assert pages(site)[(1, "/product/*")] == (1, 1)


def test_steps_past_the_tenth_count_together_and_the_session_row_keeps_ten(client, site):
    paths = [f"/p/{chr(97 + i)}" for i in range(12)]
    send(client, site, walk(paths, start=now_ms() - 20 * MINUTE_MS))
    tally.tally_drain()
    assert pages(site)[(STEP_LATER, "/p/k")] == (1, 0) and pages(site)[(STEP_LATER, "/p/l")] == (1, 0)
    assert moves(site)[(STEP_LATER, "/p/k", "/p/l")] == 1
    row = session_of(site)
    assert (row.paths, row.steps) == (tuple(paths[:10]), 12)


def test_page_views_without_a_journey_that_counts_stay_out_of_the_map(client, site):
    ts = now_ms() - MINUTE_MS
    send(client, site, [event("pageview", ts=ts, url=SHOP + "/old-widget")])
    # Stored without the collect checks (as a demo or an older server stored them): the fold checks again.
    odd = [{"prev": "/a", "step": "2"}, {"step": 0}, {"step": 2.5}, {"step": True}, ["x"], {"prev": 7, "step": 2}]
    events_record(site_id=site.id, received_at=datetime.now(UTC), device="mobile", ip_hash="", ip_truncated="",
                  user_agent="UA", events=[
                      EventRow(str(uuid.uuid4()), "pageview", ts, "v2", "s9", None, None, SHOP + "/odd",
                               json.dumps({"journey": journey})) for journey in odd])
    assert tally.tally_drain() == 1 + len(odd)
    assert pages(site) == {(2, "/odd"): (1, 1)}  # only the step 2 whose previous page is not a path: an entry
    assert moves(site) == {}


def test_a_visitor_without_an_id_counts_in_pages_and_moves_but_has_no_session_row(client, site):
    send(client, site, walk(["/a", "/b"], start=now_ms() - 5 * MINUTE_MS, visitor=""))
    tally.tally_drain()
    assert moves(site) == {(2, "/a", "/b"): 1}
    assert not JourneySession.objects.filter(site=site).exists()


PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.0 Mobile/15E148 Safari/604.1")


def widget_views(paths: list[str], *, visitor: str, session: str, start: int, sessions: int, utm: dict,
                 referrer: str) -> list[dict]:
    """A session's page views as the widget sends them: each journey with what its segment is made of."""
    views, prev = [], None
    for index, path in enumerate(paths):
        views.append(event("pageview", visitor=visitor, session=session, ts=start + index * MINUTE_MS,
                           url=SHOP + path, data={"journey": {"prev": prev, "step": index + 1, "sessions": sessions,
                                                              "utm": utm, "referrer": referrer}}))
        prev = path.split("?", 1)[0]
    return views


def test_page_views_count_under_the_segment_their_journey_carries_and_the_device_of_their_user_agent(client, site):
    journey_setup_replace(site=site, groups=[
        Group(name="Cart", rule={"op": "equals", "value": "/cart"}, stage="decision", order=1)], cleanups=[])
    start = now_ms() - 30 * MINUTE_MS
    ad = widget_views(["/product/shoe?utm_source=google&utm_medium=cpc", "/cart"], visitor="v1", session="s1",
                      start=start, sessions=1, utm={"source": "google", "medium": "cpc"},
                      referrer="https://www.google.com/")
    back = widget_views(["/", "/cart"], visitor="v2", session="s2", start=start, sessions=2, utm={},
                        referrer="https://Blog.Example/seo-basics/")
    # The second page views first, in a batch of their own: each page view's segment is its own.
    response = post_events(client, site, [ad[1]], HTTP_USER_AGENT=PHONE_UA)
    assert response.status_code == 202 and response.json()["rejected"] == []
    send(client, site, [back[1]])
    tally.tally_drain()
    assert post_events(client, site, [ad[0]], HTTP_USER_AGENT=PHONE_UA).status_code == 202
    send(client, site, [back[0]])
    tally.tally_drain()

    ad_segment, back_segment = ("mobile", "google/cpc", False), ("desktop", "blog.example", True)
    assert {(row.step, row.path, row.device, row.source, row.returning)
            for row in JourneyPageDaily.objects.filter(site=site)} == {
        (1, "/product/shoe", *ad_segment), (2, "/cart", *ad_segment), (1, "/", *back_segment),
        (2, "/cart", *back_segment)}
    assert {(row.from_path, row.device, row.source, row.returning)
            for row in JourneyTransitionDaily.objects.filter(site=site)} == {
        ("/product/shoe", *ad_segment), ("/", *back_segment)}
    assert {(row.session_id, row.device, row.source, row.returning)
            for row in JourneySession.objects.filter(site=site)} == {("s1", *ad_segment), ("s2", *back_segment)}
    assert {(row.visitor_id, row.stage, row.device, row.source, row.returning)
            for row in JourneyVisitorStage.objects.filter(site=site)} == {
        ("v1", "decision", *ad_segment), ("v2", "decision", *back_segment)}
    # The map's filters read those columns.
    search_ads = JourneyFilter(**{**days(site).__dict__, "source": "google/cpc"})
    page_counts, transitions = journey_counts_get(site=site, where=search_ads)
    assert [(p.step, p.path, p.pageviews) for p in page_counts] == [(1, "/product/shoe", 1), (2, "/cart", 1)]
    assert [(t.from_path, t.path) for t in transitions] == [("/product/shoe", "/cart")]
    returning = JourneyFilter(**{**days(site).__dict__, "returning": True, "device": "desktop"})
    assert [(p.step, p.path) for p in journey_counts_get(site=site, where=returning)[0]] == [(1, "/"), (2, "/cart")]

