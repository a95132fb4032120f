"""A/B results from the daily counters: selectors, verdict, SRM, uplift, sample size, and the admin pages."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse

from campaigns.models import Campaign, VariantDailyStats
from campaigns.results import calculator
from campaigns.results.campaign import SRM_SEGMENT, ResultsFilter, campaign_results, segments_present, wilson_interval
from campaigns.results.verdicts import SRM_HEADLINE, percent
from campaigns.selectors.config import site_config_build
from campaigns.services.results import WINNER_NOT_IN_CAMPAIGN, campaign_winner_declare
from tests.conftest import popup_campaign_create

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 2)


def ab_create(site, *, name="Exit popup", control_share=0.1, variants=("A", "B"), **fields):
    return popup_campaign_create(
        site=site, name=name, control_share=control_share, goal={"type": "purchase"},
        variants=[{"name": n, "weight": 50, "content": {"headline": f"Hello {n}"}} for n in variants], **fields,
    )


def counters(campaign, variant, day=DAY, **counts):
    """One day of counters for a variant (None: the holdout), as the tally would have written them."""
    return VariantDailyStats.objects.create(
        campaign_id=campaign.id, variant_id=None if variant is None else variant.id, day=day, **counts
    )


def arms_of(campaign):
    return list(campaign.variants.order_by("id"))


@pytest.fixture
def ab(site):
    return ab_create(site)


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def test_results_sum_the_daily_counters_of_each_variant_and_the_holdout(ab):
    a, b = arms_of(ab)
    counters(ab, a, exposed=100, impression_visitors=90, engaged_visitors=30, submit_visitors=10, converters=5,
             revenue_sum=50, revenue_sum_squares=600)
    counters(ab, a, DAY + timedelta(days=1), exposed=50, impression_visitors=45, converters=2)
    counters(ab, b, exposed=120, converters=9)
    counters(ab, None, exposed=30, converters=1)

    arms = {arm["name"]: arm for arm in campaign_results(campaign=ab)["arms"]}

    assert list(arms) == ["A", "B", "Holdout"]
    assert arms["A"]["funnel"] == {"exposed": 150, "impression_visitors": 135, "engaged_visitors": 30,
                                   "submit_visitors": 10, "converters": 7, "revenue": 50.0}
    assert arms["A"]["rates"]["conversion_rate"] == pytest.approx(7 / 150)
    assert arms["A"]["rates"]["revenue_per_visitor"] == pytest.approx(50 / 150)
    assert arms["B"]["funnel"]["converters"] == 9
    assert arms["Holdout"]["holdout"] and arms["Holdout"]["funnel"]["exposed"] == 30


def test_date_range_keeps_only_the_days_inside_it(ab):
    a, b = arms_of(ab)
    for offset in range(5):
        counters(ab, a, DAY + timedelta(days=offset), exposed=10, converters=1)
        counters(ab, b, DAY + timedelta(days=offset), exposed=10, converters=2)

    results = campaign_results(
        campaign=ab, filters=ResultsFilter(since=DAY + timedelta(days=1), until=DAY + timedelta(days=3))
    )

    assert results["arms"][0]["funnel"]["exposed"] == 30
    assert results["arms"][1]["funnel"]["converters"] == 6
    assert results["filters"]["first_day"] == DAY + timedelta(days=1)
    assert results["filters"]["last_day"] == DAY + timedelta(days=3)


def test_results_take_two_queries_whatever_the_number_of_variants_and_days(site, django_assert_num_queries):
    campaign = ab_create(site, variants=("A", "B", "C", "D", "E"))
    rows = [
        VariantDailyStats(campaign_id=campaign.id, variant_id=variant_id, day=DAY + timedelta(days=d),
                          exposed=100, converters=3 + d % 4)
        for variant_id in [v.id for v in campaign.variants.all()] + [None]
        for d in range(60)
    ]
    VariantDailyStats.objects.bulk_create(rows)

    with django_assert_num_queries(2):
        results = campaign_results(campaign=campaign)

    assert len(results["comparison"]["arms"]) == 5
    assert len(results["over_time"][0]["points"]) == 60


def segmented_counters(campaign):
    """A: 100 desktop/google new, 40 mobile/google returning, 10 mobile/direct new; B the same doubled."""
    for variant, scale in zip(arms_of(campaign), (1, 2), strict=True):
        counters(campaign, variant, device="desktop", source="google/cpc", returning=False,
                 exposed=100 * scale, converters=10 * scale)
        counters(campaign, variant, device="mobile", source="google/cpc", returning=True,
                 exposed=40 * scale, converters=8 * scale)
        counters(campaign, variant, DAY + timedelta(days=1), device="mobile", source="direct", returning=False,
                 exposed=10 * scale, converters=1 * scale)


@pytest.mark.parametrize(("segment", "exposed", "converters"), [
    ({}, 150, 19),
    ({"device": "mobile"}, 50, 9),
    ({"source": "google/cpc"}, 140, 18),
    ({"returning": False}, 110, 11),
    ({"returning": True}, 40, 8),
    ({"device": "mobile", "source": "direct", "returning": False}, 10, 1),
    ({"device": "tablet"}, 0, 0),
])
def test_results_filter_by_device_source_and_returning_in_two_queries(
    ab, segment, exposed, converters, django_assert_num_queries
):
    segmented_counters(ab)

    with django_assert_num_queries(2):
        results = campaign_results(campaign=ab, filters=ResultsFilter(**segment))

    a, b = results["arms"][:2]
    assert (a["funnel"]["exposed"], a["funnel"]["converters"]) == (exposed, converters)
    assert (b["funnel"]["exposed"], b["funnel"]["converters"]) == (2 * exposed, 2 * converters)
    assert {k: results["filters"][k] for k in ("device", "source", "returning")} == {
        "device": None, "source": None, "returning": None, **segment}


def test_segments_present_lists_the_values_of_the_counters_but_not_those_from_before_segments(ab):
    segmented_counters(ab)
    counters(ab, None, DAY + timedelta(days=3), exposed=5)  # counted before segments: no device, no source

    assert segments_present(campaign_id=ab.id) == {
        "device": ["desktop", "mobile"], "source": ["direct", "google/cpc"], "returning": [False, True]}


def test_on_a_segment_the_srm_check_is_informational_and_does_not_replace_the_verdict(ab):
    a, b = arms_of(ab)
    counters(ab, a, device="mobile", source="direct", exposed=5000, converters=100)
    counters(ab, b, device="mobile", source="direct", exposed=4000, converters=100)
    counters(ab, None, device="mobile", source="direct", exposed=1000, converters=20)

    whole = campaign_results(campaign=ab)
    segment = campaign_results(campaign=ab, filters=ResultsFilter(device="mobile"))

    assert whole["srm"]["mismatch"] and not whole["srm"]["informational"] and whole["verdict"] == SRM_HEADLINE
    assert segment["srm"]["mismatch"] and segment["srm"]["informational"]
    assert segment["srm"]["message"].endswith(str(SRM_SEGMENT))
    assert segment["verdict"] != SRM_HEADLINE


def test_comparison_is_the_calculator_with_the_campaigns_own_settings(site):
    campaign = ab_create(site, stats_engine="frequentist", stats_alpha=0.1, stats_sequential_tuning=4000,
                         stats_correction="holm", stats_difference="absolute", variants=("A", "B", "C"))
    a, b, c = arms_of(campaign)
    counters(campaign, a, exposed=5000, converters=250)
    counters(campaign, b, exposed=5100, converters=300)
    counters(campaign, c, exposed=4900, converters=240)

    comparison = campaign_results(campaign=campaign)["comparison"]

    spec = comparison["spec"]
    assert {k: spec[k] for k in ("engine", "difference", "alpha", "sequential_tuning", "correction")} == {
        "engine": "frequentist", "difference": "absolute", "alpha": 0.1, "sequential_tuning": 4000,
        "correction": "holm"}
    assert spec["arms"] == [{"name": "A", "visitors": 5000, "conversions": 250},
                            {"name": "B", "visitors": 5100, "conversions": 300},
                            {"name": "C", "visitors": 4900, "conversions": 240}]
    expected = calculator.calculate(spec)
    assert comparison["arms"] == expected["arms"]


def test_bayesian_prior_comes_from_the_campaign(site):
    campaign = ab_create(site, stats_engine="bayesian", stats_prior_mean=0.0, stats_prior_variance=0.01)
    a, b = arms_of(campaign)
    counters(campaign, a, exposed=1000, converters=50)
    counters(campaign, b, exposed=1000, converters=70)

    assert campaign_results(campaign=campaign)["comparison"]["spec"]["prior"] == {"mean": 0.0, "variance": 0.01}


def test_bayesian_verdict_says_how_likely_the_variant_beats_the_control(ab):
    a, b = arms_of(ab)
    counters(ab, a, exposed=10000, converters=1000)
    counters(ab, b, exposed=10000, converters=1080)
    counters(ab, None, exposed=2200, converters=180)

    results = campaign_results(campaign=ab)

    row = results["comparison"]["arms"][1]
    sentence = results["verdicts"][0]["sentence"]
    chance = f"{row['chance_to_win'] * 100:.0f} %"
    assert sentence.startswith(f"B is {chance} likely to beat A; +8 % relative, 95 % interval ")
    assert f"{percent(row['ci'][0], signed=True)} \u2026 {percent(row['ci'][1], signed=True)}" in sentence
    assert "more visitors per arm" in sentence and "for 80 % power to detect a 8 % lift" in sentence
    assert results["verdict"] == sentence


def test_frequentist_verdict_gives_the_p_value_and_whether_it_is_significant(site):
    campaign = ab_create(site, stats_engine="frequentist")
    a, b = arms_of(campaign)
    counters(campaign, a, exposed=20000, converters=2000)
    counters(campaign, b, exposed=20000, converters=2300)

    sentence = campaign_results(campaign=campaign)["verdicts"][0]["sentence"]

    assert sentence.startswith("B vs A: +15 % relative, 95 % interval ")
    assert "significant at \u03b1 = 0.05" in sentence and "not significant" not in sentence
    assert "enough visitors for 80 % power" in sentence


def test_verdict_says_there_is_no_result_yet_when_the_control_has_no_conversions(ab):
    a, b = arms_of(ab)
    counters(ab, a, exposed=100, converters=0)
    counters(ab, b, exposed=100, converters=3)

    sentence = campaign_results(campaign=ab)["verdicts"][0]["sentence"]

    assert sentence == "B vs A: no result yet; A has no conversions yet, so a relative lift is undefined."


def test_a_campaign_with_one_variant_and_no_holdout_has_nothing_to_compare(site):
    campaign = ab_create(site, control_share=0, variants=("A",))
    counters(campaign, arms_of(campaign)[0], exposed=100, converters=3)

    results = campaign_results(campaign=campaign)

    assert results["comparison"] is None
    assert results["verdict"].startswith("Nothing to compare yet")


def test_a_single_variant_is_compared_with_the_holdout(site):
    campaign = ab_create(site, variants=("A",))
    counters(campaign, arms_of(campaign)[0], exposed=9000, converters=450)
    counters(campaign, None, exposed=1000, converters=30)

    results = campaign_results(campaign=campaign)

    assert results["control"] == "Holdout"
    assert [arm["name"] for arm in results["comparison"]["arms"]] == ["Holdout", "A"]


def test_srm_banner_when_visitors_do_not_match_the_configured_split(ab):
    a, b = arms_of(ab)
    counters(ab, a, exposed=5000, converters=100)
    counters(ab, b, exposed=4000, converters=100)
    counters(ab, None, exposed=1000, converters=20)

    results = campaign_results(campaign=ab)

    assert results["srm"]["mismatch"] is True
    assert results["srm"]["p_value"] < 0.001
    assert results["verdict"] == SRM_HEADLINE
    assert all(w["code"] != "srm" for w in results["comparison"]["warnings"])  # one banner, not two


def test_srm_check_includes_the_holdout_share(ab):
    a, b = arms_of(ab)
    counters(ab, a, exposed=4500, converters=100)
    counters(ab, b, exposed=4500, converters=100)
    counters(ab, None, exposed=3000, converters=20)  # 25 % held out where 10 % is configured

    assert campaign_results(campaign=ab)["srm"]["mismatch"] is True


def test_matching_split_passes_the_srm_check(ab):
    a, b = arms_of(ab)
    counters(ab, a, exposed=4500, converters=100)
    counters(ab, b, exposed=4520, converters=100)
    counters(ab, None, exposed=1000, converters=20)

    srm = campaign_results(campaign=ab)["srm"]

    assert srm["mismatch"] is False and srm["p_value"] > 0.5


def test_no_srm_check_once_a_winner_is_declared(ab):
    a, b = arms_of(ab)
    counters(ab, a, exposed=5000, converters=100)
    counters(ab, b, exposed=100, converters=10)
    campaign = campaign_winner_declare(campaign=ab, variant=b)

    results = campaign_results(campaign=campaign)

    assert results["srm"]["p_value"] is None and not results["srm"]["mismatch"]
    assert results["verdict"].startswith("B was declared the winner on ")


def test_uplift_against_the_holdout_counts_the_extra_conversions(ab):
    a, b = arms_of(ab)
    counters(ab, a, exposed=4500, converters=225, revenue_sum=4500, revenue_sum_squares=200000)
    counters(ab, b, exposed=4500, converters=270, revenue_sum=5400, revenue_sum_squares=240000)
    counters(ab, None, exposed=1000, converters=30, revenue_sum=600, revenue_sum_squares=30000)

    uplift = {row["arm"]: row for row in campaign_results(campaign=ab)["uplift"]}

    assert uplift["A"]["incremental_conversions"] == pytest.approx((0.05 - 0.03) * 4500)
    assert uplift["B"]["conversion"]["expected"] == pytest.approx(0.06 / 0.03 - 1)
    assert uplift["B"]["incremental_revenue"] == pytest.approx((1.2 - 0.6) * 4500)
    assert uplift["B"]["revenue"]["expected"] == pytest.approx(1.2 / 0.6 - 1)


def test_no_uplift_without_a_holdout(site):
    campaign = ab_create(site, control_share=0)
    a, b = arms_of(campaign)
    counters(campaign, a, exposed=100, converters=3)
    counters(campaign, b, exposed=100, converters=4)

    assert campaign_results(campaign=campaign)["uplift"] is None


def test_sample_size_remaining_is_measured_against_todays_traffic(ab):
    a, b = arms_of(ab)
    for offset in range(10):
        counters(ab, a, DAY + timedelta(days=offset), exposed=100, converters=10)
        counters(ab, b, DAY + timedelta(days=offset), exposed=100, converters=11)

    sample = campaign_results(campaign=ab, filters=ResultsFilter(mde=0.1))["sample_size"]

    plan = sample["arms"][0]
    per_arm = calculator.calculate({"arms": [{"name": "A", "visitors": 1000, "conversions": 100},
                                             {"name": "B", "visitors": 1000, "conversions": 110}],
                                    "mde": 0.1})["sample_size"]["per_arm"]
    assert plan["per_arm"] == per_arm
    assert plan["remaining"] == per_arm - 1000
    assert sample["daily_visitors"]["A"] == 100
    assert plan["days_remaining"] == -(-(per_arm - 1000) // 100)
    assert sample["mde_source"] == "chosen"


def test_sample_size_plans_for_the_observed_lift_by_default(ab):
    a, b = arms_of(ab)
    counters(ab, a, exposed=1000, converters=100)
    counters(ab, b, exposed=1000, converters=120)

    sample = campaign_results(campaign=ab)["sample_size"]

    assert sample["arms"][0]["mde"] == pytest.approx(0.2)
    assert sample["mde_source"] == "observed"


def test_counters_of_a_deleted_variant_are_shown_but_not_compared(ab):
    a, b = arms_of(ab)
    counters(ab, a, exposed=100, converters=3)
    counters(ab, b, exposed=100, converters=4)
    VariantDailyStats.objects.create(campaign_id=ab.id, variant_id=999999, day=DAY, exposed=50, converters=1)

    results = campaign_results(campaign=ab)

    assert [arm["name"] for arm in results["arms"]] == ["A", "B", "Deleted variant #999999", "Holdout"]
    assert [arm["name"] for arm in results["comparison"]["arms"]] == ["A", "B"]


def test_two_variants_with_the_same_name_get_distinct_labels(site):
    campaign = ab_create(site, variants=("A", "A"))
    first, second = arms_of(campaign)
    counters(campaign, first, exposed=100, converters=3)
    counters(campaign, second, exposed=100, converters=4)

    assert [arm["name"] for arm in campaign_results(campaign=campaign)["arms"]] == ["A (1)", "A (2)", "Holdout"]


def test_rate_over_time_is_cumulative_with_an_interval(ab):
    a, _ = arms_of(ab)
    counters(ab, a, DAY, exposed=100, converters=10)
    counters(ab, a, DAY + timedelta(days=1), exposed=100, converters=20)

    points = campaign_results(campaign=ab)["over_time"][0]["points"]

    assert [(p["day"], p["rate"]) for p in points] == [(DAY, 0.1), (DAY + timedelta(days=1), 0.15)]
    assert points[1]["low"] < 0.15 < points[1]["high"]


def test_a_range_with_a_conversion_but_not_the_exposure_never_shows_more_converters_than_visitors(ab):
    a, b = arms_of(ab)
    counters(ab, a, exposed=2, converters=5)
    counters(ab, b, exposed=10, converters=1)

    spec = campaign_results(campaign=ab)["comparison"]["spec"]

    assert spec["arms"][0] == {"name": "A", "visitors": 2, "conversions": 2}


@pytest.mark.parametrize(("conversions", "visitors"), [(0, 10), (10, 10), (50, 1000)])
def test_wilson_interval_stays_within_0_and_1_and_holds_the_rate(conversions, visitors):
    low, high = wilson_interval(conversions=conversions, visitors=visitors, alpha=0.05)
    assert 0 <= low <= conversions / visitors <= high <= 1


def test_declaring_a_winner_sends_all_traffic_to_it(ab):
    a, b = arms_of(ab)
    Campaign.objects.filter(pk=ab.pk).update(status="active")

    campaign_winner_declare(campaign=ab, variant=b)

    config = site_config_build(site=ab.site, now=ab.created_at + timedelta(seconds=1))
    entry = next(c for c in config["campaigns"] if c["id"] == ab.id)
    assert [v["weight"] for v in entry["variants"]] == [0, 100]
    assert entry["control_share"] == 0.0
    ab.refresh_from_db()
    assert ab.winner_id == b.id and ab.winner_declared_at is not None


def test_a_variant_of_another_campaign_cannot_be_declared_the_winner(ab, site):
    other = ab_create(site, name="Other")

    with pytest.raises(Exception, match=WINNER_NOT_IN_CAMPAIGN):
        campaign_winner_declare(campaign=ab, variant=arms_of(other)[0])


# --- Admin pages ---

def test_results_page_shows_the_verdict_the_funnel_and_the_charts(owner_client, ab):
    a, b = arms_of(ab)
    for offset in (0, 1):
        counters(ab, a, DAY + timedelta(days=offset), exposed=5000, impression_visitors=4500, converters=500)
        counters(ab, b, DAY + timedelta(days=offset), exposed=5000, impression_visitors=4550, converters=540)
        counters(ab, None, DAY + timedelta(days=offset), exposed=1100, converters=90)

    response = owner_client.get(reverse("admin:campaigns_campaign_results", args=[ab.id]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "B is " in body and " likely to beat A; +8 % relative" in body
    assert 'id="arms"' in body and "10,000" in body
    assert '<div class="rt-chart" id="chart-over-time"><svg' in body and "<polygon" in body  # the interval band
    assert '<div class="rt-chart" id="chart-funnel"><svg' in body and "Reached the goal" in body
    assert 'id="uplift"' in body and "Declare B the winner" in body


def test_results_page_filters_by_date(owner_client, ab):
    a, _ = arms_of(ab)
    counters(ab, a, DAY, exposed=111)
    counters(ab, a, DAY + timedelta(days=5), exposed=222)

    url = reverse("admin:campaigns_campaign_results", args=[ab.id])
    body = owner_client.get(url, {"since": (DAY + timedelta(days=1)).isoformat()}).content.decode()

    assert ">222<" in body and ">333<" not in body


def test_results_page_filters_by_segment_with_select_boxes_of_the_values_present(owner_client, ab):
    segmented_counters(ab)
    url = reverse("admin:campaigns_campaign_results", args=[ab.id])

    whole = owner_client.get(url).content.decode()
    mobile = owner_client.get(url, {"device": "mobile", "returning": "true"}).content.decode()

    assert '<select name="device"' in whole and '<option value="mobile">Mobile</option>' in whole
    assert '<option value="google/cpc">google/cpc</option>' in whole
    assert '<option value="true">Returning</option>' in whole
    assert ">150<" in whole and 'id="segment"' not in whole
    assert ">40<" in mobile and ">150<" not in mobile
    assert "Segment: mobile, any source, returning visitors" in mobile
    assert "device=mobile" in mobile  # the CSV link keeps the filters


def test_results_page_shows_an_informational_srm_note_on_a_segment(owner_client, ab):
    a, b = arms_of(ab)
    counters(ab, a, device="mobile", source="direct", exposed=5000, converters=100)
    counters(ab, b, device="mobile", source="direct", exposed=4000, converters=100)
    url = reverse("admin:campaigns_campaign_results", args=[ab.id])

    body = owner_client.get(url, {"device": "mobile"}).content.decode()

    assert 'id="srm-banner"' not in body and 'id="srm-note"' in body and "informational" in body


def test_results_page_names_a_segment_value_the_campaign_does_not_have(owner_client, ab):
    segmented_counters(ab)

    body = owner_client.get(reverse("admin:campaigns_campaign_results", args=[ab.id]), {"device": "fridge"}).content

    assert b"Select a valid choice." in body


def test_results_csv_of_the_page_has_the_segment_columns_and_follows_the_segment(owner_client, ab):
    segmented_counters(ab)
    url = reverse("admin:campaigns_campaign_export", args=[ab.id, "results"])

    text = b"".join(owner_client.get(url, {"source": "google/cpc"}).streaming_content).decode().lstrip("\ufeff")

    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    assert header[-3:] == ["device", "source", "returning"]
    assert sorted((r[2], r[-3], r[-1], r[header.index("exposed")]) for r in rows) == [
        ("A", "desktop", "no", "100"), ("A", "mobile", "yes", "40"),
        ("B", "desktop", "no", "200"), ("B", "mobile", "yes", "80")]


def test_results_page_of_a_campaign_without_counters_still_renders(owner_client, ab):
    response = owner_client.get(reverse("admin:campaigns_campaign_results", args=[ab.id]))
    assert response.status_code == 200
    assert "No counters in this range yet." in response.content.decode()


def test_results_page_shows_the_srm_banner(owner_client, ab):
    a, b = arms_of(ab)
    counters(ab, a, exposed=5000, converters=100)
    counters(ab, b, exposed=4000, converters=100)

    body = owner_client.get(reverse("admin:campaigns_campaign_results", args=[ab.id])).content.decode()

    assert 'id="srm-banner"' in body and "Sample ratio mismatch" in body


@pytest.mark.parametrize("view", ["results", "nps", "feedback", "leads", "consent"])
def test_every_results_page_of_another_owners_campaign_is_404(owner_client, outsider_site, view):
    other = ab_create(outsider_site)
    response = owner_client.get(reverse(f"admin:campaigns_campaign_{view}", args=[other.id]))
    assert response.status_code == 404


def test_the_declare_winner_button_sets_the_winner(owner_client, ab):
    _, b = arms_of(ab)

    response = owner_client.post(reverse("admin:campaigns_campaign_winner", args=[ab.id]), {"variant": b.id})

    assert response.status_code == 302
    ab.refresh_from_db()
    assert ab.winner_id == b.id
    body = owner_client.get(response["Location"]).content.decode()
    assert "B was declared the winner" in body and "Withdraw the winner" in body


def test_the_winner_can_be_withdrawn(owner_client, ab):
    campaign_winner_declare(campaign=ab, variant=arms_of(ab)[1])

    owner_client.post(reverse("admin:campaigns_campaign_winner", args=[ab.id]), {"clear": "1"})

    ab.refresh_from_db()
    assert ab.winner_id is None and ab.winner_declared_at is None


def test_a_winner_cannot_be_declared_on_another_owners_campaign(owner_client, outsider_site):
    other = ab_create(outsider_site)

    response = owner_client.post(reverse("admin:campaigns_campaign_winner", args=[other.id]),
                                 {"variant": arms_of(other)[0].id})

    assert response.status_code == 404
    other.refresh_from_db()
    assert other.winner_id is None


def test_a_variant_of_another_campaign_cannot_win_through_the_button(owner_client, ab, outsider_site):
    other = ab_create(outsider_site)

    response = owner_client.post(reverse("admin:campaigns_campaign_winner", args=[ab.id]),
                                 {"variant": arms_of(other)[0].id})

    assert response.status_code == 404
    ab.refresh_from_db()
    assert ab.winner_id is None


def test_declaring_a_winner_needs_a_post(owner_client, ab):
    response = owner_client.get(reverse("admin:campaigns_campaign_winner", args=[ab.id]))
    assert response.status_code == 405


def test_calculator_page_computes_a_spec(owner_client):
    response = owner_client.post(reverse("admin:campaigns_campaign_calculator"), {
        "metric": "binomial", "engine": "frequentist", "difference": "relative", "alpha": "0.05",
        "correction": "none", "power": "0.8", "mde": "0.1",
        "arms": "control, 10000, 1000\npopup B, 10050, 1100",
    })

    body = response.content.decode()
    assert response.status_code == 200
    assert "popup B" in body and "+9.5 %" in body
    assert "Sample size for 80 % power: 16,232" in body  # docs/stats.md: baseline 10 %, +10 % relative


def test_calculator_page_names_the_bad_field(owner_client):
    response = owner_client.post(reverse("admin:campaigns_campaign_calculator"), {
        "metric": "binomial", "engine": "bayesian", "difference": "relative", "alpha": "0.05",
        "correction": "none", "arms": "control, 100, 10\nB, 100, 200",
    })

    assert "arms[1].conversions: must not exceed visitors" in response.content.decode()


def test_calculator_page_is_prefilled_from_a_campaign(owner_client, ab):
    a, b = arms_of(ab)
    counters(ab, a, exposed=1234, converters=56)
    counters(ab, b, exposed=1200, converters=60)

    body = owner_client.get(reverse("admin:campaigns_campaign_calculator"), {"campaign": ab.id}).content.decode()

    assert "A, 1234, 56" in body and "B, 1200, 60" in body


def test_calculator_page_does_not_prefill_from_another_owners_campaign(owner_client, outsider_site):
    other = ab_create(outsider_site)
    response = owner_client.get(reverse("admin:campaigns_campaign_calculator"), {"campaign": other.id})
    assert response.status_code == 404


def test_the_campaign_change_page_links_to_its_results(owner_client, ab):
    body = owner_client.get(reverse("admin:campaigns_campaign_change", args=[ab.id])).content.decode()
    assert reverse("admin:campaigns_campaign_results", args=[ab.id]) in body
