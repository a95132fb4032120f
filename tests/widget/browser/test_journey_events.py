"""The widget's journey in a real browser: each page view carries the session's previous path (kept in the stored
session across page loads) and its step, and the tally counts the moves."""

import pytest

from campaigns.models import JourneySession, JourneyTransitionDaily
from tests.widget.browser.kit import fixture_url, tally, wait_for_events

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
