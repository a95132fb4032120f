"""Validation, decide(), the compiler and the descriptions give one answer for the same rule JSON.

Each test here pins a place where they used to disagree, with the answer the registry (campaigns/targeting/
vocabulary.py) now gives all of them.
"""

import importlib
import math

import pytest
from django.apps import apps
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.rules import CAP_CHECKS, CHECKS, decide, goal_url_rule, rule_matches
from campaigns.targeting import vocabulary as vocab
from campaigns.targeting.compile import config_compile
from campaigns.targeting.describe import (
    describe_frequency,
    describe_targeting,
    describe_trigger,
    describe_triggers,
)
from campaigns.targeting.triggers import triggers_compile
from campaigns.targeting.validation import (
    validate_frequency,
    validate_goal,
    validate_schedule,
    validate_targeting,
    validate_triggers,
)

NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z, a Thursday


def _config(**campaign) -> dict:
    base = {"id": 1, "type": "popup", "variants": [{"id": 11, "weight": 1, "content": {}}]}
    return {"site": {"tz": "UTC"}, "campaigns": [{**base, **campaign}]}


def _decided(context: dict | None = None, **campaign) -> dict:
    return decide(config=_config(**campaign), context={"now": NOW, **(context or {})})["campaigns"][0]


def _checks(**campaign) -> list:
    return config_compile(config=_config(**campaign), now=NOW)["campaigns"][0]["checks"]


# ---------------------------------------------------------------- triggers: one default, or required everywhere


@pytest.mark.parametrize(
    ("trigger", "compiled", "phrase"),
    [
        ({"type": "scroll"}, ["scroll", 50], "after scrolling 50% of the page"),
        ({"type": "inactivity"}, ["inactivity", 30_000], "after 30 seconds of inactivity"),
        ({"type": "pageviews"}, ["pageviews", 1], "from page view 1 of a visit"),
        (
            {"type": "cart_abandonment"},
            ["cart_abandonment", False, 30_000],
            "when a visitor with a cart is about to leave",
        ),
    ],
)
def test_a_missing_optional_parameter_is_the_registry_default_everywhere(trigger, compiled, phrase):
    assert validate_triggers(triggers=[trigger]) == []
    assert triggers_compile([trigger]) == [compiled]
    assert describe_trigger(trigger=trigger) == phrase


@pytest.mark.parametrize(
    ("trigger", "param"),
    [
        ({"type": "time_on_page"}, "seconds"),
        ({"type": "time_on_site"}, "seconds"),
        ({"type": "click"}, "selector"),
        ({"type": "js"}, "name"),
        ({"type": "event", "name": 7}, "name"),
    ],
)
def test_a_missing_required_parameter_is_refused_never_fires_and_is_named(trigger, param):
    assert any(f".{param}: " in error for error in validate_triggers(triggers=[trigger]))
    assert triggers_compile([trigger]) == [[None]]
    described = describe_trigger(trigger=trigger)
    assert "None" not in described and param in described


def test_exit_intent_delay_is_in_seconds_and_the_widget_still_receives_ms():
    trigger = {"type": "exit_intent", "delay": 0.3}
    assert validate_triggers(triggers=[trigger]) == []
    assert triggers_compile([trigger]) == [["exit_intent", 20, 0, 300]]
    assert validate_triggers(triggers=[{"type": "exit_intent", "delay": 300}]) == [
        "triggers[0].delay: 300 is out of range (0..10)"
    ]


def test_every_duration_parameter_is_sent_to_the_widget_in_ms():
    for name, trigger in vocab.TRIGGERS.items():
        given = {p.name: (2 if p.unit == vocab.SECONDS else p.default) for p in trigger.params}
        given |= {p.name: "x" for p in trigger.params if p.required and p.kind == "str"}
        compiled = triggers_compile([{"type": name, **given}])[0]
        for param, value in zip(trigger.params, compiled[1:], strict=True):
            if param.unit == vocab.SECONDS:
                assert value == 2000, (name, param.name)


