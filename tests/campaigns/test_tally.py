import datetime
import importlib
import uuid
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.models import Assignment, FunnelStep, Response, VariantDailyStats
from campaigns.selectors.counters import variant_totals
from campaigns.tally import drain as tally
from tests.campaigns.events_kit import event, now_ms, post_events
from tests.conftest import popup_campaign_create

# Every test here runs with each fold of the tally (tests/campaigns/conftest.py).
pytestmark = pytest.mark.usefixtures("tally_fold")

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


@pytest.fixture
def variants(campaign):
    return list(campaign.variants.order_by("id"))


def totals(campaign):
    return variant_totals(campaign_id=campaign.id)


def send(client, site, events):
    for start in range(0, len(events), 50):
        assert post_events(client, site, events[start : start + 50]).status_code == 202


def test_the_funnel_counts_events_and_unique_visitors(client, site, campaign, variants):
    a = variants[0]
    send(client, site, [
        event("exposure", campaign=campaign, variant=a, visitor="v1"),
        event("impression", campaign=campaign, variant=a, visitor="v1"),
        event("impression", campaign=campaign, variant=a, visitor="v1"),
        event("click", campaign=campaign, variant=a, visitor="v1"),
        event("impression", campaign=campaign, variant=a, visitor="v2"),
        event("close", campaign=campaign, variant=a, visitor="v2"),
    ])
    assert tally.tally_drain() == 6
    row = totals(campaign)[a.id]
    assert (row["exposed"], row["impressions"], row["impression_visitors"]) == (2, 3, 2)
    assert (row["clicks"], row["engaged_visitors"], row["closes"]) == (1, 1, 1)
    assert tally.tally_pending() == 0


def test_the_first_exposure_decides_the_assignment(client, site, campaign, variants):
    a, b = variants
    send(client, site, [event("exposure", campaign=campaign, variant=None, visitor="v1")])
    send(client, site, [event("impression", campaign=campaign, variant=b, visitor="v1")])
    tally.tally_drain()
    assert Assignment.objects.get(visitor_id="v1").variant_id is None
    assert totals(campaign)[None]["exposed"] == 1
    assert "exposed" not in totals(campaign).get(b.id, {}) or totals(campaign)[b.id]["exposed"] == 0


def test_a_purchase_is_attributed_to_the_variant_seen_within_the_window(client, site, variants):
    campaign = popup_campaign_create(site=site, name="Buy", goal={"type": "purchase", "attribution_days": 7})
    a, b = list(campaign.variants.order_by("id"))
    now = now_ms()
    send(client, site, [
        event("impression", campaign=campaign, variant=a, visitor="va", ts=now - 3 * DAY_MS),
        event("exposure", campaign=campaign, variant=None, visitor="vh", ts=now - 3 * DAY_MS),
        event("impression", campaign=campaign, variant=b, visitor="vb", ts=now - 3 * DAY_MS),
    ])
    send(client, site, [
        event("conversion", visitor="va", data={"name": "purchase", "value": 10}),
        event("conversion", visitor="va", data={"name": "purchase", "value": 20}),
        event("conversion", visitor="vh", data={"name": "purchase", "value": 5}),
        event("conversion", visitor="vb", data={"name": "signup"}),
        event("conversion", visitor="nobody", data={"name": "purchase", "value": 99}),
    ])
    tally.tally_drain()
    result = totals(campaign)
    assert (result[a.id]["conversions"], result[a.id]["converters"]) == (2, 1)
    assert result[a.id]["revenue_sum"] == Decimal("30.00")
    assert result[a.id]["revenue_sum_squares"] == Decimal("900.0000")  # per visitor: 30², not 10² + 20²
    assert (result[None]["conversions"], result[None]["revenue_sum"]) == (1, Decimal("5.00"))
    assert result[b.id]["conversions"] == 0


def test_a_conversion_after_the_attribution_window_is_not_credited(client, site):
    campaign = popup_campaign_create(site=site, name="Buy", goal={"type": "purchase", "attribution_days": 1})
    a = campaign.variants.order_by("id").first()
    now = now_ms()
    send(client, site, [event("impression", campaign=campaign, variant=a, visitor="v", ts=now - 3 * DAY_MS)])
    send(client, site, [event("conversion", visitor="v", data={"name": "purchase", "value": 1})])
    tally.tally_drain()
    assert totals(campaign)[a.id]["conversions"] == 0


