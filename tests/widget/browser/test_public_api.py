"""The public API: retarget('on', ...) and the DOM events, the queue stub replayed in order, a double load."""

import pytest
from playwright.sync_api import expect

from tests.widget.browser.kit import ROOT, campaign_add, events, fixture_url, message, settle, wait_for_events

pytestmark = pytest.mark.browser

WINDOW_KEYS = "window.__keys0 = Object.keys(window);"


def test_show_callbacks_and_dom_events_fire_and_queued_calls_are_replayed_in_order(page, live_server, shop):
    # Shown only if the queued calls ran in order: the last 'set' wins, then the queued 'trigger' fires it.
    campaign = campaign_add(
        site=shop, message_type="popup", triggers=[{"type": "js", "name": "promo"}],
        targeting={"attr": "attrs.plan", "op": "equals", "value": "b"},
        content={"headline": "Your plan: {{attrs.plan|none}}"},
    )
    variant = campaign.variants.get()
    page.add_init_script(WINDOW_KEYS)
    page.goto(fixture_url(live_server, shop, "api.html"))

    popup = message(page, "popup")
    expect(popup).to_be_visible()
    expect(popup.get_by_role("heading")).to_have_text("Your plan: b")
    assert page.evaluate("window.__log") == [
        ["first", "popup", campaign.id, variant.id],
        ["second", "popup"],
        ["dom:show", "popup", campaign.id],
    ]

    page.evaluate("retarget('on', 'close', (d) => __log.push(['close', d.type, d.campaign]))")
    popup.get_by_role("button", name="Close").click()
    expect(popup).to_have_count(0)
    assert page.evaluate("window.__log.slice(3)") == [["close", "popup", campaign.id], ["dom:close", "popup"]]

    added = page.evaluate("Object.keys(window).filter((k) => !window.__keys0.includes(k))")
    assert sorted(added) == ["__keys0", "__log", "retarget"], "the widget defines nothing but window.retarget"
    assert page.evaluate("typeof retarget.version") == "string"


def test_the_script_loaded_twice_runs_once_and_shows_nothing_twice(page, live_server, shop):
    campaign = campaign_add(site=shop, message_type="popup", triggers=[{"type": "js", "name": "promo"}],
                            content={"headline": "Only once"})
    page.goto(fixture_url(live_server, shop, "api.html"))
    assert page.locator("script[data-site]").count() == 2

    expect(message(page, "popup")).to_be_visible()
    page.evaluate("retarget('trigger', 'promo')")
    wait_for_events(shop, "impression", campaign_id=campaign.id)
    settle(page, 1300)  # a second copy's events would follow within the 1 s batching window

    assert page.locator(ROOT).count() == 1
    assert page.locator(f"{ROOT} [data-rt-type]").count() == 1
    assert [entry[0] for entry in page.evaluate("window.__log")] == ["first", "second", "dom:show"]
    assert len(events(shop, "pageview")) == 1
    assert len(events(shop, "impression")) == 1
