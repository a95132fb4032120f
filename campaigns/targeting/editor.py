"""The rule language's vocabularies as one JSON-ready table, for the admin's structured editors.

The editors (campaigns/static/campaigns/admin/editors.js) build their lists from this table only: every trigger
with its parameters, defaults, bounds and units; every operator with the attribute kinds it fits and the shape of
value it takes; every attribute with its kind, in the groups an owner looks for it in. Nothing here is a second
copy: each entry is read from the registry (vocabulary.py), the core (rules.ATTRS, rules.PREFIXED) or validation.
"""

from __future__ import annotations

from typing import Any

from campaigns import rules
from campaigns.targeting import validation
from campaigns.targeting.vocabulary import (
    ATTRIBUTION_DAYS_DEFAULT,
    ATTRIBUTION_DAYS_MAX,
    ATTRIBUTION_DAYS_MIN,
    BETWEEN,
    COMPARISONS,
    GOAL_URL_OPS,
    HOUR_FROM_MAX,
    HOUR_TO_MAX,
    IN,
    INCLUDES,
    NOT_IN,
    NOT_REGEX,
    OPERATORS,
    REGEX,
    TRIGGERS,
)

# Where an owner looks for an attribute; a prefixed one ("query.") asks for the rest of its name.
ATTRIBUTE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Page", ("path", "url", "host", "query.")),
    ("Source", ("referrer", "referrer_host", "utm.", "first.")),
    ("Visitor", ("device", "language", "consent", "returning", "sessions", "pageviews_session", "pageviews_total",
                 "visited", "days_since_first_visit", "campaign.")),
    ("Journey", ("audiences", "views.", "stages", "nps")),
    ("Cart", ("cart.value", "cart.count", "cart.products")),
    ("Custom attributes", ("attrs.", "cookie.")),
    ("Time", ("weekday", "hour")),
)
# What the attribute list shows: the names owners use, not the rule language's.
ATTRIBUTE_LABELS: dict[str, str] = {
    "path": "page path", "url": "full page address", "host": "site host name", "query.": "query parameter",
    "referrer": "referring address", "referrer_host": "referring site", "utm.": "UTM tag",
    "first.": "first visit's source", "device": "device", "language": "browser language", "consent": "consent given",
    "returning": "returning visitor", "sessions": "number of visits", "pageviews_session": "pages viewed this visit",
    "pageviews_total": "pages viewed in all", "visited": "pages viewed before",
    "days_since_first_visit": "days since the first visit", "campaign.": "another campaign",
    "cart.value": "cart value", "cart.count": "items in the cart", "cart.products": "products in the cart",
    "attrs.": "attribute set by the page", "cookie.": "cookie", "weekday": "day of the week",
    "hour": "hour of the day (site's time zone)", "audiences": "audience", "views.": "pages viewed in a page group",
    "stages": "journey stages reached", "nps": "NPS answer's band",
}
# A numbered value shown by name (0 = Monday, as the schedule counts).
VALUE_LABELS: dict[str, list[str]] = {
    "weekday": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
# A leaf option's label beside its input (validation.LEAF_OPTIONS holds its bounds).
OPTION_LABELS: dict[str, str] = {"min_count": "how many such pages, at least"}
# The rest of a prefixed attribute's name: a fixed list, or a hint for a free name.
PREFIX_NAMES: dict[str, dict[str, Any]] = {
    "query.": {"hint": "query parameter name, e.g. ref"},
    "utm.": {"choices": list(rules.UTM_FIELDS)},
    "first.": {"choices": ["referrer", *(f"utm.{field}" for field in rules.UTM_FIELDS)]},
    "attrs.": {"hint": "attribute set by the page, e.g. plan"},
    "cookie.": {"hint": "cookie name"},
    "campaign.": {"hint": "<campaign id>.seen, .closed or .converted", "pattern": r"^[^.]+\.(seen|closed|converted)$"},
    "views.": {"hint": "page group name, e.g. Blog (views counted by the widget)"},
}


def _value_shape(name: str) -> str:
    """How an editor asks for an operator's value: nothing, a list, a [low, high] pair, a pattern, a number or one
    value of the attribute's kind."""
    operator = OPERATORS[name]
    if not operator.takes_value:
        return "none"
    if name in (IN, NOT_IN, INCLUDES):
        return "list"
    if name == BETWEEN:
        return "pair"
    if name in (REGEX, NOT_REGEX):
        return "pattern"
    if name in COMPARISONS:
        return "number"
    return "scalar"


def _param(param) -> dict[str, Any]:
    choices = list(param.kind) if isinstance(param.kind, tuple) else None
    return {
        "name": param.name, "kind": "choice" if choices else param.kind, "choices": choices, "default": param.default,
        "low": param.low, "high": param.high, "required": param.required, "unit": param.unit,
    }


def _attributes() -> list[dict[str, Any]]:
    grouped = []
    for group, names in ATTRIBUTE_GROUPS:
        for name in names:
            label = ATTRIBUTE_LABELS[name]
            if name in rules.PREFIXED:
                kind = rules.PREFIXED[name][0]
                grouped.append({"name": name, "label": label, "group": group, "kind": kind, "prefix": True,
                                **PREFIX_NAMES[name]})
                continue
            entry = {"name": name, "label": label, "group": group, "kind": rules.ATTRS[name][0], "prefix": False}
            if name in validation.ENUM_VALUES:
                entry["choices"] = list(validation.ENUM_VALUES[name])
            if name in validation.NUMBER_RANGES:
                entry["low"], entry["high"] = validation.NUMBER_RANGES[name]
            if name in VALUE_LABELS:
                entry["value_labels"] = VALUE_LABELS[name]
            if name in validation.LEAF_OPTIONS:
                entry["options"] = [
                    {"name": option, "kind": kind, "low": low, "high": high, "label": OPTION_LABELS[option]}
                    for option, (kind, low, high) in validation.LEAF_OPTIONS[name].items()
                ]
            grouped.append(entry)
    return grouped


def editor_vocabulary() -> dict[str, Any]:
    """Everything the rule editors offer, as plain JSON data."""
    return {
        "triggers": [
            {"name": name, "phrase": trigger.phrase, "params": [_param(p) for p in trigger.params]}
            for name, trigger in TRIGGERS.items()
        ],
        "operators": [
            {"name": name, "phrase": op.phrase, "kinds": list(op.kinds), "value": _value_shape(name)}
            for name, op in OPERATORS.items()
        ],
        "attributes": _attributes(),
        "patterns": {"harmless": rules.REGEX_HARMLESS_ESCAPE, "denied": rules.REGEX_DENIED,
                  "max_length": rules.REGEX_MAX_LENGTH},
        "max_depth": validation.MAX_DEPTH,
        "frequency": [
            {"name": name, "kind": kind, "low": low, "high": high}
            for name, (kind, low, high) in validation.FREQUENCY.items()
        ],
        "goal": {
            "types": list(validation.GOAL_TYPES),
            "details": dict(validation.GOAL_DETAILS),
            "url_ops": [
                {"name": name, "phrase": OPERATORS[name].phrase, "value": _value_shape(name)} for name in GOAL_URL_OPS
            ],
            "attribution_days": [ATTRIBUTION_DAYS_MIN, ATTRIBUTION_DAYS_MAX, ATTRIBUTION_DAYS_DEFAULT],
        },
        "hours": [HOUR_FROM_MAX, HOUR_TO_MAX],
    }
