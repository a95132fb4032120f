"""campaigns/targeting/validation.py: every message names the field path and what is wrong."""

import json
from pathlib import Path

import pytest

from campaigns.targeting import validation as v
from campaigns.targeting.validation import (
    RulesInvalid,
    campaign_rules_check,
    validate_campaign_rules,
    validate_frequency,
    validate_goal,
    validate_schedule,
    validate_targeting,
    validate_triggers,
)

CASES = json.loads((Path(__file__).parents[2] / "conformance" / "rules.json").read_text("utf-8"))
VALID = {
    "triggers": [
        {"type": "exit_intent", "sensitivity": 20},
        {"type": "scroll", "percent": 50},
        {"type": "cart_abandonment", "via": "inactivity", "seconds": 30},
        {"type": "js", "params": {"name": "x"}},
    ],
    "targeting": {
        "all": [
            {"attr": "path", "op": "starts_with", "value": "/blog/"},
            {
                "any": [
                    {"attr": "utm.source", "op": "equals", "value": "google"},
                    {"not": {"attr": "visited", "op": "contains", "value": "/checkout"}},
                ]
            },
            {"attr": "visited", "op": "starts_with", "value": "/blog/seo/", "min_count": 2},
            {"attr": "cart.products", "op": "includes", "value": ["sku-1", "sku-2"]},
            {"attr": "hour", "op": "between", "value": [9, 17]},
            {"attr": "attrs.plan", "op": "equals", "value": "pro"},
            {"attr": "returning", "op": "is_true"},
        ]
    },
    "frequency": {
        "max_impressions": 3,
        "min_gap_seconds": 3600,
        "once_per_session": True,
        "stop_after_close": True,
        "stop_after_conversion": True,
        "cancel_on": ["purchase"],
    },
    "schedule": {"weekdays": [0, 1, 2, 3, 4], "hours": [22, 6]},
    "goal": {"type": "url", "url": {"op": "starts_with", "value": "/thanks"}, "attribution_days": 7},
}


def test_a_complete_valid_campaign_has_no_errors():
    assert validate_campaign_rules(**VALID) == []


def test_empty_and_null_parts_are_valid():
    assert validate_campaign_rules(triggers=[], targeting=None, frequency={}, schedule={}, goal=None) == []
    assert validate_campaign_rules(triggers=None, targeting=None, frequency=None, schedule=None, goal=None) == []


