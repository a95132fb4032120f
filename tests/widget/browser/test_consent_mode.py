"""Consent with Google Consent Mode v2 and with another consent tool (IAB TCF v2.2, the site's own Consent Mode
updates), and the erase on denial: fixture pages with a stub gtag/dataLayer and a stub __tcfapi drive the state."""

import json

import pytest

from campaigns.models import Assignment, ConsentRecord, DataRequest, Site
from tests.widget.browser.conftest import site_settle
from tests.widget.browser.kit import (
    campaign_add,
    events,
    fixture_url,
    settle,
    storage,
    stored,
    tally,
    visitor_id,
    wait_for_events,
    wait_until,
)

pytestmark = pytest.mark.browser

DENIED = {"ad_storage": "denied", "ad_user_data": "denied", "ad_personalization": "denied",
          "analytics_storage": "denied"}
GRANTED = dict.fromkeys(DENIED, "granted")
ALL_GRANTED = f"gtag('consent', 'update', {json.dumps(GRANTED)})"


def site_update(site: Site, **fields) -> Site:
    Site.objects.filter(pk=site.pk).update(**fields)
    site.refresh_from_db()
    site_settle(site)
    return site


def data_layer(page) -> list:
    return page.evaluate("dataLayerLog()")


def track_requests(page) -> list:
    sent = []
    page.on("request", lambda request: "/events" in request.url and sent.append(request.post_data))
    return sent


def test_consent_mode_default_comes_before_the_sites_config_and_each_decision_sends_an_update(page, live_server, shop):
    site_update(shop, consent_mode=True)
    page.goto(fixture_url(live_server, shop, "gtag.html"))
    wait_for_events(shop, "pageview")

    assert data_layer(page) == [
        ["consent", "default", {**DENIED, "wait_for_update": 500}],
        ["js", "object", None],
        ["config", "G-FIXTURE", None],
    ]

    page.evaluate("retarget('consent', {categories: ['analytics']})")
    wait_until(lambda: len(data_layer(page)) == 4, message="a Consent Mode update")
    assert data_layer(page)[3] == ["consent", "update", {**DENIED, "analytics_storage": "granted"}]

    page.evaluate("retarget('consent', 'granted')")
    wait_until(lambda: len(data_layer(page)) == 5, message="a second update")
    assert data_layer(page)[4] == ["consent", "update", GRANTED]

    page.reload()  # the stored decision updates the default of every page, after the site's config
    wait_until(lambda: len(data_layer(page)) == 4, message="the stored decision's update")
    assert [entry[:2] for entry in data_layer(page)] == [
        ["consent", "default"], ["js", "object"], ["config", "G-FIXTURE"], ["consent", "update"]]
    assert data_layer(page)[3][2] == GRANTED

    page.evaluate("retarget('consent', 'denied')")
    wait_until(lambda: len(data_layer(page)) == 5, message="the denial's update")
    assert data_layer(page)[4] == ["consent", "update", DENIED]


def test_a_site_without_consent_mode_leaves_the_data_layer_alone(page, live_server, shop):
    page.goto(fixture_url(live_server, shop, "gtag.html"))
    wait_for_events(shop, "pageview")
    page.evaluate("retarget('consent', 'granted')")
    wait_for_events(shop, "consent")
    settle(page)
    assert [entry[0] for entry in data_layer(page)] == ["js", "config"]


