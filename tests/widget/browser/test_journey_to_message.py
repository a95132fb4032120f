"""From journey to message on the demo shop, as the product is checked: browsed as several kinds of visitor.

One flow, one live server, one seeded demo:
1. The owner makes an audience of blog readers on the journey map ("New audience from these pages": the blog's two
   page groups, at least one view), saves it as prefilled, and points the demo's readers' slide-in at it in the
   editors (its targeting's audience, picked from the site's audiences). A visitor who read an article sees the
   slide-in on the shop's home page, and their page views name the new audience; a visitor who read no blog page
   does not see it, on the home page, a product, the cart or the checkout, where they leave.
2. The checkout's drop-off on the map (that visitor's, counted once the tally is drained, beside the simulated
   returning buyers who left there) becomes a draft exit-intent survey in one click: the checkout point
   preselects the checkout survey template; the draft opens in the editors and saves there without an error (it
   validates).
3. A campaign with a holdout shows on its results page whether it moved visitors to the next stage. Its
   assignments and stage rows are written to the database here (browsing eight visitors through their stages would
   take minutes): 4 exposed visitors of whom 3 reached a further stage after their assignment, 4 held out of whom 1.

Screenshots: artifacts/screenshots/journey-to-message-audience.png, -draft.png and -effect.png.
"""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import Assignment, Audience, Campaign, JourneyVisitorStage
from campaigns.services.campaigns import campaign_input_errors
from tests.browser import screenshot
from tests.campaigns.test_admin_csp import VIOLATIONS
from tests.widget.browser.kit import (
    accept_consent,
    campaign_add,
    events,
    message,
    read,
    settle,
    tally,
    wait_for_events,
)
from tests.widget.browser.test_gallery import signed_in
from widget.demo.management.commands.demo_seed import READERS_OFFER

pytestmark = pytest.mark.browser

HEADLINE = "Thanks for reading our guides"
AUDIENCE_NAME = "Readers of Blog: SEO or Blog"


def offer(page):
    return message(page, "slide_in").filter(has_text=HEADLINE)


def visitor_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    return context.new_page()


def closed(page) -> None:
    page.context.set_offline(True)  # its pagehide beacons must not race the database flush
    page.context.close()


def holdout_seeded(site) -> Campaign:
    """A running popup with a holdout, its assignments an hour ago and the stages its visitors reached around them."""
    campaign = campaign_add(site=site, message_type="popup", name="Checkout nudge", control_share=0.5,
                            targeting={"attr": "path", "op": "equals", "value": "/demo/nowhere/"})
    variant = campaign.variants.get()
    assigned = timezone.now() - dt.timedelta(hours=1)
    arms = {"e1": variant.id, "e2": variant.id, "e3": variant.id, "e4": variant.id,
            "h1": None, "h2": None, "h3": None, "h4": None}
    for visitor, variant_id in arms.items():
        Assignment.objects.create(site=site, campaign_id=campaign.id, variant_id=variant_id, visitor_id=visitor,
                                  first_exposed_at=assigned)
    # Moved on: e1, e2, e3 (a further stage after the assignment) and h1; e4, h2, h3, h4 stayed.
    for visitor, stage, minutes in (
        ("e1", "awareness", -30), ("e1", "consideration", 20), ("e2", "consideration", -30), ("e2", "decision", 5),
        ("e3", "awareness", 10), ("e4", "decision", -30), ("h1", "awareness", -30), ("h1", "consideration", 30),
        ("h2", "awareness", -30), ("h3", "consideration", -30), ("h4", "decision", -30),
    ):
        at = assigned + dt.timedelta(minutes=minutes)
        JourneyVisitorStage.objects.create(site=site, visitor_id=visitor, stage=stage, first_at=at, day=at.date(),
                                           path="/", session_id="")
    return campaign


