"""The A/B calculator: a JSON spec of arm totals in, a JSON-ready result out.

Used by `manage.py abcalc`, and meant for `POST /api/stats/calculate` and the admin.
The spec and output are documented in docs/stats.md. A bad spec raises SpecError,
whose message starts with the offending field.
"""

import math
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from campaigns import stats
from campaigns.assignment import is_finite_number

MAX_ARMS = 50
MAX_COUNT = 10**12
MIN_VISITORS = 100
MIN_CONVERSIONS = 25
SUSPICIOUS_LIFT = 0.5

# Error messages, "<field>: <message>".
MUST_BE_OBJECT = "must be an object"
MUST_BE_ONE_OF = "must be one of {choices}"
MUST_BE_PROBABILITY = "must be a number between 0 and 1 (exclusive)"
MUST_BE_POSITIVE = "must be a positive number"
MUST_BE_NUMBER = "must be a finite number"
MUST_BE_COUNT = "must be a non-negative integer"
COUNT_TOO_LARGE = f"must be at most {MAX_COUNT}"
MUST_BE_NAME = "must be a non-empty string"
UNKNOWN_FIELD = "unknown field"
MISSING_FIELD = "is required"
ARMS_COUNT = f"must be a list of 2 to {MAX_ARMS} arms"
DUPLICATE_NAME = "duplicate arm name"
CONVERSIONS_ABOVE_VISITORS = "must not exceed visitors"
SUM_WITHOUT_VISITORS = "must be 0 when visitors is 0"
SUM_SQUARES_TOO_SMALL = "must be at least sum**2 / visitors"
WEIGHTS_SHAPE = "must be a list of non-negative numbers, one per arm, not all 0"
FREQUENTIST_ONLY = "only applies to the frequentist engine"
BAYESIAN_ONLY = "only applies to the bayesian engine"
MDE_NEEDED = "needs mde"

# Warnings: stable code, human message.
WARNINGS = {
    "too_few_visitors": _("{arm} has {n} visitors; results are unreliable under {min} per arm."),
    "too_few_conversions": _("{arm} has {n} conversions; results are unreliable under {min} per arm."),
    "suspicious_lift": _("{arm} moves the metric by {lift:+.0%} vs control; check the tracking before trusting it."),
    "srm": _("Visitors per arm do not match the configured weights (SRM p = {p:.2g}); fix the assignment first."),
    "multiple_exposures": _("{n} visitors ({share:.1%}) saw more than one variant; the arms are not independent."),
    "visitors_in_zero_weight_arm": _("{arm} has weight 0 but {n} visitors."),
    stats.NO_VISITORS: _("{arm}: no visitors in this arm or in control yet."),
    stats.BASELINE_ZERO: _("{arm}: the control value is 0, so a relative lift is undefined."),
    # xgettext:no-python-format
    stats.ZERO_VARIANCE: _("{arm}: an arm has no variation (e.g. 0 or 100% conversion); no result yet."),
    stats.OUT_OF_RANGE: _("{arm}: the values are too extreme to compute a result."),
}

FIELDS = set("metric engine difference alpha sequential_tuning prior correction weights arms".split())
FIELDS |= {"multiple_exposures", "mde", "power"}
ARM_FIELDS = {"binomial": {"name", "visitors", "conversions"}, "mean": {"name", "visitors", "sum", "sum_squares"}}


class SpecError(ValueError):
    """A calculator spec that cannot be used; the message names the field."""


@dataclass(frozen=True)
class Spec:
    metric: str
    engine: str
    relative: bool
    alpha: float
    sequential_tuning: float | None
    prior: stats.Prior | None
    correction: str
    weights: list[float]
    names: list[str]
    visitors: list[int]
    conversions: list[int] | None
    arms: list[stats.Arm]
    multiple_exposures: int
    mde: float | None
    power: float


def calculate(raw: Any) -> dict:
    """Validate a spec and compute the result; raises SpecError for a bad spec."""
    return result_for_spec(spec=spec_parse(raw))


def _fail(field: str, message: str) -> None:
    raise SpecError(f"{field}: {message}")


def _choice(raw: dict, field: str, choices: tuple[str, ...], default: str) -> str:
    value = raw.get(field, default)
    if value not in choices:
        _fail(field, MUST_BE_ONE_OF.format(choices=", ".join(choices)))
    return value


def _number(
    raw: dict, field: str, *, default: float | None, check: str, path: str = "", required: bool = False
) -> float | None:
    value = raw.get(field, default)
    if value is None and default is None:
        if required:
            _fail(path + field, check if field in raw else MISSING_FIELD)
        return None
    ok = is_finite_number(value) and {
        MUST_BE_PROBABILITY: lambda v: 0 < v < 1,
        MUST_BE_POSITIVE: lambda v: v > 0,
        MUST_BE_NUMBER: lambda v: True,
    }[check](value)
    if not ok:
        _fail(path + field, check)
    return float(value)