def test_a_purchase_counted_before_its_exposure_reached_us_is_credited_once_the_exposure_arrives(client, site):
    campaign = popup_campaign_create(site=site, name="Buy", goal={"type": "purchase", "attribution_days": 7})
    a = campaign.variants.order_by("id").first()
    now = now_ms()
    # The batch with the purchase arrives and is counted first (a retried batch overtaken by a later one).
    send(client, site, [event("conversion", visitor="v", ts=now - 1000, data={"name": "purchase", "value": 12.5}),
                        event("conversion", visitor="early", ts=now - 9000, data={"name": "purchase", "value": 3})])
    assert tally.tally_drain() == 2
    assert totals(campaign) == {}
    send(client, site, [event("impression", campaign=campaign, variant=a, visitor="v", ts=now - 5000),
                        event("impression", campaign=campaign, variant=a, visitor="early", ts=now - 5000)])
    assert tally.tally_drain() == 2
    row = totals(campaign)[a.id]
    # v bought after seeing the popup: credited; "early" bought before seeing it: not.
    assert (row["conversions"], row["converters"], row["revenue_sum"]) == (1, 1, Decimal("12.50"))
    send(client, site, [event("impression", campaign=campaign, variant=a, visitor="v", ts=now)])
    tally.tally_drain()
    assert totals(campaign)[a.id]["conversions"] == 1  # credited once, not again with the next batch


def test_a_url_goal_counts_the_pageview_that_reaches_it(client, site):
    campaign = popup_campaign_create(
        site=site, name="Thanks", goal={"type": "url", "url": {"op": "starts_with", "value": "https://shop.example/thanks"}}
    )
    a = campaign.variants.order_by("id").first()
    send(client, site, [event("impression", campaign=campaign, variant=a, visitor="v", ts=now_ms() - 1000)])
    send(client, site, [
        event("pageview", visitor="v", url="https://shop.example/cart"),
        event("pageview", visitor="v", url="https://shop.example/thanks/order-1"),
    ])
    tally.tally_drain()
    assert (totals(campaign)[a.id]["conversions"], totals(campaign)[a.id]["converters"]) == (1, 1)


def test_a_url_goal_matches_the_full_url_with_its_case_sensitivity_as_the_widget_does(client, site):
    site.kept_query_params = [*site.kept_query_params, "step"]
    site.save(update_fields=["kept_query_params"])
    goal = {"type": "url", "url": {"op": "contains", "value": "step=Thanks", "case_sensitive": True}}
    campaign = popup_campaign_create(site=site, name="Thanks", goal=goal)
    a = campaign.variants.order_by("id").first()
    send(client, site, [event("impression", campaign=campaign, variant=a, visitor=v, ts=now_ms() - 1000)
                        for v in ("upper", "lower", "path")])
    send(client, site, [
        event("pageview", visitor="upper", url="https://shop.example/done?step=Thanks"),
        event("pageview", visitor="lower", url="https://shop.example/done?step=thanks"),
        event("pageview", visitor="path", url="https://shop.example/step=Thanks"),
    ])
    tally.tally_drain()
    # "upper" and "path" reach it: a path-only match would count only "path" (1), a match ignoring the case all 3.
    assert (totals(campaign)[a.id]["conversions"], totals(campaign)[a.id]["converters"]) == (2, 2)


def test_an_attribution_window_out_of_validations_bounds_counts_with_the_default(client, site):
    from campaigns.models import Campaign
    from campaigns.targeting import vocabulary as vocab

    campaign = popup_campaign_create(site=site, name="Buy", goal={"type": "purchase", "attribution_days": 7})
    # A goal stored before validation had its bounds: half a day is below the minimum, so the default window holds.
    Campaign.objects.filter(id=campaign.id).update(goal={"type": "purchase", "attribution_days": 0.5})
    a = campaign.variants.order_by("id").first()
    assert vocab.ATTRIBUTION_DAYS_DEFAULT > 3
    send(client, site, [event("impression", campaign=campaign, variant=a, visitor="v", ts=now_ms() - 3 * DAY_MS)])
    send(client, site, [event("conversion", visitor="v", data={"name": "purchase", "value": 1})])
    tally.tally_drain()
    assert totals(campaign)[a.id]["conversions"] == 1


