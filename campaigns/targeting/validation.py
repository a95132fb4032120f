"""Validation of a campaign's rule JSON: triggers, targeting, frequency, schedule and goal.

Every function returns a list of messages (empty = valid); each names the field path and what
is wrong, e.g. "targeting.all[2].op: 'contain' is not one of equals, contains, ...". Content is
validated elsewhere (campaigns/content.py). The language is documented in docs/rules.md.
"""

from __future__ import annotations

from typing import Any

from campaigns.ingest.url_hygiene import url_param_names
from campaigns.rules import AUDIENCE, REGEX_MAX_LENGTH, attribute_kind, is_number, regex_problem
from campaigns.targeting import vocabulary as vocab
from campaigns.targeting.device import DEVICES
from campaigns.targeting.vocabulary import (
    BETWEEN,
    COMPARISONS,
    EQUALS,
    GOAL_URL_OPS,
    IN,
    INCLUDES,
    NO_VALUE_OPS,
    NOT_EQUALS,
    NOT_IN,
    NOT_REGEX,
    OPERATORS,
    OPS_BY_KIND,
    REGEX,
    TRIGGERS,
)

NOT_ONE_OF = "{path}: {value!r} is not one of {choices}"
WRONG_TYPE = "{path}: expected {expected}, got {got}"
REQUIRED = "{path}: is required"
UNKNOWN_KEY = "{path}: unknown key {key!r}"
OUT_OF_RANGE = "{path}: {value!r} is out of range ({low}..{high})"
UNKNOWN_ATTRIBUTE = "{path}: unknown attribute {attr!r} (see docs/rules.md)"
OP_NOT_FOR_ATTRIBUTE = "{path}: operator {op!r} does not apply to {attr!r}; use one of {choices}"
INVALID_REGEX = "{path}: invalid regular expression: {error}"
UNSUPPORTED_REGEX = (
    "{path}: unsupported regular expression: lookbehind, named groups, inline flags, possessive quantifiers, "
    "back-references, {{,n}}, [] and escapes such as \\A \\Z \\p work differently in the browser"
)
REGEX_TOO_LONG = "{path}: regular expression longer than {max} characters"
NO_VALUE = "{path}: operator {op!r} takes no value"
BAD_NODE = "{path}: a rule is {{'all': [...]}}, {{'any': [...]}}, {{'not': rule}} or {{'attr', 'op', 'value'}}"
TOO_DEEP = "{path}: rules are nested more than {max} levels deep"
TOO_MANY = "{path}: more than {max} items"
EMPTY_LIST = "{path}: must not be empty"
DUPLICATES = "{path}: has duplicates"
BETWEEN_ORDER = "{path}: the low bound is above the high bound"
SAME_HOURS = "{path}: from and to are the same hour; use null for all day"
BLANK = "{path}: must not be blank"
AUDIENCE_IN_AUDIENCE = "{path}: an audience's rule cannot name audiences"
PARAM_NOT_KEPT = (
    "{path}: the query parameter {name!r} is not kept in this site's stored URLs; add it to the site's "
    "kept query parameters (now: {kept}) or match without it"
)

MAX_DEPTH = 8
MAX_RULES = 100
MAX_TRIGGERS = 20
MAX_LIST = 200
MAX_TEXT = 500
DAY_SECONDS = vocab.DAY_SECONDS