def test_tcf_consent_sends_nothing_before_the_cmp_decides_then_tracks_and_stops_at_a_withdrawal(
    page, live_server, shop
):
    site_update(shop, consent_required=True, consent_source="tcf")
    sent = track_requests(page)
    page.goto(fixture_url(live_server, shop, "tcf.html"))
    settle(page, 1500)  # the CMP shows its own banner: undecided, longer than the batching window
    assert sent == []
    assert set(storage(page)) == set()

    page.evaluate("cmp.decide({1: true, 5: true, 6: true})")
    [consent] = wait_for_events(shop, "consent")
    [pageview] = wait_for_events(shop, "pageview")
    assert consent.payload["decision"] == "granted"
    assert consent.payload["tc_string"] == "CP156AAA"
    assert pageview.visitor_id == consent.visitor_id == visitor_id(page)
    tally()
    record = wait_until(lambda: ConsentRecord.objects.filter(site=shop).first(), message="a ConsentRecord")
    assert (record.decision, record.tc_string) == ("granted", "CP156AAA")

    page.reload()  # the CMP repeats the same decision on every page: recorded once
    wait_for_events(shop, "pageview", count=2)
    settle(page)
    assert len(events(shop, "consent")) == 1

    page.evaluate("cmp.decide({1: true, 5: false, 6: true})")  # the visitor withdraws one purpose
    wait_for_events(shop, "consent", count=2)
    page.evaluate("retarget('track', 'after-withdrawal'); history.pushState({}, '', location.search + '&x=1')")
    settle(page, 1500)
    denial = events(shop, "consent")[1]
    assert (denial.payload["decision"], denial.visitor_id) == ("denied", "")
    assert sorted(event.type for event in events(shop)) == ["consent", "consent", "pageview", "pageview"]
    assert set(storage(page)) == {"_rt_c", "cmp"}


def test_consent_mode_updates_of_another_tool_drive_the_widget(page, live_server, shop):
    site_update(shop, consent_required=True, consent_source="gcm")
    sent = track_requests(page)
    page.goto(fixture_url(live_server, shop, "gtag.html"))
    settle(page, 1500)
    assert sent == [], "nothing before the other tool's update"
    assert [entry[0] for entry in data_layer(page)] == ["js", "config"], "the widget sends no update of its own"

    page.evaluate(ALL_GRANTED)
    [consent] = wait_for_events(shop, "consent")
    [pageview] = wait_for_events(shop, "pageview")
    assert (consent.payload["decision"], consent.payload["categories"]) == ("granted", ["marketing", "analytics"])
    assert pageview.visitor_id == visitor_id(page)

    page.evaluate("gtag('consent', 'update', {ad_storage: 'denied'})")  # marketing withdrawn, analytics kept
    wait_for_events(shop, "consent", count=2)
    page.evaluate("retarget('track', 'after'); history.pushState({}, '', location.search + '&x=1')")
    settle(page, 1500)
    denial = events(shop, "consent")[1]
    assert (denial.payload["decision"], denial.payload["categories"], denial.visitor_id) == (
        "custom", ["analytics"], "")
    assert sorted(event.type for event in events(shop)) == ["consent", "consent", "pageview"]
    assert set(storage(page)) == {"_rt_c"}
    assert [entry[0] for entry in data_layer(page)] == ["js", "config", "consent", "consent"]


def test_a_denial_on_a_site_that_erases_on_denial_erases_the_visitor_once(page, live_server, shop):
    site_update(shop, consent_erase_on_denial=True)
    campaign = campaign_add(site=shop, message_type="bar", content={"headline": "Free shipping"})
    page.goto(fixture_url(live_server, shop))
    wait_for_events(shop, "impression")
    visitor = visitor_id(page)
    tally()
    assert Assignment.objects.filter(campaign_id=campaign.id, visitor_id=visitor).exists()

    page.evaluate("retarget('consent', 'denied')")
    [denial] = wait_for_events(shop, "consent")
    assert denial.visitor_id == ""
    assert denial.payload["erase"] == visitor, "the visitor to erase is named only inside the denial"
    tally()

    assert events(shop, "pageview", "impression") == []
    assert not Assignment.objects.filter(visitor_id=visitor).exists()
    [request] = DataRequest.objects.filter(site=shop)
    assert (request.action, request.channel, request.visitors) == ("erase", "denial", 1)
    denial.refresh_from_db()
    assert denial.payload["erase"] is True, "the id is not kept in the stored denial"
    assert ConsentRecord.objects.get(site=shop).decision == "denied"
    tally()
    assert DataRequest.objects.filter(site=shop).count() == 1, "erased once"
    assert stored(page, "_rt_c")["decision"] == "denied"


def test_a_denial_on_a_site_that_does_not_erase_names_no_visitor(page, live_server, shop):
    page.goto(fixture_url(live_server, shop))
    wait_for_events(shop, "pageview")
    page.evaluate("retarget('consent', 'denied')")
    [denial] = wait_for_events(shop, "consent")
    assert "erase" not in denial.payload
    tally()
    assert events(shop, "pageview")
    assert not DataRequest.objects.exists()
