"""A campaign's triggers, frequency and targeting in plain English, for the admin and previews.

"Popup, on exit intent, shown at most once per session, never again after a conversion,
only on pages under /blog/, to visitors from google/cpc."
Pure functions over the rule JSON (docs/rules.md); anything unexpected is described generically.
"""

from __future__ import annotations

import json
from typing import Any

from campaigns.rules import AUDIENCE, cancel_events, is_number
from campaigns.targeting.vocabulary import (
    BETWEEN,
    CONTAINS,
    DEFAULT_TRIGGER,
    ENDS_WITH,
    EQUALS,
    GT,
    GTE,
    IN,
    INCLUDES,
    IS_FALSE,
    IS_TRUE,
    NEGATED,
    NOT_EXISTS,
    OPERATORS,
    REGEX,
    SECONDS,
    STARTS_WITH,
    TRIGGERS,
    param_value,
)

EVERYONE = "to everyone"
EVERY_TIME = "shown every time it is triggered"
UNITS = (("week", 604_800), ("day", 86_400), ("hour", 3600), ("minute", 60), ("second", 1))

# How a path rule reads at the top of a sentence ("only on pages under /blog/").
PAGE_PHRASES = {
    EQUALS: "on {v}",
    STARTS_WITH: "on pages under {v}",
    CONTAINS: "on pages whose address contains {v}",
    ENDS_WITH: "on pages ending in {v}",
    REGEX: "on pages matching {v}",
    IN: "on {v}",
}
UNKNOWN_TRIGGER = "on an unknown trigger"
INCOMPLETE_TRIGGER = "on {a} {name} trigger without its {param}"
INVALID_RULE = "an invalid rule"


def _phrase(op: object) -> str:
    return OPERATORS[op].phrase if isinstance(op, str) and op in OPERATORS else str(op)


def duration(*, seconds: float) -> str:
    """3600 -> "1 hour", 5400 -> "90 minutes"."""
    if not is_number(seconds):
        return _value(seconds)
    for name, size in UNITS:
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} {name}{'' if n == 1 else 's'}"
    return f"{seconds:g} seconds"


def _times(n: object) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{_value(n)} times")  # type: ignore[call-overload]


def _value(v: Any) -> str:
    if isinstance(v, list):
        items = [_value(x) for x in v]
        if not items:
            return "nothing"
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
    if isinstance(v, str):
        return v
    return json.dumps(v, default=str)


def describe_frequency(*, frequency: dict[str, Any] | None) -> str:
    """ "shown at most once per session, at least 1 hour apart, never again after a conversion"."""
    f = frequency if isinstance(frequency, dict) else {}
    most, per_session, gap = f.get("max_impressions"), f.get("once_per_session"), f.get("min_gap_seconds")
    most = most if is_number(most) else None  # decide() reads only a number; 0 means never
    gap = gap if is_number(gap) else None
    parts = []
    if most == 0:
        parts.append("never shown")
    elif per_session and most:
        parts.append(f"shown at most once per session and {_times(most)} in all")
    elif per_session:
        parts.append("shown at most once per session")
    elif most:
        parts.append(f"shown at most {_times(most)}")
    if gap:
        every = duration(seconds=gap)
        parts.append(f"at least {every} apart" if parts else f"shown at most once every {every.removeprefix('1 ')}")
    if f.get("stop_after_close"):
        parts.append("never again after being closed")
    if f.get("stop_after_conversion"):
        parts.append("never again after a conversion")
    if cancel_events(f):
        parts.append(f"never after {_value(cancel_events(f))}")
    return ", ".join(parts) or EVERY_TIME


def describe_targeting(*, targeting: dict[str, Any] | None) -> str:
    """ "only on pages under /blog/, to visitors from google/cpc"; "to everyone" for null."""
    if targeting is None:
        return EVERYONE
    return _node(targeting, top=True) or EVERYONE


def _node(node: Any, top: bool = False) -> str:
    if not isinstance(node, dict):
        return INVALID_RULE
    if "all" in node:
        if not isinstance(node["all"], list):
            return INVALID_RULE
        children = node["all"]
        pair = _utm_pair(children)
        phrases = []
        for child in children:
            if pair and child is pair[1]:
                phrases.append(pair[0])
            elif not (pair and child is pair[2]):
                phrases.append(_node(child, top))
        return ", ".join(p for p in phrases if p)
    if "any" in node:
        if not isinstance(node["any"], list):
            return INVALID_RULE
        phrases = [_node(c) for c in node["any"]]
        if len(phrases) == 2:
            return f"either {phrases[0]} or {phrases[1]}"
        return "any of: " + "; ".join(phrases) if phrases else "never"
    if "not" in node:
        inner = _node(node["not"])
        return f"not {inner}" if inner.startswith("on ") else f"except {inner}"
    return _leaf(node, top)