def test_a_submit_goal_counts_the_submit_and_keeps_the_answers(client, site):
    campaign = popup_campaign_create(
        site=site, name="NPS", message_type="nps", goal={"type": "submit"},
        variants=[{"name": "A", "weight": 1, "content": {"question": "How likely?"}}],
    )
    a = campaign.variants.get()
    send(client, site, [
        event("impression", campaign=campaign, variant=a, visitor="v"),
        event("submit", campaign=campaign, variant=a, visitor="v",
              data={"form": "nps", "score": 9, "followup": "Fast shipping"}),
    ])
    tally.tally_drain()
    row = totals(campaign)[a.id]
    assert (row["submits"], row["submit_visitors"], row["engaged_visitors"], row["converters"]) == (1, 1, 1, 1)
    response = Response.objects.get()
    assert (response.form, response.score, response.followup) == ("nps", 9, "Fast shipping")


def test_a_counted_event_is_never_counted_again(client, site, campaign, variants):
    batch = [event("impression", campaign=campaign, variant=variants[0], visitor="v")]
    send(client, site, batch)
    tally.tally_drain()
    send(client, site, batch)  # the widget retried after a lost answer
    tally.tally_drain()
    assert totals(campaign)[variants[0].id]["impressions"] == 1


COUNTERS_UPSERT = f"INSERT INTO {VariantDailyStats._meta.db_table} "


@contextmanager
def crash_at_counters(error: Exception, *, after_write: bool = False):
    """The worker dies at the last write of a batch (both folds end with the daily counters' upsert): before the
    statement reaches the database, or after it ran and before the commit."""

    def wrapper(execute, sql, params, many, context):
        if not sql.lstrip().startswith(COUNTERS_UPSERT):
            return execute(sql, params, many, context)
        if after_write:
            execute(sql, params, many, context)
        raise error

    with connection.execute_wrapper(wrapper):
        yield


def test_a_crash_mid_batch_rolls_everything_back(client, site, campaign, variants):
    send(client, site, [event("impression", campaign=campaign, variant=variants[0], visitor=f"v{i}") for i in range(5)])
    with pytest.raises(RuntimeError), crash_at_counters(RuntimeError("worker died")):
        tally.tally_drain()
    assert tally.tally_pending() == 5
    assert not VariantDailyStats.objects.exists()
    assert not Assignment.objects.exists()
    tally.tally_drain()
    assert totals(campaign)[variants[0].id]["impression_visitors"] == 5


# The property: whatever the interleaving of batches, retries, duplicates and crashed drains,
# once everything is drained the counters equal the distinct accepted events.
POOL = 12
operations = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.lists(st.integers(0, POOL - 1), min_size=1, max_size=8)),
        st.tuples(st.just("drain"), st.integers(1, 6)),
        st.tuples(st.just("crash"), st.integers(1, 6)),
    ),
    max_size=12,
)


class _Crash(Exception):
    pass


class _Rollback(Exception):
    pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations, kinds=st.lists(st.sampled_from(["impression", "click", "close"]), min_size=POOL,
                                      max_size=POOL), visitors=st.lists(st.integers(0, 3), min_size=POOL,
                                                                        max_size=POOL))
def test_counts_are_exact_under_any_interleaving_of_batches_duplicates_and_crashes(
    client, site, campaign, variants, ops, kinds, visitors
):
    a = variants[0]
    pool = [
        event(kinds[i], campaign=campaign, variant=a, visitor=f"v{visitors[i]}", id=str(uuid.uuid4()))
        for i in range(POOL)
    ]
    sent: set[int] = set()
    try:
        with transaction.atomic():
            for op, arg in ops:
                if op == "send":
                    send(client, site, [pool[i] for i in arg])
                    sent.update(arg)
                elif op == "drain":
                    tally.tally_batch(batch_size=arg)
                elif tally.tally_pending():
                    with pytest.raises(_Crash), crash_at_counters(_Crash(), after_write=True):
                        tally.tally_batch(batch_size=arg)
            tally.tally_drain()
            row = totals(campaign).get(a.id, {})
            for kind, counter in (("impression", "impressions"), ("click", "clicks"), ("close", "closes")):
                assert (row.get(counter) or 0) == sum(1 for i in sent if kinds[i] == kind)
            expected_viewers = {visitors[i] for i in sent if kinds[i] == "impression"}
            assert (row.get("impression_visitors") or 0) == len(expected_viewers)
            expected_exposed = {visitors[i] for i in sent if kinds[i] == "impression"}
            assert (row.get("exposed") or 0) == len(expected_exposed)
            assert tally.tally_pending() == 0
            raise _Rollback
    except _Rollback:
        pass


