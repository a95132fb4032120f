"""Reads: a campaign's A/B results, from the daily counters only (never from raw events).

One query for the counters of every arm and day in the range (of one segment, when filtered), whatever
the number of variants, days or segments; everything else (totals, rates, the calculator, the verdict,
the curves) is computed in Python on those few hundred rows. The output is a JSON-ready dict: the admin
page renders it and the API returns it, so both show the same numbers. docs/results.md explains each figure.
"""

import dataclasses
import math
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from statistics import NormalDist

from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from campaigns import stats
from campaigns.models import Campaign, Variant, VariantDailyStats
from campaigns.results import calculator
from campaigns.results.verdicts import arm_verdict, headline_verdict

HOLDOUT = "Holdout"
FUNNEL = (
    ("exposed", "Exposed"),
    ("impression_visitors", "Saw it"),
    ("engaged_visitors", "Engaged"),
    ("submit_visitors", "Submitted"),
    ("converters", "Reached the goal"),
)
RATES = {
    "impression_rate": "impression_visitors",
    "engagement_rate": "engaged_visitors",
    "submit_rate": "submit_visitors",
    "conversion_rate": "converters",
}
EVENT_COUNTERS = ("impressions", "closes", "clicks", "submits", "conversions")
TRAFFIC_WINDOW_DAYS = 7
MIN_MDE, MAX_MDE = 0.01, 1.0
DEFAULT_POWER = 0.8

SRM_NOT_CHECKED_WINNER = _("Not checked: a winner was declared, so traffic is no longer split by the weights.")
SRM_NOT_CHECKED_AUTO = _("Not checked: automatic allocation changes the weights over time.")
SRM_OK = _("Visitors per arm match the configured split (p = {p:.2g}).")
SRM_MISMATCH = _(
    "Sample ratio mismatch: visitors per arm do not match the configured split (p = {p:.2g}). "
    "The assignment or the tracking is broken; do not trust any other number here until it is fixed."
)
SRM_SEGMENT = _(
    "On a segment this check is informational: a segment's split can drift from the weights (exposure is "
    "recorded differently for the holdout and for a shown variant), so check the whole test for a real mismatch."
)


@dataclasses.dataclass(frozen=True)
class ResultsFilter:
    since: date | None = None
    until: date | None = None
    mde: float | None = None  # relative lift to plan the sample size for; None: the observed lift
    # A segment (docs/results.md): each None means any value. `source` as campaigns.tally.segments normalizes it.
    device: str | None = None
    source: str | None = None
    returning: bool | None = None

    @property
    def segment(self) -> dict:
        """The segment filters that are set, as field lookups on the counters."""
        return {name: value for name in VariantDailyStats.SEGMENTS
                if (value := getattr(self, name)) is not None}


def counters_daily(
    *, campaign_id: int, since: date | None, until: date | None, segment: dict | None = None,
    by_segment: bool = False,
) -> list[dict]:
    """Counters per arm (variant id, None: holdout) and day, in one query.

    `segment` keeps only the counters of visitors in it (`{"device": "mobile", "returning": True}`);
    the rows are summed over segments unless `by_segment`, which keeps one row per segment (the CSV).
    """
    rows = VariantDailyStats.objects.filter(campaign_id=campaign_id, **(segment or {}))
    if since is not None:
        rows = rows.filter(day__gte=since)
    if until is not None:
        rows = rows.filter(day__lte=until)
    keys = ("variant_id", "day", *(VariantDailyStats.SEGMENTS if by_segment else ()))
    return list(
        rows.values(*keys)
        .annotate(**{name: Sum(name) for name in VariantDailyStats.COUNTERS})
        .order_by("day", "variant_id", *keys[2:])
    )


def segments_present(*, campaign_id: int) -> dict[str, list]:
    """The segment values a campaign's counters hold, per dimension (for the filter form): one query.

    Counters from before segments were recorded (an empty source) are left out.
    """
    found = {name: set() for name in VariantDailyStats.SEGMENTS}
    rows = (VariantDailyStats.objects.filter(campaign_id=campaign_id).exclude(source="")
            .values_list(*VariantDailyStats.SEGMENTS).distinct().order_by())
    for values in rows:
        for name, value in zip(VariantDailyStats.SEGMENTS, values, strict=True):
            if value != "":
                found[name].add(value)
    return {name: sorted(values) for name, values in found.items()}


def _number(value) -> float | int:
    if value is None:
        return 0
    return float(value) if isinstance(value, Decimal) else value


