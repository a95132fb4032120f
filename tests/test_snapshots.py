"""Snapshots of what validation, the config compiler and the descriptions say about the rule JSON.

Two files under tests/snapshots/, one case per line:
- conformance.json: every case of tests/conformance/rules.json. A rule case: its validation (as targeting) and its
  description. A decide case, per campaign: validation of its triggers, targeting, frequency, schedule and goal,
  its compiled triggers and its one-sentence description. (The compiled rules and configs of the same cases are
  held by tests/conformance/rules.compiled.json.)
- inputs.json: a table of trigger, targeting, schedule, frequency and goal inputs, valid and invalid (INPUTS
  below): each input's validation errors, compiled form and description.

Moving code must change nothing here. A deliberate change of behaviour: regenerate and review the diff with
    UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_snapshots.py && git diff tests/snapshots/
"""

import difflib
import json
import os
from pathlib import Path

from campaigns.targeting.compile import config_compile, rule_compile
from campaigns.targeting.describe import campaign_describe, describe_frequency, describe_targeting, describe_triggers
from campaigns.targeting.triggers import triggers_compile
from campaigns.targeting.validation import (
    validate_campaign_rules,
    validate_frequency,
    validate_goal,
    validate_schedule,
    validate_targeting,
    validate_triggers,
)

HERE = Path(__file__).resolve().parent
SNAPSHOTS = HERE / "snapshots"
CONFORMANCE = HERE / "conformance" / "rules.json"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z, as the conformance cases' contexts
STALE = "{name} differs from what the code produces now (- snapshot, + now); if the change is meant, regenerate: " \
    "UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_snapshots.py\n{diff}"


def outcome(function, **kwargs):
    """What a function returns, or the exception it raises (a crash on bad input is behaviour to keep an eye on)."""
    try:
        return function(**kwargs)
    except Exception as error:  # noqa: BLE001 - recorded in the snapshot, not hidden
        return f"raises {type(error).__name__}: {error}"


# ---------------------------------------------------------------- the table of inputs

TRIGGER_INPUTS = [
    None, [], "page_load", [5], [{"params": {}}], [{"type": "hover"}], [{"type": "toString"}],
    [{"type": "page_load"} for _ in range(21)],
    [{"type": "page_load"}], [{"type": "page_load", "delay": 2.5}], [{"type": "page_load", "delay": 3601}],
    [{"type": "page_load", "delay": "2"}], [{"type": "page_load", "params": {"delay": 5}}],
    [{"type": "page_load", "params": 5}], [{"type": "page_load", "params": {"delay": 5}, "delay": 1}],
    [{"type": "page_load", "wait": 1}],
    [{"type": "exit_intent"}], [{"type": "exit_intent", "sensitivity": 10, "min_time": 5, "delay": 0.3}],
    [{"type": "exit_intent", "sensitivity": 2.5}], [{"type": "exit_intent", "delay": 10.001}],
    [{"type": "exit_intent", "delay": 300}],
    [{"type": "mobile_exit"}], [{"type": "mobile_exit", "scroll_up": False, "tab_hidden": False, "back_button": True,
                                 "min_time": 10}], [{"type": "mobile_exit", "back_button": "yes"}],
    [{"type": "scroll"}], [{"type": "scroll", "percent": 75}], [{"type": "scroll", "percent": 0}],
    [{"type": "scroll", "percent": 50.5}], [{"type": "scroll", "percent": True}],
    [{"type": "time_on_page"}], [{"type": "time_on_page", "seconds": 30}], [{"type": "time_on_page", "seconds": 0}],
    [{"type": "time_on_site", "seconds": 5400}], [{"type": "time_on_site"}],
    [{"type": "inactivity"}], [{"type": "inactivity", "seconds": 86_401}], [{"type": "inactivity", "seconds": 45}],
    [{"type": "click"}], [{"type": "click", "selector": "#buy"}], [{"type": "click", "selector": ""}],
    [{"type": "pageviews"}], [{"type": "pageviews", "count": 3}], [{"type": "pageviews", "count": 1001}],
    [{"type": "cart_abandonment"}], [{"type": "cart_abandonment", "via": "exit_intent"}],
    [{"type": "cart_abandonment", "via": "inactivity", "seconds": 120}], [{"type": "cart_abandonment", "via": "idle"}],
    [{"type": "js"}], [{"type": "js", "name": "promo"}], [{"type": "js", "name": 7}],
    [{"type": "event"}], [{"type": "event", "name": "added_to_cart"}],
    [{"type": "exit_intent"}, {"type": "scroll", "percent": 50}, {"type": "time_on_page", "seconds": 60}],
]

