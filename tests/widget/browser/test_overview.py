"""The admin's front page in a browser: the demo shop's campaigns with their figures, sparklines and today's verdict,
under the admin's Content-Security-Policy and without JavaScript; a screenshot goes to
artifacts/screenshots/overview-dashboard.png."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from campaigns.management.commands.results_seed import counters_seed
from campaigns.models import Campaign
from tests.browser import screenshot
from tests.campaigns.test_admin_csp import VIOLATIONS
from tests.widget.browser.test_gallery import signed_in
from widget.demo.management.commands.demo_seed import DEMO_CAMPAIGNS

pytestmark = pytest.mark.browser

AB_TEST = "Exit-intent lead popup (A/B headline)"


def test_the_front_page_shows_the_demo_shops_campaigns_with_their_figures(page, chromium, live_server, demo_site):
    for number, campaign in enumerate(Campaign.objects.filter(site=demo_site).order_by("id")):
        counters_seed(campaign=campaign, days=40, daily_visitors=400 + 100 * number, seed=number)
    signed_in(page, live_server, get_user_model().objects.get(username="admin"))
    page.add_init_script(VIOLATIONS)
    page.set_viewport_size({"width": 1400, "height": 1100})
    page.goto(f"{live_server.url}/admin/")

    site = page.locator(f"#site-{demo_site.id}")
    expect(site.locator("h2")).to_have_text(demo_site.name)
    rows = site.locator(".rt-overview-campaigns tbody tr")
    # Every active campaign of the demo (its message types', the lead magnet's, the audience's), once each.
    active = list(Campaign.objects.filter(site=demo_site, status=Campaign.Status.ACTIVE).values_list("name", flat=True))
    assert {spec["name"] for spec in DEMO_CAMPAIGNS} <= set(active)
    expect(rows).to_have_count(len(active))
    for name in active:
        expect(rows.filter(has_text=name)).to_have_count(1)
    expect(site.locator(".rt-overview-campaigns svg.rt-sparkline")).to_have_count(len(active))
    ab = Campaign.objects.get(site=demo_site, name=AB_TEST)
    first = site.locator(f".rt-overview-campaigns tr[data-campaign='{ab.id}'] [data-figure=impressions-7]")
    expect(first).not_to_have_text("0")
    verdict = site.locator(f".rt-overview-tests tr[data-campaign='{ab.id}'] td").last
    expect(verdict).to_contain_text("likely to beat")
    expect(site.locator(".rt-nps")).to_contain_text("NPS of Post-purchase NPS")
    expect(page.locator("#rt-app-list")).to_be_visible()  # Django's index, below
    screenshot(page, "overview-dashboard")
    assert page.evaluate("window.__violations") == []

    # The same page without JavaScript: every figure is in the HTML and every chart an SVG drawn by the server.
    quiet = chromium.new_context(java_script_enabled=False)
    try:
        bare = quiet.new_page()
        signed_in(bare, live_server, get_user_model().objects.get(username="admin"))
        bare.goto(f"{live_server.url}/admin/")
        expect(bare.locator(f"#site-{demo_site.id} .rt-overview-campaigns svg.rt-sparkline")).to_have_count(
            len(active))
        expect(bare.locator(".rt-overview-tests")).to_contain_text("likely to beat")
    finally:
        quiet.close()
