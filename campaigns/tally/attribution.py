"""Attribution, defined once for both folds: what a campaign's goal is, which events reach it, and the window
after a visitor's first exposure within which a conversion is credited to their assigned variant.

A click or a submit goal is reached by an event on the campaign itself (EVENT_GOAL_OF). URL, event and purchase
goals (ATTRIBUTED_GOALS) are reached by page views and conversions anywhere on the site, credited when they came
within the goal's attribution window; a conversion counted before its visitor's exposure is credited when the
exposure arrives (goal_looks_back). The SQL fold passes the same goals and windows to its statements as arrays.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.assignment import is_number
from campaigns.rules import goal_url_rule, rule_matches
from campaigns.targeting import vocabulary as vocab

ATTRIBUTED_GOALS = frozenset({"url", "event", "purchase"})
EVENT_GOAL_OF = {"cta_click": "click", "submit": "submit"}  # goals reached by an event on the campaign itself


@dataclass(frozen=True)
class Goal:
    campaign_id: int
    type: str
    attribution: timedelta
    url_rule: dict | None
    event_name: str | None


def goal_parse(*, campaign_id: int, raw) -> Goal | None:
    """A campaign's stored goal, or None when it has none. The attribution window has validation's bounds (one
    stored before them, or out of them, gets the default); a URL goal is the widget's leaf (the full URL)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return None
    days = raw.get("attribution_days", vocab.ATTRIBUTION_DAYS_DEFAULT)
    if not is_number(days) or not vocab.ATTRIBUTION_DAYS_MIN <= days <= vocab.ATTRIBUTION_DAYS_MAX:
        days = vocab.ATTRIBUTION_DAYS_DEFAULT
    event_name = "purchase" if raw["type"] == "purchase" else raw.get("event")
    return Goal(
        campaign_id=campaign_id,
        type=raw["type"],
        attribution=timedelta(days=days),
        url_rule=goal_url_rule(goal=raw),
        event_name=event_name if isinstance(event_name, str) else None,
    )


def url_reached(goal: Goal, url: str) -> bool:
    return goal.url_rule is not None and rule_matches(rule=goal.url_rule, context={"url": url})


def goal_reached(goal: Goal, event: dict) -> bool:
    """Whether a page view or conversion (a dict with type, url and payload) reaches an attributed goal."""
    if goal.type == "url":
        return event["type"] == "pageview" and url_reached(goal, event["url"])
    if goal.type in ("event", "purchase"):
        payload = event["payload"] if isinstance(event["payload"], dict) else {}
        return event["type"] == "conversion" and goal.event_name is not None and payload.get("name") == goal.event_name
    return False


def goal_looks_back(goal: Goal) -> bool:
    """A goal whose conversions counted before their visitor's exposure are credited when it arrives. URL goals
    are not looked back for: page views are many."""
    return goal.type in ATTRIBUTED_GOALS and goal.type != "url" and goal.event_name is not None


def within_window(goal: Goal, *, exposed_at: datetime, at: datetime) -> bool:
    """Whether an event at `at` came within the goal's attribution window after the first exposure."""
    return exposed_at <= at <= exposed_at + goal.attribution
