from datetime import date

import numpy as np
import pytest
from django.core.cache import cache

from campaigns.models import AllocationChange, VariantDailyStats
from campaigns.selectors.config import config_cache_key, site_config_get
from campaigns.services.allocation import MIN_SHARE, allocation_update, shares_floored, thompson_shares
from campaigns.tasks import allocation_update as allocation_update_task
from tests.conftest import popup_campaign_create


@pytest.fixture
def auto_campaign(site):
    return popup_campaign_create(site=site, name="Auto", allocation_mode="auto", control_share=0.2)


def stats(campaign, variant, *, exposed: int, converters: int) -> None:
    VariantDailyStats.objects.create(
        campaign_id=campaign.id, variant_id=variant.id if variant else None, day=date(2026, 1, 1),
        exposed=exposed, converters=converters, conversions=converters,
    )


def test_the_clear_winner_gets_most_traffic_and_the_loser_keeps_its_floor(auto_campaign):
    a, b = auto_campaign.variants.order_by("id")
    stats(auto_campaign, a, exposed=1000, converters=50)
    stats(auto_campaign, b, exposed=1000, converters=120)
    stats(auto_campaign, None, exposed=500, converters=10)
    site_config_get(public_key=auto_campaign.site.public_key)
    change = allocation_update(campaign=auto_campaign, rng=np.random.default_rng(1))
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.weight, b.weight) == (100, 900)
    assert change.weights_before == {str(a.id): 50, str(b.id): 50}
    assert change.weights_after == {str(a.id): 100, str(b.id): 900}
    auto_campaign.refresh_from_db()
    assert auto_campaign.control_share == 0.2  # the holdout is never reweighted
    assert cache.get(config_cache_key(auto_campaign.site.public_key)) is None  # the widget sees the new weights


def test_nothing_moves_before_every_variant_has_a_hundred_exposed_visitors(auto_campaign):
    a, b = auto_campaign.variants.order_by("id")
    stats(auto_campaign, a, exposed=1000, converters=50)
    stats(auto_campaign, b, exposed=99, converters=60)
    assert allocation_update(campaign=auto_campaign, rng=np.random.default_rng(1)) is None
    assert not AllocationChange.objects.exists()


def test_a_fixed_campaign_is_never_reweighted(campaign):
    a, b = campaign.variants.order_by("id")
    stats(campaign, a, exposed=1000, converters=1)
    stats(campaign, b, exposed=1000, converters=500)
    assert allocation_update(campaign=campaign) is None


def test_equal_variants_get_about_equal_shares():
    shares = thompson_shares(exposed=[5000, 5000, 5000], converters=[250, 250, 250], rng=np.random.default_rng(3))
    assert all(abs(s - 1 / 3) < 0.1 for s in shares)
    assert abs(sum(shares) - 1) < 1e-9


@pytest.mark.parametrize("p_best", [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0] * 12])
def test_every_variant_keeps_at_least_its_minimum_share(p_best):
    shares = shares_floored(p_best=p_best, floor=MIN_SHARE)
    assert abs(sum(shares) - 1) < 1e-9
    assert min(shares) >= min(MIN_SHARE, 1 / len(p_best)) - 1e-12


def test_the_beat_task_updates_every_automatic_campaign(auto_campaign):
    a, b = auto_campaign.variants.order_by("id")
    stats(auto_campaign, a, exposed=2000, converters=10)
    stats(auto_campaign, b, exposed=2000, converters=200)
    allocation_update_task.delay()
    assert AllocationChange.objects.filter(campaign_id=auto_campaign.id).count() == 1