def _unique_names(names: list[str]) -> list[str]:
    """The calculator needs unique arm names; two variants may share one."""
    seen: dict[str, int] = defaultdict(int)
    for name in names:
        seen[name] += 1
    counts: dict[str, int] = defaultdict(int)
    unique = []
    for name in names:
        counts[name] += 1
        unique.append(name if seen[name] == 1 else f"{name} ({counts[name]})")
    return unique


def wilson_interval(*, conversions: int, visitors: int, alpha: float) -> tuple[float, float] | None:
    """Wilson score interval of a conversion rate: sensible at 0 % and with few visitors."""
    if visitors <= 0:
        return None
    z = NormalDist().inv_cdf(1 - alpha / 2)  # pure Python: scipy's ppf has a per-call cost, paid per point of a curve
    p = conversions / visitors
    denominator = 1 + z * z / visitors
    centre = (p + z * z / (2 * visitors)) / denominator
    half = z * math.sqrt(p * (1 - p) / visitors + z * z / (4 * visitors * visitors)) / denominator
    # Rounding can leave p a hair outside at 0 % or 100 %: the interval always holds the observed rate.
    return max(0.0, min(centre - half, p)), min(1.0, max(centre + half, p))


def _arm_row(*, key, name: str, variant: Variant | None, totals: dict, alpha: float, holdout: bool) -> dict:
    funnel = {field: int(_number(totals.get(field))) for field, _label in FUNNEL}
    exposed = funnel["exposed"]
    revenue = round(float(_number(totals.get("revenue_sum"))), 2)
    rates = {rate: (funnel[field] / exposed if exposed else None) for rate, field in RATES.items()}
    rates["revenue_per_visitor"] = revenue / exposed if exposed else None
    return {
        "id": key,
        "name": name,
        "holdout": holdout,
        "deleted": variant is None and not holdout,
        "weight": variant.weight if variant is not None else None,
        "funnel": {**funnel, "revenue": revenue},
        "events": {field: int(_number(totals.get(field))) for field in EVENT_COUNTERS},
        "rates": rates,
        "conversion_interval": wilson_interval(
            conversions=min(funnel["converters"], exposed), visitors=exposed, alpha=alpha
        ),
        "revenue_sum_squares": float(_number(totals.get("revenue_sum_squares"))),
    }


def _binomial_arm(arm: dict) -> dict:
    exposed = arm["funnel"]["exposed"]
    # A date range can hold a visitor's conversion but not their exposure: never more converters than visitors.
    return {"name": arm["name"], "visitors": exposed, "conversions": min(arm["funnel"]["converters"], exposed)}


def _mean_arm(arm: dict) -> dict:
    n, total = arm["funnel"]["exposed"], arm["funnel"]["revenue"]
    if n == 0:
        return {"name": arm["name"], "visitors": 0, "sum": 0.0, "sum_squares": 0.0}
    # Squares are per visitor's running total, split across days: a range can cut them below sum²/n.
    squares = max(arm["revenue_sum_squares"], total * total / n)
    return {"name": arm["name"], "visitors": n, "sum": total, "sum_squares": squares}


def spec_settings(*, campaign: Campaign) -> dict:
    """The calculator settings of a campaign (docs/stats.md); sequential and prior only for their engine."""
    settings = {
        "engine": campaign.stats_engine,
        "difference": campaign.stats_difference,
        "alpha": campaign.stats_alpha,
        "correction": campaign.stats_correction,
    }
    if campaign.stats_engine == Campaign.Engine.FREQUENTIST and campaign.stats_sequential_tuning:
        settings["sequential_tuning"] = campaign.stats_sequential_tuning
    if (
        campaign.stats_engine == Campaign.Engine.BAYESIAN
        and campaign.stats_prior_mean is not None
        and campaign.stats_prior_variance
    ):
        settings["prior"] = {"mean": campaign.stats_prior_mean, "variance": campaign.stats_prior_variance}
    return settings


def _compare(*, arms: list[dict], settings: dict, metric: str, weights: list[float] | None) -> dict | None:
    """The calculator on these arms (the first is the control), or None with fewer than two."""
    if len(arms) < 2:
        return None
    make = _binomial_arm if metric == "binomial" else _mean_arm
    raw = {**settings, "metric": metric, "arms": [make(arm) for arm in arms]}
    if weights is not None and sum(weights) > 0:
        raw["weights"] = weights
    spec = calculator.spec_parse(raw)
    result = calculator.result_for_spec(spec=spec)
    # The page's own SRM check covers the holdout too; one banner, not two numbers.
    result["warnings"] = [w for w in result["warnings"] if w["code"] != "srm"]
    result["spec"] = raw
    result["_parsed"] = spec
    return result