TARGETING_INPUTS = [
    None, {}, [], "path", {"attr": "path"}, {"op": "equals", "value": "/"},
    {"attr": "nope", "op": "equals", "value": 1},
    {"attr": "path", "op": "like", "value": "/"}, {"attr": "path", "op": "gt", "value": 3},
    {"attr": "path", "op": "equals", "value": "/pricing"}, {"attr": "path", "op": "starts_with", "value": "/blog/"},
    {"attr": "path", "op": "not_starts_with", "value": "/blog/"}, {"attr": "path", "op": "in", "value": ["/a", "/b"]},
    {"attr": "path", "op": "not_in", "value": ["/a"]}, {"attr": "path", "op": "in", "value": []},
    {"attr": "path", "op": "regex", "value": "^/p/[0-9]+$"}, {"attr": "path", "op": "regex", "value": "(a+)+"},
    {"attr": "path", "op": "regex", "value": "("},
    {"attr": "path", "op": "equals", "value": "/A", "case_sensitive": True},
    {"attr": "path", "op": "equals", "value": "/A", "case_sensitive": "yes"},
    {"attr": "url", "op": "contains", "value": "utm_source=news"}, {"attr": "url", "op": "not_contains", "value": "x"},
    {"attr": "host", "op": "ends_with", "value": ".example"}, {"attr": "referrer", "op": "not_exists"},
    {"attr": "referrer", "op": "exists", "value": 1}, {"attr": "referrer_host", "op": "equals", "value": "google.com"},
    {"attr": "device", "op": "equals", "value": "mobile"},
    {"attr": "device", "op": "in", "value": ["mobile", "tablet"]},
    {"attr": "device", "op": "equals", "value": "phone"}, {"attr": "language", "op": "starts_with", "value": "fr"},
    {"attr": "consent", "op": "equals", "value": "granted"}, {"attr": "consent", "op": "equals", "value": "yes"},
    {"attr": "returning", "op": "is_true"}, {"attr": "returning", "op": "is_false"},
    {"attr": "returning", "op": "equals", "value": True}, {"attr": "sessions", "op": "gte", "value": 3},
    {"attr": "sessions", "op": "gte", "value": "3"}, {"attr": "pageviews_session", "op": "between", "value": [2, 5]},
    {"attr": "pageviews_session", "op": "between", "value": [5, 2]},
    {"attr": "pageviews_total", "op": "lt", "value": 10},
    {"attr": "days_since_first_visit", "op": "gt", "value": 30}, {"attr": "cart.value", "op": "gte", "value": 50},
    {"attr": "cart.count", "op": "equals", "value": 0}, {"attr": "cart.products", "op": "includes", "value": "sku-1"},
    {"attr": "cart.products", "op": "equals", "value": "sku-1"}, {"attr": "weekday", "op": "in", "value": [5, 6]},
    {"attr": "weekday", "op": "equals", "value": 7}, {"attr": "hour", "op": "between", "value": [9, 17]},
    {"attr": "visited", "op": "starts_with", "value": "/pricing", "min_count": 2},
    {"attr": "visited", "op": "not_contains", "value": "/checkout"}, {"attr": "visited", "op": "equals", "value": "/",
                                                                       "min_count": 0},
    {"attr": "path", "op": "equals", "value": "/", "min_count": 2},
    {"attr": "utm.source", "op": "equals", "value": "google"}, {"attr": "utm.term", "op": "equals", "value": "x"},
    {"attr": "first.utm.source", "op": "equals", "value": "hn"}, {"attr": "query.q", "op": "contains", "value": "shoe"},
    {"attr": "query.n", "op": "gt", "value": 2}, {"attr": "cookie.ab", "op": "equals", "value": "b"},
    {"attr": "attrs.plan", "op": "in", "value": ["pro", "team"]}, {"attr": "attrs.beta", "op": "is_true"},
    {"attr": "campaign.12.seen", "op": "gte", "value": 2}, {"attr": "campaign.12.closed", "op": "is_true"},
    {"attr": "campaign.12.bought", "op": "gte", "value": 1},
    {"all": [{"attr": "utm.source", "op": "equals", "value": "google"},
             {"attr": "utm.medium", "op": "equals", "value": "cpc"},
             {"attr": "path", "op": "starts_with", "value": "/blog/"}]},
    {"any": [{"attr": "device", "op": "equals", "value": "mobile"}, {"attr": "returning", "op": "is_true"}]},
    {"any": [{"attr": "device", "op": "equals", "value": "mobile"}, {"attr": "returning", "op": "is_true"},
             {"attr": "hour", "op": "lt", "value": 6}]},
    {"any": []}, {"all": []}, {"not": {"attr": "path", "op": "starts_with", "value": "/checkout"}},
    {"not": {"attr": "device", "op": "equals", "value": "mobile"}}, {"not": [1]},
    {"all": [{"attr": "path", "op": "equals", "value": "/"}], "any": []},
    {"all": [{"all": [{"all": [{"all": [{"all": [{"all": [{"all": [{"all": [{"all": [
        {"attr": "path", "op": "exists"}]}]}]}]}]}]}]}]}]},
]

