"""The gallery in a browser: an owner (not a superuser) picks the product quiz in the admin's gallery, gets a draft
opened in the campaign page, activates it, and a visitor of the shop plays the quiz to the product their answers
scored highest. Screenshots of the gallery and of the quiz go to artifacts/screenshots/."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from playwright.sync_api import expect

from campaigns import services
from campaigns.models import Campaign
from tests.browser import screenshot
from tests.campaigns.test_admin_csp import VIOLATIONS
from tests.widget.browser.kit import fixture_url, message, wait_for_events

pytestmark = pytest.mark.browser


def signed_in(page, live_server, user) -> None:
    """The browser carries the session of `user`, as after the login form."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def answer(quiz, *labels: str) -> None:
    for label in labels:
        quiz.get_by_role("button", name=label).click()


def test_a_quiz_from_the_gallery_shows_the_product_the_answers_score_highest(page, live_server, shop):
    owner = get_user_model().objects.get(pk=shop.owner_id)
    owner.is_staff = True
    owner.save(update_fields=["is_staff"])
    signed_in(page, live_server, owner)
    page.add_init_script(VIOLATIONS)

    page.goto(f"{live_server.url}/admin/campaigns/campaign/")
    page.get_by_role("link", name="Start from a template").click()
    expect(page.locator(".rt-card")).to_have_count(14)
    expect(page.locator(".rt-card img").first).to_have_js_property("naturalWidth", 480)  # the picture is served
    screenshot(page, "admin-gallery")
    assert page.evaluate("window.__violations") == []  # the admin's Content-Security-Policy holds on the gallery
    page.locator(".rt-card[data-template=product_quiz]").get_by_role("button", name="Use this template").click()

    campaign = Campaign.objects.get(site=shop)
    expect(page).to_have_url(f"{live_server.url}/admin/campaigns/campaign/{campaign.id}/change/")
    expect(page.locator(".messagelist")).to_contain_text("created from the template")
    assert campaign.status == "draft"
    services.campaigns_set_status(campaigns=Campaign.objects.filter(pk=campaign.pk), status="active")
    cache.clear()

    page.goto(fixture_url(live_server, shop, "quiz.html"))
    # The click trigger is armed right after the page view is recorded: a click before that reaches only the page.
    wait_for_events(shop, "pageview")
    page.get_by_role("button", name="Find my shoe").click()  # the page's own button, the template's click trigger
    quiz = message(page, "popup")
    expect(quiz.get_by_role("heading")).to_have_text("Which shoe is made for you?")
    quiz.get_by_role("button", name="Find my shoe").click()
    expect(quiz.locator("legend")).to_have_text("Where do you run most?")
    answer(quiz, "On trails and in the mountains", "Longer than that", "Grip")
    expect(quiz.locator(".pick")).to_have_text("The Trail Master")
    screenshot(page, "desktop-quiz-result")

    quiz.get_by_role("button", name="Start again").click()
    answer(quiz, "A bit of both", "Under 5 km", "Comfort")  # daily-trainer 2 + 2 + 2 against trail-master 1
    expect(quiz.locator(".pick")).to_have_text("The Daily Trainer")
    expect(quiz.locator(".pick")).to_have_attribute("data-rt-product", "daily-trainer")
    quiz.get_by_role("link", name="See this shoe").click()

    [click] = wait_for_events(shop, "click", campaign_id=campaign.id)
    assert click.payload == {"url": "/shop/daily-trainer/"}
    assert len(wait_for_events(shop, "impression", campaign_id=campaign.id)) == 1

