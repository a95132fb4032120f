"""The calculator: reference values from GrowthBook's gbstats, spec validation, warnings, and `abcalc`."""

import io
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns import stats
from campaigns.results import calculator
from campaigns.results.calculator import SpecError, calculate

REFERENCE = json.loads((Path(__file__).parent / "stats_reference.json").read_text())


def binomial(*counts, **extra) -> dict:
    arms = [{"name": f"arm{i}", "visitors": n, "conversions": c} for i, (n, c) in enumerate(counts)]
    return {"arms": arms, **extra}


def warning_codes(result: dict) -> list[str]:
    return [w["code"] for w in result["warnings"]]


@pytest.mark.parametrize("case", REFERENCE["comparisons"], ids=lambda case: case["name"])
def test_two_arm_results_match_gbstats(case):
    variant = calculate(case["spec"])["arms"][1]
    for field, expected in case["expected"].items():
        if expected is None:
            assert variant[field] is None
            assert variant["error"] in (stats.BASELINE_ZERO, stats.ZERO_VARIANCE, stats.NO_VISITORS)
        else:
            assert variant[field] == pytest.approx(expected, rel=1e-9, abs=1e-12), field


@pytest.mark.parametrize("case", REFERENCE["srm"], ids=lambda case: case["name"])
def test_srm_p_value_matches_gbstats(case):
    arms = [{"name": f"arm{i}", "visitors": n, "conversions": 0} for i, n in enumerate(case["visitors"])]
    result = calculate({"arms": arms, "weights": case["weights"]})
    assert result["srm_p_value"] == pytest.approx(case["p_value"], rel=1e-9)


def test_three_variants_are_each_compared_with_control_and_holm_adjusted():
    spec = binomial((5000, 500), (5000, 560), (5000, 540), (5000, 610), correction="holm")
    arms = calculate(spec)["arms"]
    p_values = [arm["p_value"] for arm in arms[1:]]
    assert [arm["p_value_adjusted"] for arm in arms[1:]] == stats.adjust_p_values(p_values=p_values, method="holm")
    assert all(arm["p_value_adjusted"] >= arm["p_value"] for arm in arms[1:])
    assert "p_value" not in arms[0]


def test_without_correction_the_adjusted_p_value_is_the_p_value():
    arm = calculate(binomial((5000, 500), (5000, 560)))["arms"][1]
    assert arm["p_value_adjusted"] == arm["p_value"]


def test_bayesian_output_has_chance_to_win_risk_and_chance_to_be_best_for_every_arm():
    result = calculate(binomial((3000, 300), (3000, 345), (3000, 310), engine="bayesian"))
    control, best, _ = result["arms"]
    assert set(best) >= {"expected", "ci", "chance_to_win", "risk", "chance_to_be_best"}
    assert best["risk"][0] > best["risk"][1]
    assert sum(arm["chance_to_be_best"] for arm in result["arms"]) == pytest.approx(1.0)
    assert control["chance_to_be_best"] < best["chance_to_be_best"]


def test_prior_in_the_spec_pulls_the_bayesian_lift_towards_its_mean():
    flat = calculate(binomial((400, 20), (400, 32), engine="bayesian"))["arms"][1]
    prior = calculate(binomial((400, 20), (400, 32), engine="bayesian", prior={"mean": 0, "variance": 0.01}))
    assert 0 < prior["arms"][1]["expected"] < flat["expected"]


def test_mean_metric_spec_is_analysed_from_sums():
    spec = {
        "metric": "mean",
        "difference": "absolute",
        "arms": [
            {"name": "control", "visitors": 3, "sum": 6.0, "sum_squares": 14.0},
            {"name": "variant", "visitors": 3, "sum": 9.0, "sum_squares": 29.0},
        ],
    }
    assert calculate(spec)["arms"][1]["expected"] == pytest.approx(1.0)


def test_sample_size_is_reported_when_an_mde_is_given():
    result = calculate(binomial((1000, 100), (1000, 110), mde=0.1, difference="absolute"))
    assert result["sample_size"]["per_arm"] == 14749
    assert result["sample_size"]["remaining"] == [13749, 13749]
    assert result["sample_size"]["remaining_total"] == 27498