def test_an_audience_made_on_the_map_targets_a_slide_in_a_drop_off_becomes_a_draft_and_a_holdout_shows_the_effect(
        admin_page, frames_in_process, live_server, demo_site):
    page = admin_page
    signed_in(page, live_server, get_user_model().objects.get(username="admin"))
    page.add_init_script(VIOLATIONS)
    journeys_url = f"{live_server.url}{reverse('admin:campaigns_site_journeys', args=[demo_site.id])}"

    # 1. The audience, from the map's page groups: the add form comes prefilled, and is saved as it is.
    page.goto(journeys_url)
    made = page.locator("#audience-from-pages")
    made.get_by_label("An audience of the visitors who read").select_option(["Blog: SEO", "Blog"])
    made.get_by_role("button", name="New audience from these pages").click()
    expect(page.locator("#id_name")).to_have_value(AUDIENCE_NAME)
    expect(page.locator(".field-rule .rt-leaf")).to_have_count(2)
    screenshot(page, "journey-to-message-audience")
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    readers = Audience.objects.get(site=demo_site, name=AUDIENCE_NAME)
    assert readers.rule == {"any": [{"attr": "views.Blog: SEO", "op": "gte", "value": 1},
                                    {"attr": "views.Blog", "op": "gte", "value": 1}]}

    # The demo's readers' slide-in, pointed at the new audience in the editors.
    campaign = Campaign.objects.get(site=demo_site, name=READERS_OFFER)
    page.goto(f"{live_server.url}{reverse('admin:campaigns_campaign_change', args=[campaign.id])}")
    page.locator(".field-targeting [data-editor=targeting] select[aria-label=values]").select_option(
        label=AUDIENCE_NAME)
    page.locator("input[name=_continue]").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    campaign.refresh_from_db()
    assert campaign.targeting["all"][0] == {"attr": "audiences", "op": "includes", "value": [readers.id]}

    # A blog reader sees it on the shop's home page; a visitor who read no article does not.
    reader = visitor_page(frames_in_process)
    other = visitor_page(frames_in_process)
    try:
        reader.goto(f"{live_server.url}/demo/blog/seo-basics/")
        accept_consent(reader)
        read(reader, demo_site)
        reader.goto(f"{live_server.url}/demo/")
        expect(offer(reader)).to_be_visible()
        wait_for_events(demo_site, "impression", campaign_id=campaign.id)
        other.goto(f"{live_server.url}/demo/")
        accept_consent(other)
        read(other, demo_site)
        other.goto(f"{live_server.url}/demo/product/trail-shoe/")
        read(other, demo_site)
        # ... and goes on to the checkout, and leaves there: the drop-off the map shows below.
        other.locator("#add-to-cart").click()
        other.wait_for_url("**/demo/cart/")
        read(other, demo_site)
        other.locator("#go-checkout").click()
        other.wait_for_url("**/demo/checkout/")
        wait_for_events(demo_site, "pageview", count=6)
        settle(other, 800)
        expect(offer(other)).to_have_count(0)
    finally:
        closed(reader)
        closed(other)
    tally()
    views = events(demo_site, "pageview")
    in_audience = {view.visitor_id for view in views if readers.id in view.payload.get("audiences", ())}
    assert len(in_audience) == 1 and len({view.visitor_id for view in views}) == 2
    assert [e.visitor_id for e in events(demo_site, "impression", campaign_id=campaign.id)] == list(in_audience)

    # 2. The checkout's drop-off: one click on the map, the checkout survey preselected, a draft in the editors.
    page.goto(journeys_url)
    checkout = page.locator("#intervention-pages tr[data-label=Checkout]")
    expect(checkout.get_by_label("Template")).to_have_value("checkout_survey")
    expect(checkout.get_by_label("For")).to_have_value("")  # the map is not filtered by an audience
    checkout.get_by_role("button", name="Create a draft on exit").click()
    expect(page.locator(".messagelist")).to_contain_text("Draft campaign created for Checkout")
    draft = Campaign.objects.get(site=demo_site, status=Campaign.Status.DRAFT, name__endswith="exits from Checkout")
    assert draft.message_type == "feedback"
    assert {trigger["type"] for trigger in draft.triggers} == {"exit_intent", "mobile_exit"}
    assert draft.targeting == {"attr": "path", "op": "equals", "value": "/demo/checkout/"}  # the Checkout group's
    expect(page.get_by_label("Status")).to_have_value("draft")
    preview = page.frame_locator("iframe.rt-lp-frame").locator("#retarget-root [data-rt-type=feedback]")
    expect(preview).to_be_visible()  # the live preview shows the survey
    screenshot(page, "journey-to-message-draft")
    page.locator("input[name=_continue]").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert campaign_input_errors(campaign=draft, fields={}, variants=None) == []

    # 3. A campaign with a holdout: exposed against held-out visitors reaching the next stage, on its results page.
    nudge = holdout_seeded(demo_site)
    page.goto(f"{live_server.url}{reverse('admin:campaigns_campaign_results', args=[nudge.id])}")
    row = page.locator(f"#journey-effects tr[data-campaign='{nudge.id}'] td")
    expect(row.nth(0)).to_have_text("4")
    expect(row.nth(1)).to_have_text("4")
    expect(row.nth(2)).to_have_text("3 (75 %)")
    expect(row.nth(3)).to_have_text("1 (25 %)")
    expect(row.nth(4)).to_have_text("+50 pp")
    page.locator("#journey-effects").scroll_into_view_if_needed()
    screenshot(page, "journey-to-message-effect")
    assert page.evaluate("window.__violations") == []
