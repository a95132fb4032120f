"""The installation check's data: the version collect keeps, what the tally folds per origin and campaign, the
origins refused (bounded), the owner's one-click add, and the campaign's "shows nowhere" warning."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.ingest.refusals import _refused_origins_write, refusals_flush, refused_origins_pending
from campaigns.installation.selectors import (
    INSTALLED,
    WAITING,
    campaign_installation_get,
    site_installation_get,
)
from campaigns.installation.url_targeting import url_matches, url_targeting
from campaigns.models import Event, OriginMinute, RefusedOrigin
from campaigns.models.installation import OTHER_ORIGIN, REFUSED_ORIGINS_KEPT
from campaigns.tally import drain as tally
from tests.campaigns.events_kit import event, post_events
from tests.conftest import popup_campaign_create

SHOP = "https://shop.example"
WWW = "https://www.shop.example"


def send(client, site, events, *, v="0.1.0", origin=SHOP):
    response = post_events(client, site, None, origin=origin, body=json.dumps({"events": events, "v": v}))
    assert response.status_code == 202, response.content
    return response


def variant_of(campaign):
    return campaign.variants.order_by("id").first()


def test_collect_keeps_the_batch_version_on_its_page_views_only(client, site, campaign):
    send(client, site, [event("pageview"), event("impression", campaign=campaign, variant=variant_of(campaign))])
    assert dict(Event.objects.filter(site=site).values_list("type", "widget_version")) == {
        "pageview": "0.1.0", "impression": ""}


@pytest.mark.parametrize("v", [None, 12, "", "x" * 17, "<b>1</b>", "1.0 beta", ["0.1.0"]])
def test_a_version_that_is_not_one_is_dropped_and_the_events_kept(client, site, v):
    send(client, site, [event("pageview")], v=v)
    assert list(Event.objects.filter(site=site).values_list("widget_version", flat=True)) == [""]


def test_each_origin_shows_its_last_page_view_version_and_events_of_the_last_hour(client, site, campaign,
                                                                                   tally_fold):
    site.allowed_origins = [SHOP, WWW]
    site.save()
    assert site_installation_get(site=site).state == WAITING
    a = variant_of(campaign)
    send(client, site, [event("pageview", url=f"{SHOP}/a"),
                        event("impression", campaign=campaign, variant=a, url=f"{SHOP}/a")])
    send(client, site, [event("pageview", url=f"{WWW}/")], v="0.2.0", origin=WWW)
    # A URL on none of the site's origins (only a forger sends one): one row for all of them, whatever the URL.
    send(client, site, [event("pageview", url="https://made-up-1.example/"),
                        event("pageview", url="https://made-up-2.example/")])
    tally.tally_drain()

    found = site_installation_get(site=site)
    assert found.state == INSTALLED
    by_origin = {seen.origin: seen for seen in found.origins}
    assert list(by_origin) == [SHOP, WWW, OTHER_ORIGIN]
    assert (by_origin[SHOP].widget_version, by_origin[SHOP].events_last_hour) == ("0.1.0", 2)
    assert (by_origin[WWW].widget_version, by_origin[WWW].events_last_hour) == ("0.2.0", 1)
    assert by_origin[OTHER_ORIGIN].events_last_hour == 2
    assert by_origin[SHOP].last_pageview_at is not None

    send(client, site, [event("pageview", url=f"{SHOP}/b")], v="0.3.0")
    tally.tally_drain()
    shop = {seen.origin: seen for seen in site_installation_get(site=site).origins}[SHOP]
    assert (shop.widget_version, shop.events_last_hour) == ("0.3.0", 3)
    # An hour later, nothing in the last hour; the last page view stays.
    later = site_installation_get(site=site, now=timezone.now() + timedelta(minutes=61))
    assert [seen.events_last_hour for seen in later.origins] == [0, 0, 0]
    assert campaign_installation_get(campaign=campaign).last_impression_at is not None


def test_old_minutes_are_deleted_as_new_events_are_folded(client, site, tally_fold):
    old = OriginMinute.objects.create(site=site, origin=SHOP, minute=timezone.now() - timedelta(hours=3), events=9)
    send(client, site, [event("pageview")])
    tally.tally_drain()
    assert not OriginMinute.objects.filter(id=old.id).exists()
    assert OriginMinute.objects.filter(site=site).count() == 1


def test_a_request_from_an_origin_not_allowed_is_refused_and_its_origin_named(client, site):
    assert post_events(client, site, [event("pageview")], origin=WWW).status_code == 403
    assert [(r.origin, r.count) for r in site_installation_get(site=site).refused] == [(WWW, 1)]
    assert not RefusedOrigin.objects.exists()  # noted in Redis: no database write per refused request
    refusals_flush()
    assert post_events(client, site, [event("pageview")], origin=WWW).status_code == 403
    assert [(r.origin, r.count) for r in site_installation_get(site=site).refused] == [(WWW, 2)]
    refusals_flush()
    assert list(RefusedOrigin.objects.filter(site=site).values_list("origin", "count")) == [(WWW, 2)]


def test_the_config_endpoint_names_an_origin_it_does_not_allow_and_nothing_for_one_it_allows(client, site):
    url = reverse("widget:config", kwargs={"public_key": site.public_key})
    refused = client.get(url, HTTP_ORIGIN=WWW)
    assert refused.status_code == 200 and "Access-Control-Allow-Origin" not in refused
    assert "Access-Control-Allow-Origin" in client.get(url, HTTP_ORIGIN=SHOP)
    client.get(url)  # no Origin at all (same origin): nothing to name
    client.get(url, HTTP_ORIGIN="null")
    assert refused_origins_pending(site_id=site.id) == {WWW: 1}


def test_refused_origins_are_bounded_per_site(client, site, outsider_site):
    for i in range(REFUSED_ORIGINS_KEPT + 5):
        post_events(client, site, [event("pageview")], origin=f"https://o{i}.example")
    post_events(client, outsider_site, [event("pageview")], origin=WWW)
    assert len(refused_origins_pending(site_id=site.id)) == REFUSED_ORIGINS_KEPT
    assert refused_origins_pending(site_id=outsider_site.id) == {WWW: 1}  # another site's bound is its own
    refusals_flush()
    assert RefusedOrigin.objects.filter(site=site).count() == REFUSED_ORIGINS_KEPT
    _refused_origins_write({(site.id, f"https://new{i}.example"): 1 for i in range(3)},
                           at=timezone.now() + timedelta(minutes=1))
    kept = set(RefusedOrigin.objects.filter(site=site).values_list("origin", flat=True))
    assert len(kept) == REFUSED_ORIGINS_KEPT and {f"https://new{i}.example" for i in range(3)} <= kept


def _site_page(site) -> str:
    return reverse("admin:campaigns_site_change", args=[site.pk])


def test_the_owner_adds_a_refused_origin_in_one_click_and_its_pages_are_accepted(client, owner, site):
    post_events(client, site, [event("pageview")], origin=WWW)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    page = browser.get(_site_page(site)).content.decode()
    assert f"{WWW} is not in this site's origins: add it?" in page
    add = reverse("admin:campaigns_site_installation_origin", args=[site.pk])
    assert browser.post(add, {"origin": WWW}).status_code == 403  # no CSRF token
    token = browser.cookies["csrftoken"].value
    assert browser.get(add).status_code == 405
    answer = browser.post(add, {"origin": WWW, "csrfmiddlewaretoken": token})
    assert answer.status_code == 302 and answer["Location"].endswith("#installation")
    site.refresh_from_db()
    assert site.allowed_origins == [SHOP, WWW]
    assert "installation-refused" not in browser.get(_site_page(site)).content.decode()
    assert post_events(client, site, [event("pageview")], origin=WWW).status_code == 202


def test_no_one_adds_an_origin_to_a_site_they_cannot_see(client, outsider, site):
    client.force_login(outsider)
    add = reverse("admin:campaigns_site_installation_origin", args=[site.pk])
    assert client.post(add, {"origin": "https://evil.example"}).status_code == 404
    check = reverse("admin:campaigns_site_installation_check", args=[site.pk])
    assert client.post(check, {"url": f"{SHOP}/"}).status_code == 404
    site.refresh_from_db()
    assert site.allowed_origins == [SHOP]


def test_an_origin_that_is_not_one_is_not_added(client, owner, site):
    client.force_login(owner)
    add = reverse("admin:campaigns_site_installation_origin", args=[site.pk])
    page = client.post(add, {"origin": "javascript:alert(1)"}, follow=True).content.decode()
    assert "is not an origin" in page
    site.refresh_from_db()
    assert site.allowed_origins == [SHOP]


def test_check_now_refuses_a_page_outside_the_sites_origins(client, owner, site):
    client.force_login(owner)
    check = reverse("admin:campaigns_site_installation_check", args=[site.pk])
    page = client.post(check, {"url": "http://169.254.169.254/latest/meta-data/"}, follow=True).content.decode()
    assert "Could not check the page: http://169.254.169.254 is not one of this site&#x27;s origins" in page


def test_the_site_page_shows_the_snippet_and_turns_green_after_the_first_page_view(client, owner, site, tally_fold):
    client.force_login(owner)
    page = client.get(_site_page(site)).content.decode()
    assert 'data-state="waiting"' in page and site.public_key in page
    send(client, site, [event("pageview")])
    tally.tally_drain()
    page = client.get(_site_page(site)).content.decode()
    assert 'data-state="installed"' in page and f'<tr data-origin="{SHOP}">' in page and "0.1.0" in page


@pytest.mark.parametrize(("targeting", "url", "matches"), [
    (None, f"{SHOP}/anything", True),
    ({"attr": "path", "op": "starts_with", "value": "/shop"}, f"{SHOP}/shop/shoes", True),
    ({"attr": "path", "op": "starts_with", "value": "/shop"}, f"{SHOP}/blog/", False),
    # A visitor's rule may match anyone: only the URL decides, under a "not" too.
    ({"all": [{"attr": "device", "op": "equals", "value": "mobile"},
              {"attr": "url", "op": "contains", "value": "sale"}]}, f"{SHOP}/sale", True),
    ({"all": [{"not": {"attr": "device", "op": "equals", "value": "mobile"}},
              {"attr": "url", "op": "contains", "value": "sale"}]}, f"{SHOP}/sale", True),
    ({"not": {"attr": "path", "op": "equals", "value": "/checkout"}}, f"{SHOP}/checkout", False),
    ({"any": [{"attr": "cookie", "op": "exists", "name": "x"}, {"attr": "path", "op": "equals", "value": "/a"}]},
     f"{SHOP}/b", True),
])
def test_a_campaigns_pages_are_the_page_views_its_url_targeting_matches(targeting, url, matches):
    assert url_matches(reduced=url_targeting(targeting), url=url) is matches


def test_an_active_campaign_without_impressions_while_its_pages_had_views_is_flagged(client, owner, site,
                                                                                      tally_fold):
    shop = popup_campaign_create(site=site, name="Shop only",
                                 targeting={"attr": "path", "op": "starts_with", "value": "/shop"})
    blog = popup_campaign_create(site=site, name="Blog only",
                                 targeting={"attr": "path", "op": "starts_with", "value": "/blog"})
    everywhere = popup_campaign_create(site=site, name="Everywhere")
    paused = popup_campaign_create(site=site, name="Paused", status="paused")
    for campaign in (shop, blog, everywhere, paused):
        assert not campaign_installation_get(campaign=campaign).warning  # no page view yet
    send(client, site, [event("pageview", url=f"{SHOP}/shop/shoes"), event("pageview", url=f"{SHOP}/")])
    tally.tally_drain()
    flagged = campaign_installation_get(campaign=shop)
    assert (flagged.warning, flagged.pages_viewed, flagged.pages_read) == (True, 1, 2)
    assert not campaign_installation_get(campaign=blog).warning
    assert campaign_installation_get(campaign=everywhere).warning
    assert not campaign_installation_get(campaign=paused).warning
    client.force_login(owner)
    page = client.get(reverse("admin:campaigns_campaign_change", args=[shop.pk])).content.decode()
    assert 'id="campaign-installation-warning"' in page and "1 of the latest 2 page views" in page

    send(client, site, [event("impression", campaign=shop, variant=variant_of(shop), url=f"{SHOP}/shop/shoes")])
    tally.tally_drain()
    shown = campaign_installation_get(campaign=shop)
    assert shown.last_impression_at is not None and not shown.warning
    page = client.get(reverse("admin:campaigns_campaign_change", args=[shop.pk])).content.decode()
    assert 'id="campaign-installation-warning"' not in page and "Last impression:" in page


def test_the_site_check_reads_a_few_rows_whatever_the_events(client, site, tally_fold, django_assert_max_num_queries):
    send(client, site, [event("pageview") for _ in range(20)])
    tally.tally_drain()
    with django_assert_max_num_queries(3):
        found = site_installation_get(site=site)
    assert [seen.events_last_hour for seen in found.origins] == [20]
