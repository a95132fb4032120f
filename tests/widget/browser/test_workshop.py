"""The owner's workshop, end to end (the acceptance test): a person who helps run the demo shop (a staff user and a
member of its site, not a superuser) builds an exit-intent popup with an A/B test of two headlines from a gallery
template, with the editors only (no JSON read or typed), watches the live preview follow, launches it, and a visitor
of the demo shop sees it on leaving. A wrong value on the way comes back with its message on its field and the rest
as typed. Screenshots: artifacts/screenshots/workshop-gallery.png and workshop-editors.png."""

import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from campaigns.models import Campaign
from campaigns.services.members import site_invitation_answer, site_member_invite
from tests.browser import ARTIFACTS, screenshot
from tests.campaigns.test_admin_csp import VIOLATIONS
from tests.widget.browser.kit import accept_consent, leave_through_top, message, wait_for_events
from tests.widget.browser.test_gallery import signed_in

pytestmark = pytest.mark.browser

TEMPLATE = "seasonal_countdown"
HEADLINE_A = "Leaving already? 25% off tonight"
HEADLINE_B = "Before you go: the winter sale ends soon"


def site_member(site):
    """A staff account invited by the site's owner, which accepted: the tenancy's own way in."""
    member = get_user_model().objects.create_user(username="sam", password="pw", is_staff=True)
    invitation = site_member_invite(site=site, invited_by=site.owner, invitee="sam")
    site_invitation_answer(invitation_id=invitation.id, user=member, accept=True)
    return member


def test_a_member_builds_an_ab_tested_exit_popup_from_a_template_and_the_demo_shop_shows_it(
    admin_page, frames_in_process, live_server, demo_site
):
    page = admin_page
    member = site_member(demo_site)
    assert not member.is_superuser
    signed_in(page, live_server, member)
    page.add_init_script(VIOLATIONS)

    # The gallery: a template, for the one site this person helps run.
    page.goto(f"{live_server.url}/admin/campaigns/campaign/")
    page.get_by_role("link", name="Start from a template").click()
    expect(page.get_by_label("For the site")).to_have_value(str(demo_site.id))
    screenshot(page, "workshop-gallery")
    page.locator(f".rt-card[data-template={TEMPLATE}]").get_by_role("button", name="Use this template").click()
    expect(page.locator(".messagelist")).to_contain_text("created from the template")
    campaign = Campaign.objects.get(site=demo_site, status=Campaign.Status.DRAFT, name="Seasonal offer with countdown")
    frame = page.frame_locator("iframe.rt-lp-frame")
    expect(frame.locator("#retarget-root h2")).to_have_text("The winter sale: 25% off everything")

    # The headline: the preview follows.
    page.locator("#variants-0 [data-content=headline]").fill(HEADLINE_A)
    expect(frame.locator("#retarget-root h2")).to_have_text(HEADLINE_A)
    # The countdown's end, picked as a date and a time (the owner's own clock; stored as UTC).
    ends = page.locator("#variants-0 [data-content='countdown.ends_at']")
    expect(ends).not_to_have_value("")  # the template's end, shown
    sale_end = (datetime.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    ends.fill(sale_end)
    sale_end_utc = page.evaluate("(v) => new Date(v).toISOString().replace(/[.]\\d{3}Z$/, 'Z')", sale_end)

    # The targeting: a condition beside the template's "not on the checkout", with the pickers.
    targeting = page.locator(".field-targeting [data-editor=targeting]")
    targeting.get_by_role("button", name="Add another condition").click()
    condition = targeting.locator(".rt-leaf").nth(1)
    condition.get_by_label("attribute").select_option("path")
    condition.get_by_label("operator").select_option("starts_with")
    condition.get_by_label("value").fill("/demo/")

    # The trigger: exit intent instead of the page load, its parameters from the registry's defaults.
    triggers = page.locator(".field-triggers [data-editor=triggers]")
    triggers.get_by_label("trigger", exact=True).select_option("exit_intent")
    expect(page.locator(".field-summary .readonly")).to_contain_text("on exit intent")

    # A second variant for the A/B test, with the inline's own button and the content editor.
    page.locator(".add-row a").click()
    added = page.locator(".dynamic-variants").last
    expect(added.locator("[data-editor=content][data-ready]")).to_have_count(1)
    added.locator("input[name$='-name']").fill("B: the sale ends")
    added.locator("input[name$='-weight']").fill("50")
    page.locator("input[name=variants-0-weight]").fill("50")
    added.locator("[data-content=headline]").fill(HEADLINE_B)
    page.locator(".rt-lp-variant").select_option(label="B: the sale ends")
    expect(frame.locator("#retarget-root h2")).to_have_text(HEADLINE_B)

    # Launched, with a value out of range first: its message on its field, everything else as typed.
    page.get_by_label("Status").select_option("active")
    triggers.locator("[data-param=sensitivity]").fill("5000")
    page.locator("input[name=_continue]").click()
    expect(page.locator(".field-triggers .errorlist")).to_contain_text("triggers[0].sensitivity: 5000 is out of range")
    sensitivity = page.locator(".field-triggers [data-param=sensitivity]")
    expect(sensitivity).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#variants-0 [data-content=headline]")).to_have_value(HEADLINE_A)
    expect(page.locator(".dynamic-variants").last.locator("[data-content=headline]")).to_have_value(HEADLINE_B)
    expect(page.locator(".field-targeting .rt-leaf").nth(1).get_by_label("value")).to_have_value("/demo/")
    expect(page.get_by_label("Status")).to_have_value("active")
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT
    sensitivity.fill("20")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "workshop-editors.png"), full_page=True)
    page.locator("input[name=_continue]").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert page.evaluate("window.__violations") == []

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE
    assert [t["type"] for t in campaign.triggers] == ["exit_intent"]
    assert campaign.targeting == {"all": [
        {"not": {"attr": "path", "op": "starts_with", "value": "/checkout"}},
        {"attr": "path", "op": "starts_with", "value": "/demo/"},
    ]}
    variants = {v.content["headline"]: v for v in campaign.variants.all()}
    assert set(variants) == {HEADLINE_A, HEADLINE_B}
    assert variants[HEADLINE_A].content["countdown"]["ends_at"] == sale_end_utc

    # A visitor of the demo shop, in a browser of their own: the consent banner first, then leaving shows it.
    context = frames_in_process.new_context(viewport={"width": 1280, "height": 800})
    visitor = context.new_page()
    try:
        visitor.goto(f"{live_server.url}/demo/")
        accept_consent(visitor)
        leave_through_top(visitor)
        popup = message(visitor, "popup")
        expect(popup.locator("h2")).to_have_text(re.compile(f"^({re.escape(HEADLINE_A)}|{re.escape(HEADLINE_B)})$"))
        expect(popup).to_have_attribute("data-rt-campaign", str(campaign.id))
        shown = variants[popup.locator("h2").text_content()]
        expect(popup).to_have_attribute("data-rt-variant", str(shown.id))
        wait_for_events(demo_site, "impression", campaign_id=campaign.id, variant_id=shown.id)
    finally:
        visitor.context.set_offline(True)
        context.close()
