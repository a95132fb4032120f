"""Generate tests/campaigns/stats_reference.json from gbstats 0.8.0 (run in a scratch venv)."""

import importlib.metadata
import json

from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig, GaussianPrior
from gbstats.frequentist.tests import FrequentistConfig, SequentialConfig, SequentialTwoSidedTTest, TwoSidedTTest
from gbstats.models.statistics import ProportionStatistic, SampleMeanStatistic
from gbstats.utils import check_srm


def stat(arm, metric):
    if metric == "binomial":
        return ProportionStatistic(n=arm["visitors"], sum=arm["conversions"])
    return SampleMeanStatistic(n=arm["visitors"], sum=arm["sum"], sum_squares=arm["sum_squares"])


def B(name, n, c):
    return {"name": name, "visitors": n, "conversions": c}
def M(name, n, s, ss):
    return {"name": name, "visitors": n, "sum": s, "sum_squares": ss}
cases = []


def case(name, spec):
    cases.append({"name": name, "spec": spec})


pairs = {
    "typical": [B("control", 10000, 1000), B("variant", 10000, 1100)],
    "small counts": [B("control", 12, 1), B("variant", 15, 4)],
    "tiny effect": [B("control", 250000, 5000), B("variant", 251000, 5050)],
    "variant loses": [B("control", 4000, 420), B("variant", 3900, 350)],
    "control has zero conversions": [B("control", 500, 0), B("variant", 500, 5)],
    "variant converts everyone": [B("control", 50, 10), B("variant", 40, 40)],
    "unequal arms": [B("control", 800, 64), B("variant", 3200, 300)],
}
means = {
    "revenue per visitor": [M("control", 2000, 61000.0, 4.1e6), M("variant", 2100, 70500.0, 4.6e6)],
    "small mean sample": [M("control", 5, 10.0, 30.0), M("variant", 4, 13.0, 50.0)],
    "negative values": [M("control", 300, -150.0, 1200.0), M("variant", 310, -60.0, 1500.0)],
}
for alpha in (0.05, 0.1):
    for diff in ("relative", "absolute"):
        for label, arms in list(pairs.items()) + list(means.items()):
            metric = "binomial" if "conversions" in arms[0] else "mean"
            if alpha == 0.1 and label not in ("typical", "revenue per visitor", "small counts"):
                continue
            base = {"metric": metric, "difference": diff, "alpha": alpha, "arms": arms}
            case(f"{label}, {diff}, alpha {alpha}", {**base, "engine": "frequentist"})
            for tuning in (5000, 500):
                case(
                    f"{label}, {diff}, sequential {tuning}, alpha {alpha}",
                    {**base, "engine": "frequentist", "sequential_tuning": tuning},
                )
            case(f"{label}, {diff}, bayesian flat, alpha {alpha}", {**base, "engine": "bayesian"})
            prior = {"mean": 0.0, "variance": 0.09} if diff == "relative" else {"mean": 0.001, "variance": 0.0004}
            if metric == "mean" and diff == "absolute":
                prior = {"mean": 0.5, "variance": 4.0}
            case(f"{label}, {diff}, bayesian prior, alpha {alpha}", {**base, "engine": "bayesian", "prior": prior})

for c in cases:
    s = c["spec"]
    a, b = (stat(x, s["metric"]) for x in s["arms"])
    if s["engine"] == "frequentist":
        if s.get("sequential_tuning"):
            t = SequentialTwoSidedTTest(
                a,
                b,
                SequentialConfig(
                    difference_type=s["difference"],
                    alpha=s["alpha"],
                    sequential_tuning_parameter=s["sequential_tuning"],
                ),
            )
        else:
            t = TwoSidedTTest(a, b, FrequentistConfig(difference_type=s["difference"], alpha=s["alpha"]))
        r = t.compute_result()
        out = {"expected": r.expected, "ci": list(r.ci), "p_value": r.p_value}
    else:
        p = s.get("prior")
        prior = GaussianPrior(mean=p["mean"], variance=p["variance"], proper=True) if p else GaussianPrior()
        t = EffectBayesianABTest(
            a,
            b,
            EffectBayesianConfig(
                difference_type=s["difference"], alpha=s["alpha"], prior_effect=prior, prior_type=s["difference"]
            ),
        )
        r = t.compute_result()
        out = {"expected": r.expected, "ci": list(r.ci), "chance_to_win": r.chance_to_win, "risk": list(r.risk)}
    if r.error_message:
        out = {k: None for k in out}
        c["gbstats_error"] = r.error_message
    c["expected"] = {
        k: (float(v) if isinstance(v, float | int) else v if v is None else [float(x) for x in v])
        for k, v in out.items()
    }

srm = [
    ("balanced", [5000, 5050], [1, 1]),
    ("mismatch 50/50", [5000, 5400], [1, 1]),
    ("three arms", [3300, 3350, 3100], [1, 1, 1]),
    ("uneven weights", [1000, 2000, 2950], [20, 40, 60]),
    ("no visitors", [0, 0], [1, 1]),
    ("ten arms", [1000 + 13 * i for i in range(10)], [1] * 10),
]
srm_cases = [{"name": n, "visitors": v, "weights": w, "p_value": float(check_srm(v, w))} for n, v, w in srm]
json.dump(
    {
        "_comment": "Reference values from gbstats "
        + importlib.metadata.version("gbstats")
        + " (GrowthBook's stats engine, pip install gbstats) "
        "computed by running it on each spec; expected None where gbstats returns its 'cannot compute' default. "
        "Regenerate: see docs/stats.md.",
        "comparisons": cases,
        "srm": srm_cases,
    },
    open("/work/main/tests/campaigns/stats_reference.json", "w"),
    indent=1,
)
print(len(cases), "cases")
