"""The compiled form of a site's config that the widget evaluates (docs/contracts.md, "Compiled fields").

The config keeps its readable fields (campaigns/rules.py decides from them: previews, /decide, the tally);
this adds, per campaign, what widget/src/core/rules.js needs in a form it can run with little code: every check
of decide() as a rule (campaigns/targeting/checks.py) whose leaves name a resolver by number and carry their
values already lower-cased, path-trimmed and validated (regexes checked here, so the widget has no
validator), dates as epoch ms; each variant's display; the site's time zone as UTC offsets (so the widget
needs no Intl). Pure
functions over plain data, no Django: tests/conformance/compiled.py runs every conformance case through
it, and node runs the result (tests/conformance/rules.compiled.json) against the same expectations.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from campaigns.content import content_strings
from campaigns.rules import (
    OVERLAY_TYPES,
    as_text,
    attribute_kind,
    attribute_resolver,
    compile_regex,
    goal_url_rule,
    is_number,
    is_overlay,
    path_trimmed,
    priority_key,
    zone,
)
from campaigns.targeting import vocabulary as vocab
from campaigns.targeting.checks import campaign_checks, site_caps
from campaigns.targeting.triggers import triggers_compile
from campaigns.targeting.vocabulary import (
    BETWEEN,
    COMPARISONS,
    EQUALS,
    EXISTS,
    GT,
    GTE,
    IN,
    INCLUDES,
    IS_TRUE,
    NEGATED,
    OPERATORS,
    REGEX,
    SUBSTRING_OPS,
)

TZ_DAYS = 400  # how far ahead the time zone's offsets are sent: a long-lived page keeps its config


def _text(value: object, *, cs: bool, path: bool = False) -> str:
    s = as_text(value)
    if path:
        s = s.rstrip("/") or "/"
    return s if cs else s.lower()


def _candidates(values: list, *, cs: bool, path: bool) -> list:
    """Values an actual may equal: numbers stay numbers (compared as numbers with a number), others their text."""
    out: list = []
    for v in values:
        if is_number(v):
            out.append(v)
        elif v is not None and not isinstance(v, list | dict):
            out.append(_text(v, cs=cs, path=path))
    return out


def _bounds(op: str, value: object) -> tuple[int, list | None]:
    if op == BETWEEN:
        ok = isinstance(value, list) and len(value) == 2 and all(is_number(x) for x in value)
        return vocab.OP_RANGE, list(value) if ok else None  # type: ignore[arg-type]
    if not is_number(value):
        return vocab.OP_RANGE, None
    low_high = [value, None] if op in (GT, GTE) else [None, value]
    return OPERATORS[op].opcode, low_high


def _operator(positive: str, value: object, *, cs: bool, path: bool) -> tuple[int, Any]:
    """(operator number, the value as the widget uses it)."""
    opcode = OPERATORS[positive].opcode
    if positive == EXISTS:
        return opcode, None
    if positive in (EQUALS, IN):
        values = [value] if positive == EQUALS else value if isinstance(value, list) else []
        return opcode, _candidates(values, cs=cs, path=path)
    if positive in SUBSTRING_OPS:
        ok = isinstance(value, str) or is_number(value)
        return opcode, _text(value, cs=cs) if ok else None
    if positive == REGEX:
        return opcode, value
    if positive == INCLUDES:
        return opcode, _candidates(value if isinstance(value, list) else [value], cs=cs, path=False)
    if positive in COMPARISONS or positive == BETWEEN:
        return _bounds(positive, value)
    return opcode, positive == IS_TRUE  # is_true, is_false


def leaf_compile(rule: dict) -> list | bool:
    """[resolver, argument, operator, value, flags(, min_count)], or False for a rule that never matches."""
    attr, op, value = rule.get("attr"), rule.get("op"), rule.get("value")
    kind = attribute_kind(attr)
    if kind is None or not isinstance(op, str) or op not in OPERATORS:
        return False
    positive = NEGATED.get(op, op)
    cs = rule.get("case_sensitive") is True
    if positive == REGEX and compile_regex(value, cs) is None:
        return False  # refused or invalid: false for regex and not_regex alike
    path = path_trimmed(attr=attr, op=positive)
    code, argument = attribute_resolver(attr)  # type: ignore[arg-type]
    number, compiled = _operator(positive, value, cs=cs, path=path)
    flags = (
        (vocab.NEGATE if positive != op else 0)
        | (vocab.CASE_SENSITIVE if cs else 0)
        | (vocab.PATH_TRIM if path else 0)
    )
    leaf = [code, argument, number, compiled, flags]
    if kind == "paths":
        need = rule.get("min_count", 1)
        leaf.append(need if is_number(need) else 1)
    return leaf


def rule_compile(rule: object) -> Any:
    """A targeting tree in the widget's form: `true` (matches), `false` (never), {all}, {any}, {not} or a leaf.

    The tree keeps its shape (every child in its place), so explanations find the same paths.
    """
    if rule is None:
        return True
    if not isinstance(rule, dict):
        return False
    for key in ("all", "any"):
        if key in rule:
            children = rule[key]
            return {key: [rule_compile(r) for r in children]} if isinstance(children, list) else False
    if "not" in rule:
        return {"not": rule_compile(rule["not"])} if isinstance(rule["not"], dict) else False
    return leaf_compile(rule)


def tz_offsets(*, tz: str, now: int, days: int = TZ_DAYS) -> list:
    """[offset, t1, offset1, t2, offset2, ...]: the UTC offset in minutes from two days before `now`, and from
    each change (epoch ms) in the next `days` days. Unknown zones are UTC."""
    tz_zone = zone(tz or "UTC")

    def offset(ms: int) -> float:
        minutes = dt.datetime.fromtimestamp(ms / 1000, tz_zone).utcoffset().total_seconds() / 60  # type: ignore[union-attr]
        return int(minutes) if minutes.is_integer() else minutes

    day = 86_400_000
    t = now - 2 * day
    out: list = [offset(t)]
    while t < now + days * day:
        nxt = t + day
        if offset(nxt) != out[-1]:
            low, high = t, nxt  # offset(low) is the old one, offset(high) the new: bisect to the second
            while high - low > 1000:
                mid = (low + high) // 2000 * 1000
                low, high = (mid, high) if offset(mid) == out[-1] else (low, mid)
            out += [high, offset(high)]
        t = nxt
    return out


def display_of(*, campaign_type: object, content: object) -> str:
    """overlay | fullscreen | bar | slide_in, as docs/widget.md ("Display") says."""
    position = content.get("position") if isinstance(content, dict) else None
    if campaign_type in ("bar", "slide_in"):
        return campaign_type  # type: ignore[return-value]
    if campaign_type == "consent":
        return "slide_in" if position is not None and "_" in as_text(position) else "bar"
    if position in (None, "center"):
        return "fullscreen" if campaign_type == "fullscreen" else "overlay"
    return "bar" if position in ("top", "bottom") else "slide_in"


def _campaign(campaign: dict, site: dict) -> dict:
    ctype = campaign.get("type")
    variants = []
    for variant in campaign.get("variants") or []:
        weight = variant.get("weight")
        content = variant.get("content")
        strings = content_strings(message_type=ctype, content=content) if isinstance(content, dict) else {}
        variants.append(
            {
                **variant,
                **({"content": {**content, "strings": strings}} if strings else {}),
                "weight": weight if is_number(weight) and weight > 0 else 0,
                "display": display_of(campaign_type=ctype, content=variant.get("content")),
                "ov": is_overlay(campaign_type=ctype, variant=variant),
            }
        )
    checks = campaign_checks(campaign=campaign, site=site, targeting=rule_compile(campaign.get("targeting")))
    # ov: a holdout visitor takes the overlay slot of an overlay type
    out = {**campaign, "variants": variants, "checks": checks, "ov": ctype in OVERLAY_TYPES}
    out["arm"] = triggers_compile(campaign.get("triggers"))
    goal, url_rule = campaign.get("goal"), goal_url_rule(goal=campaign.get("goal"))
    if url_rule is not None:
        out["goal"] = {**goal, "rule": leaf_compile(url_rule)}  # type: ignore[dict-item]
    return out


def config_compile(*, config: dict[str, Any], now: int) -> dict[str, Any]:
    """The config with the compiled fields added, campaigns in decide()'s order (`now`: epoch ms, for the offsets)."""
    site = config.get("site") or {}
    campaigns = sorted(config.get("campaigns") or [], key=priority_key)
    return {
        **config,
        "site": {**site, "tzo": tz_offsets(tz=site.get("tz") or "UTC", now=now), "caps": site_caps(site=site)},
        "campaigns": [_campaign(c, site) for c in campaigns],
    }