def test_a_visitor_shown_another_variant_is_counted_once_and_warned_about(client, site, campaign, variants):
    from campaigns.results.campaign import campaign_results

    a, b = variants
    send(client, site, [
        event("impression", campaign=campaign, variant=a, visitor="v1"),
        event("impression", campaign=campaign, variant=b, visitor="v1"),
        event("impression", campaign=campaign, variant=b, visitor="v1"),
        event("impression", campaign=campaign, variant=a, visitor="v2"),
    ])
    tally.tally_drain()
    send(client, site, [event("impression", campaign=campaign, variant=b, visitor="v1")])  # a later batch
    tally.tally_drain()
    assert totals(campaign)[a.id]["mixed_visitors"] == 1  # booked under the assigned variant, once
    assert totals(campaign).get(b.id, {}).get("mixed_visitors", 0) == 0
    warnings = campaign_results(campaign=campaign)["comparison"]["warnings"]
    assert [w["code"] for w in warnings if w["code"] == "multiple_exposures"] == ["multiple_exposures"]


def test_a_first_impression_writes_its_step_on_the_assignment(client, site, campaign, variants):
    a = variants[0]
    send(client, site, [event("impression", campaign=campaign, variant=a, visitor="v1")])
    tally.tally_drain()
    assignment = Assignment.objects.get(visitor_id="v1")
    assert assignment.impression_on is not None and assignment.engaged_on is None
    assert not FunnelStep.objects.exists()


def test_a_step_reached_before_the_assignment_is_moved_onto_it_and_counted_once(client, site, campaign, variants):
    a = variants[0]
    send(client, site, [event("click", campaign=campaign, variant=a, visitor="v1")])  # its impression comes later
    tally.tally_drain()
    assert totals(campaign)[a.id]["engaged_visitors"] == 1
    send(client, site, [event("impression", campaign=campaign, variant=a, visitor="v1"),
                        event("click", campaign=campaign, variant=a, visitor="v1")])
    tally.tally_drain()
    send(client, site, [event("click", campaign=campaign, variant=a, visitor="v1")])
    tally.tally_drain()
    row = totals(campaign)[a.id]
    assert (row["exposed"], row["impression_visitors"], row["engaged_visitors"], row["clicks"]) == (1, 1, 1, 3)
    assert Assignment.objects.get(visitor_id="v1").engaged_on is not None
    assert not FunnelStep.objects.exists()


def test_a_step_on_another_variant_stays_a_funnel_row_and_counts_under_that_variant(client, site, campaign, variants):
    a, b = variants
    send(client, site, [event("impression", campaign=campaign, variant=a, visitor="v1"),
                        event("click", campaign=campaign, variant=b, visitor="v1")])
    tally.tally_drain()
    send(client, site, [event("click", campaign=campaign, variant=b, visitor="v1")])
    tally.tally_drain()
    assert totals(campaign)[b.id]["engaged_visitors"] == 1
    assert totals(campaign)[a.id].get("engaged_visitors", 0) == 0
    assert set(FunnelStep.objects.values_list("variant_id", flat=True)) == {b.id}  # engaged (and converted: a CTA)


def test_the_migration_moves_funnel_rows_of_the_assigned_variant_onto_the_assignment(site, campaign, variants):
    from django.apps import apps

    a, b = variants
    migration = importlib.import_module("campaigns.migrations.0011_assignment_funnel_steps")
    day = datetime.date(2026, 11, 30)
    Assignment.objects.create(site=site, campaign_id=campaign.id, variant_id=a.id, visitor_id="v1",
                              first_exposed_at=datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC))
    Assignment.objects.create(site=site, campaign_id=campaign.id, variant_id=None, visitor_id="h1",
                              first_exposed_at=datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC))
    FunnelStep.objects.bulk_create([
        FunnelStep(campaign_id=campaign.id, variant_id=a.id, visitor_id="v1", step="impression", day=day),
        FunnelStep(campaign_id=campaign.id, variant_id=a.id, visitor_id="v1", step="mixed", day=day),
        FunnelStep(campaign_id=campaign.id, variant_id=b.id, visitor_id="v1", step="impression", day=day),
        FunnelStep(campaign_id=campaign.id, variant_id=None, visitor_id="h1", step="converted", day=day),
        FunnelStep(campaign_id=campaign.id, variant_id=a.id, visitor_id="never-assigned", step="engaged", day=day),
    ])
    migration.steps_into_assignments(apps, None)
    v1 = Assignment.objects.get(visitor_id="v1")
    assert (v1.impression_on, v1.mixed_on, v1.engaged_on) == (day, day, None)
    assert Assignment.objects.get(visitor_id="h1").converted_on == day
    assert sorted(FunnelStep.objects.values_list("visitor_id", "variant_id")) == [
        ("never-assigned", a.id), ("v1", b.id)]
