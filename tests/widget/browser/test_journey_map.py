"""The demo shop's journey map in a browser: the simulated journeys demo_seed writes are drawn and tabled, under the
admin's Content-Security-Policy, and a screenshot goes to artifacts/screenshots/journey-map.png."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser import screenshot
from tests.campaigns.test_admin_csp import VIOLATIONS
from tests.widget.browser.test_gallery import signed_in

pytestmark = pytest.mark.browser


def test_the_demo_shops_journey_map_shows_the_simulated_journeys_without_a_policy_violation(page, live_server,
                                                                                             demo_site):
    signed_in(page, live_server, get_user_model().objects.get(username="admin"))
    page.add_init_script(VIOLATIONS)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{live_server.url}{reverse('admin:campaigns_site_change', args=[demo_site.id])}")
    page.get_by_role("link", name="Journey map: where visitors come from, go and leave").click()

    flow = page.locator("#journey-flow svg.rt-sankey")
    expect(flow).to_be_visible()
    for label in ("Blog: SEO", "Product", "Cart", "Left the site"):
        expect(flow.locator(".rt-name", has_text=label).first).to_be_visible()
    expect(page.locator("#funnel tr[data-stage=retention]")).to_be_visible()
    expect(page.locator("#exits tr[data-label=Cart]")).to_be_visible()
    screenshot(page, "journey-map")

    page.select_option("#id_goal", "Thank you")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("heading", name="Sessions that reached Thank you, walked back")).to_be_visible()
    assert page.evaluate("window.__violations") == []