SCHEDULE_INPUTS = [
    None, {}, {"weekdays": None, "hours": None}, {"weekdays": [0, 1, 2, 3, 4]}, {"weekdays": [5, 6], "hours": [9, 17]},
    {"hours": [22, 6]}, {"hours": [0, 24]}, {"hours": [9, 9]}, {"hours": [9, 33]}, {"hours": [9]},
    {"weekdays": []}, {"weekdays": [1, 1]}, {"weekdays": [7]}, {"weekdays": "mon"}, {"days": [1]}, [],
]

FREQUENCY_INPUTS = [
    None, {}, {"max_impressions": 3}, {"once_per_session": True}, {"once_per_session": True, "max_impressions": 2},
    {"min_gap_seconds": 3600}, {"max_impressions": 1, "min_gap_seconds": 5400}, {"min_gap_seconds": 86_400},
    {"stop_after_close": True, "stop_after_conversion": True}, {"cancel_on": ["signup", "purchase"]},
    {"cancel_on": "signup"}, {"cancel_on": [""]}, {"max_impressions": 0}, {"max_impressions": 1.5},
    {"once_per_session": "yes"}, {"min_gap_seconds": -1}, {"per_day": 1}, [],
]

GOAL_INPUTS = [
    None, {}, {"type": "cta_click"}, {"type": "submit"}, {"type": "purchase"},
    {"type": "purchase", "attribution_days": 30}, {"type": "purchase", "attribution_days": 0},
    {"type": "purchase", "attribution_days": 91}, {"type": "purchase", "attribution_days": 1.5},
    {"type": "event", "event": "signup"}, {"type": "event"}, {"type": "event", "event": ""},
    {"type": "url", "url": {"op": "starts_with", "value": "/thanks"}},
    {"type": "url", "url": {"op": "equals", "value": "/Thanks", "case_sensitive": True}},
    {"type": "url", "url": {"op": "regex", "value": "^/order/[0-9]+/done$"}},
    {"type": "url", "url": {"op": "regex", "value": "("}}, {"type": "url", "url": {"op": "in", "value": ["/a"]}},
    {"type": "url"}, {"type": "url", "url": {"op": "equals"}},
    {"type": "purchase", "url": {"op": "equals", "value": "/"}},
    {"type": "submit", "event": "x"}, {"type": "download"}, {"goal": "purchase"}, [],
]

SITE = {"key": "pk_test", "tz": "Europe/Paris", "consent": {"required": False, "show_before_consent": False},
        "cap": {"max_overlays_per_session": None, "min_overlay_gap_seconds": None}}


def compiled_campaign(**fields) -> dict:
    """The campaign's compiled fields when one campaign with `fields` is the site's whole config."""
    campaign = {"id": 1, "type": "popup", "priority": 0, "starts_at": None, "ends_at": None,
                "schedule": {"weekdays": None, "hours": None}, "triggers": [{"type": "page_load"}], "targeting": None,
                "frequency": {}, "goal": None, "control_share": 0,
                "variants": [{"id": 11, "weight": 100, "content": {}}], **fields}
    compiled = config_compile(config={"version": "t", "site": SITE, "campaigns": [campaign]}, now=NOW)
    return {key: value for key, value in compiled["campaigns"][0].items() if key in ("checks", "arm", "goal")}


