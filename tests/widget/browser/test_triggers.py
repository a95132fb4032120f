"""Triggers as a visitor meets them: exit intent, scroll depth, the phone's fast scroll up, frequency caps."""

import pytest
from playwright.sync_api import expect

from campaigns.models import Campaign
from tests.widget.browser.kit import (
    accept_consent,
    campaign_add,
    events,
    fixture_url,
    leave_through_top,
    message,
    settle,
    stored,
    wait_for_events,
)

pytestmark = pytest.mark.browser

LEAD = "Exit-intent lead popup (A/B headline)"
SLIDE_IN = "Blog checklist slide-in"


def demo_campaign(site, name: str) -> Campaign:
    return Campaign.objects.get(site=site, name=name)


def test_exit_intent_shows_the_lead_popup_once_and_not_again_after_close_in_the_same_session(
    page, live_server, demo_site
):
    lead = demo_campaign(demo_site, LEAD)
    page.goto(f"{live_server.url}/demo/")
    accept_consent(page)
    popup = message(page, "lead")
    page.mouse.move(640, 300)
    settle(page, 300)
    expect(popup).to_have_count(0)  # moving inside the page is not leaving

    leave_through_top(page)
    expect(popup).to_be_visible()
    expect(popup).to_have_attribute("role", "dialog")
    expect(popup).to_have_attribute("aria-modal", "true")
    expect(popup).to_have_attribute("data-rt-campaign", str(lead.id))
    leave_through_top(page)
    expect(popup).to_have_count(1)

    popup.get_by_role("button", name="Close").click()
    expect(popup).to_have_count(0)
    page.reload()
    wait_for_events(demo_site, "pageview", count=2)
    leave_through_top(page)
    settle(page)
    expect(popup).to_have_count(0)

    wait_for_events(demo_site, "close", campaign_id=lead.id)
    assert len(events(demo_site, "impression", campaign_id=lead.id)) == 1


def test_scrolling_half_of_a_blog_article_shows_the_slide_in(page, live_server, demo_site):
    slide_in = demo_campaign(demo_site, SLIDE_IN)
    page.set_viewport_size({"width": 1000, "height": 400})  # the article is then more than three screens long
    page.goto(f"{live_server.url}/demo/blog/seo-basics/")
    accept_consent(page)
    height = page.evaluate("document.documentElement.scrollHeight")
    viewport = page.evaluate("innerHeight")
    assert height > 2.5 * viewport, "the article must be long enough for the test to mean something"
    corner = message(page, "slide_in")

    page.mouse.wheel(0, 200)
    settle(page, 400)
    expect(corner).to_have_count(0)  # 200 px is not half the article

    page.mouse.wheel(0, height / 2 - viewport - 200 + 50)
    expect(corner).to_be_visible()
    expect(corner).to_have_attribute("role", "region")
    expect(corner.get_by_role("heading")).to_have_text("Get the one-page checklist")
    seen = page.evaluate("(scrollY + innerHeight) / document.documentElement.scrollHeight")
    assert 0.5 <= seen < 0.6
    wait_for_events(demo_site, "impression", campaign_id=slide_in.id)


FAST_SCROLL_UP = """async ([step, frames]) => {
  for (let i = 0; i < frames; i++) {
    window.scrollBy(0, -step);
    await new Promise((r) => requestAnimationFrame(r));
  }
}"""


def test_a_fast_scroll_up_on_a_phone_shows_the_exit_popup(mobile_page, live_server, demo_site):
    page = mobile_page
    lead = demo_campaign(demo_site, LEAD)
    page.goto(f"{live_server.url}/demo/blog/choosing-running-shoes/")
    accept_consent(page)
    page.evaluate("window.scrollTo(0, 2000)")
    settle(page, 300)
    popup = message(page, "lead")

    for _ in range(3):  # a slow scroll up: 40 px every 300 ms
        page.evaluate("window.scrollBy(0, -40)")
        settle(page, 300)
    expect(popup).to_have_count(0)

    page.evaluate(FAST_SCROLL_UP, [60, 6])  # 360 px up in about 100 ms
    expect(popup).to_be_visible()
    expect(popup).to_have_attribute("role", "dialog")
    [impression] = wait_for_events(demo_site, "impression", campaign_id=lead.id)
    assert impression.device == "mobile"


def test_once_per_session_holds_across_page_loads_and_a_new_session_shows_it_again(page, live_server, shop):
    capped = campaign_add(site=shop, message_type="popup", name="Once a session",
                          frequency={"once_per_session": True}, content={"headline": "Once a session"})
    bar = campaign_add(site=shop, message_type="bar", name="Every page", content={"headline": "On every page"})
    url = fixture_url(live_server, shop)
    popup = message(page, "popup")

    page.goto(url)
    expect(popup).to_be_visible()
    for _ in range(2):  # two more page views in the same session, the popup left open each time
        page.goto(url)
        expect(message(page, "bar")).to_be_visible()  # the widget ran on this page
        settle(page, 400)
        expect(popup).to_have_count(0)

    # 31 minutes without a page view: the next one starts a new session.
    page.evaluate("""() => {
      const v = JSON.parse(localStorage.getItem('_rt_v'));
      v.session.last -= 31 * 60 * 1000;
      localStorage.setItem('_rt_v', JSON.stringify(v));
    }""")
    page.goto(url)
    expect(popup).to_be_visible()
    assert stored(page, "_rt_v")["sessions"] == 2

    wait_for_events(shop, "impression", count=4, campaign_id=bar.id)
    assert len(wait_for_events(shop, "impression", count=2, campaign_id=capped.id)) == 2
    assert len(events(shop, "pageview")) == 4
