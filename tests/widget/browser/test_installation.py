"""The installation check in a browser: a site's page says "waiting" until the first page view, then "installed"
with the origin and the widget's version; a page on an origin the site does not allow is named, and one click adds
it (under the admin's Content-Security-Policy)."""

import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import expect

from campaigns.ingest.refusals import refused_origins_pending
from tests.campaigns.test_admin_csp import VIOLATIONS
from tests.widget.browser.kit import fixture_url, tally, wait_for_events, wait_until
from tests.widget.browser.test_gallery import signed_in

pytestmark = pytest.mark.browser

VERSION = json.loads((Path(__file__).resolve().parents[3] / "widget" / "package.json").read_text())["version"]


def test_the_installation_check_turns_green_after_the_first_page_view_and_names_a_refused_origin(page, live_server,
                                                                                                  shop):
    owner = get_user_model().objects.get(pk=shop.owner_id)
    owner.is_staff = True
    owner.save()
    signed_in(page, live_server, owner)
    page.add_init_script(VIOLATIONS)
    site_page = f"{live_server.url}{reverse('admin:campaigns_site_change', args=[shop.id])}"
    page.goto(site_page)
    expect(page.locator("#installation [data-state=waiting]")).to_be_visible()

    page.goto(fixture_url(live_server, shop, "plain.html"))
    wait_for_events(shop, "pageview")
    tally()
    page.goto(site_page)
    expect(page.locator("#installation [data-state=installed]")).to_be_visible()
    row = page.locator(f'#installation-origins tr[data-origin="{live_server.url}"]')
    expect(row).to_contain_text(VERSION)
    assert page.evaluate("window.__violations") == []

    # The same snippet on a page of an origin the site does not allow: the same server under its address.
    not_allowed = live_server.url.replace("localhost", "127.0.0.1")
    page.goto(f"{not_allowed}/fixtures/plain.html?site={shop.public_key}&api={live_server.url}")
    wait_until(lambda: not_allowed in refused_origins_pending(site_id=shop.id), message="the refused origin noted")

    page.goto(site_page)
    refused = page.locator(f'#installation-refused li[data-origin="{not_allowed}"]')
    expect(refused).to_contain_text(f"{not_allowed} is not in this site's origins: add it?")
    refused.get_by_role("button", name=f"Add {not_allowed}").click()
    expect(page.locator(".messagelist")).to_contain_text(f"Added {not_allowed} to this site's origins.")
    expect(page.locator("#installation-refused")).to_have_count(0)
    shop.refresh_from_db()
    assert shop.allowed_origins == [live_server.url, not_allowed]
    assert page.evaluate("window.__violations") == []
