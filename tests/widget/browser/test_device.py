"""The device: an iPad asking for desktop pages (its User-Agent says Macintosh) is a tablet for targeting and, through
the segment the widget sends, for the results, although its User-Agent alone reads as a desktop."""

import pytest
from playwright.sync_api import expect

from campaigns.models import Assignment
from tests.widget.browser.conftest import _go_offline
from tests.widget.browser.kit import campaign_add, fixture_url, message, tally, wait_for_events

IPAD_IN_DESKTOP_MODE = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Safari/605.1.15"
)


@pytest.fixture
def ipad_page(chromium):
    context = chromium.new_context(viewport={"width": 1024, "height": 1366}, has_touch=True,
                                   user_agent=IPAD_IN_DESKTOP_MODE)
    context.set_default_timeout(10_000)
    # Chromium's touch emulation reports one touch point; an iPad reports five.
    context.add_init_script("Object.defineProperty(Navigator.prototype, 'maxTouchPoints', { get: () => 5 })")
    page = context.new_page()
    yield page
    _go_offline(page)
    context.close()


def test_an_ipad_in_desktop_mode_is_a_tablet_for_targeting_and_for_the_results(ipad_page, live_server, shop):
    campaign = campaign_add(site=shop, message_type="popup", name="Tablets only",
                            targeting={"attr": "device", "op": "equals", "value": "tablet"},
                            content={"headline": "Hello, tablet"})
    ipad_page.goto(fixture_url(live_server, shop))

    expect(message(ipad_page, "popup")).to_be_visible()
    [impression] = wait_for_events(shop, "impression", campaign_id=campaign.id)
    assert impression.device == "desktop"  # the server's reading of the User-Agent, which has no touch points
    assert impression.payload["segment"]["device"] == "tablet"
    tally()
    assert Assignment.objects.get(campaign_id=campaign.id).device == "tablet"