def _count(raw: dict, field: str, path: str) -> int:
    if field not in raw:
        _fail(path + field, MISSING_FIELD)
    value = raw[field]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        _fail(path + field, MUST_BE_COUNT)
    if value > MAX_COUNT:
        _fail(path + field, COUNT_TOO_LARGE)
    return value


def spec_parse(raw: Any) -> Spec:
    if not isinstance(raw, dict):
        _fail("spec", MUST_BE_OBJECT)
    for field in sorted(set(raw) - FIELDS):
        _fail(field, UNKNOWN_FIELD)
    metric = _choice(raw, "metric", ("binomial", "mean"), "binomial")
    engine = _choice(raw, "engine", ("frequentist", "bayesian"), "frequentist")
    difference = _choice(raw, "difference", ("relative", "absolute"), "relative")
    correction = _choice(raw, "correction", stats.CORRECTIONS, "none")
    alpha = _number(raw, "alpha", default=0.05, check=MUST_BE_PROBABILITY)
    tuning = _number(raw, "sequential_tuning", default=None, check=MUST_BE_POSITIVE)
    if tuning is not None and engine != "frequentist":
        _fail("sequential_tuning", FREQUENTIST_ONLY)
    prior = _prior_parse(raw.get("prior"))
    if prior is not None and engine != "bayesian":
        _fail("prior", BAYESIAN_ONLY)
    arms_raw = raw.get("arms")
    if not isinstance(arms_raw, list) or not 2 <= len(arms_raw) <= MAX_ARMS:
        _fail("arms", ARMS_COUNT)
    parsed = [_arm_parse(arm, metric=metric, path=f"arms[{i}].") for i, arm in enumerate(arms_raw)]
    names = [name for name, _, _, _ in parsed]
    if len(set(names)) != len(names):
        _fail("arms", DUPLICATE_NAME)
    weights = raw.get("weights")
    if weights is None:
        weights = [1.0] * len(parsed)
    elif not (
        isinstance(weights, list)
        and len(weights) == len(parsed)
        and all(is_finite_number(w) and w >= 0 for w in weights)
        and sum(weights) > 0
    ):
        _fail("weights", WEIGHTS_SHAPE)
    exposures = _count(raw, "multiple_exposures", "") if "multiple_exposures" in raw else 0
    mde = _number(raw, "mde", default=None, check=MUST_BE_POSITIVE)
    if "power" in raw and mde is None:
        _fail("power", MDE_NEEDED)
    return Spec(
        metric=metric,
        engine=engine,
        relative=difference == "relative",
        alpha=alpha,
        sequential_tuning=tuning,
        prior=prior,
        correction=correction,
        weights=[float(w) for w in weights],
        names=names,
        visitors=[n for _, n, _, _ in parsed],
        conversions=[c for _, _, c, _ in parsed] if metric == "binomial" else None,
        arms=[arm for _, _, _, arm in parsed],
        multiple_exposures=exposures,
        mde=mde,
        power=_number(raw, "power", default=0.8, check=MUST_BE_PROBABILITY),
    )


def _prior_parse(raw: Any) -> stats.Prior | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        _fail("prior", MUST_BE_OBJECT)
    for field in sorted(set(raw) - {"mean", "variance"}):
        _fail(f"prior.{field}", UNKNOWN_FIELD)
    mean = _number(raw, "mean", default=None, check=MUST_BE_NUMBER, path="prior.", required=True)
    variance = _number(raw, "variance", default=None, check=MUST_BE_POSITIVE, path="prior.", required=True)
    return stats.Prior(mean=mean, variance=variance)


def _arm_parse(raw: Any, *, metric: str, path: str) -> tuple[str, int, int | None, stats.Arm]:
    if not isinstance(raw, dict):
        _fail(path.rstrip("."), MUST_BE_OBJECT)
    for field in sorted(set(raw) - ARM_FIELDS[metric]):
        _fail(path + field, UNKNOWN_FIELD)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        _fail(path + "name", MUST_BE_NAME)
    visitors = _count(raw, "visitors", path)
    if metric == "binomial":
        conversions = _count(raw, "conversions", path)
        if conversions > visitors:
            _fail(path + "conversions", CONVERSIONS_ABOVE_VISITORS)
        return name, visitors, conversions, stats.binomial_arm(visitors=visitors, conversions=conversions)
    total = _number(raw, "sum", default=None, check=MUST_BE_NUMBER, path=path, required=True)
    squares = _number(raw, "sum_squares", default=None, check=MUST_BE_NUMBER, path=path, required=True)
    if visitors == 0 and (total != 0 or squares != 0):
        _fail(path + "sum", SUM_WITHOUT_VISITORS)
    # A relative tolerance: totals exported from a database carry rounding.
    if visitors and squares < total / visitors * total * (1 - 1e-9) - 1e-9:
        _fail(path + "sum_squares", SUM_SQUARES_TOO_SMALL)
    return name, visitors, None, stats.mean_arm(visitors=visitors, total=total, total_squares=squares)