def srm_check(*, campaign: Campaign, arms: list[dict], segmented: bool = False) -> dict:
    """Visitors of the holdout and the live variants against the configured split.

    On a segment the result is informational: it says so, and a mismatch does not replace the verdict.
    """
    result = _srm(campaign=campaign, arms=arms)
    result["informational"] = segmented
    if segmented and result["p_value"] is not None:
        result["message"] = f"{result['message']} {SRM_SEGMENT}"
    return result


def _srm(*, campaign: Campaign, arms: list[dict]) -> dict:
    if campaign.winner_id is not None:
        return {"p_value": None, "mismatch": False, "message": str(SRM_NOT_CHECKED_WINNER)}
    if campaign.allocation_mode == Campaign.Allocation.AUTO:
        return {"p_value": None, "mismatch": False, "message": str(SRM_NOT_CHECKED_AUTO)}
    live = [arm for arm in arms if not arm["holdout"] and not arm["deleted"]]
    total_weight = sum(arm["weight"] for arm in live)
    share = campaign.control_share
    visitors, weights = [], []
    for arm in arms:
        if arm["deleted"]:
            continue
        visitors.append(arm["funnel"]["exposed"])
        if arm["holdout"]:
            weights.append(share)
        else:
            weights.append((1 - share) * arm["weight"] / total_weight if total_weight else 0.0)
    p = stats.srm_p_value(visitors=visitors, weights=weights) if len(visitors) >= 2 else None
    if p is None:
        return {"p_value": None, "mismatch": False, "message": ""}
    mismatch = p < stats.SRM_THRESHOLD
    return {"p_value": p, "mismatch": mismatch, "message": (SRM_MISMATCH if mismatch else SRM_OK).format(p=p)}


def _daily_traffic(*, rows: list[dict], arm_keys: list) -> dict:
    """Exposed visitors per arm per day over the last days with data: 'today's traffic'."""
    days = sorted({row["day"] for row in rows})
    if not days:
        return dict.fromkeys(arm_keys, 0.0)
    last = days[-1]
    first = max(days[0], last - timedelta(days=TRAFFIC_WINDOW_DAYS - 1))
    span = (last - first).days + 1
    traffic = dict.fromkeys(arm_keys, 0.0)
    for row in rows:
        if row["day"] >= first and row["variant_id"] in traffic:
            traffic[row["variant_id"]] += _number(row["exposed"]) / span
    return traffic


def _observed_lift(*, control: dict, arm: dict) -> float | None:
    base, rate = control["rates"]["conversion_rate"], arm["rates"]["conversion_rate"]
    return rate / base - 1 if base and rate is not None else None


def _sample_size(*, comparison: dict | None, arms: list[dict], traffic: dict, mde: float | None) -> dict | None:
    """Per variant: visitors it and the control still need for the planned power, and days at today's traffic.

    The effect to detect is the chosen `mde`, or else the variant's own observed lift ("at today's rate").
    """
    if comparison is None:
        return None
    control, plans, planning_alpha = arms[0], [], None
    parsed = comparison["_parsed"]
    for index, arm in enumerate(arms[1:], start=1):
        effect = mde
        if effect is None:
            lift = _observed_lift(control=control, arm=arm)
            effect = min(max(abs(lift) if lift is not None else MIN_MDE, MIN_MDE), MAX_MDE)
        plan = calculator.sample_size_for_spec(spec=dataclasses.replace(parsed, mde=effect))
        remaining = days = None
        if plan["remaining"] is not None:
            pair = [(control, plan["remaining"][0]), (arm, plan["remaining"][index])]
            remaining = max(need for _arm, need in pair)
            waits = [need / traffic[a["id"]] if traffic.get(a["id"]) else math.inf for a, need in pair if need]
            days = 0 if not waits else (math.ceil(max(waits)) if all(map(math.isfinite, waits)) else None)
        planning_alpha = plan["alpha"]
        plans.append({"arm": arm["name"], "mde": effect, "per_arm": plan["per_arm"], "remaining": remaining,
                      "days_remaining": days})
    return {
        "power": DEFAULT_POWER,
        "alpha": planning_alpha,
        "mde_source": "observed" if mde is None else "chosen",
        "daily_visitors": {arm["name"]: round(traffic.get(arm["id"], 0.0), 1) for arm in arms},
        "arms": plans,
    }