@pytest.mark.parametrize(
    ("targeting", "message"),
    [
        (
            {
                "all": [
                    {"attr": "path", "op": "starts_with", "value": "/"},
                    {"attr": "path", "op": "equals", "value": "/"},
                    {"attr": "path", "op": "contain", "value": "x"},
                ]
            },
            "targeting.all[2].op: 'contain' is not one of equals, contains, starts_with, ends_with, regex, in, "
            "gt, gte, lt, lte, between, includes, is_true, is_false, exists, "
            "not_equals, not_contains, not_regex, not_in, not_exists",
        ),
        (
            {"any": [{"attr": "path", "op": "regex", "value": "("}]},
            "targeting.any[0].value: invalid regular expression: missing ), unterminated subpattern at position 0",
        ),
        ({"attr": "path", "op": "regex", "value": "(?<=a)b"}, v.UNSUPPORTED_REGEX.format(path="targeting.value")),
        ({"attr": "path", "op": "not_regex", "value": "a*+"}, v.UNSUPPORTED_REGEX.format(path="targeting.value")),
        ({"attr": "path", "op": "regex", "value": "x" * 501}, v.REGEX_TOO_LONG.format(path="targeting.value", max=500)),
        (
            {"attr": "sessions", "op": "contains", "value": "1"},
            "targeting.op: operator 'contains' does not apply to 'sessions'; "
            "use one of equals, not_equals, in, not_in, gt, gte, lt, lte, between, exists, not_exists",
        ),
        (
            {"attr": "cart.products", "op": "equals", "value": "x"},
            "targeting.op: operator 'equals' does not apply to 'cart.products'; "
            "use one of includes, exists, not_exists",
        ),
        (
            {"attr": "bogus", "op": "equals", "value": 1},
            v.UNKNOWN_ATTRIBUTE.format(path="targeting.attr", attr="bogus"),
        ),
        (
            {"attr": "utm.term", "op": "equals", "value": "x"},
            v.UNKNOWN_ATTRIBUTE.format(path="targeting.attr", attr="utm.term"),
        ),
        ({"attr": "path", "op": "equals"}, "targeting.value: is required"),
        ({"op": "equals", "value": "x"}, "targeting.attr: is required"),
        ({"attr": "returning", "op": "is_true", "value": 1}, "targeting.value: operator 'is_true' takes no value"),
        ({"attr": "sessions", "op": "gt", "value": "2"}, "targeting.value: expected a number, got string"),
        (
            {"attr": "sessions", "op": "between", "value": [5, 2]},
            "targeting.value: the low bound is above the high bound",
        ),
        ({"attr": "sessions", "op": "between", "value": 5}, "targeting.value: expected a list [low, high], got number"),
        ({"attr": "hour", "op": "equals", "value": 24}, "targeting.value: 24 is out of range (0..23)"),
        ({"attr": "weekday", "op": "in", "value": [0, 7]}, "targeting.value[1]: 7 is out of range (0..6)"),
        (
            {"attr": "device", "op": "equals", "value": "phone"},
            "targeting.value: 'phone' is not one of desktop, mobile, tablet",
        ),
        ({"attr": "path", "op": "in", "value": []}, "targeting.value: must not be empty"),
        ({"attr": "path", "op": "in", "value": "/a"}, "targeting.value: expected a list, got string"),
        (
            {"attr": "path", "op": "equals", "value": "/", "case_sensitive": "yes"},
            "targeting.case_sensitive: expected true or false, got string",
        ),
        ({"attr": "path", "op": "equals", "value": "/", "min_count": 2}, "targeting: unknown key 'min_count'"),
        (
            {"attr": "visited", "op": "contains", "value": "/", "min_count": 0},
            "targeting.min_count: 0 is out of range (1..1000)",
        ),
        ({"attr": "path", "op": "equals", "value": "/", "negate": True}, "targeting: unknown key 'negate'"),
        ({"all": []}, "targeting.all: must not be empty"),
        ({"all": {"attr": "path"}}, "targeting.all: expected a list, got object"),
        ({"all": [{"attr": "path", "op": "exists"}], "any": []}, "targeting: unknown key 'any'"),
        ({"not": "x"}, v.BAD_NODE.format(path="targeting.not")),
        ({}, v.BAD_NODE.format(path="targeting")),
        ([], v.BAD_NODE.format(path="targeting")),
    ],
)
def test_targeting_errors_name_the_path(targeting, message):
    assert message in validate_targeting(targeting=targeting)


def test_deep_trees_are_refused():
    tree = {"attr": "path", "op": "exists"}
    for _ in range(10):
        tree = {"not": tree}
    assert any("nested more than" in e for e in validate_targeting(targeting=tree))


def test_too_many_rules_are_refused():
    tree = {"all": [{"attr": "path", "op": "exists"}] * (v.MAX_RULES + 1)}
    assert v.TOO_MANY.format(path="targeting", max=f"{v.MAX_RULES} rules") in validate_targeting(targeting=tree)


def test_every_regex_the_evaluators_refuse_is_refused_by_the_validator():
    for case in CASES["rules"]:
        rule = case["rule"]
        if (
            isinstance(rule, dict)
            and rule.get("op") in ("regex", "not_regex")
            and case["expected"] is False
            and case["name"].startswith(
                (
                    "invalid regex",
                    "lookbehind",
                    "python named",
                    "js named",
                    "inline",
                    "possessive",
                    "\\A",
                    "{,n}",
                    "empty class",
                )
            )
        ):
            assert validate_targeting(targeting=rule), case["name"]


