"""A/B statistics on plain summary numbers: no ORM, no Django.

Definitions follow GrowthBook's stats engine (gbstats) so that numbers can be
compared with it; docs/stats.md explains each formula and the choices made.
A result that cannot be computed carries ``None`` and a reason code, never NaN.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import special as spf
from scipy import stats as sps

# Reason codes for a comparison that cannot be computed.
NO_VISITORS = "no_visitors"
BASELINE_ZERO = "baseline_zero"
ZERO_VARIANCE = "zero_variance"
OUT_OF_RANGE = "out_of_range"

DEFAULT_SEQUENTIAL_TUNING = 5000
SRM_THRESHOLD = 0.001
CORRECTIONS = ("none", "holm", "bh")
_BEST_GRID = np.linspace(-8.0, 8.0, 2001)


@dataclass(frozen=True)
class Arm:
    """One arm's summary: visitors, the per-visitor mean and its variance."""

    n: int
    mean: float
    variance: float


@dataclass(frozen=True)
class Prior:
    """A normal prior on the difference, in the units of the difference (relative or absolute)."""

    mean: float
    variance: float


@dataclass(frozen=True)
class FrequentistResult:
    expected: float | None = None
    ci: tuple[float, float] | None = None
    p_value: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class BayesianResult:
    expected: float | None = None
    ci: tuple[float, float] | None = None
    chance_to_win: float | None = None
    risk: tuple[float, float] | None = None
    error: str | None = None


def binomial_arm(*, visitors: int, conversions: int) -> Arm:
    """A conversion metric: population variance p(1 - p), as gbstats' ProportionStatistic."""
    p = conversions / visitors if visitors else 0.0
    return Arm(n=visitors, mean=p, variance=p * (1.0 - p))


def mean_arm(*, visitors: int, total: float, total_squares: float) -> Arm:
    """A mean metric: sample variance with n - 1, as gbstats' SampleMeanStatistic."""
    if visitors == 0:
        return Arm(n=0, mean=0.0, variance=0.0)
    # Plain floats: they give inf/nan where numpy scalars would also warn; difference() checks the result.
    total, total_squares = float(total), float(total_squares)
    mean = total / visitors
    if visitors == 1:
        return Arm(n=1, mean=mean, variance=0.0)
    spread = total_squares - total * total / visitors
    # An all-equal sample leaves only rounding noise here (relative to sum_squares): call it 0.
    if spread <= 1e-12 * abs(total_squares):
        spread = 0.0
    return Arm(n=visitors, mean=mean, variance=spread / (visitors - 1))


def difference(*, a: Arm, b: Arm, relative: bool) -> tuple[float, float] | str:
    """(estimate, variance of the estimate) of b vs a, or a reason code.

    Relative: (mb - ma) / ma with the delta-method variance; absolute: mb - ma.
    """
    if a.n == 0 or b.n == 0:
        return NO_VISITORS
    if relative and a.mean == 0:
        return BASELINE_ZERO
    if a.variance <= 0 or b.variance <= 0:
        return ZERO_VARIANCE
    # Products, not **: float ** raises on overflow where * gives inf, which the last check catches.
    if relative:
        ratio, mean_a2 = b.mean / a.mean, a.mean * a.mean
        if mean_a2 == 0:
            return OUT_OF_RANGE
        estimate = ratio - 1
        variance = (b.variance / b.n + a.variance * ratio * ratio / a.n) / mean_a2
    else:
        estimate = b.mean - a.mean
        variance = b.variance / b.n + a.variance / a.n
    if not (math.isfinite(estimate) and math.isfinite(variance) and variance > 0):
        return OUT_OF_RANGE
    return estimate, variance


def welch_dof(*, a: Arm, b: Arm) -> float:
    """Welch–Satterthwaite degrees of freedom on the arms' own variances (both need n >= 2).

    (va + vb)² / (va²/(na - 1) + vb²/(nb - 1)), written with r = va / (va + vb) so that
    extreme variances cannot overflow; falls back to na + nb - 2 if they underflow.
    """
    va, vb = a.variance / a.n, b.variance / b.n
    if not va + vb > 0:
        return float(a.n + b.n - 2)
    r = va / (va + vb)
    return 1 / (r * r / (a.n - 1) + (1 - r) * (1 - r) / (b.n - 1))


