"""A site's journey set-up (groups, stages, clean-up rules), the demo shop's, and the counters' unique keys."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from campaigns.journeys.demo import DEMO_CLEANUPS, DEMO_GROUPS, journey_demo_apply
from campaigns.journeys.paths import Cleanup, Group, label_of, path_clean
from campaigns.journeys.services import journey_setup_get, journey_setup_replace
from campaigns.models import (
    CleanupRule,
    JourneyPageDaily,
    JourneySession,
    JourneyTransitionDaily,
    JourneyVisitorStage,
    PageGroup,
)
from widget import urls as widget_urls

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
BLOG = Group(name="Blog", rule={"op": "starts_with", "value": "/blog/"}, stage="awareness", order=10)


def test_the_set_up_is_replaced_whole_and_read_back_in_order(site, outsider_site):
    journey_setup_replace(site=outsider_site, groups=[BLOG], cleanups=[])
    cart = Group(name="Cart", rule={"op": "equals", "value": "/cart"}, stage="decision", order=5)
    journey_setup_replace(site=site, groups=[BLOG, cart], cleanups=[Cleanup("/p/<id>/", "/p/*/"), Cleanup("a", "b")])
    groups, cleanups = journey_setup_get(site=site)
    assert [group.name for group in groups] == ["Cart", "Blog"]
    assert cleanups == [Cleanup("/p/<id>/", "/p/*/"), Cleanup("a", "b")]
    journey_setup_replace(site=site, groups=[BLOG], cleanups=[])
    assert journey_setup_get(site=site) == ([BLOG], [])
    assert journey_setup_get(site=outsider_site) == ([BLOG], [])


@pytest.mark.parametrize(
    ("groups", "cleanups", "field"),
    [
        ([Group(name="Bad", rule={"op": "gt", "value": 1})], [], "url_rule"),
        ([Group(name="Bad", rule={"op": "equals", "value": "/"}, stage="purchase")], [], "stage"),
        ([BLOG, BLOG], [], "name"),
        ([BLOG], [Cleanup("(", "x")], "pattern"),
        ([BLOG], [Cleanup("/a/", "x" * 201)], "replacement"),
    ],
)
def test_an_invalid_set_up_changes_nothing(site, groups, cleanups, field):
    journey_setup_replace(site=site, groups=[BLOG], cleanups=[Cleanup("/x/", "/y/")])
    with pytest.raises(ValidationError) as raised:
        journey_setup_replace(site=site, groups=groups, cleanups=cleanups)
    assert field in raised.value.message_dict
    assert journey_setup_get(site=site) == ([BLOG], [Cleanup("/x/", "/y/")])


def test_a_page_group_checks_its_url_rule(site):
    group = PageGroup(site=site, name="Blog", url_rule={"op": "starts_with"})
    with pytest.raises(ValidationError) as raised:
        group.full_clean()
    assert raised.value.message_dict == {"url_rule": ["url_rule.value: is required"]}


def test_deleting_a_site_deletes_its_set_up(site):
    journey_demo_apply(site=site)
    site.delete()
    assert not PageGroup.objects.exists() and not CleanupRule.objects.exists()


DEMO_PAGES = {
    # URL name, its arguments, the label the map shows, the stage
    "demo-home": ((), "Home", "awareness"),
    "demo-article": (("seo-basics",), "Blog: SEO", "awareness"),
    "demo-product": (("trail-shoe",), "Product", "consideration"),
    "demo-cart": ((), "Cart", "decision"),
    "demo-checkout": ((), "Checkout", "decision"),
    "demo-thanks": ((), "Thank you", "retention"),
}


def test_the_demo_set_up_covers_every_page_of_the_demo_shop(site):
    journey_demo_apply(site=site)
    journey_demo_apply(site=site)  # applying it again leaves one copy
    groups, cleanups = journey_setup_get(site=site)
    assert (tuple(groups), tuple(cleanups)) == (DEMO_GROUPS, DEMO_CLEANUPS)
    stage = {group.name: group.stage for group in groups}
    for name, (args, label, expected_stage) in DEMO_PAGES.items():
        path = path_clean(url="https://demo.example" + reverse(f"widget:{name}", args=args) + "?utm_source=x",
                          rules=cleanups)
        assert label_of(path=path, groups=groups) == label, name
        assert stage[label] == expected_stage
    other_article = path_clean(url=reverse("widget:demo-article", args=["choosing-running-shoes"]), rules=cleanups)
    assert label_of(path=other_article, groups=groups) == "Blog"
    assert path_clean(url=reverse("widget:demo-product", args=["merino-socks"]), rules=cleanups) == "/demo/product/*/"
    # A new page in the demo shop needs its group here (the cart's "add" only answers a form post).
    pages = {pattern.name for pattern in widget_urls.urlpatterns if (pattern.name or "").startswith("demo-")}
    assert pages == {*DEMO_PAGES, "demo-cart-add"}


def _page(site, **fields):
    return JourneyPageDaily(site=site, day=NOW.date(), step=1, path="/a", pageviews=1, entries=1, **fields)


@pytest.mark.parametrize(
    "make",
    [
        _page,
        lambda site, **fields: JourneyTransitionDaily(site=site, day=NOW.date(), step=2, from_path="/a", path="/b",
                                                      count=1, **fields),
        lambda site, **fields: JourneySession(site=site, visitor_id="v1", session_id="s1", day=NOW.date(),
                                              started_at=NOW, last_at=NOW, **fields),
        lambda site, **fields: JourneyVisitorStage(site=site, visitor_id="v1", stage="awareness", first_at=NOW,
                                                   day=NOW.date(), path="/a", **fields),
    ],
)
def test_the_counters_have_one_row_per_key(site, make):
    make(site).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        make(site).save()


def test_the_daily_counters_key_includes_the_segment(site, outsider_site):
    _page(site).save()
    _page(site, device="mobile").save()
    _page(site, source="google").save()
    _page(site, returning=True).save()
    _page(outsider_site).save()
    assert JourneyPageDaily.objects.count() == 5


def test_a_session_row_reads_its_paths_up_to_the_first_gap(site):
    row = JourneySession(site=site, visitor_id="v", session_id="s", day=NOW.date(), started_at=NOW, last_at=NOW,
                         steps=4, path_1="/a", path_2="/b", path_4="/d")
    assert row.paths == ("/a", "/b")


def test_a_visitors_journey_rows_are_exported_and_erased_with_the_rest_of_their_data(site, outsider_site):
    from campaigns.services.visitor_data import visitor_data_erase, visitor_data_export

    # Written as the journey fold will write them (the fold itself is not built yet).
    for where, visitor in ((site, "v1"), (site, "v2"), (outsider_site, "v1")):
        JourneySession(site=where, visitor_id=visitor, session_id="s1", day=NOW.date(), started_at=NOW, last_at=NOW,
                       steps=2, pageviews=2, path_1="/blog/a/", path_2="/cart/").save()
        JourneyVisitorStage(site=where, visitor_id=visitor, stage="awareness", first_at=NOW, day=NOW.date(),
                            path="/blog/a/").save()
    _request, export = visitor_data_export(site=site, requested_by=None, channel="command", visitor_id="v1")
    assert (export["counts"]["journey_sessions"], export["counts"]["journey_stages"]) == (1, 1)
    assert export["data"]["journey_sessions"][0]["path_2"] == "/cart/"
    request = visitor_data_erase(site=site, requested_by=None, channel="command", visitor_id="v1")
    assert (request.erased["journey_sessions"], request.erased["journey_stages"]) == (1, 1)
    assert sorted(JourneySession.objects.values_list("site_id", "visitor_id")) == sorted(
        [(site.id, "v2"), (outsider_site.id, "v1")])
    assert JourneyVisitorStage.objects.count() == 2
