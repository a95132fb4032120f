"""Revenue nobody can forge: values refused at collect beyond the site's maximum, and per-visitor capping in
results, the same in both folds of the tally."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from campaigns.models import Assignment, Event, RejectedEventCount, Site
from campaigns.selectors.counters import variant_totals
from campaigns.tally import drain as tally
from campaigns.tally import portable as tally_portable
from tests.campaigns.events_kit import event, now_ms, post_events
from tests.conftest import popup_campaign_create

DAY_MS = 86_400_000


def sql_fold() -> int:
    return tally.tally_drain()


def portable_fold() -> int:
    """The fold the SQLite demo runs, here on PostgreSQL: the same events, counted by the Python fold."""
    with transaction.atomic():
        tally.cursor_ensure()
        return tally_portable.tally_batch(batch_size=10_000)


FOLDS = [pytest.param(sql_fold, id="sql"), pytest.param(portable_fold, id="portable")]


@pytest.fixture
def shop(site):
    campaign = popup_campaign_create(site=site, name="Buy", goal={"type": "purchase", "attribution_days": 7})
    return campaign, list(campaign.variants.order_by("id"))


def purchase(visitor: str, value) -> dict:
    return event("conversion", visitor=visitor, data={"name": "purchase", "value": value})


def test_forged_purchases_are_refused_with_their_reason_and_add_nothing(client, site, shop):
    campaign, (a, _b) = shop
    assert post_events(client, site, [event("impression", campaign=campaign, variant=a, visitor="v",
                                            ts=now_ms() - DAY_MS)]).status_code == 202
    response = post_events(client, site, [purchase("v", 999_999_999.99), purchase("v", -999_999.99),
                                          purchase("v", 1e308), purchase("v", "12"), purchase("v", 40)])
    assert response.status_code == 202
    assert response.json()["rejected"] == [
        {"index": 0, "reason": "value_over_max"}, {"index": 1, "reason": "value"},
        {"index": 2, "reason": "value_over_max"}, {"index": 3, "reason": "value"},
    ]
    counts = dict(RejectedEventCount.objects.filter(site=site).values_list("reason", "count"))
    assert counts == {"value_over_max": 2, "value": 2}
    tally.tally_drain()
    assert variant_totals(campaign_id=campaign.id)[a.id]["revenue_sum"] == Decimal("40.00")


def test_the_maximum_order_value_is_the_sites_own(client, site, shop):
    site.max_order_value = Decimal("50")
    site.save()
    response = post_events(client, site, [purchase("v", 50), purchase("v", 50.01)])
    assert response.json()["rejected"] == [{"index": 1, "reason": "value_over_max"}]
    assert Event.objects.filter(site=site, type="conversion").count() == 1


def test_the_maximum_is_read_from_the_cached_site_map_not_per_request(client, site, shop):
    assert post_events(client, site, [purchase("v", 10)]).status_code == 202  # the site map is built and cached
    with CaptureQueriesContext(connection) as queries:
        response = post_events(client, site, [purchase("v", 100_000.01)])
    assert response.json()["rejected"] == [{"index": 0, "reason": "value_over_max"}]
    assert not [q["sql"] for q in queries if Site._meta.db_table in q["sql"] and "SELECT" in q["sql"]]


@pytest.mark.parametrize("fold", FOLDS)
def test_a_campaigns_revenue_cap_bounds_each_visitors_revenue_in_results(client, site, shop, fold):
    campaign, (a, _b) = shop
    campaign.revenue_cap = Decimal("100")
    campaign.save()
    start = now_ms() - DAY_MS
    post_events(client, site, [event("impression", campaign=campaign, variant=a, visitor=v, ts=start)
                               for v in ("whale", "small")])
    fold()
    post_events(client, site, [purchase("whale", 80), purchase("small", 30)])
    fold()
    post_events(client, site, [purchase("whale", 50), purchase("whale", 5000), purchase("small", 20)])
    fold()
    row = variant_totals(campaign_id=campaign.id)[a.id]
    # The whale counts 100 (not 5130), the small buyer all of their 50; squares per visitor: 100² + 50².
    assert row["revenue_sum"] == Decimal("150.00")
    assert row["revenue_sum_squares"] == Decimal("12500.0000")
    assert row["conversions"] == 5
    # What the visitor spent is kept whole: a cap raised later counts it from then on.
    assert Assignment.objects.get(campaign_id=campaign.id, visitor_id="whale").revenue == Decimal("5130.00")


@pytest.mark.parametrize("fold", FOLDS)
def test_without_a_cap_every_purchase_counts_whole(client, site, shop, fold):
    campaign, (a, _b) = shop
    post_events(client, site, [event("impression", campaign=campaign, variant=a, visitor="v", ts=now_ms() - DAY_MS)])
    fold()
    post_events(client, site, [purchase("v", 80), purchase("v", 5000)])
    fold()
    row = variant_totals(campaign_id=campaign.id)[a.id]
    assert (row["revenue_sum"], row["revenue_sum_squares"]) == (Decimal("5080.00"), Decimal("25806400.0000"))
