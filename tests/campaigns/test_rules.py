"""campaigns/rules.py against tests/conformance/rules.json (the same cases as widget/tests/rules.test.js)."""

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.rules import (
    OPERATORS,
    REASONS,
    audiences_matched,
    compile_regex,
    context_problem,
    decide,
    explain,
    local_weekday_hour,
    parse_time,
    percent_decode,
    rule_matches,
)

CASES = json.loads((Path(__file__).parents[1] / "conformance" / "rules.json").read_text("utf-8"))


def context_of(case: dict) -> dict:
    """A case's context: inline, or the name of a shared one."""
    context = case["context"]
    return CASES["contexts"][context] if isinstance(context, str) else context


@pytest.mark.parametrize("case", CASES["rules"], ids=[c["name"] for c in CASES["rules"]])
def test_rule_case(case):
    tz = case.get("tz", "UTC")
    context = context_of(case)
    assert rule_matches(rule=case["rule"], context=context, tz=tz) is case["expected"]
    why = explain(rule=case["rule"], context=context, tz=tz)
    assert (why is None) is case["expected"]
    if "explain" in case:
        assert (why and why["path"]) == case["explain"]


@pytest.mark.parametrize("case", CASES["decide"], ids=[c["name"] for c in CASES["decide"]])
def test_decide_case(case):
    result = decide(config=case["config"], context=context_of(case))
    expected, rows = case["expected"], result["campaigns"]
    by_id = {str(row["id"]): row for row in rows}
    got = {
        "order": [row["id"] for row in rows],
        "armed": [row["id"] for row in rows if row["armed"]],
        "holdout": [row["id"] for row in rows if row["holdout"]],
        "overlay": result["overlay"],
    }
    for key in ("order", "armed", "holdout", "overlay"):
        if key in expected:
            assert got[key] == expected[key], key
    for key, field in (("reasons", "reason"), ("paths", "path"), ("variants", "variant"), ("triggers", "triggers")):
        for cid, value in expected.get(key, {}).items():
            assert by_id[cid][field] == value, (key, cid)
    if "audiences" in expected:
        assert audiences_matched(config=case["config"], context=context_of(case)) == expected["audiences"]


def test_conformance_file_has_at_least_200_cases():
    assert len(CASES["rules"]) + len(CASES["decide"]) >= 200


def test_case_names_are_unique():
    names = [c["name"] for c in CASES["rules"] + CASES["decide"]]
    assert len(names) == len(set(names))


def test_not_armed_campaigns_carry_a_reason_text_and_a_path():
    case = next(c for c in CASES["decide"] if c["name"] == "targeting failure names the rule")
    row = decide(config=case["config"], context=context_of(case))["campaigns"][0]
    assert row["reason_text"].startswith(REASONS["targeting"][:-1])
    assert "path starts_with" in row["reason_text"]
    assert row["path"] == "targeting.all[1]"


def test_armed_campaigns_have_no_reason():
    case = CASES["decide"][0]
    row = decide(config=case["config"], context=context_of(case))["campaigns"][0]
    assert row["armed"] and row["reason"] is None and row["reason_text"] is None and row["path"] is None


def test_explain_names_the_leaf_and_its_value():
    context = {"url": "https://shop.example/cart"}
    rule = {"all": [{"attr": "path", "op": "starts_with", "value": "/blog/"}]}
    assert explain(rule=rule, context=context) == {
        "path": "targeting.all[0]",
        "text": 'path starts_with "/blog/" did not match (path is "/cart")',
    }


def test_percent_decoding_keeps_the_raw_string_when_malformed():
    assert percent_decode("caf%C3%A9") == "café"
    assert percent_decode("100%") == "100%"
    assert percent_decode("%zz") == "%zz"
    assert percent_decode("%FF") == "%FF"
    assert percent_decode("%ED%A0%80") == "%ED%A0%80"  # an encoded surrogate is invalid UTF-8


def test_parse_time_reads_iso_with_an_offset_only():
    assert parse_time("2026-01-01T00:00:00Z") == 1767225600000
    assert parse_time("2026-01-01T01:00:00+01:00") == 1767225600000
    assert parse_time("2026-01-01T00:00:00.5Z") == 1767225600500
    assert parse_time("2026-01-01T00:00:00") is None
    assert parse_time("2026-13-01T00:00:00Z") is None
    assert parse_time("0001-01-01T00:00:00Z") is None
    assert parse_time(1767225600000) == 1767225600000


def test_local_weekday_and_hour_follow_dst():
    assert local_weekday_hour(now=parse_time("2026-03-29T00:59:00Z"), tz="Europe/Paris") == (6, 1)
    assert local_weekday_hour(now=parse_time("2026-03-29T01:00:00Z"), tz="Europe/Paris") == (6, 3)
    assert local_weekday_hour(now=parse_time("2026-01-01T00:00:00Z"), tz="Not/AZone") == (3, 0)


