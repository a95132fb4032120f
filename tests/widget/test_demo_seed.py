"""The demo seed: its lead magnet (the blog's trail checklist, a URL asset of the demo shop handed out after a
sign-up), and its own exit popup ranked below the gallery's exit templates."""

from io import StringIO

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

from campaigns.gallery.catalog import gallery_templates
from campaigns.models import Asset, Campaign, Site
from tests.campaigns.events_kit import event, post_events
from widget.demo import DEMO_SITE_NAME
from widget.demo.management.commands.demo_seed import (
    DEMO_CAMPAIGNS,
    DEMO_ORIGINS,
    MAGNET_NAME,
    MAGNET_PATH,
    NOT_CHECKOUT,
)

MAGNET_CAMPAIGN = "Blog lead magnet: the trail checklist"
EXITS = {"exit_intent", "mobile_exit"}


def spec_exits(spec: dict) -> bool:
    return bool(EXITS & {trigger["type"] for trigger in spec["triggers"]})


def test_a_campaign_from_an_exit_template_shows_before_the_demo_shops_own_exit_popup():
    """Campaigns fired together show by priority: on leaving the demo shop, the owner's new one wins."""
    [demo_exit] = [spec for spec in DEMO_CAMPAIGNS if spec["name"] == "Exit-intent lead popup (A/B headline)"]
    assert spec_exits(demo_exit) and demo_exit["targeting"] == NOT_CHECKOUT  # on every page but the checkout
    exit_templates = [t for t in gallery_templates() if spec_exits(t.data)]
    assert exit_templates
    assert all(t.data["priority"] > demo_exit["priority"] for t in exit_templates)


@pytest.mark.django_db
def test_the_demo_seed_hands_out_the_trail_checklist_after_a_blog_sign_up(client):
    call_command("demo_seed", password="x", stdout=StringIO())
    call_command("demo_seed", password="x", stdout=StringIO())  # again: nothing doubled
    site = Site.objects.get(name=DEMO_SITE_NAME)
    [asset] = Asset.objects.filter(site=site)
    assert asset.name == MAGNET_NAME and asset.url.endswith(f"/static/{MAGNET_PATH}")
    assert finders.find(MAGNET_PATH), "the demo shop serves the checklist itself"
    campaign = Campaign.objects.get(site=site, name=MAGNET_CAMPAIGN, status=Campaign.Status.ACTIVE)

    submit = event("submit", campaign=campaign, variant=campaign.variants.get(), url=f"{DEMO_ORIGINS[0]}/demo/blog/x/",
                   data={"form": "lead", "email": "reader@example.org"})
    response = post_events(client, site, [submit], origin=DEMO_ORIGINS[0])
    assert response.status_code == 202, response.content
    [delivery] = response.json()["deliver"]
    link = client.get(delivery["url"])
    assert (link.status_code, link["Location"]) == (302, asset.url)
