"""The demo shop's journey map in a browser. Three kinds of visitor browse the demo shop in Chromium (a reader from
a blog article to the order, a searcher on a phone from a search ad straight to a product and away, a visitor who
comes back in a second session to buy); once the tally has counted them, the owner reads their paths, exits and
stage conversions on the map, each visitor picked out by the source filter, beside the simulated journeys demo_seed
writes; all under the admin's Content-Security-Policy, and a screenshot goes to
artifacts/screenshots/journey-map.png."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser import screenshot
from tests.campaigns.test_admin_csp import VIOLATIONS
from tests.widget.browser.kit import accept_consent, events, read, tally, visitor_id, wait_for_events
from tests.widget.browser.test_gallery import signed_in

pytestmark = pytest.mark.browser

SEARCH_AD = "?utm_source=google&utm_medium=cpc"
IDLE = 31 * 60_000  # past the widget's 30 idle minutes: the next page view starts a second session


def shop_page(page, live_server, path: str, *, site=None, **options) -> None:
    """The visitor opens a page of the shop and reads it (kit.read); without `site`, the first page, read once the
    consent banner is answered."""
    page.goto(f"{live_server.url}/demo/{path}", **options)
    if site is not None:
        read(page, site)


def buy(page, site) -> None:
    """From a product page: add it to the cart, check out, place the order."""
    page.locator("#add-to-cart").click()
    page.wait_for_url("**/demo/cart/")
    read(page, site)
    page.locator("#go-checkout").click()
    page.wait_for_url("**/demo/checkout/")
    read(page, site)
    page.locator("#place-order").click()
    page.wait_for_url("**/demo/thanks/")
    read(page, site)


def idle_for(page, live_server, ms: int) -> None:
    """The visitor leaves the shop for a page without the widget, and the stored session ages by `ms` (as the
    clock would have it): the next page of the shop starts a new session of the same visitor."""
    page.goto(f"{live_server.url}/healthz")
    page.evaluate("""(ms) => {
        const v = JSON.parse(localStorage.getItem('_rt_v'));
        v.session.last -= ms;
        localStorage.setItem('_rt_v', JSON.stringify(v));
    }""", ms)


def rows(page, table: str) -> list[tuple[str, ...]]:
    """A table of the map, as the owner reads it: each body row's cells (spaces as one space)."""
    cells = page.locator(f"#{table} tbody tr").evaluate_all(
        "rows => rows.map((row) => [...row.cells].map((cell) => cell.textContent))")
    return [tuple(" ".join(cell.split()) for cell in row) for row in cells]


def period(page) -> str:
    """How many sessions and page views the map reads ("2 sessions and 6 page views")."""
    return page.locator("#period").inner_text().split(":", 1)[1].split(".", 1)[0].strip()


def map_for(page, **choices: str) -> None:
    """The map with these filters chosen in its form (source, device, returning) and applied."""
    for name, value in choices.items():
        page.select_option(f"#id_{name}", value)
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()


def funnel(page) -> dict[str, tuple[str, str, str]]:
    """Each stage's visitors, those converted to the next stage and the conversion rate."""
    return {stage: (visitors, converted, rate) for stage, visitors, converted, rate, _median in rows(page, "funnel")}