def _over_time(*, rows: list[dict], arms: list[dict], alpha: float) -> list[dict]:
    """Cumulative conversion rate per arm and day, with its interval: it settles as data comes in."""
    names = {arm["id"]: arm["name"] for arm in arms}
    running: dict = {key: [0, 0] for key in names}
    series: dict = {key: [] for key in names}
    for row in rows:
        key = row["variant_id"]
        if key not in running:
            continue
        running[key][0] += int(_number(row["exposed"]))
        running[key][1] += int(_number(row["converters"]))
        exposed, converters = running[key]
        if exposed == 0:
            continue
        converters = min(converters, exposed)
        low, high = wilson_interval(conversions=converters, visitors=exposed, alpha=alpha)
        series[key].append(
            {"day": row["day"], "rate": converters / exposed, "low": low, "high": high,
             "exposed": exposed, "converters": converters}
        )
    return [{"arm": names[key], "points": points} for key, points in series.items()]


def campaign_results(*, campaign: Campaign, filters: ResultsFilter | None = None) -> dict:
    """Everything the results page and the results API show, in two queries (variants, counters)."""
    filters = filters or ResultsFilter()
    variants = list(Variant.objects.filter(campaign_id=campaign.id).order_by("id"))
    rows = counters_daily(campaign_id=campaign.id, since=filters.since, until=filters.until, segment=filters.segment)
    return campaign_results_from(campaign=campaign, variants=variants, rows=rows, filters=filters)


def campaign_results_from(*, campaign: Campaign, variants: list[Variant], rows: list[dict],
                          filters: ResultsFilter | None = None, verdict_only: bool = False) -> dict:
    """campaign_results() on variants and counter rows already read (ordered by id; as counters_daily returns
    them): a page that shows many campaigns reads theirs in one query each, not two per campaign.

    `verdict_only` leaves out what the verdict does not read (the revenue comparison, the uplift, the curves),
    for a page that shows only the verdict.
    """
    filters = filters or ResultsFilter()
    totals: dict = defaultdict(lambda: defaultdict(int))
    for row in rows:
        for name in VariantDailyStats.COUNTERS:
            totals[row["variant_id"]][name] += row[name] or 0
    by_id = {variant.id: variant for variant in variants}
    keys = [variant.id for variant in variants]
    keys += sorted(key for key in totals if key is not None and key not in by_id)  # deleted variants
    has_holdout = campaign.control_share > 0 or None in totals
    if has_holdout:
        keys.append(None)
    labels = [
        HOLDOUT if key is None else (by_id[key].name if key in by_id else f"Deleted variant #{key}") for key in keys
    ]
    alpha = campaign.stats_alpha
    arms = [
        _arm_row(key=key, name=name, variant=by_id.get(key), totals=totals.get(key, {}), alpha=alpha,
                 holdout=key is None)
        for key, name in zip(keys, _unique_names(labels), strict=True)
    ]
    variant_arms = [arm for arm in arms if not arm["holdout"] and not arm["deleted"]]
    holdout_arm = next((arm for arm in arms if arm["holdout"]), None)
    settings = spec_settings(campaign=campaign)
    mixed = sum(int(counters.get("mixed_visitors", 0)) for counters in totals.values())
    if mixed:
        settings["multiple_exposures"] = mixed  # the calculator warns: the arms are not independent
    split = campaign.winner_id is None and campaign.allocation_mode == Campaign.Allocation.FIXED
    weights = [float(arm["weight"]) for arm in variant_arms] if split else None

    # A/B: every variant against the first; with a single variant, against the holdout.
    compared = variant_arms if len(variant_arms) >= 2 else [a for a in (holdout_arm, *variant_arms) if a]
    if compared and compared[0] is holdout_arm:
        weights = None
    comparison = _compare(arms=compared, settings=settings, metric="binomial", weights=weights)
    has_revenue = any(arm["funnel"]["revenue"] for arm in compared)
    revenue = None
    if has_revenue and not verdict_only:
        revenue = _compare(arms=compared, settings=settings, metric="mean", weights=weights)
    uplift = None if verdict_only else _uplift(holdout=holdout_arm, variants=variant_arms, settings=settings)

    traffic = _daily_traffic(rows=rows, arm_keys=[arm["id"] for arm in arms])
    sample = _sample_size(comparison=comparison, arms=compared, traffic=traffic, mde=filters.mde)
    srm = srm_check(campaign=campaign, arms=arms, segmented=bool(filters.segment))
    verdicts = []
    if comparison is not None:
        for row in comparison["arms"][1:]:
            verdicts.append({
                "arm": row["name"],
                "sentence": arm_verdict(
                    row=row, control=compared[0]["name"], settings=settings,
                    plan=next(p for p in sample["arms"] if p["arm"] == row["name"]), power=sample["power"],
                ),
            })
    for result in (comparison, revenue):
        if result is not None:
            result.pop("_parsed")
    winner = by_id.get(campaign.winner_id)
    segmented = srm["informational"]
    days = [row["day"] for row in rows]
    return {
        "campaign": {
            "id": campaign.id, "name": campaign.name, "message_type": campaign.message_type,
            "status": campaign.status, "goal": campaign.goal, "control_share": campaign.control_share,
            "allocation_mode": campaign.allocation_mode,
            "winner": {"id": winner.id, "name": winner.name} if winner else None,
            "winner_declared_at": campaign.winner_declared_at,
        },
        "filters": {
            "since": filters.since, "until": filters.until, "mde": filters.mde,
            "device": filters.device, "source": filters.source, "returning": filters.returning,
            "first_day": min(days) if days else None, "last_day": max(days) if days else None,
        },
        "settings": settings,
        "arms": arms,
        "control": compared[0]["name"] if comparison else None,
        "comparison": comparison,
        "revenue_comparison": revenue,
        "uplift": uplift,
        "srm": srm,
        "sample_size": sample,
        "verdicts": verdicts,
        "verdict": headline_verdict(
            verdicts=verdicts, comparison=comparison, srm={**srm, "mismatch": srm["mismatch"] and not segmented},
            winner=winner and winner.name,
            winner_declared_at=campaign.winner_declared_at,
        ),
        "over_time": [] if verdict_only else _over_time(rows=rows, arms=arms, alpha=alpha),
    }


