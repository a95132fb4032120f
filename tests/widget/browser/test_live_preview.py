"""The campaign page's live preview and "Preview on my site", in Chromium: an owner (not a superuser) sees the
variant drawn by the widget's own files in a sandboxed srcdoc frame under the admin's policy, the drawing follows the
content field, a screen switch opens the thank-you, typed keys stay in the form as it redraws; a signed link shows a
draft on the site's page to that browser only, under a "Preview" badge that leaves preview mode, and sends nothing.
Screenshots go to artifacts/screenshots/editor-preview-desktop.png and -phone.png."""

import json
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from playwright.sync_api import expect

from campaigns.models import Campaign, Event
from campaigns.selectors.live_preview import preview_token_make
from tests.browser import screenshot
from tests.campaigns.test_admin_csp import VIOLATIONS
from tests.widget.browser.kit import campaign_add, fixture_url, message, wait_until
from tests.widget.browser.test_gallery import signed_in

pytestmark = pytest.mark.browser

# Counts the page's reads of window.sessionStorage (the property, whether or not a storage call follows).
SESSION_STORAGE_READS = """(() => {
  const owner = Object.getOwnPropertyDescriptor(window, 'sessionStorage') ? window : Window.prototype;
  const real = Object.getOwnPropertyDescriptor(owner, 'sessionStorage');
  window.__sessionStorageReads = 0;
  Object.defineProperty(window, 'sessionStorage', {
    configurable: true, get() { window.__sessionStorageReads += 1; return real.get.call(window); } });
})()"""

CONTENT = {"headline": "Join the club", "body": "<p>News once a month.</p>",
           "fields": [{"name": "email", "label": "Email", "required": True}],
           "thank_you": {"headline": "Welcome aboard"}}

def draft_add(*, site, message_type: str, content: dict) -> Campaign:
    campaign = campaign_add(site=site, message_type=message_type, content=content)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DRAFT)
    cache.clear()
    return campaign

def staff_owner(site):
    owner = get_user_model().objects.get(pk=site.owner_id)
    owner.is_staff = True
    owner.save(update_fields=["is_staff"])
    return owner


def test_the_campaign_page_draws_the_variant_follows_the_form_and_switches_screens(admin_page, live_server, shop):
    page = admin_page
    campaign = draft_add(site=shop, message_type="lead", content=CONTENT)
    signed_in(page, live_server, staff_owner(shop))
    page.add_init_script(VIOLATIONS)
    page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.id}/change/")

    frame_element = page.locator("iframe.rt-lp-frame")
    expect(frame_element).to_have_attribute("sandbox", "allow-scripts")
    frame = page.frame_locator("iframe.rt-lp-frame")
    expect(frame.locator("#retarget-root [data-rt-type=lead] h2")).to_have_text("Join the club")
    srcdoc = frame_element.get_attribute("srcdoc")
    assert 'http-equiv="Content-Security-Policy"' in srcdoc and "default-src 'none'" in srcdoc
    assert "<script>" not in srcdoc  # its one script is a file, by URL
    screenshot(page, "editor-preview-desktop")

    page.get_by_role("button", name="Phone").click()
    expect(page.locator(".rt-lp-stage")).to_have_class("rt-lp-stage rt-lp-phone")
    screenshot(page, "editor-preview-phone")

    # The raw JSON, as an owner types it after "Raw JSON" (the structured editor hides the textarea until then).
    page.locator(".field-content").first.get_by_role("button", name="Raw JSON").click()
    page.locator("textarea[name=variants-0-content]").fill(json.dumps({**CONTENT, "headline": "Ten percent off"}))
    expect(frame.locator("#retarget-root h2")).to_have_text("Ten percent off")
    # as a structured editor writes the field: its value set, then a plain (non-bubbling) `input` event
    page.locator("textarea[name=variants-0-content]").evaluate(
        "(t, v) => { t.value = v; t.dispatchEvent(new Event('input')); }",
        json.dumps({**CONTENT, "headline": "Free gift"}),
    )
    expect(frame.locator("#retarget-root h2")).to_have_text("Free gift")

    # Typed keys stay in the form while the frame redraws: the message focuses its first field as it opens, in
    # the frame, and the next key typed must still reach the headline.
    page.locator(".field-content").first.get_by_role("button", name="Use the editor").click()
    headline = page.locator(".field-content [data-content=headline]")
    headline.click()
    headline.press("End")
    page.keyboard.type(" today")
    expect(frame.locator("#retarget-root h2")).to_have_text("Free gift today")
    page.keyboard.type("!")
    expect(headline).to_have_value("Free gift today!")

    page.locator(".rt-lp-screen[data-screen=thanks]").click()
    expect(frame.locator("#retarget-root h2")).to_have_text("Welcome aboard")
    assert page.evaluate("window.__violations") == []

def test_a_preview_link_shows_the_draft_to_this_browser_only_with_a_badge_and_sends_nothing(page, live_server, shop):
    campaign_add(site=shop, message_type="popup", content={"headline": "The live one"})
    draft = draft_add(site=shop, message_type="popup", content={"headline": "Still a draft"})
    token = preview_token_make(campaign=draft, user=staff_owner(shop))
    collect = f"/api/w/{shop.public_key}/events"
    sent = []
    page.on("request", lambda request: sent.append(request.url) if collect in request.url else None)

    page.goto(fixture_url(live_server, shop, query=f"&retarget_preview={token}"))
    shown = message(page, "popup")
    expect(shown.locator("h2")).to_have_text("Still a draft")
    expect(page.locator("#retarget-root [data-rt-type]")).to_have_count(1)  # the site's own campaign is not run
    badge = page.locator("#retarget-root [data-rt-preview]")  # drawn in the widget's shadow root
    expect(badge).to_contain_text("Preview")
    screenshot(page, "preview-on-site")
    assert page.evaluate("window.name") == f"retarget_preview={token}"

    # Another browser (no link, no token kept) sees the site as visitors do.
    other = page.context.browser.new_context()
    try:
        visitor = other.new_page()
        visitor.add_init_script(SESSION_STORAGE_READS)
        visitor.goto(fixture_url(live_server, shop))
        expect(message(visitor, "popup").locator("h2")).to_have_text("The live one")
        expect(visitor.locator("#retarget-root [data-rt-preview]")).to_have_count(0)
        # The preview check costs a visitor's page no sessionStorage access (a synchronous call to the browser).
        assert visitor.evaluate("window.__sessionStorageReads") == 0
        visitor.context.set_offline(True)
    finally:
        other.close()

    page.goto(fixture_url(live_server, shop))  # the next page of the tab: still the preview
    expect(message(page, "popup").locator("h2")).to_have_text("Still a draft")
    shown = message(page, "popup")
    shown.get_by_role("button", name="Close").click()
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    time.sleep(1.5)  # the core would have sent its first batch by now (transport WAIT is 1 s)
    assert sent == []
    assert not Event.objects.filter(campaign_id=draft.id).exists()
    assert Campaign.objects.get(pk=draft.pk).status == "draft"

    # Leaving the preview: the token is forgotten and the page shows the site's own campaigns again.
    badge.get_by_role("button", name="Leave preview").click()
    expect(message(page, "popup").locator("h2")).to_have_text("The live one")
    assert "retarget_preview" not in page.url
    assert page.evaluate("window.name") == ""
    expect(badge).to_have_count(0)
    wait_until(lambda: sent, message="the page's events, sent again once out of preview")  # the listener hears them
