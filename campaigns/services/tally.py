"""The tally: accepted events folded into assignments, funnel steps, daily counters, responses and consent proof.

Exactly once: a batch is claimed by deleting its inbox rows, and everything it adds is written in
the transaction that deletes them. A worker that dies mid-batch rolls back; the rows are claimed again.
Visitors are split into inbox buckets and one worker at a time holds a bucket (an advisory lock),
so a visitor's events are counted in arrival order: an exposure before the conversion that follows it.
Unique counts come from insert-if-absent rows with unique keys (Assignment, FunnelStep), never from
memory, so they stay exact across batches, workers and retries.
"""

import logging
import math
import time
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit, urlunsplit

from django.db import connection, transaction

from campaigns.models import (
    Assignment,
    Campaign,
    ConsentRecord,
    Event,
    EventInbox,
    FunnelStep,
    Response,
    Site,
    VariantDailyStats,
)
from campaigns.rules import rule_matches

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
TIME_BUDGET_SECONDS = 20.0
LOCK_NAMESPACE = 0x5274  # "Rt": the first key of our advisory locks, the bucket is the second
DEFAULT_ATTRIBUTION_DAYS = 7
MAX_REVENUE = Decimal("1000000000")
CENT = Decimal("0.01")
Step = FunnelStep.Step
STEP_COUNTER = {
    Step.IMPRESSION: "impression_visitors",
    Step.ENGAGED: "engaged_visitors",
    Step.SUBMIT: "submit_visitors",
    Step.CONVERTED: "converters",
}
EVENT_COUNTER = {"impression": "impressions", "close": "closes", "click": "clicks", "submit": "submits"}
ATTRIBUTED_GOALS = frozenset({"url", "event", "purchase"})


@dataclass(frozen=True)
class Goal:
    campaign_id: int
    type: str
    attribution: timedelta
    url_rule: dict | None
    event_name: str | None


def tally_drain(*, batch_size: int = BATCH_SIZE, time_budget: float = TIME_BUDGET_SECONDS) -> int:
    """Count inbox events batch by batch until none is left (or the time is up); returns how many."""
    deadline = time.monotonic() + time_budget
    total = 0
    while True:
        counted = tally_batch(batch_size=batch_size)
        total += counted
        if counted == 0 or time.monotonic() > deadline:
            return total


def tally_pending() -> int:
    return EventInbox.objects.count()


def tally_batch(*, batch_size: int = BATCH_SIZE) -> int:
    """Claim and count one batch from the oldest free bucket; 0 when there is nothing free to count."""
    for bucket in _buckets_with_work():
        with transaction.atomic():
            if not _bucket_lock(bucket):
                continue  # another worker is counting this bucket
            event_ids = _claim(bucket=bucket, batch_size=batch_size)
            if not event_ids:
                continue
            _fold(event_ids=event_ids)
            return len(event_ids)
    return 0


def _buckets_with_work() -> list[int]:
    """Buckets holding the oldest waiting events, oldest first."""
    table = EventInbox._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT bucket FROM (SELECT bucket, id FROM {table} ORDER BY id LIMIT 2000) AS oldest"
            " GROUP BY bucket ORDER BY MIN(id)"
        )
        return [row[0] for row in cursor.fetchall()]


def _bucket_lock(bucket: int) -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite serializes writers anyway
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, bucket])
        return cursor.fetchone()[0]


def _claim(*, bucket: int, batch_size: int) -> list[int]:
    table = EventInbox._meta.db_table
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE bucket = %s ORDER BY id LIMIT %s"
            f"{skip_locked}) RETURNING event_id",
            [bucket, batch_size],
        )
        return sorted(row[0] for row in cursor.fetchall())


