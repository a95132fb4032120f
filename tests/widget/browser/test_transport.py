"""Events survive a lost connection: kept in the outbox, sent again on the next page load, counted once."""

import pytest
from playwright.sync_api import expect

from campaigns.models import Event
from tests.widget.browser.kit import campaign_add, fixture_url, message, settle, stored, wait_for_events, wait_until

pytestmark = pytest.mark.browser


def test_events_queued_offline_arrive_exactly_once_after_going_online_and_reloading(page, live_server, shop):
    campaign = campaign_add(site=shop, message_type="popup", triggers=[{"type": "js", "name": "promo"}])
    deliveries = []  # (event ids in the body, status) of every events request that got an answer
    page.on("requestfinished", lambda request: "/events" in request.url and deliveries.append(request))
    page.goto(fixture_url(live_server, shop))
    wait_for_events(shop, "pageview")
    expect(page.locator("#promo")).to_be_visible()

    page.context.set_offline(True)
    page.click("#promo")
    popup = message(page, "popup")
    expect(popup).to_be_visible()
    popup.get_by_role("button", name="Close").click()
    page.click("#buy")
    outbox = wait_until(lambda: (o := stored(page, "_rt_o")) and o["n"] >= 1 and o,
                        message="a failed send recorded in the outbox")
    queued = {event["id"]: event["type"] for event in outbox["q"]}
    assert sorted(queued.values()) == ["close", "conversion", "impression"]
    assert not Event.objects.filter(event_id__in=queued).exists()

    page.context.set_offline(False)
    page.reload()

    wait_until(lambda: Event.objects.filter(event_id__in=queued).count() == 3, timeout=8,
               message="the queued events on the server")
    settle(page, 1200)
    rows = Event.objects.filter(event_id__in=queued)
    assert {str(row.event_id): row.type for row in rows} == queued
    assert rows.filter(type="impression", campaign_id=campaign.id).count() == 1
    assert stored(page, "_rt_o")["q"] == []

    delivered = []
    for request in deliveries:
        response = request.response()
        if response and response.status == 202:
            delivered += [event["id"] for event in request.post_data_json["events"]]
    assert sorted(i for i in delivered if i in queued) == sorted(queued), "each queued event was delivered once"
