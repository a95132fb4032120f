"""Audiences: written through their services, carried by the widget config (their rules compiled into the targeting
that names them), counted per day, and the journey map filtered by one of them."""

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from campaigns.journeys.audiences import audience_create, audience_daily_get, audience_update
from campaigns.journeys.paths import Group
from campaigns.journeys.services import journey_setup_replace
from campaigns.models import Audience, AudienceDaily, AudienceVisitorDay
from campaigns.rules import decide
from campaigns.targeting.validation import AUDIENCE_IN_AUDIENCE
from tests.campaigns.journeys.test_admin_page import (
    BLOG,
    CART,
    PRODUCT,
    START,
    rows_of,
    sessions_write,
    shop,  # noqa: F401 (the fixture, shared)
)
from tests.conftest import popup_campaign_create

pytestmark = pytest.mark.django_db

READERS = {"attr": "views.Blog", "op": "gte", "value": 2}


def config_of(client, site) -> dict:
    return json.loads(client.get(f"/api/w/{site.public_key}/config").content)


def test_an_audience_with_a_bad_rule_or_a_taken_name_is_not_saved(site):
    audience_create(site=site, name="Readers", rule=READERS)
    with pytest.raises(ValidationError, match="already exists"):
        audience_create(site=site, name="Readers", rule=READERS)
    with pytest.raises(ValidationError) as refused:
        audience_create(site=site, name="Nested", rule={"attr": "audiences", "op": "includes", "value": [1]})
    assert AUDIENCE_IN_AUDIENCE.format(path="rule.attr") in refused.value.messages
    with pytest.raises(ValidationError):
        audience_create(site=site, name="Bad", rule={"attr": "nps", "op": "equals", "value": "fan"})


def test_the_config_carries_audiences_and_groups_and_inlines_the_rules_a_campaign_names(client, site):
    journey_setup_replace(site=site, groups=[
        Group(name="Blog", rule={"op": "starts_with", "value": "/blog/"}, stage="awareness", order=1)], cleanups=[])
    before = config_of(client, site)  # cached now: saving an audience must drop it
    assert before["site"]["aud"]["groups"] == [["Blog", [1, 0, 3, "/blog/", 0], "awareness"]]
    readers = audience_create(site=site, name="Readers", rule=READERS)
    campaign = popup_campaign_create(site=site, targeting={"attr": "audiences", "op": "includes",
                                                           "value": [readers.id]})
    config = config_of(client, site)
    assert config["site"]["audiences"] == [{"id": readers.id, "rule": READERS}]
    assert config["site"]["aud"]["audiences"] == [[readers.id, [5, ["visitor", "groups", "Blog"], 6, [2, None], 0]]]
    compiled = next(c for c in config["campaigns"] if c["id"] == campaign.id)
    targeting = next(check for check in compiled["checks"] if check[0] == "targeting")
    assert targeting[2] == {"not": {"any": [[5, ["visitor", "groups", "Blog"], 6, [2, None], 0]]}}
    # The server's decide() reads the same audiences from the same config.
    context = {"now": 1767225600000, "url": "https://shop.example/", "visitor": {"id": "v", "groups": {"Blog": 2}}}
    assert [row["armed"] for row in decide(config=config, context=context)["campaigns"]] == [True]
    context["visitor"]["groups"] = {"Blog": 1}
    assert [row["reason"] for row in decide(config=config, context=context)["campaigns"]] == ["targeting"]


def test_a_site_without_audiences_or_groups_loads_no_audience_file(client, site, campaign):
    assert "aud" not in config_of(client, site)["site"]


def test_daily_counts_fill_the_days_nobody_was_in_the_audience(site):
    readers = audience_create(site=site, name="Readers", rule=READERS)
    day = dt.date(2026, 12, 1)
    AudienceDaily.objects.create(site=site, audience=readers, day=day, visitors=3, pageviews=7)
    assert audience_daily_get(audience=readers, start=day - dt.timedelta(days=1), end=day + dt.timedelta(days=1)) == [
        (day - dt.timedelta(days=1), 0, 0), (day, 3, 7), (day + dt.timedelta(days=1), 0, 0)]
    audience_update(audience=readers, name="Blog readers", rule=READERS)
    assert str(readers) == "Blog readers"