def test_the_migration_turns_stored_exit_intent_delays_into_seconds(campaign):
    stored = [
        {"type": "exit_intent", "sensitivity": 20, "delay": 300},
        {"type": "exit_intent", "params": {"delay": 1500}},
        {"type": "page_load", "delay": 5},
    ]
    type(campaign).objects.filter(id=campaign.id).update(triggers=stored)
    migration = importlib.import_module("campaigns.migrations.0017_exit_intent_delay_seconds")
    migration.delay_to_seconds(apps, None)
    campaign.refresh_from_db()
    assert campaign.triggers == [
        {"type": "exit_intent", "sensitivity": 20, "delay": 0.3},
        {"type": "exit_intent", "params": {"delay": 1.5}},
        {"type": "page_load", "delay": 5},
    ]
    assert triggers_compile(campaign.triggers)[:2] == [["exit_intent", 20, 0, 300], ["exit_intent", 20, 0, 1500]]
    migration.delay_to_milliseconds(apps, None)
    campaign.refresh_from_db()
    assert campaign.triggers == stored


# ---------------------------------------------------------------- frequency and schedule


def test_cancel_on_as_a_string_cancels_nothing_anywhere():
    assert validate_frequency(frequency={"cancel_on": "purchase"}) == [
        "frequency.cancel_on: expected a list, got string"
    ]
    visitor = {"visitor": {"events": ["p", "purchase"]}}
    assert _decided(visitor, frequency={"cancel_on": "purchase"})["armed"] is True
    assert [c[0] for c in _checks(frequency={"cancel_on": "purchase"})] == []
    assert "never after" not in describe_frequency(frequency={"cancel_on": "purchase"})
    assert _decided(visitor, frequency={"cancel_on": ["purchase"]})["reason"] == "cancelled"


def test_max_impressions_zero_is_refused_and_reads_as_never_shown_as_decide_treats_it():
    assert validate_frequency(frequency={"max_impressions": 0}) == [
        "frequency.max_impressions: 0 is out of range (1..1000)"
    ]
    assert _decided(frequency={"max_impressions": 0})["reason"] == "max_impressions"
    assert describe_frequency(frequency={"max_impressions": 0}) == "never shown"


def test_hours_0_to_24_is_the_whole_day_everywhere():
    assert validate_schedule(schedule={"hours": [0, 24]}) == []
    for hour in (0, 12, 23):
        context = {"now": NOW + hour * 3_600_000}
        assert decide(config=_config(schedule={"hours": [0, 24]}), context=context)["campaigns"][0]["armed"]


def test_the_same_hour_twice_is_refused_and_is_all_day_in_both_evaluators():
    assert validate_schedule(schedule={"hours": [9, 9]}) == [
        "schedule.hours: from and to are the same hour; use null for all day"
    ]
    assert _decided(schedule={"hours": [9, 9]})["armed"] is True
    assert _checks(schedule={"hours": [9, 9]}) == []


def test_attribution_days_have_one_bound():
    low, high = vocab.ATTRIBUTION_DAYS_MIN, vocab.ATTRIBUTION_DAYS_MAX
    assert validate_goal(goal={"type": "purchase", "attribution_days": high}) == []
    assert validate_goal(goal={"type": "purchase", "attribution_days": low}) == []
    assert validate_goal(goal={"type": "purchase", "attribution_days": high + 1}) == [
        f"goal.attribution_days: {high + 1} is out of range ({low}..{high})"
    ]