@pytest.mark.parametrize(
    ("triggers", "message"),
    [
        (
            [{"type": "exit"}],
            "triggers[0].type: 'exit' is not one of page_load, exit_intent, mobile_exit, scroll, "
            "time_on_page, time_on_site, inactivity, click, pageviews, cart_abandonment, js, event",
        ),
        ([{"type": "scroll", "percent": 150}], "triggers[0].percent: 150 is out of range (1..100)"),
        ([{"type": "time_on_page"}], "triggers[0].seconds: is required"),
        ([{"type": "scroll", "percent": "50"}], "triggers[0].percent: expected an integer, got string"),
        ([{"type": "click", "selector": " "}], "triggers[0].selector: must not be blank"),
        ([{"type": "page_load", "delay": -1}], "triggers[0].delay: -1 is out of range (0..3600)"),
        ([{"type": "exit_intent", "sensitivity": True}], "triggers[0].sensitivity: expected an integer, got boolean"),
        ([{"type": "mobile_exit", "scroll_up": "yes"}], "triggers[0].scroll_up: expected true or false, got string"),
        ([{"type": "pageviews", "count": 0}], "triggers[0].count: 0 is out of range (1..1000)"),
        (
            [{"type": "cart_abandonment", "via": "email"}],
            "triggers[0].via: 'email' is not one of exit_intent, inactivity",
        ),
        ([{"type": "js"}], "triggers[0].name: is required"),
        ([{"type": "event", "params": {"name": "x", "extra": 1}}], "triggers[0].params: unknown key 'extra'"),
        ([{"type": "scroll", "percent": 50, "speed": 2}], "triggers[0]: unknown key 'speed'"),
        (["scroll"], "triggers[0]: expected an object, got string"),
        ({"type": "scroll"}, "triggers: expected a list, got object"),
        ([{"type": "page_load"}] * 21, "triggers: more than 20 items"),
    ],
)
def test_trigger_errors_name_the_path(triggers, message):
    assert message in validate_triggers(triggers=triggers)


@pytest.mark.parametrize(
    ("frequency", "message"),
    [
        ({"max_impressions": 0}, "frequency.max_impressions: 0 is out of range (1..1000)"),
        ({"min_gap_seconds": -5}, "frequency.min_gap_seconds: -5 is out of range (0..315360000)"),
        ({"once_per_session": "yes"}, "frequency.once_per_session: expected true or false, got string"),
        ({"cancel_on": "purchase"}, "frequency.cancel_on: expected a list, got string"),
        ({"cancel_on": [""]}, "frequency.cancel_on[0]: must not be blank"),
        ({"max_impression": 1}, "frequency: unknown key 'max_impression'"),
        ([], "frequency: expected an object, got list"),
    ],
)
def test_frequency_errors_name_the_path(frequency, message):
    assert message in validate_frequency(frequency=frequency)


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ({"weekdays": [7]}, "schedule.weekdays[0]: 7 is out of range (0..6)"),
        ({"weekdays": []}, "schedule.weekdays: must not be empty"),
        ({"weekdays": [1, 1]}, "schedule.weekdays: has duplicates"),
        ({"hours": [9]}, "schedule.hours: expected a list [from, to], got list"),
        ({"hours": [9, 25]}, "schedule.hours[1]: 25 is out of range (0..24)"),
        ({"hours": [9, 9]}, "schedule.hours: from and to are the same hour; use null for all day"),
        ({"days": [1]}, "schedule: unknown key 'days'"),
    ],
)
def test_schedule_errors_name_the_path(schedule, message):
    assert message in validate_schedule(schedule=schedule)


@pytest.mark.parametrize(
    ("goal", "message"),
    [
        ({"type": "click"}, "goal.type: 'click' is not one of cta_click, submit, url, event, purchase"),
        ({"type": "url"}, "goal.url: is required"),
        (
            {"type": "url", "url": {"op": "regex", "value": "[a"}},
            "goal.url.value: invalid regular expression: unterminated character set at position 0",
        ),
        (
            {"type": "url", "url": {"op": "like", "value": "/x"}},
            "goal.url.op: 'like' is not one of equals, contains, starts_with, ends_with, regex",
        ),
        ({"type": "event"}, "goal.event: is required"),
        ({"type": "purchase", "attribution_days": 0}, "goal.attribution_days: 0 is out of range (1..90)"),
        ({"type": "purchase", "window": 3}, "goal: unknown key 'window'"),
    ],
)
def test_goal_errors_name_the_path(goal, message):
    assert message in validate_goal(goal=goal)


def test_campaign_rules_check_raises_with_every_message():
    with pytest.raises(RulesInvalid) as raised:
        campaign_rules_check(triggers=[{"type": "x"}], targeting={}, frequency=None, schedule=None, goal=None)
    assert len(raised.value.errors) == 2
    assert raised.value.errors[0].startswith("triggers[0].type:")


def test_messages_start_with_the_model_field_name():
    errors = validate_campaign_rules(
        triggers=[{"type": "x"}],
        targeting={"all": []},
        frequency={"x": 1},
        schedule={"hours": [1, 1]},
        goal={"type": "x"},
    )
    assert [e.split(":")[0].split(".")[0].split("[")[0] for e in errors] == [
        "triggers",
        "targeting",
        "frequency",
        "schedule",
        "goal",
    ]