def inputs_snapshot() -> dict[str, list]:
    return {
        "triggers": [{
            "input": triggers,
            "validation": outcome(validate_triggers, triggers=triggers),
            "compiled": outcome(triggers_compile, triggers=triggers),
            "description": outcome(describe_triggers, triggers=triggers),
        } for triggers in TRIGGER_INPUTS],
        "targeting": [{
            "input": targeting,
            "validation": outcome(validate_targeting, targeting=targeting),
            "compiled": outcome(rule_compile, rule=targeting),
            "description": outcome(describe_targeting, targeting=targeting),
        } for targeting in TARGETING_INPUTS],
        "schedule": [{
            "input": schedule,
            "validation": outcome(validate_schedule, schedule=schedule),
            "compiled": outcome(compiled_campaign, schedule=schedule),
        } for schedule in SCHEDULE_INPUTS],
        "frequency": [{
            "input": frequency,
            "validation": outcome(validate_frequency, frequency=frequency),
            "compiled": outcome(compiled_campaign, frequency=frequency),
            "description": outcome(describe_frequency, frequency=frequency),
        } for frequency in FREQUENCY_INPUTS],
        "goal": [{
            "input": goal,
            "validation": outcome(validate_goal, goal=goal),
            "compiled": outcome(compiled_campaign, goal=goal),
        } for goal in GOAL_INPUTS],
    }


def conformance_snapshot() -> dict[str, list]:
    cases = json.loads(CONFORMANCE.read_text("utf-8"))
    rules = [{
        "name": case["name"],
        "validation": outcome(validate_targeting, targeting=case["rule"]),
        "description": outcome(describe_targeting, targeting=case["rule"]),
    } for case in cases["rules"]]
    decide = []
    for case in cases["decide"]:
        for campaign in case["config"].get("campaigns") or []:
            fields = {name: campaign.get(name) for name in ("triggers", "targeting", "frequency", "schedule", "goal")}
            decide.append({
                "name": case["name"],
                "campaign": campaign.get("id"),
                "validation": outcome(validate_campaign_rules, **fields),
                "compiled_triggers": outcome(triggers_compile, triggers=fields["triggers"]),
                "description": outcome(campaign_describe, message_type=campaign.get("type"),
                                       triggers=fields["triggers"], targeting=fields["targeting"],
                                       frequency=fields["frequency"]),
            })
    return {"rules": rules, "decide": decide}


def snapshot_text(snapshot: dict[str, list]) -> str:
    """JSON, one case per line, so that a difference shows as the cases it touches."""

    def one(value: object) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    sections = [f'"{name}": [\n  ' + ",\n  ".join(one(case) for case in cases) + "\n ]"
                for name, cases in snapshot.items()]
    return "{" + ",\n ".join(sections) + "}\n"


def assert_snapshot(name: str, snapshot: dict[str, list]) -> None:
    path = SNAPSHOTS / name
    text = snapshot_text(snapshot)
    if UPDATE:
        path.write_text(text, "utf-8")
        return
    stored = path.read_text("utf-8") if path.exists() else ""
    if text != stored:
        diff = "\n".join(difflib.unified_diff(stored.splitlines(), text.splitlines(), f"{name} (snapshot)",
                                              f"{name} (now)", lineterm="", n=0))
        raise AssertionError(STALE.format(name=name, diff=diff))


def test_the_snapshot_text_round_trips_and_keeps_one_case_per_line():
    snapshot = {"triggers": [{"input": [{"type": "scroll"}], "validation": ["x"]}, {"input": None}]}
    text = snapshot_text(snapshot)
    assert json.loads(text) == snapshot
    assert len(text.splitlines()) == 4


def test_every_conformance_case_is_validated_compiled_and_described_as_the_snapshot_says():
    assert_snapshot("conformance.json", conformance_snapshot())


def test_the_table_of_rule_inputs_is_validated_compiled_and_described_as_the_snapshot_says():
    assert_snapshot("inputs.json", inputs_snapshot())