ENUM_VALUES = {
    "device": DEVICES, "consent": ("granted", "denied", "unknown"), "stages": vocab.STAGES, "nps": vocab.NPS_BANDS,
}
NUMBER_RANGES = {"weekday": (0, 6), "hour": (0, 23)}
# A leaf's options beyond attr, op, value and case_sensitive, by attribute: option -> (kind, low, high).
LEAF_OPTIONS: dict[str, dict[str, tuple[str, int, int]]] = {"visited": {"min_count": ("int", 1, 1000)}}
FREQUENCY: dict[str, tuple[str, float | None, float | None]] = {
    "max_impressions": ("int", vocab.MAX_IMPRESSIONS_MIN, vocab.MAX_IMPRESSIONS_MAX),
    "min_gap_seconds": ("int", 0, 10 * 365 * DAY_SECONDS),
    "once_per_session": ("bool", None, None),
    "stop_after_close": ("bool", None, None),
    "stop_after_conversion": ("bool", None, None),
}
GOAL_TYPES = ("cta_click", "submit", "url", "event", "purchase")
# The goal types that carry a detail, under a key of their own name: a page-address rule, or an event name.
GOAL_DETAILS = {"url": "rule", "event": "name"}


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "list", dict: "object"}.get(type(value), type(value).__name__)


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) or isinstance(x, float) and x.is_integer()


def _choices(items: tuple[str, ...] | list[str]) -> str:
    return ", ".join(items)


def _check(path: str, value: object, kind: Any, low: float | None, high: float | None) -> list[str]:
    """One scalar against a kind and a range."""
    if isinstance(kind, tuple):
        return [] if value in kind else [NOT_ONE_OF.format(path=path, value=value, choices=_choices(kind))]
    expected = {"int": "an integer", "num": "a number", "bool": "true or false", "str": "a string"}[kind]
    ok = {"int": _is_int, "num": is_number, "bool": lambda x: isinstance(x, bool), "str": lambda x: isinstance(x, str)}
    if not ok[kind](value):
        return [WRONG_TYPE.format(path=path, expected=expected, got=_type_name(value))]
    if kind == "str":
        if not value.strip():  # type: ignore[union-attr]
            return [BLANK.format(path=path)]
        if high is not None and len(value) > high:  # type: ignore[arg-type]
            return [OUT_OF_RANGE.format(path=path + " length", value=len(value), low=low, high=high)]  # type: ignore[arg-type]
        return []
    if low is not None and high is not None and not low <= value <= high:  # type: ignore[operator]
        return [OUT_OF_RANGE.format(path=path, value=value, low=low, high=high)]
    return []


def _object(path: str, value: object, allowed: set[str] | dict[str, Any]) -> list[str]:
    if not isinstance(value, dict):
        return [WRONG_TYPE.format(path=path, expected="an object", got=_type_name(value))]
    return [UNKNOWN_KEY.format(path=path, key=k) for k in value if k not in allowed]


# ---------------------------------------------------------------- triggers


def validate_triggers(*, triggers: object) -> list[str]:
    """A list of {"type": ..., params}; params flat or under "params" (as widget/src/core/triggers.js reads them)."""
    if triggers is None:
        return []
    if not isinstance(triggers, list):
        return [WRONG_TYPE.format(path="triggers", expected="a list", got=_type_name(triggers))]
    if len(triggers) > MAX_TRIGGERS:
        return [TOO_MANY.format(path="triggers", max=MAX_TRIGGERS)]
    errors: list[str] = []
    for i, trigger in enumerate(triggers):
        path = f"triggers[{i}]"
        if not isinstance(trigger, dict):
            errors.append(WRONG_TYPE.format(path=path, expected="an object", got=_type_name(trigger)))
            continue
        ttype = trigger.get("type")
        if not isinstance(ttype, str) or ttype not in TRIGGERS:
            errors.append(NOT_ONE_OF.format(path=f"{path}.type", value=ttype, choices=_choices(list(TRIGGERS))))
            continue
        spec = {param.name: param for param in TRIGGERS[ttype].params}
        if "params" in trigger:
            errors += _object(path, trigger, {"type", "params"})
            params, ppath = trigger["params"], f"{path}.params"
            errors += _object(ppath, params, spec)
            if not isinstance(params, dict):
                continue
        else:
            params, ppath = trigger, path
            errors += _object(path, trigger, {"type", *spec})
        for name, param in spec.items():
            if name not in params or params[name] is None:
                if param.required:
                    errors.append(REQUIRED.format(path=f"{ppath}.{name}"))
                continue
            errors += _check(f"{ppath}.{name}", params[name], param.kind, param.low, param.high)
    return errors