def _stats_arm(arm: dict, metric: str) -> stats.Arm:
    if metric == "binomial":
        counts = _binomial_arm(arm)
        return stats.binomial_arm(visitors=counts["visitors"], conversions=counts["conversions"])
    counts = _mean_arm(arm)
    return stats.mean_arm(visitors=counts["visitors"], total=counts["sum"], total_squares=counts["sum_squares"])


def _against_holdout(*, holdout: dict, variants: list[dict], settings: dict, metric: str) -> list[dict]:
    """Each variant against the holdout with the campaign's engine: the calculator's per-variant numbers,
    straight from campaigns/stats.py (the calculator would also integrate chance-to-be-best, unused here)."""
    base = _stats_arm(holdout, metric)
    relative, alpha = settings["difference"] == "relative", settings["alpha"]
    rows = []
    for arm in variants:
        b = _stats_arm(arm, metric)
        if settings["engine"] == Campaign.Engine.FREQUENTIST:
            r = stats.frequentist_test(a=base, b=b, relative=relative, alpha=alpha,
                                       sequential_tuning=settings.get("sequential_tuning"))
            rows.append({"expected": r.expected, "ci": r.ci, "p_value": r.p_value, "error": r.error})
        else:
            prior = settings.get("prior")
            r = stats.bayesian_test(a=base, b=b, relative=relative, alpha=alpha,
                                    prior=stats.Prior(**prior) if prior else None)
            rows.append({"expected": r.expected, "ci": r.ci, "chance_to_win": r.chance_to_win, "risk": r.risk,
                         "error": r.error})
    if settings["engine"] == Campaign.Engine.FREQUENTIST:
        adjusted = stats.adjust_p_values(p_values=[r["p_value"] for r in rows], method=settings["correction"])
        for row, p_value in zip(rows, adjusted, strict=True):
            row["p_value_adjusted"] = p_value
    for row in rows:
        row["ci"] = list(row["ci"]) if row["ci"] else None
        if row.get("risk"):
            row["risk"] = list(row["risk"])
    return rows


def _uplift(*, holdout: dict | None, variants: list[dict], settings: dict) -> list[dict] | None:
    """Each variant against showing nothing: conversion and revenue per visitor, and the extra conversions."""
    if holdout is None or not variants:
        return None
    conversion = _against_holdout(holdout=holdout, variants=variants, settings=settings, metric="binomial")
    has_revenue = any(arm["funnel"]["revenue"] for arm in (holdout, *variants))
    revenue = (
        _against_holdout(holdout=holdout, variants=variants, settings=settings, metric="mean") if has_revenue else None
    )
    base = holdout["rates"]["conversion_rate"]
    base_revenue = holdout["rates"]["revenue_per_visitor"]
    rows = []
    for index, arm in enumerate(variants):
        rate, per_visitor = arm["rates"]["conversion_rate"], arm["rates"]["revenue_per_visitor"]
        exposed = arm["funnel"]["exposed"]
        rows.append({
            "arm": arm["name"],
            "conversion": conversion[index],
            "revenue": revenue[index] if revenue else None,
            "incremental_conversions": (rate - base) * exposed if rate is not None and base is not None else None,
            "incremental_revenue": (
                (per_visitor - base_revenue) * exposed if per_visitor is not None and base_revenue is not None else None
            ),
        })
    return rows