def frequentist_test(
    *, a: Arm, b: Arm, relative: bool = True, alpha: float = 0.05, sequential_tuning: float | None = None
) -> FrequentistResult:
    """Two-sided Welch t-test, or gbstats' asymptotic confidence sequence when sequential_tuning is set."""
    diff = difference(a=a, b=b, relative=relative)
    if isinstance(diff, str):
        return FrequentistResult(error=diff)
    estimate, variance = diff
    se = math.sqrt(variance)
    if sequential_tuning is not None:
        return _sequential(estimate=estimate, variance=variance, n=a.n + b.n, alpha=alpha, tuning=sequential_tuning)
    dof = welch_dof(a=a, b=b)
    width = float(sps.t.ppf(1 - alpha / 2, dof)) * se
    p_value = float(2 * sps.t.sf(abs(estimate) / se, dof))
    return FrequentistResult(expected=estimate, ci=(estimate - width, estimate + width), p_value=min(p_value, 1.0))


def sequential_rho(*, alpha: float, tuning: float) -> float:
    """Mixture parameter of Waudby-Smith et al. (2023), eq. 161, as gbstats."""
    return math.sqrt((-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning)


def _sequential(*, estimate: float, variance: float, n: int, alpha: float, tuning: float) -> FrequentistResult:
    rho2 = sequential_rho(alpha=alpha, tuning=tuning) ** 2
    s2 = variance * n
    nr2p1 = n * rho2 + 1
    width = math.sqrt(s2) * math.sqrt(2 * nr2p1 * math.log(math.sqrt(nr2p1) / alpha) / (n * n * rho2))
    # p-value = 1 / e-value, capped at 1 (eq. 155); in logs, so a huge effect underflows to 0, not inf.
    z = estimate / math.sqrt(variance)
    log_evalue = rho2 * (z * z * n) / (2 * nr2p1) - 0.5 * math.log(nr2p1)
    p_value = math.exp(-log_evalue) if log_evalue > 0 else 1.0
    return FrequentistResult(expected=estimate, ci=(estimate - width, estimate + width), p_value=p_value)


def bayesian_test(
    *, a: Arm, b: Arm, relative: bool = True, alpha: float = 0.05, prior: Prior | None = None
) -> BayesianResult:
    """Gaussian model of the difference (gbstats' EffectBayesianABTest): flat prior unless one is given."""
    diff = difference(a=a, b=b, relative=relative)
    if isinstance(diff, str):
        return BayesianResult(error=diff)
    data_mean, data_variance = diff
    if prior is None:
        mean, variance = data_mean, data_variance
    else:
        precision = 1 / data_variance + 1 / prior.variance
        mean = (data_mean / data_variance + prior.mean / prior.variance) / precision
        variance = 1 / precision
    sd = math.sqrt(variance)
    if not (math.isfinite(mean) and 0 < sd < math.inf):
        return BayesianResult(error=OUT_OF_RANGE)
    lo, hi = (float(x) for x in sps.norm.ppf([alpha / 2, 1 - alpha / 2], mean, sd))
    return BayesianResult(
        expected=mean,
        ci=(lo, hi),
        chance_to_win=float(spf.ndtr(mean / sd)),
        risk=gaussian_risk(mean=mean, sd=sd),
    )


def gaussian_risk(*, mean: float, sd: float) -> tuple[float, float]:
    """(risk of keeping control, risk of shipping the variant) for a lift ~ N(mean, sd²).

    Keeping control loses the lift when it is positive: E[max(lift, 0)]; shipping the
    variant loses it when negative: E[max(-lift, 0)] (gbstats' get_risk, in closed form).
    """
    z = mean / sd
    density = sd * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    keep_control = mean * float(spf.ndtr(z)) + density
    ship_variant = -mean * float(spf.ndtr(-z)) + density
    return max(keep_control, 0.0), max(ship_variant, 0.0)


def srm_p_value(*, visitors: list[int], weights: list[float]) -> float | None:
    """Chi-square goodness of fit of visitors vs weights; weight-0 arms are left out.

    None when fewer than two arms have a positive weight; 1 when they have no visitors.
    """
    pairs = [(n, w) for n, w in zip(visitors, weights, strict=True) if w > 0]
    if len(pairs) < 2:
        return None
    total = sum(n for n, _ in pairs)
    if total == 0:
        return 1.0
    total_weight = sum(w for _, w in pairs)
    expected = [w / total_weight * total for _, w in pairs]
    if not all(0 < e < math.inf for e in expected):
        return None
    chi2 = sum((n - e) * (n - e) / e for (n, _), e in zip(pairs, expected, strict=True))
    return float(sps.chi2.sf(chi2, len(pairs) - 1))


def adjust_p_values(*, p_values: list[float | None], method: str) -> list[float | None]:
    """Holm (family-wise error) or Benjamini–Hochberg (false discovery rate) over the defined p-values."""
    if method not in CORRECTIONS:
        raise ValueError(f"unknown correction {method!r}")
    index = [i for i, p in enumerate(p_values) if p is not None]
    if method == "none" or not index:
        return list(p_values)
    m = len(index)
    order = sorted(index, key=lambda i: p_values[i])
    adjusted: list[float | None] = list(p_values)
    if method == "holm":
        running = 0.0
        for rank, i in enumerate(order):
            running = max(running, min(1.0, (m - rank) * p_values[i]))
            adjusted[i] = running
    else:
        running = 1.0
        for rank in range(m - 1, -1, -1):
            i = order[rank]
            running = min(running, m * p_values[i] / (rank + 1))
            adjusted[i] = running
    return adjusted


def chance_to_be_best(*, arms: list[Arm]) -> list[float] | None:
    """P(arm's true mean is the highest), with independent N(mean, variance / n) for each arm (flat prior).

    Numeric integration on a fixed grid, so the output is deterministic. None if an arm has
    no visitors or no variance (a point mass has no useful answer here).
    """
    if len(arms) < 2 or any(arm.n == 0 or arm.variance <= 0 for arm in arms):
        return None
    means = np.array([arm.mean for arm in arms])
    sds = np.sqrt([arm.variance / arm.n for arm in arms])
    if not (np.all(np.isfinite(means)) and np.all(np.isfinite(sds)) and np.all(sds > 0)):
        return None
    weights = sps.norm.pdf(_BEST_GRID)
    chances = []
    for i in range(len(arms)):
        x = means[i] + sds[i] * _BEST_GRID
        others = [j for j in range(len(arms)) if j != i]
        log_cdf = spf.log_ndtr((x[:, None] - means[others]) / sds[others]).sum(axis=1)
        chances.append(float(np.trapezoid(weights * np.exp(log_cdf), _BEST_GRID)))
    total = sum(chances)
    if not 0 < total < math.inf:
        return None
    return [c / total for c in chances]


def sample_size_per_arm(
    *,
    mean: float,
    variance: float,
    mde: float,
    alpha: float = 0.05,
    power: float = 0.8,
    relative: bool = True,
    variance_b: float | None = None,
) -> int | None:
    """Visitors per arm for a two-sided test to detect `mde` (relative to `mean`) with the given power.

    Normal approximation with the same variance as the test (delta method when relative):
    n = (z_{1-alpha/2} + z_power)² · v / d², v the per-visitor variance of the difference.
    `variance_b` is the variant's variance under the alternative (default: the control's).
    None when the baseline mean is 0 or the effect is 0.
    """
    if mean == 0 or mde == 0:
        return None
    variance_b = variance if variance_b is None else variance_b
    mean_b = mean * (1 + mde)
    if relative:
        effect, ratio = mde, 1 + mde
        unit_variance = (variance_b + variance * ratio * ratio) / (mean * mean) if mean * mean > 0 else math.inf
    else:
        effect = mean_b - mean
        unit_variance = variance + variance_b
    z = float(sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power))
    n = z * z * unit_variance / (effect * effect) if effect * effect > 0 else math.inf
    return max(math.ceil(n), 2) if math.isfinite(n) else None


def binomial_sample_size(
    *, baseline: float, mde: float, alpha: float = 0.05, power: float = 0.8, relative: bool = True
) -> int | None:
    """Visitors per arm for a conversion rate `baseline` and a relative minimum detectable effect."""
    target = baseline * (1 + mde)
    if not 0 < baseline < 1 or not 0 < target < 1:
        return None
    return sample_size_per_arm(
        mean=baseline,
        variance=baseline * (1 - baseline),
        variance_b=target * (1 - target),
        mde=mde,
        alpha=alpha,
        power=power,
        relative=relative,
    )


def remaining_visitors(*, required_per_arm: int, current: list[int]) -> list[int]:
    """Visitors each arm still needs to reach `required_per_arm`."""
    return [max(required_per_arm - n, 0) for n in current]