# ---------------------------------------------------------------- targeting


def validate_targeting(*, targeting: object) -> list[str]:
    """A rule tree or null (everyone)."""
    if targeting is None:
        return []
    errors: list[str] = []
    count = [0]
    _node("targeting", targeting, 0, errors, count)
    if count[0] > MAX_RULES:
        errors.append(TOO_MANY.format(path="targeting", max=f"{MAX_RULES} rules"))
    return errors


def validate_audience_rule(*, rule: object) -> list[str]:
    """An audience's rule: a targeting tree (null: every visitor) that names no audience (they are evaluated
    without one another)."""
    errors = [message.replace("targeting", "rule", 1) for message in validate_targeting(targeting=rule)]
    for path, leaf in _leaves("rule", rule):
        if leaf.get("attr") == AUDIENCE:
            errors.append(AUDIENCE_IN_AUDIENCE.format(path=f"{path}.attr"))
    return errors


def _node(path: str, node: object, depth: int, errors: list[str], count: list[int]) -> None:
    if depth > MAX_DEPTH:
        errors.append(TOO_DEEP.format(path=path, max=MAX_DEPTH))
        return
    if not isinstance(node, dict):
        errors.append(BAD_NODE.format(path=path))
        return
    for key in ("all", "any"):
        if key in node:
            errors += _object(path, node, {key})
            children = node[key]
            if not isinstance(children, list):
                errors.append(WRONG_TYPE.format(path=f"{path}.{key}", expected="a list", got=_type_name(children)))
            elif not children:
                errors.append(EMPTY_LIST.format(path=f"{path}.{key}"))
            else:
                for i, child in enumerate(children):
                    _node(f"{path}.{key}[{i}]", child, depth + 1, errors, count)
            return
    if "not" in node:
        errors += _object(path, node, {"not"})
        _node(f"{path}.not", node["not"], depth + 1, errors, count)
        return
    if "attr" not in node and "op" not in node:
        errors.append(BAD_NODE.format(path=path))
        return
    count[0] += 1
    errors += validate_leaf(path=path, rule=node)


def validate_leaf(*, path: str, rule: dict[str, Any]) -> list[str]:
    """One {"attr", "op", "value", options} rule."""
    attr, op = rule.get("attr"), rule.get("op")
    options = LEAF_OPTIONS.get(attr, {}) if isinstance(attr, str) else {}
    allowed = {"attr", "op", "value", "case_sensitive", *options}
    errors = _object(path, rule, allowed)
    if attr is None:
        return [*errors, REQUIRED.format(path=f"{path}.attr")]
    kind = attribute_kind(attr)
    if kind is None:
        return [*errors, UNKNOWN_ATTRIBUTE.format(path=f"{path}.attr", attr=attr)]
    if not isinstance(op, str) or op not in OPERATORS:
        return [*errors, NOT_ONE_OF.format(path=f"{path}.op", value=op, choices=_choices(list(OPERATORS)))]
    if op not in OPS_BY_KIND[kind]:
        choices = _choices(OPS_BY_KIND[kind])
        return [*errors, OP_NOT_FOR_ATTRIBUTE.format(path=f"{path}.op", op=op, attr=attr, choices=choices)]
    if "case_sensitive" in rule and not isinstance(rule["case_sensitive"], bool):
        errors.append(
            WRONG_TYPE.format(
                path=f"{path}.case_sensitive", expected="true or false", got=_type_name(rule["case_sensitive"])
            )
        )
    for name, (option_kind, low, high) in options.items():
        if name in rule:
            errors += _check(f"{path}.{name}", rule[name], option_kind, low, high)
    return errors + _value(f"{path}.value", attr, kind, op, rule.get("value"))


