"""campaigns.stats checked against values computed another way: scipy's own tests,
numerical integration, Monte Carlo, textbook examples and duality properties.
The gbstats reference table is checked in test_calculator.py."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy import stats as sps

from campaigns import stats

TOL = 1e-7


def mean_arm_from(values) -> stats.Arm:
    values = np.asarray(values, dtype=float)
    return stats.mean_arm(visitors=len(values), total=values.sum(), total_squares=(values**2).sum())


def test_absolute_welch_test_matches_scipy_ttest_on_raw_data():
    rng = np.random.default_rng(7)
    control = rng.gamma(2.0, 15.0, size=40)
    variant = rng.gamma(2.3, 15.0, size=55)
    result = stats.frequentist_test(a=mean_arm_from(control), b=mean_arm_from(variant), relative=False, alpha=0.1)
    reference = sps.ttest_ind(variant, control, equal_var=False)
    assert result.p_value == pytest.approx(reference.pvalue, abs=TOL)
    assert result.ci == pytest.approx(tuple(reference.confidence_interval(0.9)), abs=TOL)
    assert result.expected == pytest.approx(variant.mean() - control.mean(), abs=TOL)


def test_binomial_welch_test_matches_scipy_with_population_variance():
    a = stats.binomial_arm(visitors=1200, conversions=96)
    b = stats.binomial_arm(visitors=1180, conversions=121)
    reference = sps.ttest_ind_from_stats(
        b.mean, math.sqrt(b.mean * (1 - b.mean)), 1180, a.mean, math.sqrt(a.mean * (1 - a.mean)), 1200, equal_var=False
    )
    assert stats.frequentist_test(a=a, b=b, relative=False).p_value == pytest.approx(reference.pvalue, abs=TOL)


def test_relative_variance_is_the_delta_method_gradient_form():
    a = stats.binomial_arm(visitors=5000, conversions=400)
    b = stats.binomial_arm(visitors=5100, conversions=470)
    estimate, variance = stats.difference(a=a, b=b, relative=True)
    gradient = np.array([-b.mean / a.mean**2, 1 / a.mean])
    covariance = np.diag([a.variance / a.n, b.variance / b.n])
    assert estimate == pytest.approx(b.mean / a.mean - 1, abs=1e-12)
    assert variance == pytest.approx(gradient @ covariance @ gradient, rel=1e-12)


def test_relative_interval_covers_the_true_lift_about_95_percent_of_the_time():
    rng = np.random.default_rng(11)
    covered = 0
    for _ in range(2000):
        ca, cb = rng.binomial(4000, 0.05), rng.binomial(4000, 0.06)
        result = stats.frequentist_test(
            a=stats.binomial_arm(visitors=4000, conversions=int(ca)),
            b=stats.binomial_arm(visitors=4000, conversions=int(cb)),
        )
        covered += result.ci[0] <= 0.2 <= result.ci[1]
    assert 0.93 < covered / 2000 < 0.97


@settings(max_examples=200, deadline=None)
@given(
    n_a=st.integers(2, 10**6),
    n_b=st.integers(2, 10**6),
    rate_a=st.floats(0.001, 0.999),
    rate_b=st.floats(0.001, 0.999),
    alpha=st.sampled_from([0.01, 0.05, 0.1]),
    tuning=st.sampled_from([100, 5000, 10**5]),
)
def test_sequential_p_value_is_below_alpha_exactly_when_the_interval_excludes_zero(
    n_a, n_b, rate_a, rate_b, alpha, tuning
):
    a = stats.binomial_arm(visitors=n_a, conversions=max(1, min(n_a - 1, round(n_a * rate_a))))
    b = stats.binomial_arm(visitors=n_b, conversions=max(1, min(n_b - 1, round(n_b * rate_b))))
    result = stats.frequentist_test(a=a, b=b, alpha=alpha, sequential_tuning=tuning)
    lo, hi = result.ci
    margin = 1e-9 * max(1.0, abs(lo), abs(hi))
    if lo > margin or hi < -margin:
        assert result.p_value < alpha * (1 + 1e-6)
    elif lo < -margin and hi > margin:
        assert result.p_value > alpha * (1 - 1e-6)
    assert 0 <= result.p_value <= 1


def test_sequential_interval_is_wider_than_the_fixed_horizon_one():
    a = stats.binomial_arm(visitors=20000, conversions=1000)
    b = stats.binomial_arm(visitors=20000, conversions=1100)
    fixed = stats.frequentist_test(a=a, b=b)
    sequential = stats.frequentist_test(a=a, b=b, sequential_tuning=stats.DEFAULT_SEQUENTIAL_TUNING)
    assert sequential.expected == fixed.expected
    assert sequential.ci[1] - sequential.ci[0] > fixed.ci[1] - fixed.ci[0]
    assert sequential.p_value > fixed.p_value


def test_huge_effect_gives_a_zero_sequential_p_value_not_an_overflow():
    a = stats.binomial_arm(visitors=10**7, conversions=10**5)
    b = stats.binomial_arm(visitors=10**7, conversions=9 * 10**5)
    assert stats.frequentist_test(a=a, b=b, sequential_tuning=5000).p_value == 0.0


def test_flat_prior_chance_to_win_is_the_normal_probability_of_a_positive_lift():
    a = stats.binomial_arm(visitors=3000, conversions=300)
    b = stats.binomial_arm(visitors=3000, conversions=335)
    estimate, variance = stats.difference(a=a, b=b, relative=True)
    result = stats.bayesian_test(a=a, b=b)
    assert result.chance_to_win == pytest.approx(sps.norm.sf(0, estimate, math.sqrt(variance)), abs=TOL)
    assert result.chance_to_win == pytest.approx(sps.norm.cdf(estimate / math.sqrt(variance)), abs=TOL)


def test_normal_prior_shrinks_the_lift_as_a_precision_weighted_average():
    a = stats.binomial_arm(visitors=800, conversions=40)
    b = stats.binomial_arm(visitors=800, conversions=56)
    data_mean, data_var = stats.difference(a=a, b=b, relative=True)
    prior = stats.Prior(mean=0.05, variance=0.04)
    shrink = prior.variance / (prior.variance + data_var)
    posterior_mean = prior.mean + shrink * (data_mean - prior.mean)
    posterior_sd = math.sqrt(shrink * data_var)
    result = stats.bayesian_test(a=a, b=b, prior=prior, alpha=0.1)
    assert result.expected == pytest.approx(posterior_mean, abs=TOL)
    assert result.ci == pytest.approx(
        (posterior_mean - 1.6448536 * posterior_sd, posterior_mean + 1.6448536 * posterior_sd), abs=1e-6
    )
    assert abs(result.expected) < abs(data_mean)


@pytest.mark.parametrize("mean, sd", [(0.1, 0.05), (-0.02, 0.1), (0.0, 1.0), (3.0, 0.5), (-4.0, 0.7)])
def test_risk_matches_numerical_integration_of_the_expected_loss(mean, sd):
    def density(x):
        return sps.norm.pdf(x, mean, sd)

    keep_control = integrate.quad(lambda x: x * density(x), 0, np.inf)[0]
    ship_variant = integrate.quad(lambda x: -x * density(x), -np.inf, 0)[0]
    assert stats.gaussian_risk(mean=mean, sd=sd) == pytest.approx((keep_control, ship_variant), abs=1e-7)


def test_srm_matches_scipy_chisquare_and_leaves_weight_zero_arms_out():
    visitors, weights = [5000, 5400, 300, 2700], [2, 2, 0, 1]
    reference = sps.chisquare([5000, 5400, 2700], f_exp=np.array([2, 2, 1]) / 5 * 13100)
    assert stats.srm_p_value(visitors=visitors, weights=weights) == pytest.approx(reference.pvalue, rel=1e-9)


def test_srm_is_undefined_with_a_single_weighted_arm_and_one_without_visitors():
    assert stats.srm_p_value(visitors=[10, 20], weights=[1, 0]) is None
    assert stats.srm_p_value(visitors=[0, 0, 0], weights=[1, 1, 1]) == 1.0


def test_holm_and_bh_match_the_textbook_example():
    p = [0.01, 0.04, 0.03, 0.005]
    assert stats.adjust_p_values(p_values=p, method="holm") == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.adjust_p_values(p_values=p, method="bh") == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert stats.adjust_p_values(p_values=p, method="none") == p


def holm_rejects(p_values, alpha):
    """Holm's step-down procedure, as stated: reject in order while p_(k) <= alpha / (m - k)."""
    m, rejected = len(p_values), set()
    for k, i in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        if p_values[i] > alpha / (m - k):
            break
        rejected.add(i)
    return rejected