def _utm_pair(children: list[Any]) -> tuple[str, Any, Any] | None:
    """utm.source and utm.medium `equals` in one `all` read as "to visitors from google/cpc".

    Returns (phrase, the first of the two rules, the second), or None.
    """
    found: dict[str, Any] = {}
    for child in children:
        if isinstance(child, dict) and child.get("op") == EQUALS and isinstance(child.get("attr"), str):
            if child.get("attr") in ("utm.source", "utm.medium"):
                found.setdefault(child["attr"], child)
    if len(found) < 2:
        return None
    first, second = sorted(found.values(), key=lambda c: next(i for i, x in enumerate(children) if x is c))
    source, medium = _value(found["utm.source"].get("value")), _value(found["utm.medium"].get("value"))
    return f"to visitors from {source}/{medium}", first, second


def _leaf(rule: dict[str, Any], top: bool) -> str:
    attr, op, v = rule.get("attr"), rule.get("op"), rule.get("value")
    op = op if isinstance(op, str) else str(op)
    shown = _value(v)
    positive = NEGATED.get(op, op)
    if attr == "path" and positive in PAGE_PHRASES:
        phrase = PAGE_PHRASES[positive].format(v=shown)
        return f"not {phrase}" if op in NEGATED else (f"only {phrase}" if top else phrase)
    if attr == "utm.source" and op in (EQUALS, IN):
        return f"to visitors from {shown}"
    if attr in ("referrer", "referrer_host") and op == NOT_EXISTS:
        return "to visitors who came directly"
    if attr in ("referrer", "referrer_host") and op in (CONTAINS, EQUALS, ENDS_WITH):
        return f"to visitors referred by {shown}"
    if attr == "device" and op in (EQUALS, IN):
        return f"on {shown}"
    if attr == "returning" and op in (IS_TRUE, IS_FALSE):
        return "to returning visitors" if op == IS_TRUE else "to new visitors"
    if attr == "visited" and op in NEGATED and op != NOT_EXISTS:
        return f"to visitors who never viewed a page whose path {_phrase(positive)} {shown}"
    if attr == "visited":
        count = rule.get("min_count") if is_number(rule.get("min_count")) else 1
        pages = "a page" if count == 1 else f"at least {_value(count)} pages"
        where = f"under {shown}" if op == STARTS_WITH else f"whose path {_phrase(op)} {shown}"
        return f"to visitors who viewed {pages} {where}"
    if isinstance(attr, str) and attr.startswith("views.") and op in (GTE, GT) and is_number(v):
        least = v if op == GTE else v + 1
        return f"to visitors who viewed at least {_value(least)} pages of {attr[len('views.'):]}"
    if attr == "stages" and op == INCLUDES:
        return f"to visitors who reached {shown}"
    if attr == "nps" and op in (EQUALS, IN):
        return f"to visitors whose latest NPS answer was {shown}"
    if attr == AUDIENCE and op == INCLUDES:
        return f"to visitors in the audience {shown}"
    if attr == "cart.products" and op == INCLUDES:
        return f"with {shown} in the cart"
    if op == BETWEEN and isinstance(v, list) and len(v) == 2:
        return f"when {_label(attr)} is between {_value(v[0])} and {_value(v[1])}"
    return f"when {_label(attr)} {_phrase(op)}" + ("" if v is None else f" {shown}")


def _label(attr: Any) -> str:
    return str(attr).replace("_", " ").replace(".", " ")


def _param_shown(param: Any, value: Any) -> str:
    return duration(seconds=value) if param.unit == SECONDS else _value(value)


def describe_trigger(*, trigger: object) -> str:
    """One trigger in words, from its registry entry (targeting/vocabulary.py, TRIGGERS): a parameter of the wrong
    type reads as its default, as the compiler reads it; a missing required one is named."""
    ttype = trigger.get("type") if isinstance(trigger, dict) else None
    spec = TRIGGERS.get(ttype) if isinstance(ttype, str) else None
    if spec is None:
        return UNKNOWN_TRIGGER
    given = trigger.get("params") if isinstance(trigger.get("params"), dict) else trigger  # type: ignore[union-attr]
    values = {p.name: param_value(p, given.get(p.name)) for p in spec.params}
    for p in spec.params:
        if p.required and values[p.name] is None:
            article = "an" if ttype[0] in "aeiou" else "a"
            return INCOMPLETE_TRIGGER.format(a=article, name=ttype.replace("_", " "), param=p.name)
    for name, value, phrase in spec.phrase_when:
        if values[name] == value:
            return phrase
    return spec.phrase.format(**{p.name: _param_shown(p, values[p.name]) for p in spec.params})


def describe_triggers(*, triggers: list[dict[str, Any]] | None) -> str:
    """ "on exit intent or after scrolling 50% of the page"; an empty list is "on page load"."""
    if triggers is not None and not isinstance(triggers, list):
        return UNKNOWN_TRIGGER
    return _value([describe_trigger(trigger=t) for t in triggers or [{"type": DEFAULT_TRIGGER}]])


def campaign_describe(
    *,
    message_type: str,
    triggers: list[dict[str, Any]] | None,
    targeting: dict[str, Any] | None,
    frequency: dict[str, Any] | None,
) -> str:
    """One sentence: type, triggers, frequency and targeting."""
    kind = str(message_type or "campaign").replace("_", " ").capitalize()
    parts = [
        kind,
        describe_triggers(triggers=triggers),
        describe_frequency(frequency=frequency),
        describe_targeting(targeting=targeting),
    ]
    return ", ".join(parts) + "."