def test_the_demo_shops_journey_map_shows_real_visitors_beside_the_simulated_ones_without_a_policy_violation(
        page, mobile_page, chromium, live_server, demo_site):
    # A reader finds the SEO article through a search engine and goes on to buy.
    shop_page(page, live_server, "blog/seo-basics/", referer="https://duckduckgo.com/")
    accept_consent(page)
    read(page, demo_site)
    reader = visitor_id(page)
    shop_page(page, live_server, "product/trail-shoe/", site=demo_site)
    buy(page, demo_site)
    # A searcher on a phone clicks a search ad straight to a product, and leaves.
    shop_page(mobile_page, live_server, "product/trail-shoe/" + SEARCH_AD)
    accept_consent(mobile_page)
    read(mobile_page, demo_site)
    searcher = visitor_id(mobile_page)
    # A visitor looks at a product, leaves, and comes back later to buy it.
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    try:
        buyer_page = context.new_page()
        shop_page(buyer_page, live_server, "")
        accept_consent(buyer_page)
        read(buyer_page, demo_site)
        buyer = visitor_id(buyer_page)
        shop_page(buyer_page, live_server, "product/merino-socks/", site=demo_site)
        idle_for(buyer_page, live_server, IDLE)
        shop_page(buyer_page, live_server, "product/trail-shoe/", site=demo_site)
        buy(buyer_page, demo_site)
        for visitor, views in ((reader, 5), (searcher, 1), (buyer, 6)):
            # The last page's events go out with the widget's next batch.
            wait_for_events(demo_site, "pageview", count=views, visitor_id=visitor, timeout=20)
    finally:
        context.set_offline(True)
        context.close()
    tally()
    assert len({view.session_id for view in events(demo_site, "pageview", visitor_id=buyer)}) == 2

    signed_in(page, live_server, get_user_model().objects.get(username="admin"))
    page.add_init_script(VIOLATIONS)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{live_server.url}{reverse('admin:campaigns_site_change', args=[demo_site.id])}")
    page.get_by_role("link", name="Journey map: where visitors come from, go and leave").click()

    # Everyone, simulated journeys included.
    flow = page.locator("#journey-flow svg.rt-sankey")
    expect(flow).to_be_visible()
    for label in ("Blog: SEO", "Product", "Cart", "Left the site"):
        expect(flow.locator(".rt-name", has_text=label).first).to_be_visible()
    expect(page.locator("#funnel tr[data-stage=retention]")).to_be_visible()
    expect(page.locator("#exits tr[data-label=Cart]")).to_be_visible()
    screenshot(page, "journey-map")
    sources = page.locator("#id_source option").evaluate_all("options => options.map((o) => o.value)")
    assert {"duckduckgo.com", "google/cpc", "direct"} <= set(sources)

    # The source filter picks out the search ad's visitor: one session on a phone, a product page and away.
    map_for(page, source="google/cpc", device="mobile")
    assert period(page) == "1 session and 1 page view"
    assert rows(page, "flow-links") == [("Step 1: Product", "Step 2: Left the site", "1", "100 %")]
    assert rows(page, "exits") == [("Product", "1", "1", "100 %")]
    assert funnel(page)["Consideration"] == ("1", "0", "0 %")
    assert funnel(page)["Decision"][0] == "0"

    # The reader: from the article to the order, every stage on the way converted to the next.
    map_for(page, source="duckduckgo.com", device="")
    assert period(page) == "1 session and 5 page views"
    assert rows(page, "flow-links") == [
        ("Step 1: Blog: SEO", "Step 2: Product", "1", "100 %"), ("Step 2: Product", "Step 3: Cart", "1", "100 %"),
        ("Step 3: Cart", "Step 4: Checkout", "1", "100 %"), ("Step 4: Checkout", "Step 5: Thank you", "1", "100 %")]
    assert rows(page, "entries") == [("Blog: SEO", "1", "1", "0", "0 %")]
    assert rows(page, "exits") == [("Thank you", "1", "1", "100 %")]
    assert {stage: row[:2] for stage, row in funnel(page).items()} == {
        "Awareness": ("1", "1"), "Consideration": ("1", "1"), "Decision": ("1", "1"), "Retention": ("1", "0"),
        "Advocacy": ("0", "–")}

    # The returning buyer (no referrer: direct): a first session left on a product, the second one bought.
    map_for(page, source="direct")
    assert period(page) == "2 sessions and 6 page views"
    assert set(rows(page, "flow-links")) == {
        ("Step 1: Home", "Step 2: Product", "1", "50 %"), ("Step 2: Product", "Step 3: Left the site", "1", "50 %"),
        ("Step 1: Product", "Step 2: Cart", "1", "50 %"), ("Step 2: Cart", "Step 3: Checkout", "1", "50 %"),
        ("Step 3: Checkout", "Step 4: Thank you", "1", "50 %"),
        ("Step 4: Thank you", "Step 5: Left the site", "1", "50 %")}
    assert rows(page, "exits") == [("Product", "1", "2", "50 %"), ("Thank you", "1", "1", "100 %")]
    assert [row[:3] for row in funnel(page).values()][:4] == [("1", "1", "100 %")] * 3 + [("1", "0", "0 %")]
    # Its second session alone, a returning visitor's, walked back from the order.
    map_for(page, returning="true")
    assert period(page) == "1 session and 4 page views"
    assert rows(page, "entries") == [("Product", "1", "1", "0", "0 %")]
    map_for(page, goal="Thank you")
    expect(page.get_by_role("heading", name="Sessions that reached Thank you, walked back")).to_be_visible()
    assert ("3 before: Product", "2 before: Cart", "1", "100 %") in rows(page, "flow-links")
    assert page.evaluate("window.__violations") == []