@settings(max_examples=200, deadline=None)
@given(p=st.lists(st.floats(0, 1), min_size=1, max_size=12), alpha=st.floats(0.001, 0.2))
def test_adjusted_p_values_reject_the_same_hypotheses_as_the_procedures(p, alpha):
    holm = stats.adjust_p_values(p_values=p, method="holm")
    assert {i for i, q in enumerate(holm) if q <= alpha} == holm_rejects(p, alpha)
    bh = stats.adjust_p_values(p_values=p, method="bh")
    assert bh == pytest.approx(list(sps.false_discovery_control(p, method="bh")), abs=1e-12)


def test_undefined_p_values_are_left_out_of_the_adjustment():
    assert stats.adjust_p_values(p_values=[0.01, None, 0.04], method="holm") == pytest.approx([0.02, None, 0.04])


def test_chance_to_be_best_of_two_arms_is_the_normal_probability_of_the_difference():
    a = stats.binomial_arm(visitors=1000, conversions=100)
    b = stats.binomial_arm(visitors=1000, conversions=115)
    z = (b.mean - a.mean) / math.sqrt(a.variance / a.n + b.variance / b.n)
    assert stats.chance_to_be_best(arms=[a, b]) == pytest.approx([1 - sps.norm.cdf(z), sps.norm.cdf(z)], abs=1e-6)