@pytest.mark.parametrize(
    "pattern",
    [
        "(?<=a)b",
        "(?<!a)b",
        "(?P<n>a)",
        "(?<n>a)",
        "(?i)a",
        "(?>a)",
        "a*+",
        "a++",
        "a?+",
        "a{2}+",
        "\\Aa",
        "a\\Z",
        "\\p{L}",
        "(a)\\1",
        "a{,2}",
        "[]",
        "[^]",
        "(?#c)",
        "\\k<n>",
        "\\0",
    ],
)
def test_patterns_outside_the_portable_subset_are_refused(pattern):
    assert compile_regex(pattern) is None


@pytest.mark.parametrize(
    "pattern", ["^/blog/(seo|ads)/?$", "\\d{2,4}", "(?:a|b)+?", "(?=x)", "(?!y)", "[\\w.-]+", "\\.", "\\/"]
)
def test_portable_patterns_compile(pattern):
    assert compile_regex(pattern) is not None


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False), st.text(max_size=8))
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.text(max_size=3), SCALARS, max_size=2))
ATTRS = st.sampled_from(
    [
        "url",
        "path",
        "host",
        "query.q",
        "referrer",
        "utm.source",
        "device",
        "visited",
        "sessions",
        "cart.products",
        "cart.value",
        "attrs.x",
        "cookie.c",
        "hour",
        "campaign.1.seen",
        "nope",
    ]
)
LEAVES = st.fixed_dictionaries(
    {"attr": st.one_of(ATTRS, st.text(max_size=5)), "op": st.one_of(st.sampled_from(OPERATORS), st.text(max_size=5))},
    optional={"value": VALUES, "case_sensitive": VALUES, "min_count": VALUES},
)
RULES = st.recursive(
    st.one_of(LEAVES, VALUES),
    lambda inner: st.one_of(
        st.fixed_dictionaries({"all": st.lists(inner, max_size=3)}),
        st.fixed_dictionaries({"any": st.lists(inner, max_size=3)}),
        st.fixed_dictionaries({"not": inner}),
    ),
    max_leaves=6,
)
CONTEXTS = st.fixed_dictionaries(
    {"now": st.integers(0, 4_000_000_000_000), "url": st.text(max_size=30)},
    optional={
        "referrer": VALUES,
        "cookies": st.dictionaries(st.text(max_size=3), VALUES, max_size=2),
        "visitor": st.fixed_dictionaries(
            {},
            optional={
                "sessions": VALUES,
                "visited": st.lists(VALUES, max_size=3),
                "attrs": st.dictionaries(st.sampled_from(["x", "y"]), VALUES),
                "cart": st.fixed_dictionaries(
                    {},
                    optional={
                        "value": VALUES,
                        "items": st.lists(st.dictionaries(st.sampled_from(["id", "qty"]), VALUES), max_size=3),
                    },
                ),
            },
        ),
    },
)


@given(rule=RULES, context=CONTEXTS)
def test_a_malformed_rule_or_context_never_raises(rule, context):
    result = rule_matches(rule=rule, context=context, tz="Europe/Paris")
    assert isinstance(result, bool)
    assert (explain(rule=rule, context=context) is None) is rule_matches(rule=rule, context=context)


@given(context=CONTEXTS, attr=ATTRS, op=st.sampled_from(["equals", "contains", "regex", "in"]), value=VALUES)
def test_a_negated_operator_is_the_opposite_unless_the_regex_is_invalid(context, attr, op, value):
    positive = rule_matches(rule={"attr": attr, "op": op, "value": value}, context=context)
    negated = rule_matches(rule={"attr": attr, "op": "not_" + op, "value": value}, context=context)
    if op == "regex" and compile_regex(value) is None:
        assert not positive and not negated
    elif attr != "nope":
        assert negated is not positive


def test_every_context_of_the_conformance_cases_is_of_the_shape_the_endpoints_accept():
    contexts = [*CASES["contexts"].values(), *(context_of(case) for case in CASES["rules"] + CASES["decide"])]
    assert len(contexts) > 50
    assert {json.dumps(c): context_problem(context=c) for c in contexts if context_problem(context=c)} == {}


@pytest.mark.parametrize("name", ["Europe/Paris", "America/Santiago", "UTC"])
def test_a_zone_a_site_may_choose_is_the_zone_its_days_are_counted_in(name):
    from zoneinfo import ZoneInfo

    from campaigns.models.site import validate_time_zone
    from campaigns.rules import zone, zone_known

    validate_time_zone(name)
    assert zone_known(name) and zone(name) == ZoneInfo(name)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../../etc/passwd", "europe/paris", 42, None])
def test_a_zone_validation_refuses_counts_in_utc(name):
    import datetime as dt

    from django.core.exceptions import ValidationError

    from campaigns.models.site import validate_time_zone
    from campaigns.rules import zone, zone_known

    assert not zone_known(name)
    with pytest.raises(ValidationError):
        validate_time_zone(name)
    if isinstance(name, str):
        assert zone(name) is dt.UTC