def test_a_url_goal_is_the_full_url_with_its_case_sensitivity_for_the_widget_and_the_server():
    goal = {"type": "url", "url": {"op": "contains", "value": "Thanks", "case_sensitive": True}}
    rule = goal_url_rule(goal=goal)
    assert rule_matches(rule=rule, context={"url": "https://shop.example/done?step=Thanks"})
    assert not rule_matches(rule=rule, context={"url": "https://shop.example/done?step=thanks"})
    compiled = config_compile(config=_config(goal=goal), now=NOW)["campaigns"][0]["goal"]["rule"]
    assert compiled[0] == vocab.R_URL and compiled[4] & vocab.CASE_SENSITIVE


# ---------------------------------------------------------------- descriptions never crash

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    | st.sampled_from([*vocab.TRIGGERS, *vocab.OPERATORS, "path", "visited", "utm.source", "device"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(["type", "params", "attr", "op", "value", "all", "any", "not", "min_count", "delay",
                         "seconds", "percent", "via", "max_impressions", "min_gap_seconds", "cancel_on",
                         "once_per_session"]),
        children,
        max_size=5,
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=JSON)
def test_describe_never_crashes_on_what_validation_refuses(value):
    """Whatever the JSON (validation refuses most of it), the descriptions return a phrase."""
    for describe, validate, key in (
        (describe_triggers, validate_triggers, "triggers"),
        (describe_targeting, validate_targeting, "targeting"),
        (describe_frequency, validate_frequency, "frequency"),
    ):
        validate(**{key: value})
        assert isinstance(describe(**{key: value}), str)
    wrapped = [value] if not isinstance(value, list) else value
    assert isinstance(describe_triggers(triggers=wrapped), str)


@pytest.mark.parametrize(
    ("triggers", "phrase"),
    [
        ([{"type": "page_load", "delay": "2"}], "on page load"),
        ([{"type": "page_load", "delay": math.inf}], "inf seconds after the page loads"),
        ("page_load", "on an unknown trigger"),
    ],
)
def test_a_trigger_with_a_wrong_parameter_reads_as_the_compiler_runs_it(triggers, phrase):
    assert describe_triggers(triggers=triggers) == phrase


def test_an_empty_list_value_reads_as_nothing():
    assert describe_targeting(targeting={"attr": "path", "op": "in", "value": []}) == "only on nothing"


# ---------------------------------------------------------------- decide()'s checks: one order


def test_the_compiled_checks_are_decide_checks_in_decide_order():
    campaign = {
        "starts_at": "2025-01-01T00:00:00Z",
        "ends_at": "2027-01-01T00:00:00Z",
        "schedule": {"weekdays": [0], "hours": [9, 17]},
        "targeting": {"attr": "path", "op": "equals", "value": "/x"},
        "frequency": {
            "cancel_on": ["buy"], "stop_after_conversion": True, "stop_after_close": True, "max_impressions": 3,
            "once_per_session": True, "min_gap_seconds": 60,
        },
        "variants": [{"id": 11, "weight": 0}],
    }
    config = {"site": {"tz": "UTC", "consent": {"required": True}, "cap": {"max_overlays_per_session": 1,
                                                                       "min_overlay_gap_seconds": 5}},
              "campaigns": [{"id": 1, "type": "popup", **campaign}]}
    compiled = config_compile(config=config, now=NOW)
    applied = [(code, path) for code, path, _ in compiled["campaigns"][0]["checks"]]
    every = [(check.code, check.path) for check in CHECKS]
    assert applied == [pair for pair in every if pair[1] not in ("consent",) and pair[0] != "schedule_invalid"]
    assert [(code, path) for code, path, _ in compiled["site"]["caps"]] == [(c.code, c.path) for c in CAP_CHECKS]


def test_decide_reports_the_first_failed_check_in_the_registry_order():
    context = {"url": "https://shop.example/y", "visitor": {"events": ["buy"]}}
    both = {"targeting": {"attr": "path", "op": "equals", "value": "/x"}, "frequency": {"cancel_on": ["buy"]}}
    assert _decided(context, **both)["reason"] == "targeting"
    assert _decided(context, frequency={"cancel_on": ["buy"]})["reason"] == "cancelled"