def test_sample_size_plans_with_a_bonferroni_alpha_when_p_values_are_corrected():
    result = calculate(binomial((1000, 100), (1000, 110), (1000, 90), mde=0.1, correction="bh"))
    assert result["sample_size"]["alpha"] == pytest.approx(0.025)
    expected = stats.binomial_sample_size(baseline=0.1, mde=0.1, alpha=0.025)
    assert result["sample_size"]["per_arm"] == expected


@pytest.mark.parametrize(
    "spec, code",
    [
        (binomial((50, 10), (60, 12)), "too_few_visitors"),
        (binomial((500, 10), (500, 30)), "too_few_conversions"),
        (binomial((5000, 100), (5000, 400)), "suspicious_lift"),
        (binomial((5000, 500), (5600, 560)), "srm"),
        (binomial((5000, 500), (5000, 520), multiple_exposures=40), "multiple_exposures"),
        (binomial((5000, 500), (5000, 520), (300, 30), weights=[1, 1, 0]), "visitors_in_zero_weight_arm"),
        (binomial((5000, 0), (5000, 30)), stats.BASELINE_ZERO),
        (binomial((5000, 0), (5000, 30), difference="absolute"), stats.ZERO_VARIANCE),
        (binomial((0, 0), (10, 3)), stats.NO_VISITORS),
    ],
)
def test_each_warning_is_raised_with_its_code_and_a_message(spec, code):
    result = calculate(spec)
    assert code in warning_codes(result)
    assert all(w["message"] for w in result["warnings"])


def test_a_healthy_test_has_no_warnings():
    assert calculate(binomial((5000, 500), (5000, 540)))["warnings"] == []


def test_srm_is_computed_without_the_weight_zero_arm():
    result = calculate(binomial((5000, 500), (5000, 520), (0, 0), weights=[1, 1, 0]))
    assert result["srm_p_value"] == pytest.approx(1.0)
    assert warning_codes(result) == []


def field_error(field: str, message: str) -> str:
    return f"{field}: {message}"


GOOD_ARM = {"name": "control", "visitors": 10, "conversions": 1}
MEAN_ARM = {"name": "control", "visitors": 10, "sum": 5.0, "sum_squares": 10.0}