def _clean(value: Any) -> Any:
    """JSON-safe: tuples to lists, numpy scalars to float, NaN and infinities to None."""
    if isinstance(value, tuple | list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def result_for_spec(*, spec: Spec) -> dict:
    rows = [{"name": n, "visitors": a.n, "value": a.mean} for n, a in zip(spec.names, spec.arms, strict=True)]
    if spec.engine == "frequentist":
        _frequentist_rows(spec=spec, rows=rows)
    else:
        _bayesian_rows(spec=spec, rows=rows)
    errors = {row["name"]: row["error"] for row in rows[1:] if row["error"]}
    srm = stats.srm_p_value(visitors=spec.visitors, weights=spec.weights)
    output = {
        "metric": spec.metric,
        "engine": spec.engine,
        "difference": "relative" if spec.relative else "absolute",
        "srm_p_value": srm,
        "arms": rows,
        "warnings": warnings_for_spec(spec=spec, srm=srm, errors=errors),
    }
    if spec.mde is not None:
        output["sample_size"] = sample_size_for_spec(spec=spec)
    return _clean(output)


def _frequentist_rows(*, spec: Spec, rows: list[dict]) -> None:
    control = spec.arms[0]
    results = [
        stats.frequentist_test(
            a=control, b=arm, relative=spec.relative, alpha=spec.alpha, sequential_tuning=spec.sequential_tuning
        )
        for arm in spec.arms[1:]
    ]
    adjusted = stats.adjust_p_values(p_values=[r.p_value for r in results], method=spec.correction)
    for row, r, p_adjusted in zip(rows[1:], results, adjusted, strict=True):
        row.update(expected=r.expected, ci=r.ci, p_value=r.p_value, p_value_adjusted=p_adjusted, error=r.error)


def _bayesian_rows(*, spec: Spec, rows: list[dict]) -> None:
    control = spec.arms[0]
    for row, arm in zip(rows[1:], spec.arms[1:], strict=True):
        r = stats.bayesian_test(a=control, b=arm, relative=spec.relative, alpha=spec.alpha, prior=spec.prior)
        row.update(expected=r.expected, ci=r.ci, chance_to_win=r.chance_to_win, risk=r.risk, error=r.error)
    best = stats.chance_to_be_best(arms=spec.arms) or [None] * len(rows)
    for row, chance in zip(rows, best, strict=True):
        row["chance_to_be_best"] = chance


def sample_size_for_spec(*, spec: Spec) -> dict:
    """Visitors per arm to detect spec.mde from the control's observed value and variance.

    With a correction the planning alpha is Bonferroni's alpha / (number of variants), a safe bound.
    """
    control = spec.arms[0]
    alpha = spec.alpha if spec.correction == "none" else spec.alpha / (len(spec.arms) - 1)
    plan = {"mde": spec.mde, "alpha": alpha, "power": spec.power, "relative": spec.relative}
    if control.variance <= 0:
        per_arm = None
    elif spec.metric == "binomial":
        per_arm = stats.binomial_sample_size(baseline=control.mean, **plan)
    else:
        per_arm = stats.sample_size_per_arm(mean=control.mean, variance=control.variance, **plan)
    remaining = None if per_arm is None else stats.remaining_visitors(required_per_arm=per_arm, current=spec.visitors)
    total = None if remaining is None else sum(remaining)
    return {"per_arm": per_arm, "remaining": remaining, "remaining_total": total, "alpha": alpha, "power": spec.power}


def _warning(code: str, arm: str | None = None, **values: Any) -> dict:
    return {"code": code, "arm": arm, "message": WARNINGS[code].format(arm=arm, **values)}


def warnings_for_spec(*, spec: Spec, srm: float | None, errors: dict[str, str]) -> list[dict]:
    """Per-arm warnings skip an arm with weight 0 and no visitors: it is paused, not broken."""
    found = []
    control = spec.arms[0]
    conversions = spec.conversions or [None] * len(spec.arms)
    for i, (name, arm, weight, converted) in enumerate(
        zip(spec.names, spec.arms, spec.weights, conversions, strict=True)
    ):
        if weight == 0 and arm.n == 0:
            continue
        if weight == 0:
            found.append(_warning("visitors_in_zero_weight_arm", name, n=arm.n))
        elif arm.n < MIN_VISITORS:
            found.append(_warning("too_few_visitors", name, n=arm.n, min=MIN_VISITORS))
        if converted is not None and converted < MIN_CONVERSIONS:
            found.append(_warning("too_few_conversions", name, n=converted, min=MIN_CONVERSIONS))
        lift = arm.mean / control.mean - 1 if i and arm.n and control.mean else 0.0
        if abs(lift) > SUSPICIOUS_LIFT:
            found.append(_warning("suspicious_lift", name, lift=lift))
        if name in errors:
            found.append(_warning(errors[name], name))
    if srm is not None and srm < stats.SRM_THRESHOLD:
        found.append(_warning("srm", p=srm))
    if spec.multiple_exposures:
        share = spec.multiple_exposures / max(sum(spec.visitors), 1)
        found.append(_warning("multiple_exposures", n=spec.multiple_exposures, share=share))
    return found