def test_the_journey_map_of_an_audience_counts_only_its_visitors_sessions(client, owner, shop):  # noqa: F811
    readers = audience_create(site=shop, name="Readers", rule=READERS)
    # Of the shop's sessions (g-0: blog, product, cart; g-1: blog; g-2: product, cart; a-0: product), the
    # audience holds g-0 and g-1's visitors; one more of its visitors' sessions is outside the days asked.
    for visitor in ("g-0", "g-1"):
        AudienceVisitorDay.objects.create(site=shop, audience=readers, day=START.date(), visitor_id=visitor)
    sessions_write(site=shop, device="desktop", source="google", tag="old", sessions=[[CART]],
                   day=START.date() - dt.timedelta(days=60))
    client.force_login(owner)
    url = reverse("admin:campaigns_site_journeys", args=[shop.id])
    html = client.get(url, {"audience": readers.id}).content.decode()
    assert rows_of(html, "exits") == {
        "Page": ["Exits", "Page views", "Exit rate"],
        "Blog: SEO": ["1", "2", "50 %"], "Cart": ["1", "1", "100 %"],
    }  # Product: one page view, no exit
    assert "2</strong> sessions" in html
    everyone = client.get(url).content.decode()
    assert "4</strong> sessions" in everyone and 'id="audience-add"' in everyone
    assert f'<option value="{readers.id}">Readers</option>' in everyone
    assert BLOG and PRODUCT  # the paths the rows above are labelled from


def test_another_owner_cannot_see_or_open_an_audience(client, outsider, site):
    readers = audience_create(site=site, name="Readers", rule=READERS)
    client.force_login(outsider)
    assert client.get(reverse("admin:campaigns_audience_change", args=[readers.id])).status_code == 404
    assert "Readers" not in client.get(reverse("admin:campaigns_audience_changelist")).content.decode()


def test_the_owner_edits_an_audience_with_the_rule_editor_and_reads_its_days(client, owner, site):
    journey_setup_replace(site=site, groups=[
        Group(name="Blog", rule={"op": "starts_with", "value": "/blog/"}, stage="awareness", order=1)], cleanups=[])
    readers = audience_create(site=site, name="Readers", rule=READERS)
    client.force_login(owner)
    html = client.get(reverse("admin:campaigns_audience_change", args=[readers.id])).content.decode()
    assert 'data-editor="targeting"' in html and '"views.": ["Blog"]' in html
    assert "to visitors who viewed at least 2 pages of Blog" in html
    response = client.post(reverse("admin:campaigns_audience_change", args=[readers.id]), {
        "site": site.id, "name": "Readers", "rule": json.dumps({"attr": "stages", "op": "includes",
                                                                "value": ["awareness"]})})
    assert response.status_code == 302
    readers.refresh_from_db()
    assert readers.rule["attr"] == "stages"


def test_the_map_offers_an_audience_from_its_page_groups_and_the_add_form_comes_prefilled(
        client, owner, outsider, site):
    journey_setup_replace(site=site, groups=[
        Group(name="Blog: SEO", rule={"op": "starts_with", "value": "/blog/seo"}, stage="awareness", order=1),
        Group(name="Blog", rule={"op": "starts_with", "value": "/blog/"}, stage="awareness", order=2),
        Group(name="Cart", rule={"op": "equals", "value": "/cart/"}, stage="decision", order=3)], cleanups=[])
    client.force_login(owner)
    html = client.get(reverse("admin:campaigns_site_journeys", args=[site.id])).content.decode()
    assert 'id="audience-from-pages"' in html and '<option value="Blog: SEO">Blog: SEO</option>' in html
    add = reverse("admin:campaigns_audience_add")

    page = client.get(add, {"site": site.id, "group": ["Blog", "Blog: SEO", "Nowhere"], "views": "2"})
    initial = page.context["adminform"].form.initial
    assert initial["site"] == site.id and initial["name"] == "Readers of Blog: SEO or Blog"
    assert initial["rule"] == {"any": [{"attr": "views.Blog: SEO", "op": "gte", "value": 2},
                                       {"attr": "views.Blog", "op": "gte", "value": 2}]}
    assert '"views.": ["Blog: SEO", "Blog", "Cart"]' in page.content.decode()  # the editor offers the site's groups
    one = client.get(add, {"site": site.id, "group": "Cart"}).context["adminform"].form.initial
    assert one["rule"] == {"attr": "views.Cart", "op": "gte", "value": 1}
    response = client.post(add, {"site": site.id, "name": initial["name"], "rule": json.dumps(initial["rule"])})
    assert response.status_code == 302
    assert Audience.objects.get(site=site, name="Readers of Blog: SEO or Blog").rule == initial["rule"]

    # Another owner's site names nothing: no site, no groups, no rule.
    client.force_login(outsider)
    theirs = client.get(add, {"site": site.id, "group": "Cart"}).context["adminform"].form.initial
    assert "site" not in theirs and "rule" not in theirs
