"""Consent on the demo shop (consent required, policy version 1): nothing stored or sent before the decision."""

import pytest
from playwright.sync_api import expect

from campaigns.models import ConsentRecord, Site
from tests.widget.browser.conftest import site_settle
from tests.widget.browser.kit import (
    accept_consent,
    events,
    fixture_url,
    message,
    settle,
    storage,
    stored,
    tally,
    visitor_id,
    wait_for_events,
    wait_until,
)

pytestmark = pytest.mark.browser

CATEGORIES = ["necessary", "analytics", "marketing"]
BUTTON_LOOK = ["background-color", "color", "font-size", "font-weight", "border-top-width", "padding-top", "height"]


def look(button) -> dict:
    return button.evaluate("(el, props) => Object.fromEntries(props.map((p) => [p, getComputedStyle(el)[p]]))",
                           BUTTON_LOOK)


def test_nothing_is_stored_or_sent_before_accept_all_then_events_and_the_consent_record_arrive(
    page, live_server, demo_site
):
    sent = []
    page.on("request", lambda request: "/events" in request.url and sent.append(request.url))
    page.goto(f"{live_server.url}/demo/")
    banner = message(page, "consent")
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("role", "region")
    settle(page, 1500)  # longer than the 1 s batching window: anything queued would have left by now

    assert sent == []
    assert storage(page) == {}
    assert page.evaluate("document.cookie") == ""
    assert page.context.cookies() == []
    assert events(demo_site) == []
    expect(message(page, "bar")).to_have_count(0)  # only the banner shows before the decision

    accept_consent(page)

    expect(message(page, "bar")).to_be_visible()  # the free-shipping bar, armed by the decision
    visitor = visitor_id(page)
    assert stored(page, "_rt_c")["decision"] == "granted"
    [pageview] = wait_for_events(demo_site, "pageview")
    [consent] = wait_for_events(demo_site, "consent")
    assert pageview.visitor_id == consent.visitor_id == visitor
    assert pageview.url == f"{live_server.url}/demo/"
    assert consent.payload["decision"] == "granted"
    assert consent.payload["policy_version"] == "1"
    assert consent.payload["categories"] == CATEGORIES
    assert sent, "the events went to /api/w/<key>/events"

    tally()
    record = wait_until(lambda: ConsentRecord.objects.filter(site=demo_site).first(), message="a ConsentRecord")
    assert record.decision == "granted"
    assert record.policy_version == "1"
    assert record.categories == CATEGORIES
    assert record.consent_id == consent.payload["consent_id"]
    assert record.url == f"{live_server.url}/demo/"
    assert record.ip_truncated in ("127.0.0.0", "::"), "the proof keeps the network, not the address"
    assert "Chrome" in record.user_agent


def test_reject_all_is_one_click_like_accept_and_a_new_policy_version_asks_again(
    page, live_server, demo_site, settings
):
    settings.CONFIG_MAX_AGE = 0  # the browser revalidates the config on each page load
    page.goto(f"{live_server.url}/demo/")
    banner = message(page, "consent")
    accept = banner.get_by_role("button", name="Accept all")
    reject = banner.get_by_role("button", name="Reject all")
    expect(accept).to_be_visible()
    expect(reject).to_be_visible()
    assert look(reject) == look(accept), "Reject all is exactly as prominent as Accept all"

    reject.click()  # one click, like accept

    expect(banner).to_have_count(0)
    decision = stored(page, "_rt_c")
    assert (decision["decision"], decision["policy_version"], decision["categories"]) == ("denied", "1", ["necessary"])
    assert set(storage(page)) == {"_rt_c"}, "no visitor and no outbox are kept after a refusal"
    [consent] = wait_for_events(demo_site, "consent")
    assert consent.payload["decision"] == "denied"
    assert consent.visitor_id == "", "the refusal itself is sent without a visitor id"
    tally()
    record = wait_until(lambda: ConsentRecord.objects.filter(site=demo_site).first(), message="a ConsentRecord")
    assert (record.decision, record.policy_version) == ("denied", "1")

    with page.expect_response(lambda r: r.url.endswith("/config")):
        page.reload()
    settle(page, 1500)
    expect(banner).to_have_count(0)  # the refusal is remembered
    expect(message(page, "bar")).to_have_count(0)
    assert events(demo_site, "pageview") == [], "a visitor who refused is never counted"

    Site.objects.filter(pk=demo_site.pk).update(policy_version="2")
    site_settle(demo_site)
    page.reload()
    expect(banner).to_be_visible()  # a new policy version asks again
    expect(banner.get_by_role("button", name="Reject all")).to_be_visible()
    settle(page, 1200)
    assert events(demo_site, "pageview") == [], "undecided again: still nothing sent"


def test_accepting_a_new_policy_version_keeps_the_visitor_for_the_events_held_until_then(
    page, live_server, demo_site, settings
):
    settings.CONFIG_MAX_AGE = 0
    page.goto(f"{live_server.url}/demo/")
    accept_consent(page)
    visitor = visitor_id(page)
    wait_for_events(demo_site, "pageview")
    Site.objects.filter(pk=demo_site.pk).update(policy_version="2")
    site_settle(demo_site)

    page.reload()
    accept_consent(page)

    assert visitor_id(page) == visitor
    wait_for_events(demo_site, "pageview", count=2)
    wait_for_events(demo_site, "consent", count=2)
    settle(page, 1200)
    assert {event.visitor_id for event in events(demo_site)} == {visitor}


def test_a_denial_on_a_site_that_does_not_require_consent_stops_all_tracking_and_a_later_grant_starts_fresh(
    page, live_server, shop
):
    sent = []
    page.on("request", lambda request: "/events" in request.url and sent.append(request.post_data))
    page.goto(fixture_url(live_server, shop))
    [first_pageview] = wait_for_events(shop, "pageview")
    visitor = visitor_id(page)
    assert first_pageview.visitor_id == visitor

    # Events made right before, with and after the denial: only the denial itself may leave the page.
    page.evaluate("""() => {
        retarget('track', 'before-denial');
        retarget('consent', 'denied');
        retarget('track', 'after-denial');
        history.pushState({}, '', location.search + '&after=1');
    }""")
    [consent] = wait_for_events(shop, "consent")
    page.evaluate("retarget('track', 'later')")
    settle(page, 1500)  # longer than the 1 s batching window

    assert consent.payload["decision"] == "denied"
    assert consent.visitor_id == "", "the denial is sent without a visitor id"
    assert [event.type for event in events(shop)] == ["pageview", "consent"]
    assert set(storage(page)) == {"_rt_c"}, "no visitor and no outbox are kept after a denial"

    sent.clear()
    page.reload()
    page.locator("#buy").click()
    page.evaluate("history.pushState({}, '', location.search + '&browsing=1')")
    settle(page, 1500)
    assert sent == [], "the denial is remembered across page loads"
    assert set(storage(page)) == {"_rt_c"}
    assert [event.type for event in events(shop)] == ["pageview", "consent"]

    page.evaluate("retarget('consent', 'granted')")
    wait_for_events(shop, "consent", count=2)
    page.evaluate("history.pushState({}, '', location.search + '&granted=1')")
    pageviews = wait_for_events(shop, "pageview", count=2)
    assert visitor_id(page) != visitor, "a grant after a denial starts as a new visitor"
    assert pageviews[1].visitor_id == visitor_id(page)