class _Fold:
    """The additions of one batch, gathered in memory, then written in a fixed order of statements."""

    def __init__(self) -> None:
        self.counters: dict[tuple[int, int | None, date], dict[str, Decimal | int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self.steps: dict[tuple[int, int | None, str, str], date] = {}
        self.revenue: dict[int, tuple[Decimal, int, int | None, date]] = {}

    def add(self, key: tuple[int, int | None, date], counter: str, amount=1) -> None:
        self.counters[key][counter] += amount

    def step(self, *, campaign_id: int, variant_id: int | None, visitor_id: str, step: str, day: date) -> None:
        self.steps.setdefault((campaign_id, variant_id, visitor_id, step), day)


def _fold(*, event_ids: list[int]) -> None:
    events = list(
        Event.objects.filter(id__in=event_ids)
        .order_by("id")
        .values(
            "id", "site_id", "event_id", "type", "ts", "received_at", "visitor_id", "campaign_id", "variant_id",
            "url", "payload", "ip_truncated", "user_agent",
        )
    )
    if not events:
        return
    site_ids = {e["site_id"] for e in events}
    zones = {
        site_id: _zone(tz) for site_id, tz in Site.objects.filter(id__in=site_ids).values_list("id", "time_zone")
    }
    goals_by_site: dict[int, list[Goal]] = defaultdict(list)
    goal_of: dict[int, Goal] = {}
    for campaign_id, site_id, raw_goal in Campaign.objects.filter(site_id__in=site_ids).values_list(
        "id", "site_id", "goal"
    ):
        goal = _goal(campaign_id=campaign_id, raw=raw_goal)
        if goal is not None:
            goal_of[campaign_id] = goal
            goals_by_site[site_id].append(goal)

    def day_of(site_id: int, moment: datetime) -> date:
        return moment.astimezone(zones.get(site_id, UTC)).date()

    fold = _Fold()
    site_of_campaign: dict[int, int] = {}
    for e in events:
        if e["campaign_id"] is not None:
            site_of_campaign[e["campaign_id"]] = e["site_id"]

    # 1. Assignments: the first exposure or impression of a visitor to a campaign decides.
    candidates: dict[tuple[int, str], tuple[int, int | None, datetime]] = {}
    for e in events:
        if e["type"] in ("exposure", "impression") and e["campaign_id"] is not None and e["visitor_id"]:
            candidates.setdefault((e["campaign_id"], e["visitor_id"]), (e["site_id"], e["variant_id"], e["ts"]))
    for campaign_id, variant_id, first_exposed_at in _assignments_create(candidates):
        site_id = site_of_campaign[campaign_id]
        fold.add((campaign_id, variant_id, day_of(site_id, first_exposed_at)), "exposed")

    # 2. The assignments that conversions of this batch may be attributed to.
    goal_visitors = {
        e["visitor_id"]
        for e in events
        if e["visitor_id"] and e["type"] in ("pageview", "conversion") and goals_by_site.get(e["site_id"])
    }
    attributed_campaigns = [g.campaign_id for g in goal_of.values() if g.type in ATTRIBUTED_GOALS]
    assignments = {}
    if goal_visitors and attributed_campaigns:
        for row in Assignment.objects.filter(
            campaign_id__in=attributed_campaigns, visitor_id__in=goal_visitors
        ).values("id", "campaign_id", "visitor_id", "variant_id", "first_exposed_at"):
            assignments[(row["campaign_id"], row["visitor_id"])] = row

    responses: list[Response] = []
    consents: list[ConsentRecord] = []
    for e in events:
        kind, campaign_id, variant_id, visitor = e["type"], e["campaign_id"], e["variant_id"], e["visitor_id"]
        day = day_of(e["site_id"], e["ts"])
        key = (campaign_id, variant_id, day)
        if kind in EVENT_COUNTER and campaign_id is not None:
            fold.add(key, EVENT_COUNTER[kind])
        if kind == "impression" and campaign_id is not None:
            fold.step(campaign_id=campaign_id, variant_id=variant_id, visitor_id=visitor, step=Step.IMPRESSION, day=day)
        if kind in ("click", "submit") and campaign_id is not None:
            fold.step(campaign_id=campaign_id, variant_id=variant_id, visitor_id=visitor, step=Step.ENGAGED, day=day)
            goal = goal_of.get(campaign_id)
            if goal is not None and goal.type == ("cta_click" if kind == "click" else "submit"):
                _convert(fold, campaign_id=campaign_id, variant_id=variant_id, visitor_id=visitor, day=day)
        if kind == "submit" and campaign_id is not None:
            fold.step(campaign_id=campaign_id, variant_id=variant_id, visitor_id=visitor, step=Step.SUBMIT, day=day)
            response = _response(e)
            if response is not None:
                responses.append(response)
        if kind in ("pageview", "conversion") and visitor:
            for goal in goals_by_site.get(e["site_id"], ()):
                if not _goal_reached(goal, e):
                    continue
                assignment = assignments.get((goal.campaign_id, visitor))
                if assignment is None or not (
                    assignment["first_exposed_at"] <= e["ts"] <= assignment["first_exposed_at"] + goal.attribution
                ):
                    continue
                value = _revenue(e["payload"]) if kind == "conversion" else None
                _convert(
                    fold, campaign_id=goal.campaign_id, variant_id=assignment["variant_id"], visitor_id=visitor,
                    day=day, assignment_id=assignment["id"], value=value,
                )
        if kind == "consent":
            consent = _consent(e)
            if consent is not None:
                consents.append(consent)

    _revenue_apply(fold)
    _steps_insert(fold)
    _counters_upsert(fold)
    if responses:
        Response.objects.bulk_create(responses, ignore_conflicts=True)
    if consents:
        ConsentRecord.objects.bulk_create(consents, ignore_conflicts=True)


def _zone(name: str):
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def _goal(*, campaign_id: int, raw) -> Goal | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return None
    days = raw.get("attribution_days", DEFAULT_ATTRIBUTION_DAYS)
    if isinstance(days, bool) or not isinstance(days, int | float) or not 0 < days <= 365:
        days = DEFAULT_ATTRIBUTION_DAYS
    url = raw.get("url")
    url_rule = {"attr": "path", "op": url.get("op"), "value": url.get("value")} if isinstance(url, dict) else None
    event_name = "purchase" if raw["type"] == "purchase" else raw.get("event")
    return Goal(
        campaign_id=campaign_id,
        type=raw["type"],
        attribution=timedelta(days=days),
        url_rule=url_rule,
        event_name=event_name if isinstance(event_name, str) else None,
    )


def _goal_reached(goal: Goal, event: dict) -> bool:
    if goal.type == "url":
        return event["type"] == "pageview" and goal.url_rule is not None and rule_matches(
            rule=goal.url_rule, context={"url": event["url"]}
        )
    if goal.type in ("event", "purchase"):
        payload = event["payload"] if isinstance(event["payload"], dict) else {}
        return event["type"] == "conversion" and goal.event_name is not None and payload.get("name") == goal.event_name
    return False


def _revenue(payload) -> Decimal | None:
    value = payload.get("value") if isinstance(payload, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except InvalidOperation:
        return None
    return amount if abs(amount) < MAX_REVENUE else None


def _convert(
    fold: _Fold, *, campaign_id: int, variant_id: int | None, visitor_id: str, day: date,
    assignment_id: int | None = None, value: Decimal | None = None,
) -> None:
    fold.add((campaign_id, variant_id, day), "conversions")
    fold.step(campaign_id=campaign_id, variant_id=variant_id, visitor_id=visitor_id, step=Step.CONVERTED, day=day)
    if assignment_id is not None and value:
        previous = fold.revenue.get(assignment_id)
        total = value + (previous[0] if previous else 0)
        # The whole batch's revenue of a visitor lands on the day of their last conversion in it.
        fold.revenue[assignment_id] = (total, campaign_id, variant_id, day)


def _assignments_create(candidates: dict) -> list[tuple[int, int | None, datetime]]:
    """Insert the assignments that do not exist yet; returns the new ones (campaign, variant, first exposure)."""
    if not candidates:
        return []
    table = Assignment._meta.db_table
    items = sorted(candidates.items())
    sql = (
        f"INSERT INTO {table} (site_id, campaign_id, variant_id, visitor_id, first_exposed_at, revenue) VALUES "
        + ", ".join(["(%s, %s, %s, %s, %s, 0)"] * len(items))
        + " ON CONFLICT (campaign_id, visitor_id) DO NOTHING RETURNING campaign_id, variant_id, first_exposed_at"
    )
    params = [
        value
        for (campaign_id, visitor_id), (site_id, variant_id, ts) in items
        for value in (site_id, campaign_id, variant_id, visitor_id, ts)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(c, v, _aware(t)) for c, v, t in cursor.fetchall()]


def _aware(moment) -> datetime:
    if isinstance(moment, str):  # SQLite returns text
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _steps_insert(fold: _Fold) -> None:
    if not fold.steps:
        return
    table = FunnelStep._meta.db_table
    items = sorted(fold.steps.items(), key=lambda item: (item[0][0], item[0][1] or 0, item[0][2], item[0][3]))
    sql = (
        f"INSERT INTO {table} (campaign_id, variant_id, visitor_id, step, day) VALUES "
        + ", ".join(["(%s, %s, %s, %s, %s)"] * len(items))
        + " ON CONFLICT (campaign_id, COALESCE(variant_id, 0), visitor_id, step) DO NOTHING"
        " RETURNING campaign_id, variant_id, step, day"
    )
    params = [value for (c, v, visitor, step), day in items for value in (c, v, visitor, str(step), day)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for campaign_id, variant_id, step, day in cursor.fetchall():
            if isinstance(day, str):
                day = date.fromisoformat(day)
            fold.add((campaign_id, variant_id, day), STEP_COUNTER[step])


def _revenue_apply(fold: _Fold) -> None:
    """Add revenue to each visitor's running total; the counters get the sum and the change of the squares."""
    if not fold.revenue:
        return
    table = Assignment._meta.db_table
    items = sorted(fold.revenue.items())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS a SET revenue = a.revenue + v.delta FROM (VALUES "
                + ", ".join(["(%s::bigint, %s::numeric)"] * len(items))
                + ") AS v(id, delta) WHERE a.id = v.id RETURNING a.id, a.revenue",
                [value for assignment_id, (delta, *_rest) in items for value in (assignment_id, delta)],
            )
            totals = dict(cursor.fetchall())
        else:  # SQLite, the demo: one statement per converting visitor
            totals = {}
            for assignment_id, (delta, *_rest) in items:
                cursor.execute(f"UPDATE {table} SET revenue = revenue + %s WHERE id = %s", [delta, assignment_id])
                cursor.execute(f"SELECT revenue FROM {table} WHERE id = %s", [assignment_id])
                totals[assignment_id] = cursor.fetchone()[0]
    for assignment_id, (delta, campaign_id, variant_id, day) in items:
        if assignment_id not in totals:
            continue
        after = Decimal(str(totals[assignment_id]))
        before = after - delta
        key = (campaign_id, variant_id, day)
        fold.add(key, "revenue_sum", delta)
        fold.add(key, "revenue_sum_squares", after * after - before * before)


def _counters_upsert(fold: _Fold) -> None:
    if not fold.counters:
        return
    table = VariantDailyStats._meta.db_table
    names = VariantDailyStats.COUNTERS
    items = sorted(fold.counters.items(), key=lambda item: (item[0][0], item[0][1] or 0, item[0][2]))
    columns = ", ".join(("campaign_id", "variant_id", "day", *names))
    row = "(" + ", ".join(["%s"] * (3 + len(names))) + ")"
    updates = ", ".join(f"{name} = {table}.{name} + EXCLUDED.{name}" for name in names)
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES "
        + ", ".join([row] * len(items))
        + f" ON CONFLICT (campaign_id, COALESCE(variant_id, 0), day) DO UPDATE SET {updates}"
    )
    params = []
    for (campaign_id, variant_id, day), counts in items:
        params.extend((campaign_id, variant_id, day, *(counts.get(name, 0) for name in names)))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _text(value, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _response(e: dict) -> Response | None:
    data = e["payload"] if isinstance(e["payload"], dict) else {}
    form = data.get("form")
    if form not in Response.Form.values:
        return None
    score = data.get("score")
    choices = data.get("choices")
    consent = data.get("consent")
    email = _text(data.get("email"), 254)
    return Response(
        site_id=e["site_id"],
        event_id=e["event_id"],
        campaign_id=e["campaign_id"],
        variant_id=e["variant_id"],
        visitor_id=e["visitor_id"],
        form=form,
        score=score if isinstance(score, int) and not isinstance(score, bool) and 0 <= score <= 10 else None,
        followup=_text(data.get("followup"), 5000),
        choices=[c[:200] for c in choices[:50] if isinstance(c, str)] if isinstance(choices, list) else [],
        text=_text(data.get("text"), 5000),
        email=email if "@" in email else "",
        name=_text(data.get("name"), 200),
        marketing_consent=consent if isinstance(consent, bool) else None,
        created_at=e["ts"],
    )


def url_without_query(url: str) -> str:
    """For consent proof: the page, not what its query string may say about the visitor."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _consent(e: dict) -> ConsentRecord | None:
    data = e["payload"] if isinstance(e["payload"], dict) else {}
    decision = data.get("decision")
    if decision not in ConsentRecord.Decision.values:
        return None
    categories = data.get("categories")
    return ConsentRecord(
        site_id=e["site_id"],
        event_id=e["event_id"],
        consent_id=_text(data.get("consent_id"), 64) or str(e["event_id"]),
        decided_at=e["ts"],
        received_at=e["received_at"],
        policy_version=_text(data.get("policy_version"), 40),
        categories=[c[:64] for c in categories[:20] if isinstance(c, str)] if isinstance(categories, list) else [],
        decision=decision,
        ip_truncated=e["ip_truncated"],
        user_agent=e["user_agent"],
        url=url_without_query(e["url"]),
    )