def _value(path: str, attr: str, kind: str, op: str, value: object) -> list[str]:
    if op in NO_VALUE_OPS:
        return [] if value is None else [NO_VALUE.format(path=path, op=op)]
    if value is None:
        return [REQUIRED.format(path=path)]
    if op in (REGEX, NOT_REGEX):
        return _regex(path, value)
    number = kind in ("num", "count")
    if op in COMPARISONS:
        return _scalar(path, attr, value, "num")
    if op == BETWEEN:
        if not isinstance(value, list) or len(value) != 2:
            return [WRONG_TYPE.format(path=path, expected="a list [low, high]", got=_type_name(value))]
        errors = _scalar(f"{path}[0]", attr, value[0], "num") + _scalar(f"{path}[1]", attr, value[1], "num")
        return errors or ([BETWEEN_ORDER.format(path=path)] if value[0] > value[1] else [])
    if op in (IN, NOT_IN, INCLUDES):
        items = value if isinstance(value, list) else None
        if items is None:
            if op != INCLUDES:
                return [WRONG_TYPE.format(path=path, expected="a list", got=_type_name(value))]
            items = [value]
        if not items:
            return [EMPTY_LIST.format(path=path)]
        if len(items) > MAX_LIST:
            return [TOO_MANY.format(path=path, max=MAX_LIST)]
        item_kind = "num" if number else ("str" if kind in ("str", "paths") else "scalar")
        errors = []
        for i, item in enumerate(items):
            errors += _scalar(f"{path}[{i}]" if isinstance(value, list) else path, attr, item, item_kind)
        return errors
    if op in (EQUALS, NOT_EQUALS):
        return _scalar(
            path, attr, value, "num" if number else "bool" if kind == "bool" else "scalar" if kind == "dyn" else "str"
        )
    return _scalar(path, attr, value, "str")  # contains, starts_with, ends_with


def _scalar(path: str, attr: str, value: object, kind: str) -> list[str]:
    if kind == "scalar":
        if isinstance(value, str | bool) or is_number(value):
            return []
        return [WRONG_TYPE.format(path=path, expected="a string, number or boolean", got=_type_name(value))]
    errors = _check(path, value, kind, None, None) if kind != "str" else _string(path, value)
    if errors:
        return errors
    if attr in ENUM_VALUES and value not in ENUM_VALUES[attr]:
        return [NOT_ONE_OF.format(path=path, value=value, choices=_choices(ENUM_VALUES[attr]))]
    if attr in NUMBER_RANGES:
        low, high = NUMBER_RANGES[attr]
        return _check(path, value, "int", low, high)
    return []


def _string(path: str, value: object) -> list[str]:
    if not isinstance(value, str):
        return [WRONG_TYPE.format(path=path, expected="a string", got=_type_name(value))]
    if len(value) > MAX_TEXT:
        return [OUT_OF_RANGE.format(path=path + " length", value=len(value), low=0, high=MAX_TEXT)]
    return []


def _regex(path: str, value: object) -> list[str]:
    if not isinstance(value, str):
        return [WRONG_TYPE.format(path=path, expected="a string", got=_type_name(value))]
    if len(value) > REGEX_MAX_LENGTH:
        return [REGEX_TOO_LONG.format(path=path, max=REGEX_MAX_LENGTH)]
    problem = regex_problem(value)
    if problem == "unsupported":
        return [UNSUPPORTED_REGEX.format(path=path)]
    return [INVALID_REGEX.format(path=path, error=problem)] if problem else []


# ---------------------------------------------------------------- frequency, schedule, goal


def validate_frequency(*, frequency: object) -> list[str]:
    """{"max_impressions", "min_gap_seconds", "once_per_session", "stop_after_close", "stop_after_conversion",
    "cancel_on"}."""
    if frequency is None:
        return []
    errors = _object("frequency", frequency, {*FREQUENCY, "cancel_on"})
    if not isinstance(frequency, dict):
        return errors
    for key, (kind, low, high) in FREQUENCY.items():
        if frequency.get(key) is not None:
            errors += _check(f"frequency.{key}", frequency[key], kind, low, high)
    cancel_on = frequency.get("cancel_on")
    if cancel_on is not None:
        if not isinstance(cancel_on, list):
            errors.append(WRONG_TYPE.format(path="frequency.cancel_on", expected="a list", got=_type_name(cancel_on)))
        elif len(cancel_on) > MAX_TRIGGERS:
            errors.append(TOO_MANY.format(path="frequency.cancel_on", max=MAX_TRIGGERS))
        else:
            for i, name in enumerate(cancel_on):
                errors += _check(f"frequency.cancel_on[{i}]", name, "str", 1, 100)
    return errors


