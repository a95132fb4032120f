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
    AUDIENCE,
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


def _audience_compile(rule: dict, audiences: list) -> Any:
    """An `audiences` leaf as the rules of the audiences it names (compiled without audiences: an audience naming
    another never matches through it), so the widget's VM evaluates them at decide time with no resolver of its own.
    includes: any of the named ones; exists: any of the site's; each negation is the `not` of its positive form."""
    op = rule.get("op")
    positive = NEGATED.get(op, op)
    if positive == INCLUDES:
        value = rule.get("value")
        values = value if isinstance(value, list) else [value]
        wanted = {as_text(v) for v in values if is_number(v) or isinstance(v, str)}
        named = [a for a in audiences if as_text(a.get("id")) in wanted]
    elif positive == EXISTS:
        named = audiences
    else:
        return False
    tree = {"any": [rule_compile(a.get("rule")) for a in named]}
    return {"not": tree} if positive != op else tree


def rule_compile(rule: object, *, audiences: list | None = None) -> Any:
    """A targeting tree in the widget's form: `true` (matches), `false` (never), {all}, {any}, {not} or a leaf.

    The tree keeps its shape (every child in its place), so explanations find the same paths. `audiences`: the
    site's (config site.audiences), whose rules replace the leaves that name them.
    """
    if rule is None:
        return True
    if not isinstance(rule, dict):
        return False
    for key in ("all", "any"):
        if key in rule:
            children = rule[key]
            if not isinstance(children, list):
                return False
            return {key: [rule_compile(r, audiences=audiences) for r in children]}
    if "not" in rule:
        return {"not": rule_compile(rule["not"], audiences=audiences)} if isinstance(rule["not"], dict) else False
    if rule.get("attr") == AUDIENCE:
        return _audience_compile(rule, [a for a in audiences or [] if isinstance(a, dict)])
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


def audiences_compile(*, site: dict) -> dict | None:
    """What src/lazy/audiences.js runs before each page view, None for a site without audiences or page groups:
    `groups` [[name, rule on the page's path, stage], ...] in the order they are tried (the first match wins, as
    campaigns.journeys.paths.group_of; the editor replaces a site's groups, so their names, not their ids, last),
    `audiences` [[id, rule], ...]."""
    groups, audiences = site.get("groups") or [], site.get("audiences") or []
    if not groups and not audiences:
        return None
    def group(g: dict) -> list:
        rule = leaf_compile({**(g.get("url_rule") or {}), "attr": "path"})
        return [as_text(g.get("name")), rule, g.get("stage") or None]

    return {
        "groups": [group(g) for g in groups if isinstance(g, dict)],
        "audiences": [[a.get("id"), rule_compile(a.get("rule"))] for a in audiences if isinstance(a, dict)],
    }


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
    targeting = rule_compile(campaign.get("targeting"), audiences=site.get("audiences"))
    checks = campaign_checks(campaign=campaign, site=site, targeting=targeting)
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
    head = {**site, "tzo": tz_offsets(tz=site.get("tz") or "UTC", now=now), "caps": site_caps(site=site)}
    aud = audiences_compile(site=site)
    if aud is not None:
        head["aud"] = aud
    return {
        **config,
        "site": head,
        "campaigns": [_campaign(c, site) for c in campaigns],
    }