def test_chance_to_be_best_of_four_arms_agrees_with_monte_carlo_and_is_deterministic():
    arms = [
        stats.binomial_arm(visitors=2000, conversions=200),
        stats.binomial_arm(visitors=2000, conversions=215),
        stats.binomial_arm(visitors=1500, conversions=165),
        mean_arm_from(np.r_[np.ones(12), np.zeros(88)]),
    ]
    draws = np.random.default_rng(3).normal(
        [a.mean for a in arms], [math.sqrt(a.variance / a.n) for a in arms], size=(400_000, 4)
    )
    monte_carlo = np.bincount(draws.argmax(axis=1), minlength=4) / len(draws)
    chances = stats.chance_to_be_best(arms=arms)
    assert chances == pytest.approx(list(monte_carlo), abs=0.004)
    assert sum(chances) == pytest.approx(1.0)
    assert stats.chance_to_be_best(arms=arms) == chances


def test_chance_to_be_best_is_undefined_when_an_arm_has_no_variance():
    arms = [stats.binomial_arm(visitors=100, conversions=0), stats.binomial_arm(visitors=100, conversions=3)]
    assert stats.chance_to_be_best(arms=arms) is None


def normal_power(*, n, p1, p2, alpha, relative):
    """Two-sided power of the test we run, at n visitors per arm, by the normal approximation."""
    if relative:
        se = math.sqrt((p2 * (1 - p2) + p1 * (1 - p1) * (p2 / p1) ** 2) / (p1**2 * n))
        effect = p2 / p1 - 1
    else:
        se = math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n)
        effect = p2 - p1
    z = sps.norm.isf(alpha / 2)
    return sps.norm.sf(z - effect / se) + sps.norm.cdf(-z - effect / se)


@pytest.mark.parametrize("relative", [True, False])
@pytest.mark.parametrize(
    "baseline, mde, alpha, power", [(0.1, 0.1, 0.05, 0.8), (0.02, 0.05, 0.05, 0.9), (0.5, 0.2, 0.01, 0.8)]
)
def test_sample_size_is_the_smallest_n_that_reaches_the_power(baseline, mde, alpha, power, relative):
    n = stats.binomial_sample_size(baseline=baseline, mde=mde, alpha=alpha, power=power, relative=relative)
    p2 = baseline * (1 + mde)
    assert normal_power(n=n, p1=baseline, p2=p2, alpha=alpha, relative=relative) >= power
    assert normal_power(n=n - 1, p1=baseline, p2=p2, alpha=alpha, relative=relative) < power + 1e-6