@pytest.mark.parametrize(
    "spec, message",
    [
        ([], field_error("spec", calculator.MUST_BE_OBJECT)),
        ({"arms": [GOOD_ARM]}, field_error("arms", calculator.ARMS_COUNT)),
        ({"arms": "x"}, field_error("arms", calculator.ARMS_COUNT)),
        ({}, field_error("arms", calculator.ARMS_COUNT)),
        ({"armz": []}, field_error("armz", calculator.UNKNOWN_FIELD)),
        (
            {"arms": [GOOD_ARM, {"name": "b", "visitors": -1, "conversions": 0}]},
            field_error("arms[1].visitors", calculator.MUST_BE_COUNT),
        ),
        (
            {"arms": [GOOD_ARM, {"name": "b", "visitors": 1.5, "conversions": 0}]},
            field_error("arms[1].visitors", calculator.MUST_BE_COUNT),
        ),
        (
            {"arms": [GOOD_ARM, {"name": "b", "visitors": 10**400, "conversions": 0}]},
            field_error("arms[1].visitors", calculator.COUNT_TOO_LARGE),
        ),
        (
            {"arms": [GOOD_ARM, {"name": "b", "visitors": True, "conversions": 0}]},
            field_error("arms[1].visitors", calculator.MUST_BE_COUNT),
        ),
        (
            {"arms": [GOOD_ARM, {"name": "b", "visitors": 3}]},
            field_error("arms[1].conversions", calculator.MISSING_FIELD),
        ),
        (
            {"arms": [GOOD_ARM, {"name": "b", "visitors": 3, "conversions": 4}]},
            field_error("arms[1].conversions", calculator.CONVERSIONS_ABOVE_VISITORS),
        ),
        ({"arms": [GOOD_ARM, {"visitors": 3, "conversions": 1}]}, field_error("arms[1].name", calculator.MUST_BE_NAME)),
        ({"arms": [GOOD_ARM, GOOD_ARM]}, field_error("arms", calculator.DUPLICATE_NAME)),
        ({"arms": [GOOD_ARM, 7]}, field_error("arms[1]", calculator.MUST_BE_OBJECT)),
        ({"arms": [GOOD_ARM, MEAN_ARM]}, field_error("arms[1].sum", calculator.UNKNOWN_FIELD)),
        (
            {"metric": "mean", "arms": [MEAN_ARM, {**MEAN_ARM, "name": "b", "sum_squares": 2.0}]},
            field_error("arms[1].sum_squares", calculator.SUM_SQUARES_TOO_SMALL),
        ),
        (
            {"metric": "mean", "arms": [MEAN_ARM, {**MEAN_ARM, "name": "b", "sum": None}]},
            field_error("arms[1].sum", calculator.MUST_BE_NUMBER),
        ),
        (
            {"metric": "mean", "arms": [MEAN_ARM, {"name": "b", "visitors": 0, "sum": 1.0, "sum_squares": 1.0}]},
            field_error("arms[1].sum", calculator.SUM_WITHOUT_VISITORS),
        ),
        ({"metric": "ratio", "arms": []}, field_error("metric", "must be one of binomial, mean")),
        ({"engine": "magic", "arms": []}, field_error("engine", "must be one of frequentist, bayesian")),
        ({"difference": "scaled", "arms": []}, field_error("difference", "must be one of relative, absolute")),
        ({"correction": "bonferroni", "arms": []}, field_error("correction", "must be one of none, holm, bh")),
        ({"alpha": 1.5, "arms": []}, field_error("alpha", calculator.MUST_BE_PROBABILITY)),
        ({"alpha": float("nan"), "arms": []}, field_error("alpha", calculator.MUST_BE_PROBABILITY)),
        ({"alpha": "0.05", "arms": []}, field_error("alpha", calculator.MUST_BE_PROBABILITY)),
        ({"sequential_tuning": 0, "arms": []}, field_error("sequential_tuning", calculator.MUST_BE_POSITIVE)),
        (
            {"engine": "bayesian", "sequential_tuning": 5000, "arms": []},
            field_error("sequential_tuning", calculator.FREQUENTIST_ONLY),
        ),
        ({"prior": {"mean": 0, "variance": 1}, "arms": []}, field_error("prior", calculator.BAYESIAN_ONLY)),
        ({"engine": "bayesian", "prior": [0, 1], "arms": []}, field_error("prior", calculator.MUST_BE_OBJECT)),
        (
            {"engine": "bayesian", "prior": {"mean": 0, "variance": 0}, "arms": []},
            field_error("prior.variance", calculator.MUST_BE_POSITIVE),
        ),
        (
            {"engine": "bayesian", "prior": {"variance": 1}, "arms": []},
            field_error("prior.mean", calculator.MISSING_FIELD),
        ),
        (
            {"weights": [1], "arms": [GOOD_ARM, {**GOOD_ARM, "name": "b"}]},
            field_error("weights", calculator.WEIGHTS_SHAPE),
        ),
        (
            {"weights": [0, 0], "arms": [GOOD_ARM, {**GOOD_ARM, "name": "b"}]},
            field_error("weights", calculator.WEIGHTS_SHAPE),
        ),
        (
            {"multiple_exposures": -3, "arms": [GOOD_ARM, {**GOOD_ARM, "name": "b"}]},
            field_error("multiple_exposures", calculator.MUST_BE_COUNT),
        ),
        ({"power": 0.9, "arms": [GOOD_ARM, {**GOOD_ARM, "name": "b"}]}, field_error("power", calculator.MDE_NEEDED)),
    ],
)
def test_a_bad_spec_is_rejected_with_a_message_naming_the_field(spec, message):
    with pytest.raises(SpecError) as error:
        calculate(spec)
    assert str(error.value) == message


