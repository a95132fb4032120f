"""Forms on the demo shop: the post-purchase NPS and the exit-intent lead form, by mouse and by keyboard."""

import time

import pytest
from playwright.sync_api import expect

from campaigns.models import Campaign, RejectedEventCount, Response, Site
from tests.widget.browser.kit import (
    ROOT,
    accept_consent,
    events,
    leave_through_top,
    message,
    settle,
    tally,
    visitor_id,
    wait_for_events,
    wait_until,
)

pytestmark = pytest.mark.browser

NPS = "Post-purchase NPS"
LEAD = "Exit-intent lead popup (A/B headline)"
# Longer than the demo site's minimum fill time (2 s): how long a person takes to fill a form in these tests.
FILL_MS = 2500
ACTIVE_IN_SHADOW = """() => {
  const a = document.getElementById('retarget-root').shadowRoot.activeElement;
  return a ? (a.getAttribute('name') || a.getAttribute('type') || a.tagName.toLowerCase()) : null;
}"""


def test_nps_on_the_thank_you_page_after_two_seconds_sends_the_score_and_the_follow_up(page, live_server, demo_site):
    nps_campaign = Campaign.objects.get(site=demo_site, name=NPS)
    page.goto(f"{live_server.url}/demo/thanks/")
    accept_consent(page)
    armed_at = time.monotonic()
    nps = message(page, "nps")

    expect(nps).to_be_visible()
    assert time.monotonic() - armed_at >= 1.8, "the NPS waits 2 s after the page load (here: after the decision)"
    expect(nps).to_have_attribute("role", "dialog")
    expect(nps.locator(".nps button")).to_have_text([str(score) for score in range(11)])
    nps.get_by_role("button", name="9", exact=True).click()
    nps.get_by_label("What do you love about us?").fill("The grippy soles")
    page.wait_for_timeout(FILL_MS)  # a person takes a while to write; the server refuses faster answers
    nps.get_by_role("button", name="Send").click()
    expect(nps.get_by_role("heading", name="Thank you!")).to_be_visible()

    [submit] = wait_for_events(demo_site, "submit", campaign_id=nps_campaign.id)
    assert submit.payload == {"form": "nps", "score": 9, "followup": "The grippy soles"}
    assert submit.visitor_id == visitor_id(page)
    tally()
    response = wait_until(lambda: Response.objects.filter(site=demo_site).first(), message="a Response row")
    assert (response.form, response.score, response.followup) == ("nps", 9, "The grippy soles")
    assert response.campaign_id == nps_campaign.id
    assert response.visitor_id == submit.visitor_id

    nps.get_by_role("button", name="Close").first.click()  # closing after sending sends no second answer
    wait_for_events(demo_site, "close", campaign_id=nps_campaign.id)
    assert len(events(demo_site, "submit")) == 1


def test_the_lead_form_refuses_an_invalid_email_and_a_valid_one_reveals_the_coupon(page, live_server, demo_site):
    lead_campaign = Campaign.objects.get(site=demo_site, name=LEAD)
    page.goto(f"{live_server.url}/demo/")
    accept_consent(page)
    leave_through_top(page)
    lead = message(page, "lead")
    expect(lead).to_be_visible()
    email = lead.get_by_label("Email", exact=True)
    lead.get_by_role("checkbox").check()

    email.fill("ada@example")
    lead.get_by_role("button", name="Subscribe").click()
    expect(lead.get_by_role("alert")).to_have_text("Please enter a valid email address.")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(lead.locator("output")).to_have_count(0)

    email.fill("ada@example.com")
    page.wait_for_timeout(FILL_MS)  # a person takes more than the site's minimum fill time (2 s)
    lead.get_by_role("button", name="Subscribe").click()
    expect(lead.locator("output")).to_have_text("RIDGE10")
    expect(lead.get_by_text("Your code")).to_be_visible()

    [submit] = wait_for_events(demo_site, "submit", campaign_id=lead_campaign.id)
    assert submit.payload["email"] == "ada@example.com"
    assert submit.payload["consent"] is True
    assert "hp" not in submit.payload, "an empty honeypot is not sent"
    settle(page, 300)
    assert len(events(demo_site, "submit")) == 1, "the refused attempt sent nothing"
    tally()
    response = wait_until(lambda: Response.objects.filter(site=demo_site).first(), message="a Response row")
    assert (response.form, response.email, response.marketing_consent) == ("lead", "ada@example.com", True)


def test_a_keyboard_only_visitor_subscribes_with_enter_and_esc_closes_and_gives_focus_back(
    page, live_server, demo_site
):
    lead_campaign = Campaign.objects.get(site=demo_site, name=LEAD)
    # A keyboard that fast would be refused as a bot by the minimum fill time (tested on its own in this file).
    Site.objects.filter(pk=demo_site.pk).update(form_min_fill_seconds=0)
    page.goto(f"{live_server.url}/demo/")
    accept_consent(page)
    brand = page.locator("a.brand")
    brand.focus()  # the visitor was reading the page, focus on the first link
    leave_through_top(page)  # the only pointer gesture: exit intent is a pointer leaving
    lead = message(page, "lead")
    expect(lead).to_be_visible()

    def tab_to(name: str, *, limit: int = 8) -> None:
        for _ in range(limit):
            if page.evaluate(ACTIVE_IN_SHADOW) == name:
                return
            page.keyboard.press("Tab")
        raise AssertionError(f"Tab never reached {name!r} (focus on {page.evaluate(ACTIVE_IN_SHADOW)!r})")

    tab_to("email")
    page.keyboard.type("ada@example.com")
    tab_to("checkbox")
    page.keyboard.press("Space")
    tab_to("submit")
    page.keyboard.press("Enter")
    expect(lead.locator("output")).to_have_text("RIDGE10")
    assert page.evaluate(ACTIVE_IN_SHADOW) is not None, "focus stays in the dialog on the coupon screen"

    page.keyboard.press("Escape")
    expect(lead).to_have_count(0)
    assert page.evaluate("document.activeElement.className") == "brand", "focus returns where it was"
    assert page.locator(ROOT).count() == 1

    [submit] = wait_for_events(demo_site, "submit", campaign_id=lead_campaign.id)
    assert submit.payload["email"] == "ada@example.com"
    wait_for_events(demo_site, "close", campaign_id=lead_campaign.id)


def test_a_bot_that_fills_the_hidden_field_too_is_refused_and_a_person_never_meets_it(page, live_server, demo_site):
    lead_campaign = Campaign.objects.get(site=demo_site, name=LEAD)
    page.goto(f"{live_server.url}/demo/")
    accept_consent(page)
    leave_through_top(page)
    lead = message(page, "lead")
    expect(lead).to_be_visible()
    trap = lead.locator("input[name=homepage]")
    # Off-screen and hidden from assistive technology: not a field a person sees, hears or tabs to.
    assert trap.bounding_box()["x"] < 0
    expect(lead.locator(".hp")).to_have_attribute("aria-hidden", "true")
    expect(trap).to_have_attribute("tabindex", "-1")
    # What a form-filling bot does: every input filled, then submitted.
    lead.get_by_label("Email", exact=True).fill("bot@example.com")
    lead.get_by_role("checkbox").check()
    trap.fill("http://spam.example", force=True)
    lead.get_by_role("button", name="Subscribe").click()
    wait_until(lambda: RejectedEventCount.objects.filter(site=demo_site, reason="form_honeypot").first(),
               message="the honeypot refusal counted")
    assert not [e for e in events(demo_site, "submit") if e.campaign_id == lead_campaign.id]
    tally()
    assert not Response.objects.filter(site=demo_site).exists()
