"""The journey map and the journey set-up pages of the admin: what an owner reads and edits, scoped to their sites,
and the command that seeds simulated journeys."""

import datetime as dt
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from campaigns.journeys.demo import journey_demo_apply
from campaigns.journeys.simulate import SIMULATED_SOURCE_PREFIX
from campaigns.models import JourneyPageDaily, JourneySession, JourneyTransitionDaily, JourneyVisitorStage, PageGroup
from tests.campaigns.journeys.journey_kit import fold

pytestmark = pytest.mark.django_db

BLOG, PRODUCT, CART = "/demo/blog/seo-basics/", "/demo/product/*/", "/demo/cart/"
START = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)


def sessions_write(*, site, sessions, device: str, source: str, returning: bool = False, day=None, tag: str) -> None:
    """The rows the fold writes for these sessions (lists of paths), all on `day` in one segment."""
    day = day or START.date()
    segment = {"device": device, "source": source, "returning": returning}
    pages, transitions, rows = fold(sessions)
    JourneyPageDaily.objects.bulk_create(
        JourneyPageDaily(site=site, day=day, step=p.step, path=p.path, pageviews=p.pageviews, entries=p.entries,
                         **segment) for p in pages)
    JourneyTransitionDaily.objects.bulk_create(
        JourneyTransitionDaily(site=site, day=day, step=t.step, from_path=t.from_path, path=t.path, count=t.count,
                               **segment) for t in transitions)
    JourneySession.objects.bulk_create(
        JourneySession(site=site, visitor_id=f"{tag}-{n}", session_id=f"{tag}-{n}", day=day, started_at=START,
                       last_at=START, steps=row.steps, pageviews=row.steps, **segment,
                       **{f"path_{i}": path for i, path in enumerate(row.paths, start=1)})
        for n, row in enumerate(rows))


def stage_write(*, site, visitor: str, stage: str, minutes: int) -> None:
    at = START + dt.timedelta(minutes=minutes)
    JourneyVisitorStage.objects.create(site=site, visitor_id=visitor, stage=stage, first_at=at, day=at.date(),
                                       path="/", device="desktop", source="google")


@pytest.fixture
def shop(site):
    """The owner's site with the demo's groups and four sessions: three from Google on a desktop, one from an ad on
    a phone; and four visitors' stages."""
    journey_demo_apply(site=site)
    sessions_write(site=site, device="desktop", source="google", tag="g",
                   sessions=[[BLOG, PRODUCT, CART], [BLOG], [PRODUCT, CART]])
    sessions_write(site=site, device="mobile", source="ads", tag="a", sessions=[[PRODUCT]])
    for visitor, stage, minutes in (("v1", "awareness", 0), ("v1", "consideration", 10), ("v1", "decision", 20),
                                    ("v2", "awareness", 0), ("v3", "consideration", 0), ("v3", "decision", 30),
                                    ("v4", "consideration", 0)):
        stage_write(site=site, visitor=visitor, stage=stage, minutes=minutes)
    return site


def cells_of(html: str, table: str) -> list[tuple[str, ...]]:
    """A table's rows, each as its cells' text."""
    body = re.search(rf'<table[^>]*id="{table}".*?</table>', html, re.S).group(0)
    found = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        if cells:
            found.append(tuple(cells))
    return found


def rows_of(html: str, table: str) -> dict[str, list[str]]:
    """A table's rows by their first cell."""
    return {cells[0]: list(cells[1:]) for cells in cells_of(html, table)}