def validate_schedule(*, schedule: object) -> list[str]:
    """{"weekdays": [0..6] | null, "hours": [from 0..23, to 0..24] | null} in the site's time zone."""
    if schedule is None:
        return []
    errors = _object("schedule", schedule, {"weekdays", "hours"})
    if not isinstance(schedule, dict):
        return errors
    weekdays, hours = schedule.get("weekdays"), schedule.get("hours")
    if weekdays is not None:
        if not isinstance(weekdays, list):
            errors.append(WRONG_TYPE.format(path="schedule.weekdays", expected="a list", got=_type_name(weekdays)))
        elif not weekdays:
            errors.append(EMPTY_LIST.format(path="schedule.weekdays"))
        else:
            for i, day in enumerate(weekdays):
                errors += _check(f"schedule.weekdays[{i}]", day, "int", 0, 6)
            if len(set(map(str, weekdays))) != len(weekdays):
                errors.append(DUPLICATES.format(path="schedule.weekdays"))
    if hours is not None:
        if not isinstance(hours, list) or len(hours) != 2:
            errors.append(WRONG_TYPE.format(path="schedule.hours", expected="a list [from, to]", got=_type_name(hours)))
        else:
            found = _check("schedule.hours[0]", hours[0], "int", 0, vocab.HOUR_FROM_MAX)
            found += _check("schedule.hours[1]", hours[1], "int", 0, vocab.HOUR_TO_MAX)
            # [0, 24] is the whole day spelled out; [9, 9] would read as all day too, but is more likely a slip
            if not found and hours[0] == hours[1]:
                found.append(SAME_HOURS.format(path="schedule.hours"))
            errors += found
    return errors


def validate_goal(*, goal: object) -> list[str]:
    """{"type", "url": {"op", "value", "case_sensitive"} (type url), "event" (type event), "attribution_days"}."""
    if goal is None:
        return []
    errors = _object("goal", goal, {"type", "url", "event", "attribution_days"})
    if not isinstance(goal, dict):
        return errors
    gtype = goal.get("type")
    if gtype not in GOAL_TYPES:
        return [*errors, NOT_ONE_OF.format(path="goal.type", value=gtype, choices=_choices(GOAL_TYPES))]
    if gtype == "url":
        url = goal.get("url")
        if url is None:
            errors.append(REQUIRED.format(path="goal.url"))
        else:
            errors += _object("goal.url", url, {"op", "value", "case_sensitive"})
            if isinstance(url, dict):
                if url.get("op") not in GOAL_URL_OPS:
                    choices = _choices(GOAL_URL_OPS)
                    errors.append(NOT_ONE_OF.format(path="goal.url.op", value=url.get("op"), choices=choices))
                elif url.get("op") == REGEX:
                    errors += _regex("goal.url.value", url.get("value"))
                elif url.get("value") is None:
                    errors.append(REQUIRED.format(path="goal.url.value"))
                else:
                    errors += _string("goal.url.value", url["value"])
                if "case_sensitive" in url and not isinstance(url["case_sensitive"], bool):
                    errors.append(
                        WRONG_TYPE.format(
                            path="goal.url.case_sensitive",
                            expected="true or false",
                            got=_type_name(url["case_sensitive"]),
                        )
                    )
    elif goal.get("url") is not None:
        errors.append(UNKNOWN_KEY.format(path="goal", key="url") + f" (only for type url, not {gtype})")
    if gtype == "event":
        if goal.get("event") is None:
            errors.append(REQUIRED.format(path="goal.event"))
        else:
            errors += _check("goal.event", goal["event"], "str", 1, 100)
    elif goal.get("event") is not None:
        errors.append(UNKNOWN_KEY.format(path="goal", key="event") + f" (only for type event, not {gtype})")
    if goal.get("attribution_days") is not None:
        low, high = vocab.ATTRIBUTION_DAYS_MIN, vocab.ATTRIBUTION_DAYS_MAX
        errors += _check("goal.attribution_days", goal["attribution_days"], "int", low, high)
    return errors


