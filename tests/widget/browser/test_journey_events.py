"""The widget's journey in a real browser: each page view carries the session's previous path (kept in the stored
session across page loads) and its step, and the tally counts the moves; a page left before its view was sent
still sends it."""

import pytest

from campaigns.models import JourneySession, JourneyTransitionDaily
from tests.widget.browser.kit import (
    accept_consent,
    fixture_url,
    read,
    tally,
    visitor_id,
    wait_for_events,
    wait_until,
)

pytestmark = pytest.mark.browser


def test_page_loads_carry_the_previous_path_and_the_step_and_the_tally_counts_the_moves(page, live_server, shop):
    page.goto(fixture_url(live_server, shop, "plain.html", "&utm_source=news&utm_medium=mail"))
    wait_for_events(shop, "pageview")
    page.goto(fixture_url(live_server, shop, "demo.html"))
    wait_for_events(shop, "pageview", count=2)
    page.reload()
    views = wait_for_events(shop, "pageview", count=3)
    assert [view.payload["journey"] for view in views] == [
        {"prev": None, "step": 1},
        {"prev": "/fixtures/plain.html", "step": 2},
        {"prev": "/fixtures/demo.html", "step": 3},
    ]
    # The segment the collect endpoint made from each journey: the session's utm, the visitor's first session.
    assert [view.payload["segment"] for view in views] == [{"source": "news/mail", "returning": False}] * 3
    assert len({view.session_id for view in views}) == 1
    tally()
    assert sorted(JourneyTransitionDaily.objects.filter(site=shop).values_list("step", "from_path", "path")) == [
        (2, "/fixtures/plain.html", "/fixtures/demo.html"), (3, "/fixtures/demo.html", "/fixtures/demo.html")]
    session = JourneySession.objects.get(site=shop)
    assert session.paths == ("/fixtures/plain.html", "/fixtures/demo.html", "/fixtures/demo.html")
    assert (session.device, session.source, session.returning) == ("desktop", "news/mail", False)


def test_a_page_left_before_its_audiences_file_arrives_still_sends_its_view_and_the_next_page_names_it(
        page, live_server, demo_site):
    # The demo shop has page groups, so each page view waits for the audiences file before it is sent; a visitor
    # who leaves sooner (a slow network, a quick back) must not leave a step the next page names but nobody counted.
    page.goto(f"{live_server.url}/demo/")
    accept_consent(page)
    read(page, demo_site)
    visitor = visitor_id(page)
    stalled = []

    def stall(route):  # never answered: the file does not arrive
        stalled.append(route)

    page.route("**/static/widget/aud.*.js", stall)
    page.goto(f"{live_server.url}/demo/product/trail-shoe/")
    # (page.wait_for_timeout lets Playwright run the route handler while we poll)
    wait_until(lambda: stalled or page.wait_for_timeout(50), message="the product page asked for the audiences file")
    page.goto(f"{live_server.url}/healthz")  # left: pagehide

    left = wait_for_events(demo_site, "pageview", count=2, visitor_id=visitor)[1]
    assert left.url == f"{live_server.url}/demo/product/trail-shoe/"
    assert (left.payload["journey"]["prev"], left.payload["journey"]["step"]) == ("/demo/", 2)
    assert "audiences" not in left.payload, "sent as it was when the page was left"
    page.unroute("**/static/widget/aud.*.js")
    page.goto(f"{live_server.url}/demo/cart/")
    cart = wait_for_events(demo_site, "pageview", count=3, visitor_id=visitor)[2]
    assert (cart.payload["journey"]["prev"], cart.payload["journey"]["step"]) == ("/demo/product/trail-shoe/", 3)
    assert cart.payload["audiences"] == []
