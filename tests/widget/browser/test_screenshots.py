"""Every message type, as the demo shop words it, on a desktop and a phone: DOM contract and a screenshot each.

Screenshots go to artifacts/screenshots/<device>-<type>.png for a human to look at.
"""

import copy

import pytest
from playwright.sync_api import expect

from tests.browser import screenshot
from tests.widget.browser.kit import ROOT, campaign_add, fixture_url, message
from widget.demo.management.commands.demo_seed import DEMO_CAMPAIGNS

pytestmark = pytest.mark.browser

TYPES = ["popup", "bar", "slide_in", "fullscreen", "nps", "feedback", "lead", "cart_recovery", "consent"]
OVERLAYS = {"popup", "fullscreen", "nps", "feedback", "lead", "cart_recovery"}


def demo_content(message_type: str) -> dict:
    spec = next(spec for spec in DEMO_CAMPAIGNS if spec["message_type"] == message_type)
    return copy.deepcopy(spec["variants"][0]["content"])


@pytest.fixture
def every_type(shop):
    """One campaign per type with the demo's content, each shown by retarget('trigger', '<type>').

    No frequency rule and no site cap (the `shop` fixture), so every page load can show any of them.
    """
    return {
        message_type: campaign_add(site=shop, message_type=message_type, name=f"Every type: {message_type}",
                                   content=demo_content(message_type),
                                   triggers=[{"type": "js", "name": message_type}])
        for message_type in TYPES
    }


@pytest.mark.parametrize("device", ["desktop", "mobile"])
def test_every_message_type_keeps_the_dom_contract_and_is_screenshotted(request, live_server, shop, every_type, device):
    page = request.getfixturevalue("page" if device == "desktop" else "mobile_page")
    page.emulate_media(reduced_motion="reduce")  # no entrance animation in the pictures
    for message_type in TYPES:
        page.goto(fixture_url(live_server, shop, "plain.html"))
        if message_type == "cart_recovery":
            page.click("#add-to-cart")
        page.evaluate("(name) => retarget('trigger', name)", message_type)

        shown = message(page, message_type)
        expect(shown).to_be_visible()
        campaign = every_type[message_type]
        expect(shown).to_have_attribute("data-rt-campaign", str(campaign.id))
        expect(shown).to_have_attribute("data-rt-variant", str(campaign.variants.get().id))
        expect(shown).to_have_attribute("role", "dialog" if message_type in OVERLAYS else "region")
        expect(shown.locator("button[aria-label=Close]")).to_have_count(1)
        if message_type == "nps":
            expect(shown.locator(".nps button")).to_have_text([str(score) for score in range(11)])
        if message_type == "cart_recovery":
            expect(shown.get_by_role("heading")).to_have_text("Your cart is waiting: €59.90")
        assert page.locator(f"{ROOT} [data-rt-type]").count() == 1
        screenshot(page, f"{device}-{message_type}")