def test_sample_size_for_ten_percent_baseline_and_lift_is_the_textbook_figure():
    # (1.959964 + 0.841621)² × (0.1·0.9 + 0.11·0.89) / 0.01² = 14748.04 → 14749 per arm.
    assert stats.binomial_sample_size(baseline=0.1, mde=0.1, relative=False) == 14749


def test_sample_size_is_undefined_for_a_zero_baseline_and_remaining_visitors_never_go_negative():
    assert stats.binomial_sample_size(baseline=0.0, mde=0.1) is None
    assert stats.remaining_visitors(required_per_arm=1000, current=[400, 1200]) == [600, 0]


@pytest.mark.parametrize(
    "a, b, relative, reason",
    [
        (
            stats.binomial_arm(visitors=0, conversions=0),
            stats.binomial_arm(visitors=10, conversions=1),
            True,
            stats.NO_VISITORS,
        ),
        (
            stats.binomial_arm(visitors=100, conversions=0),
            stats.binomial_arm(visitors=100, conversions=4),
            True,
            stats.BASELINE_ZERO,
        ),
        (
            stats.binomial_arm(visitors=100, conversions=0),
            stats.binomial_arm(visitors=100, conversions=4),
            False,
            stats.ZERO_VARIANCE,
        ),
        (
            stats.binomial_arm(visitors=100, conversions=5),
            stats.binomial_arm(visitors=100, conversions=100),
            True,
            stats.ZERO_VARIANCE,
        ),
        (
            stats.binomial_arm(visitors=1, conversions=1),
            stats.binomial_arm(visitors=1, conversions=0),
            False,
            stats.ZERO_VARIANCE,
        ),
        (mean_arm_from([3.0] * 10), mean_arm_from([1.0, 2.0]), True, stats.ZERO_VARIANCE),
    ],
)
def test_degenerate_arms_give_a_reason_instead_of_numbers(a, b, relative, reason):
    frequentist = stats.frequentist_test(a=a, b=b, relative=relative)
    bayesian = stats.bayesian_test(a=a, b=b, relative=relative)
    assert frequentist == stats.FrequentistResult(error=reason)
    assert bayesian == stats.BayesianResult(error=reason)


def test_mean_arm_with_constant_values_has_exactly_zero_variance_despite_rounding():
    assert mean_arm_from([0.1] * 7).variance == 0.0


@pytest.mark.parametrize(
    "a, b",
    [
        (mean_arm_from([0.0, 3.7e-93]), mean_arm_from([0.0, 1.0])),
        (mean_arm_from([0.0, 1e-160]), mean_arm_from([0.0, 2e-160])),
        (mean_arm_from([1e150, 3e150]), mean_arm_from([2e150, 5e150])),
    ],
)
def test_extreme_values_give_numbers_or_a_reason_but_never_an_exception_or_nan(a, b):
    for relative in (True, False):
        results = [
            stats.frequentist_test(a=a, b=b, relative=relative),
            stats.frequentist_test(a=a, b=b, relative=relative, sequential_tuning=5000),
            stats.bayesian_test(a=a, b=b, relative=relative),
            stats.bayesian_test(a=a, b=b, relative=relative, prior=stats.Prior(mean=0, variance=1)),
        ]
        for result in results:
            numbers = [result.expected, *(result.ci or ())]
            assert result.error is not None or all(not math.isnan(x) for x in numbers)
    chances = stats.chance_to_be_best(arms=[a, b])
    assert chances is None or sum(chances) == pytest.approx(1.0)


def test_welch_dof_matches_the_textbook_form_and_survives_extreme_variances():
    a, b = stats.Arm(n=12, mean=1.0, variance=4.0), stats.Arm(n=30, mean=1.0, variance=0.5)
    va, vb = 4.0 / 12, 0.5 / 30
    textbook = (va + vb) ** 2 / (va**2 / 11 + vb**2 / 29)
    assert stats.welch_dof(a=a, b=b) == pytest.approx(textbook, rel=1e-12)
    huge = stats.welch_dof(a=stats.Arm(n=12, mean=1.0, variance=1e300), b=stats.Arm(n=30, mean=1.0, variance=1e300))
    assert math.isfinite(huge)
