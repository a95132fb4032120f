"""The Content-Security-Policy of the admin and the results pages: sent on every page Django renders, obeyed by
every template (no inline script, handler or style), and the key pages run in Chromium without one violation."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from campaigns.models import Campaign
from tests.conftest import popup_campaign_create

TEMPLATES = Path(settings.BASE_DIR) / "campaigns" / "templates"
# What a policy without 'unsafe-inline' refuses: a script element with code, an on* handler, inline style.
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|<style\b|\sstyle\s*=", re.IGNORECASE)
VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(
  `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


def test_no_template_has_inline_script_handler_or_style():
    found = {
        str(path.relative_to(TEMPLATES)): INLINE.findall(path.read_text())
        for path in TEMPLATES.rglob("*.html")
    }
    assert {name: hits for name, hits in found.items() if hits} == {}


def test_admin_and_results_pages_send_the_policy(client, admin_client, campaign):
    assert "script-src 'self'" in client.get("/admin/login/")["Content-Security-Policy"]
    for url in (
        reverse("admin:index"),
        reverse("admin:campaigns_site_change", args=[campaign.site_id]),
        reverse("admin:campaigns_campaign_results", args=[campaign.id]),
        reverse("admin:campaigns_campaign_calculator"),
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, url
        assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy, url


def test_the_browsable_api_may_use_style_attributes_and_nothing_else_inline(admin_client):
    policy = admin_client.get("/api/sites/", HTTP_ACCEPT="text/html")["Content-Security-Policy"]
    assert "style-src-attr 'unsafe-inline'" in policy and "script-src 'self'" in policy
    admin = admin_client.get(reverse("admin:index"))["Content-Security-Policy"]
    assert "style-src-attr" not in admin


def test_the_widget_endpoints_and_the_demo_carry_no_policy(client, site):
    config = client.get(f"/api/w/{site.public_key}/config", HTTP_ORIGIN="https://shop.example")
    assert config.status_code == 200 and "Content-Security-Policy" not in config
    assert "Content-Security-Policy" not in client.get("/demo/")


@pytest.fixture
def staff_page(page, live_server, superuser):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.add_init_script(VIOLATIONS)
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "pw-root")
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    page.console_messages = console
    return page


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response.status == 200, url
    assert "script-src 'self'" in response.headers["content-security-policy"], url


def no_violation(page) -> None:
    assert page.evaluate("window.__violations") == []
    assert [text for text in page.console_messages if "Content Security Policy" in text] == []


@pytest.mark.browser
def test_key_admin_pages_run_under_the_policy_without_a_violation(staff_page, live_server, transactional_db, site):
    page = staff_page
    campaign = popup_campaign_create(site=site)

    visit(page, f"{live_server.url}{reverse('admin:campaigns_site_change', args=[site.id])}")
    snippet = page.locator("#embed-snippet-code").input_value()
    assert "/static/widget/retarget.js" in snippet
    page.get_by_role("button", name="Copy the snippet").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == snippet
    no_violation(page)

    visit(page, f"{live_server.url}{reverse('admin:campaigns_campaign_results', args=[campaign.id])}")
    expect(page.locator("#verdict")).to_be_visible()
    assert page.locator(".rt-verdict").evaluate("(e) => getComputedStyle(e).borderLeftStyle") == "solid"  # the CSS
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Declare A the winner").click()
    assert asked == ["Send all traffic to A?"]
    assert Campaign.objects.get(id=campaign.id).winner_id is None, "dismissed: nothing was sent"
    no_violation(page)

    visit(page, f"{live_server.url}{reverse('admin:campaigns_campaign_calculator')}")
    page.get_by_role("button", name="Calculate").click()
    expect(page.locator("#calculator")).to_be_visible()
    no_violation(page)

    visit(page, f"{live_server.url}{reverse('admin:campaigns_campaign_change', args=[campaign.id])}")
    visit(page, f"{live_server.url}{reverse('admin:campaigns_campaign_changelist')}")
    no_violation(page)