arm_counts = st.integers(0, 10**7).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n)))


@settings(max_examples=300, deadline=None)
@given(
    counts=st.lists(arm_counts, min_size=2, max_size=5),
    engine=st.sampled_from(["frequentist", "bayesian"]),
    difference=st.sampled_from(["relative", "absolute"]),
    sequential=st.sampled_from([None, 5000]),
    correction=st.sampled_from(list(stats.CORRECTIONS)),
)
def test_any_valid_binomial_spec_gives_strict_json_with_sane_numbers(
    counts, engine, difference, sequential, correction
):
    spec = binomial(*counts, engine=engine, difference=difference, correction=correction, mde=0.05)
    if engine == "frequentist" and sequential:
        spec["sequential_tuning"] = sequential
    result = calculate(spec)
    json.dumps(result, allow_nan=False)
    for arm in result["arms"][1:]:
        if arm["ci"] is not None:
            assert arm["ci"][0] <= arm["expected"] <= arm["ci"][1]
        for field in ("p_value", "p_value_adjusted", "chance_to_win", "chance_to_be_best"):
            assert arm.get(field) is None or 0 <= arm[field] <= 1
        assert arm.get("risk") is None or min(arm["risk"]) >= 0
    assert result["srm_p_value"] is None or 0 <= result["srm_p_value"] <= 1


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=0, max_size=30), min_size=2, max_size=4),
    engine=st.sampled_from(["frequentist", "bayesian"]),
)
def test_any_valid_mean_spec_gives_strict_json(values, engine):
    arms = [
        {"name": f"arm{i}", "visitors": len(v), "sum": math.fsum(v), "sum_squares": math.fsum(x * x for x in v)}
        for i, v in enumerate(values)
    ]
    json.dumps(calculate({"metric": "mean", "engine": engine, "arms": arms}), allow_nan=False)


def run_abcalc(monkeypatch, stdin: str) -> tuple[int, str, str]:
    from campaigns.management.commands.abcalc import Command

    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out, err = io.StringIO(), io.StringIO()
    try:
        Command(stdout=out, stderr=err).handle(indent=None)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def test_abcalc_prints_the_result_as_json(monkeypatch):
    code, out, _ = run_abcalc(monkeypatch, json.dumps(binomial((5000, 500), (5000, 650))))
    assert code == 0
    assert json.loads(out)["arms"][1]["p_value"] < 0.05


@pytest.mark.parametrize(
    "stdin, detail",
    [
        ('{"arms": [', "spec: not valid JSON"),
        ('{"arms": [{"name": "a", "visitors": -1, "conversions": 0}, 1]}', "arms[0].visitors: must be a non-negative"),
        ('{"alpha": NaN, "arms": []}', "alpha: must be a number"),
    ],
)
def test_abcalc_exits_with_status_2_and_a_json_error_for_a_bad_spec(monkeypatch, stdin, detail):
    code, out, err = run_abcalc(monkeypatch, stdin)
    assert code == 2
    assert out == ""
    error = json.loads(err)
    assert error["error"] == "invalid_spec"
    assert error["detail"].startswith(detail)


def test_abcalc_through_manage_py_prints_json_and_refuses_a_bad_spec_with_exit_code_2():
    import json as _json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "retarget.settings", "DEBUG": "1"}
    env.pop("DATABASE_URL", None)
    spec = {"metric": "binomial", "engine": "frequentist", "arms": [
        {"name": "A", "visitors": 10000, "conversions": 1000}, {"name": "B", "visitors": 10000, "conversions": 1100}]}
    ok = subprocess.run([sys.executable, "manage.py", "abcalc"], input=_json.dumps(spec), cwd=root, env=env,
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert round(_json.loads(ok.stdout)["arms"][1]["p_value"], 4) == 0.0279
    bad = subprocess.run([sys.executable, "manage.py", "abcalc"], input='{"metric": "binomial", "arms": []}',
                         cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert "arms" in bad.stdout + bad.stderr
