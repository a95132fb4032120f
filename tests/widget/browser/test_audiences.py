"""Audiences on the demo shop, as visitors meet them: the audience of blog readers (views in the blog's page groups,
counted by the widget) targets a slide-in that a visitor who read the blog sees and one who did not never sees; the
page views carry the audiences, and the tally counts them per day."""

import pytest
from playwright.sync_api import expect

from campaigns.journeys.demo import DEMO_AUDIENCE_NAME
from campaigns.models import Audience, AudienceDaily, Campaign
from tests.widget.browser.kit import accept_consent, events, message, read, settle, tally, wait_for_events
from widget.demo.management.commands.demo_seed import READERS_OFFER

pytestmark = pytest.mark.browser

HEADLINE = "Thanks for reading our guides"


def offer(page):
    return message(page, "slide_in").filter(has_text=HEADLINE)


def test_a_blog_reader_sees_the_readers_slide_in_and_a_visitor_who_read_no_article_does_not(
    page, chromium, live_server, demo_site
):
    readers = Audience.objects.get(site=demo_site, name=DEMO_AUDIENCE_NAME)
    campaign = Campaign.objects.get(site=demo_site, name=READERS_OFFER)

    # A reader: an article, then the shop's home page.
    page.goto(f"{live_server.url}/demo/blog/seo-basics/")
    accept_consent(page)
    read(page, demo_site)
    expect(offer(page)).to_have_count(0)  # not on the blog itself
    page.goto(f"{live_server.url}/demo/")
    expect(offer(page)).to_be_visible()
    wait_for_events(demo_site, "impression", campaign_id=campaign.id)

    # Another visitor (their own browser storage): the home page and a product, no article.
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    try:
        other = context.new_page()
        other.goto(f"{live_server.url}/demo/")
        accept_consent(other)
        read(other, demo_site)
        other.goto(f"{live_server.url}/demo/product/trail-shoe/")
        wait_for_events(demo_site, "pageview", count=4)  # the product page was decided on
        settle(other, 800)
        expect(offer(other)).to_have_count(0)
        other.context.set_offline(True)
    finally:
        context.close()

    # Every page view says which audiences its visitor was in; only the reader's name the audience.
    views = wait_for_events(demo_site, "pageview", count=4)
    named = {(view.visitor_id, tuple(view.payload.get("audiences", ()))) for view in views}
    reader = {visitor for visitor, audiences in named if audiences == (readers.id,)}
    assert len(reader) == 1 and len({view.visitor_id for view in views}) == 2
    assert all(audiences == () for visitor, audiences in named if visitor not in reader)
    assert len(events(demo_site, "impression", campaign_id=campaign.id)) == 1
    tally()
    [day] = AudienceDaily.objects.filter(audience=readers)
    assert (day.visitors, day.pageviews) == (1, 2)