def map_get(client, site, **params):
    response = client.get(reverse("admin:campaigns_site_journeys", args=[site.id]), params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_map_draws_the_flow_and_exit_rates_that_match_a_hand_count(client, owner, shop):
    client.force_login(owner)
    html = map_get(client, shop)
    svg = re.search(r'<svg[^>]*class="rt-sankey".*?</svg>', html, re.S).group(0)
    assert svg.count('class="rt-node" data-kind="page"') == 5  # step 1: Blog: SEO, Product; 2: Product, Cart; 3: Cart
    assert "Blog: SEO" in svg and "Left the site" in svg and "<script" not in svg
    # Blog: SEO 2 views, 1 exit; Product 3 views (two go on to the cart), 1 exit; Cart 2 views, 2 exits.
    assert rows_of(html, "exits") == {
        "Page": ["Exits", "Page views", "Exit rate"],
        "Cart": ["2", "2", "100 %"], "Blog: SEO": ["1", "2", "50 %"], "Product": ["1", "3", "33 %"],
    }
    assert rows_of(html, "entries")["Product"] == ["2", "3", "1", "33 %"]
    # Each move as sessions and as a share of the 4 sessions.
    assert {
        ("Step 1: Product", "Step 2: Cart", "1", "25 %"), ("Step 1: Product", "Step 2: Left the site", "1", "25 %"),
        ("Step 1: Blog: SEO", "Step 2: Product", "1", "25 %"), ("Step 2: Cart", "Step 3: Left the site", "1", "25 %"),
        ("Step 1: Blog: SEO", "Step 2: Left the site", "1", "25 %"),
    } <= set(cells_of(html, "flow-links"))
    assert "4</strong> sessions" in html


def test_filters_change_the_numbers(client, owner, shop):
    client.force_login(owner)
    phone = map_get(client, shop, device="mobile")
    assert rows_of(phone, "exits") == {"Page": ["Exits", "Page views", "Exit rate"], "Product": ["1", "1", "100 %"]}
    google = map_get(client, shop, source="google")
    # Both of Google's product views went on to the cart: Product has no exits there.
    assert rows_of(google, "exits") == {"Page": ["Exits", "Page views", "Exit rate"],
                                        "Cart": ["2", "2", "100 %"], "Blog: SEO": ["1", "2", "50 %"]}
    assert "3</strong> sessions" in google
    long_ago = (START - dt.timedelta(days=400)).date()
    empty = map_get(client, shop, since=long_ago.isoformat(), until=(long_ago + dt.timedelta(days=3)).isoformat())
    assert 'id="no-flow"' in empty and "rt-sankey" not in empty


def test_a_flow_back_from_a_goal_and_from_a_chosen_page(client, owner, shop):
    client.force_login(owner)
    back = map_get(client, shop, goal="Cart")
    assert "Sessions that reached Cart, walked back" in back
    assert ("1 before: Product", "Goal: Cart", "2", "50 %") in cells_of(back, "flow-links")
    forward = cells_of(map_get(client, shop, start="Blog: SEO"), "flow-links")
    assert {("Step 1: Blog: SEO", "Step 2: Product", "1", "25 %"),
            ("Step 1: Blog: SEO", "Step 2: Left the site", "1", "25 %")} <= set(forward)
    assert not any(row[0].startswith("Step 1: Product") for row in forward)


def test_the_stage_funnel_matches_a_hand_count(client, owner, shop):
    client.force_login(owner)
    funnel = rows_of(map_get(client, shop), "funnel")
    # Awareness: v1, v2; v1 on to consideration after 10 min. Consideration: v1, v3, v4; v1 (10 min) and v3 (30 min)
    # on to decision.
    assert funnel["Awareness"] == ["2", "1", "50 %", "10 min"]
    assert funnel["Consideration"] == ["3", "2", "67 %", "20 min"]
    assert funnel["Decision"][:1] == ["2"]


def test_another_owner_gets_404_on_every_journey_page(client, outsider, shop):
    client.force_login(outsider)
    for name in ("admin:campaigns_site_journeys", "admin:campaigns_site_journeys_setup"):
        assert client.get(reverse(name, args=[shop.id])).status_code == 404
    before = list(PageGroup.objects.filter(site=shop).values_list("name", flat=True))
    assert client.post(reverse("admin:campaigns_site_journeys_setup", args=[shop.id]), {}).status_code == 404
    assert list(PageGroup.objects.filter(site=shop).values_list("name", flat=True)) == before


def test_the_site_pages_link_to_the_map(client, owner, site):
    client.force_login(owner)
    url = reverse("admin:campaigns_site_journeys", args=[site.id])
    assert url in client.get(reverse("admin:campaigns_site_change", args=[site.id])).content.decode()
    assert url in client.get(reverse("admin:campaigns_site_changelist")).content.decode()


def setup_post(client, site, groups, cleanups):
    data = {"groups-TOTAL_FORMS": len(groups), "groups-INITIAL_FORMS": 0,
            "cleanups-TOTAL_FORMS": len(cleanups), "cleanups-INITIAL_FORMS": 0}
    for prefix, rows in (("groups", groups), ("cleanups", cleanups)):
        for index, row in enumerate(rows):
            data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return client.post(reverse("admin:campaigns_site_journeys_setup", args=[site.id]), data)


def test_the_editor_saves_groups_and_rules_and_rejects_a_bad_rule_on_its_field(client, owner, site):
    client.force_login(owner)
    assert client.get(reverse("admin:campaigns_site_journeys_setup", args=[site.id])).status_code == 200
    response = setup_post(client, site, groups=[
        {"name": "Cart", "op": "equals", "value": "/cart", "stage": "decision", "order": 20},
        {"name": "Blog", "op": "starts_with", "value": "/blog/", "stage": "awareness", "order": 10},
    ], cleanups=[{"pattern": "^/p/<slug>/", "replacement": "/p/*/", "order": 10}])
    assert response.status_code == 302
    assert list(PageGroup.objects.filter(site=site).values_list("name", "stage")) == [
        ("Blog", "awareness"), ("Cart", "decision")]
    assert site.cleanup_rules.get().replacement == "/p/*/"

    bad = setup_post(client, site, groups=[
        {"name": "Broken", "op": "regex", "value": "(unclosed", "stage": "", "order": 10},
    ], cleanups=[{"pattern": "(", "replacement": "/x/", "order": 10}])
    assert bad.status_code == 200
    groups, cleanups = bad.context["group_forms"], bad.context["cleanup_forms"]
    assert groups.forms[0].errors["value"] and cleanups.forms[0].errors["pattern"]
    assert list(PageGroup.objects.filter(site=site).values_list("name", flat=True)) == ["Blog", "Cart"]
    same = setup_post(client, site, groups=[{"name": "A", "op": "equals", "value": "/a", "order": 1},
                                            {"name": "A", "op": "equals", "value": "/b", "order": 2}], cleanups=[])
    assert same.context["group_forms"].forms[1].errors["name"]


def test_suggest_fills_the_forms_from_the_counted_paths_without_saving(client, owner, site):
    sessions_write(site=site, device="desktop", source="google", tag="s",
                   sessions=[["/blog/a/", "/product/*/", "/cart/"], ["/checkout/", "/thank-you/"]])
    client.force_login(owner)
    response = client.get(reverse("admin:campaigns_site_journeys_setup", args=[site.id]), {"suggest": 1})
    names = [form.initial["name"] for form in response.context["group_forms"].forms if form.initial]
    assert {"Cart", "Checkout", "Blog"} <= set(names)
    assert not PageGroup.objects.filter(site=site).exists()


def test_journeys_seed_writes_labelled_rows_again_and_again_the_same_and_leaves_real_rows(owner, site):
    journey_demo_apply(site=site)
    sessions_write(site=site, device="desktop", source="google", tag="real", sessions=[[BLOG]])

    def snapshot():
        return (sorted(JourneyPageDaily.objects.filter(site=site).values_list("day", "step", "path", "source",
                                                                               "pageviews", "entries")),
                sorted(JourneyVisitorStage.objects.filter(site=site).values_list("visitor_id", "stage", "first_at")))

    call_command("journeys_seed", site=str(site.id), days=7, visitors=60, stdout=StringIO())
    first = snapshot()
    call_command("journeys_seed", site=site.name, days=7, visitors=60, stdout=StringIO())
    assert snapshot() == first
    sources = set(JourneyPageDaily.objects.filter(site=site).values_list("source", flat=True))
    assert sources == {"google", *(SIMULATED_SOURCE_PREFIX + kind for kind in ("reader", "searcher", "buyer"))}
    assert set(JourneySession.objects.exclude(visitor_id__startswith="real").values_list("visitor_id", flat=True)) \
        and all(v.startswith("sim-") for v in JourneySession.objects.exclude(visitor_id__startswith="real")
                .values_list("visitor_id", flat=True))
    stages = set(JourneyVisitorStage.objects.filter(site=site).values_list("stage", flat=True))
    assert stages == {"awareness", "consideration", "decision", "retention"}
    call_command("journeys_seed", site=str(site.id), clear=True, stdout=StringIO())
    assert set(JourneyPageDaily.objects.filter(site=site).values_list("source", flat=True)) == {"google"}


@pytest.mark.parametrize("query", [
    {"steps": "99"}, {"steps": "abc"}, {"top": "0"}, {"since": "yesterday"}, {"start": "/nowhere/"},
    {"goal": "Nope"}, {"device": "toaster"}, {"start": "Product", "goal": "Cart"},
    {"since": "2026-12-01", "until": "2026-11-01"}, {"returning": "maybe"},
])
def test_bad_filters_are_shown_as_form_errors_never_a_500(client, owner, shop, query):
    client.force_login(owner)
    response = client.get(reverse("admin:campaigns_site_journeys", args=[shop.id]), query)
    assert response.status_code == 200
    assert not response.context["form"].is_valid()
    assert "rt-sankey" in response.content.decode()  # the default map, over the last 30 days