# ---------------------------------------------------------------- query parameters a site keeps


def _leaves(path: str, node: object, depth: int = 0):
    """(path, leaf) of every {"attr", ...} rule of a tree; malformed parts are validate_targeting's to report."""
    if depth > MAX_DEPTH or not isinstance(node, dict):
        return
    for key in ("all", "any"):
        if isinstance(node.get(key), list):
            for i, child in enumerate(node[key]):
                yield from _leaves(f"{path}.{key}[{i}]", child, depth + 1)
            return
    if "not" in node:
        yield from _leaves(f"{path}.not", node["not"], depth + 1)
    elif "attr" in node:
        yield path, node


def _url_value_params(value: object) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [name for v in values if isinstance(v, str) and "?" in v for name in url_param_names(v)]


def validate_kept_params(*, targeting: object, goal: object, kept: frozenset[str]) -> list[str]:
    """A page rule or URL goal may only name query parameters the site keeps in stored URLs (kept_query_params):
    a goal is matched on stored events, and a rule on a parameter that is never stored reads as a leak."""
    errors: list[str] = []
    shown = ", ".join(sorted(kept)) or "none"

    def refuse(path: str, names: list[str]) -> None:
        for name in dict.fromkeys(names):
            if name not in kept:
                errors.append(PARAM_NOT_KEPT.format(path=path, name=name, kept=shown))

    for path, leaf in _leaves("targeting", targeting):
        attr = leaf.get("attr")
        if isinstance(attr, str) and attr.startswith("query.") and attr != "query.":
            refuse(f"{path}.attr", [attr[len("query."):]])
        elif attr == "url" and leaf.get("op") not in (REGEX, NOT_REGEX):
            refuse(f"{path}.value", _url_value_params(leaf.get("value")))
    if isinstance(goal, dict) and goal.get("type") == "url" and isinstance(goal.get("url"), dict):
        url = goal["url"]
        if url.get("op") != REGEX:
            refuse("goal.url.value", _url_value_params(url.get("value")))
    return errors


def validate_campaign_rules(
    *,
    triggers: object,
    targeting: object,
    frequency: object,
    schedule: object,
    goal: object,
    kept_params: frozenset[str] | None = None,
) -> list[str]:
    """Every problem in a campaign's rule JSON; empty when valid. With `kept_params` (the site's kept query
    parameters), rules naming any other query parameter are refused too."""
    return [
        *validate_triggers(triggers=triggers),
        *validate_targeting(targeting=targeting),
        *validate_frequency(frequency=frequency),
        *validate_schedule(schedule=schedule),
        *validate_goal(goal=goal),
        *(validate_kept_params(targeting=targeting, goal=goal, kept=kept_params) if kept_params is not None else ()),
    ]


class RulesInvalid(ValueError):
    """Raised by campaign_rules_check(); `errors` holds every message."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def campaign_rules_check(
    *,
    triggers: object,
    targeting: object,
    frequency: object,
    schedule: object,
    goal: object,
    kept_params: frozenset[str] | None = None,
) -> None:
    """validate_campaign_rules(), raising RulesInvalid instead of returning messages."""
    errors = validate_campaign_rules(
        triggers=triggers, targeting=targeting, frequency=frequency, schedule=schedule, goal=goal,
        kept_params=kept_params,
    )
    if errors:
        raise RulesInvalid(errors)
