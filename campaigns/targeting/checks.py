"""decide()'s checks (campaigns/rules.py) compiled into the widget's rule form (campaigns/targeting/compile.py).

Each campaign gets `checks`, a list of [reason, path, rule] in decide()'s order, where `rule` matches when
the visitor FAILS the check: consent, schedule, targeting, frequency, variants. The site gets `caps`, the
same for the site cap (overlays only). What the server knows for every visitor is settled here (a date that
cannot be read, no variant with a weight, consent not required); what depends on the visitor becomes a
leaf over the context. widget/src/rules.js decide() then only finds the first check whose rule matches.
"""

from __future__ import annotations

from typing import Any

from campaigns.rules import _is_num, _str, parse_time

# Resolvers and operators of rules_compile (the same numbers as widget/src/rules.js).
R_AT, R_NUMBER_AT, R_WHEN, R_COUNT, R_NOW, R_SINCE, R_SEEN_IN_SESSION = 3, 5, 10, 13, 14, 15, 16
OP_EQ, OP_RANGE, OP_ABOVE, OP_INCLUDES, OP_TRUTH = 1, 6, 7, 8, 9
NEGATE, CASE_SENSITIVE = 1, 2
ALWAYS = True  # a check that every visitor fails


def _leaf(resolver: int, argument: Any, op: int, value: Any, flags: int = 0) -> list:
    return [resolver, argument, op, value, flags]


def _consent(campaign: dict, site: dict) -> list:
    if campaign.get("type") == "consent":
        answered = _leaf(R_AT, ["consent"], OP_EQ, ["granted", "denied"], CASE_SENSITIVE)
        return [["consent_decided", "consent", answered]]
    consent = site.get("consent") or {}
    if consent.get("required") is True and consent.get("show_before_consent") is not True:
        not_granted = _leaf(R_AT, ["consent"], OP_EQ, ["granted"], CASE_SENSITIVE | NEGATE)
        return [["consent_required", "site.consent.required", not_granted]]
    return []


def _schedule(campaign: dict) -> list:
    out = []
    for key, code in (("starts_at", "not_started"), ("ends_at", "ended")):
        raw = campaign.get(key)
        if raw is None:
            continue
        t = parse_time(raw)
        if t is None:
            out.append(["schedule_invalid", key, ALWAYS])
            break  # decide() stops at the first unreadable date
        # not_started: now < start; ended: now >= end
        bounds = _leaf(R_NOW, 0, OP_ABOVE, [None, t]) if key == "starts_at" else _leaf(R_NOW, 0, OP_RANGE, [t, None])
        out.append([code, key, bounds])
    schedule = campaign.get("schedule") or {}
    weekdays, hours = schedule.get("weekdays"), schedule.get("hours")
    if isinstance(weekdays, list):
        days = [d for d in weekdays if _is_num(d)]
        out.append(["schedule_weekday", "schedule.weekdays", _leaf(R_WHEN, 0, OP_EQ, days, NEGATE)])
    if isinstance(hours, list) and len(hours) == 2 and all(_is_num(x) for x in hours):
        start, end = hours
        before, after = _leaf(R_WHEN, 1, OP_ABOVE, [None, start]), _leaf(R_WHEN, 1, OP_RANGE, [end, None])
        if start < end:  # outside [start, end)
            out.append(["schedule_hours", "schedule.hours", {"any": [before, after]}])
        elif start > end:  # wraps around midnight: outside means in [end, start)
            out.append(["schedule_hours", "schedule.hours", {"all": [before, after]}])
    return out


def _frequency(campaign: dict) -> list:
    f = campaign.get("frequency") or {}
    history = ["visitor", "history", _str(campaign.get("id"))]
    out = []
    cancel_on = f.get("cancel_on") or []
    if cancel_on:
        events = [e for e in cancel_on if isinstance(e, str)]
        out.append(
            [
                "cancelled",
                "frequency.cancel_on",
                _leaf(R_AT, ["visitor", "events"], OP_INCLUDES, events, CASE_SENSITIVE),
            ]
        )
    for key, code, kind in (
        ("stop_after_conversion", "converted", "conversions"),
        ("stop_after_close", "closed", "closes"),
    ):
        if f.get(key):
            out.append([code, "frequency." + key, _leaf(R_COUNT, [*history, kind], OP_RANGE, [1, None])])
    most = f.get("max_impressions")
    if _is_num(most):
        seen = _leaf(R_COUNT, [*history, "impressions"], OP_RANGE, [most, None])
        out.append(["max_impressions", "frequency.max_impressions", seen])
    if f.get("once_per_session"):
        seen = _leaf(R_SEEN_IN_SESSION, [*history, "sessions"], OP_TRUTH, True)
        out.append(["once_per_session", "frequency.once_per_session", seen])
    gap = f.get("min_gap_seconds")
    if _is_num(gap):
        recent = _leaf(R_SINCE, [*history, "impressions"], OP_ABOVE, [None, gap * 1000])
        out.append(["min_gap", "frequency.min_gap_seconds", recent])
    return out


def campaign_checks(*, campaign: dict, site: dict, targeting: Any) -> list:
    """[reason, path, rule that matches when the visitor fails], in decide()'s order; `targeting` compiled."""
    checks = _consent(campaign, site) + _schedule(campaign)
    if targeting is not True:
        checks.append(["targeting", "targeting", {"not": targeting}])
    checks += _frequency(campaign)
    if not any(_is_num(v.get("weight")) and v.get("weight") > 0 for v in campaign.get("variants") or []):
        checks.append(["no_variant", "variants", ALWAYS])
    return checks


def site_caps(*, site: dict) -> list:
    """The site cap's checks (overlays only), as campaign_checks()."""
    cap = site.get("cap") or {}
    most, gap = cap.get("max_overlays_per_session"), cap.get("min_overlay_gap_seconds")
    out = []
    if _is_num(most):
        shown = _leaf(R_NUMBER_AT, ["visitor", "overlays_session"], OP_RANGE, [most, None])
        out.append(["site_cap", "site.cap.max_overlays_per_session", shown])
    if _is_num(gap):
        recent = _leaf(R_SINCE, ["visitor", "overlays"], OP_ABOVE, [None, gap * 1000])
        out.append(["site_gap", "site.cap.min_overlay_gap_seconds", recent])
    return out
