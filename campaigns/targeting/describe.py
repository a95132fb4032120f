"""A campaign's triggers, frequency and targeting in plain English, for the admin and previews.

"Popup, on exit intent, shown at most once per session, never again after a conversion,
only on pages under /blog/, to visitors from google/cpc."
Pure functions over the rule JSON (docs/rules.md); anything unexpected is described generically.
"""

from __future__ import annotations

import json
from typing import Any

EVERYONE = "to everyone"
EVERY_TIME = "shown every time it is triggered"
UNITS = (("week", 604_800), ("day", 86_400), ("hour", 3600), ("minute", 60), ("second", 1))

OP_PHRASES = {
    "equals": "is",
    "not_equals": "is not",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "ends_with": "ends with",
    "regex": "matches",
    "not_regex": "does not match",
    "in": "is one of",
    "not_in": "is not one of",
    "exists": "is set",
    "not_exists": "is not set",
    "gt": "is more than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "between": "is between",
    "includes": "includes",
    "is_true": "is true",
    "is_false": "is false",
}
PAGE_PHRASES = {
    "equals": "on {v}",
    "starts_with": "on pages under {v}",
    "contains": "on pages whose address contains {v}",
    "ends_with": "on pages ending in {v}",
    "regex": "on pages matching {v}",
    "in": "on {v}",
}
NEGATED = {"not_equals": "equals", "not_contains": "contains", "not_regex": "regex", "not_in": "in"}


def duration(*, seconds: float) -> str:
    """3600 -> "1 hour", 5400 -> "90 minutes"."""
    for name, size in UNITS:
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} {name}{'' if n == 1 else 's'}"
    return f"{seconds:g} seconds"


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _value(v: Any) -> str:
    if isinstance(v, list):
        items = [_value(x) for x in v]
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
    if isinstance(v, str):
        return v
    return json.dumps(v)


def describe_frequency(*, frequency: dict[str, Any] | None) -> str:
    """ "shown at most once per session, at least 1 hour apart, never again after a conversion"."""
    f = frequency or {}
    most, per_session, gap = f.get("max_impressions"), f.get("once_per_session"), f.get("min_gap_seconds")
    parts = []
    if per_session and most:
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
    if f.get("cancel_on"):
        parts.append(f"never after {_value(list(f['cancel_on']))}")
    return ", ".join(parts) or EVERY_TIME


def describe_targeting(*, targeting: dict[str, Any] | None) -> str:
    """ "only on pages under /blog/, to visitors from google/cpc"; "to everyone" for null."""
    if targeting is None:
        return EVERYONE
    return _node(targeting, top=True) or EVERYONE


def _node(node: Any, top: bool = False) -> str:
    if not isinstance(node, dict):
        return "an invalid rule"
    if "all" in node:
        children = list(node["all"] or [])
        pair = _utm_pair(children)
        phrases = []
        for child in children:
            if pair and child is pair[1]:
                phrases.append(pair[0])
            elif not (pair and child is pair[2]):
                phrases.append(_node(child, top))
        return ", ".join(p for p in phrases if p)
    if "any" in node:
        phrases = [_node(c) for c in node["any"] or []]
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
        if isinstance(child, dict) and child.get("op") == "equals":
            if child.get("attr") in ("utm.source", "utm.medium"):
                found.setdefault(child["attr"], child)
    if len(found) < 2:
        return None
    first, second = sorted(found.values(), key=lambda c: next(i for i, x in enumerate(children) if x is c))
    return f"to visitors from {found['utm.source']['value']}/{found['utm.medium']['value']}", first, second


def _leaf(rule: dict[str, Any], top: bool) -> str:
    attr, op, v = rule.get("attr"), rule.get("op"), rule.get("value")
    shown = _value(v)
    positive = NEGATED.get(op, op)
    if attr == "path" and positive in PAGE_PHRASES:
        phrase = PAGE_PHRASES[positive].format(v=shown)
        return f"not {phrase}" if op in NEGATED else (f"only {phrase}" if top else phrase)
    if attr == "utm.source" and op in ("equals", "in"):
        return f"to visitors from {shown}"
    if attr in ("referrer", "referrer_host") and op == "not_exists":
        return "to visitors who came directly"
    if attr in ("referrer", "referrer_host") and op in ("contains", "equals", "ends_with"):
        return f"to visitors referred by {shown}"
    if attr == "device" and op in ("equals", "in"):
        return f"on {shown}"
    if attr == "returning" and op in ("is_true", "is_false"):
        return "to returning visitors" if op == "is_true" else "to new visitors"
    if attr == "visited" and op in NEGATED:
        return f"to visitors who never viewed a page whose path {OP_PHRASES[positive]} {shown}"
    if attr == "visited":
        count = rule.get("min_count") or 1
        pages = "a page" if count == 1 else f"at least {count} pages"
        where = f"under {shown}" if op == "starts_with" else f"whose path {OP_PHRASES.get(op, op)} {shown}"
        return f"to visitors who viewed {pages} {where}"
    if attr == "cart.products" and op == "includes":
        return f"with {shown} in the cart"
    if op == "between" and isinstance(v, list) and len(v) == 2:
        return f"when {_label(attr)} is between {_value(v[0])} and {_value(v[1])}"
    return f"when {_label(attr)} {OP_PHRASES.get(op, str(op))}" + ("" if v is None else f" {shown}")


def _label(attr: Any) -> str:
    return str(attr).replace("_", " ").replace(".", " ")


TRIGGER_PHRASES = {
    "page_load": lambda p: f"{duration(seconds=p['delay'])} after the page loads" if p.get("delay") else "on page load",
    "exit_intent": lambda p: "on exit intent",
    "mobile_exit": lambda p: "when a phone visitor is about to leave",
    "scroll": lambda p: f"after scrolling {p.get('percent')}% of the page",
    "time_on_page": lambda p: f"after {duration(seconds=p.get('seconds') or 0)} on the page",
    "time_on_site": lambda p: f"after {duration(seconds=p.get('seconds') or 0)} on the site",
    "inactivity": lambda p: f"after {duration(seconds=p.get('seconds') or 0)} of inactivity",
    "click": lambda p: f"on a click on {p.get('selector')}",
    "pageviews": lambda p: f"from page view {p.get('count')} of a visit",
    "cart_abandonment": lambda p: (
        "when a visitor with a cart is about to leave"
        if p.get("via") != "inactivity"
        else f"when a visitor with a cart is idle for {duration(seconds=p.get('seconds') or 30)}"
    ),
    "js": lambda p: f"when the page calls retarget('trigger', '{p.get('name')}')",
    "event": lambda p: f"after the event {p.get('name')}",
}


def describe_triggers(*, triggers: list[dict[str, Any]] | None) -> str:
    """ "on exit intent or after scrolling 50% of the page"; an empty list is "on page load"."""
    phrases = []
    for t in triggers or [{"type": "page_load"}]:
        if not isinstance(t, dict) or t.get("type") not in TRIGGER_PHRASES:
            phrases.append("on an unknown trigger")
            continue
        params = t.get("params") if isinstance(t.get("params"), dict) else t
        phrases.append(TRIGGER_PHRASES[t["type"]](params))
    return _value(phrases)


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
