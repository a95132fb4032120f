"""The tally without PostgreSQL (the demo on SQLite): the same counts, folded in Python, one batch at a time.

sql.py does this in set-based SQL on PostgreSQL; this is the fold the drain (drain.py) calls on any other
database. SQLite serializes writers (a transaction takes the write lock when it begins: settings'
`transaction_mode`), so ids are handed out in commit order (every `tx` is 0) and no lock is needed here.
"""

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import connection

from campaigns.models import (
    Assignment,
    Campaign,
    ConsentRecord,
    Event,
    FunnelStep,
    Response,
    Site,
    TallyCursor,
    VariantDailyStats,
)
from campaigns.rules import zone
from campaigns.tally.attribution import (
    ATTRIBUTED_GOALS,
    Goal,
    goal_looks_back,
    goal_parse,
    goal_reached,
    within_window,
)
from campaigns.tally.audiences import audiences_fold_events
from campaigns.tally.denials import denials_erase
from campaigns.tally.forms import submits_screen
from campaigns.tally.installation import installation_fold_events
from campaigns.tally.journeys import journeys_fold_events
from campaigns.tally.records import (
    EVENT_COUNTER,
    STEP_COUNTER,
    STEP_FIELD,
    Step,
    consent_of,
    response_of,
    revenue_capped,
    revenue_of,
)
from campaigns.tally.segments import SEGMENT, segment_of

Segment = tuple[str, str, bool]  # device, source, returning

# A batch is one write transaction, and SQLite has one writer at a time: collect requests wait for the batch's
# commit to store theirs. Batches this small commit within a fraction of a second.
BATCH_SIZE = 2_000


def tally_batch(*, batch_size: int) -> int:
    """Claim and count up to batch_size (at most BATCH_SIZE) events past the cursor (inside the caller's
    transaction)."""
    event_ids = _claim(batch_size=min(batch_size, BATCH_SIZE))
    if event_ids:
        # Submits refused as a bot's (tally_forms) leave the batch before anything counts them.
        refused = submits_screen(event_ids=event_ids)
        _fold(event_ids=[event_id for event_id in event_ids if event_id not in refused] if refused else event_ids)
    return len(event_ids)


def _claim(*, batch_size: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.tx, e.id FROM {Event._meta.db_table} AS e, {TallyCursor._meta.db_table} AS c"
            " WHERE c.id = 1 AND (e.tx, e.id) > (c.last_tx, c.last_id) ORDER BY e.tx, e.id LIMIT %s",
            [batch_size],
        )
        rows = cursor.fetchall()
    if rows:
        TallyCursor.objects.filter(id=1).update(last_tx=rows[-1][0], last_id=rows[-1][1])
    return [event_id for _tx, event_id in rows]


class _Fold:
    """The additions of one batch, gathered in memory, then written in a fixed order of statements.

    Counter keys are (campaign, variant, day, device, source, returning): the segment is the visitor's.
    """

    def __init__(self) -> None:
        self.counters: dict[tuple[int, int | None, date, str, str, bool], dict[str, Decimal | int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self.steps: dict[tuple[int, int | None, str, str], tuple[date, Segment]] = {}
        self.revenue: dict[int, tuple[Decimal, int, int | None, date, Segment]] = {}

    def add(self, key: tuple[int, int | None, date], segment: Segment, counter: str, amount=1) -> None:
        self.counters[(*key, *segment)][counter] += amount

    def step(
        self, *, campaign_id: int, variant_id: int | None, visitor_id: str, step: str, day: date, segment: Segment
    ) -> None:
        self.steps.setdefault((campaign_id, variant_id, visitor_id, step), (day, segment))


def _fold(*, event_ids: list[int]) -> None:
    events = list(
        Event.objects.filter(id__in=event_ids)
        .order_by("id")
        .values(
            "id", "site_id", "event_id", "type", "ts", "received_at", "visitor_id", "campaign_id", "variant_id",
            "url", "payload", "ip_truncated", "user_agent", "device", "ip_hash", "session_id", "widget_version",
        )
    )
    if not events:
        return
    site_ids = {e["site_id"] for e in events}
    zones = {
        site_id: zone(tz) for site_id, tz in Site.objects.filter(id__in=site_ids).values_list("id", "time_zone")
    }
    goals_by_site: dict[int, list[Goal]] = defaultdict(list)
    goal_of: dict[int, Goal] = {}
    for campaign_id, site_id, raw_goal in Campaign.objects.filter(site_id__in=site_ids).values_list(
        "id", "site_id", "goal"
    ):
        goal = goal_parse(campaign_id=campaign_id, raw=raw_goal)
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

    # 1. Assignments: the first exposure or impression of a visitor to a campaign decides, and fixes the segment.
    candidates: dict[tuple[int, str], tuple[int, int | None, datetime, Segment]] = {}
    for e in events:
        if e["type"] in ("exposure", "impression") and e["campaign_id"] is not None and e["visitor_id"]:
            candidates.setdefault(
                (e["campaign_id"], e["visitor_id"]),
                (e["site_id"], e["variant_id"], e["ts"], segment_of(device=e["device"], payload=e["payload"])),
            )
    new_assignments = _assignments_create(candidates)
    _steps_carry(new_assignments)
    for new in new_assignments:
        fold.add((new.campaign_id, new.variant_id, day_of(new.site_id, new.first_exposed_at)), new.segment, "exposed")
    _late_conversions(fold, new_assignments=new_assignments, goal_of=goal_of, batch=set(event_ids), day_of=day_of)

    # 2. The assignments of this batch's visitors: their segments, and what conversions may be attributed to.
    goal_visitors = {
        e["visitor_id"]
        for e in events
        if e["visitor_id"] and e["type"] in ("pageview", "conversion") and goals_by_site.get(e["site_id"])
    }
    attributed_campaigns = {g.campaign_id for g in goal_of.values() if g.type in ATTRIBUTED_GOALS}
    campaign_visitors = {e["visitor_id"] for e in events if e["campaign_id"] is not None and e["visitor_id"]}
    wanted_campaigns = (attributed_campaigns if goal_visitors else set()) | {
        e["campaign_id"] for e in events if e["campaign_id"] is not None and e["visitor_id"]
    }
    assignments = {}
    if wanted_campaigns:
        for row in Assignment.objects.filter(
            campaign_id__in=wanted_campaigns, visitor_id__in=goal_visitors | campaign_visitors
        ).values("id", "campaign_id", "visitor_id", "variant_id", "first_exposed_at", "device", "source", "returning",
                 *STEP_FIELD.values()):
            row["segment"] = (row["device"], row["source"], bool(row["returning"]))
            assignments[(row["campaign_id"], row["visitor_id"])] = row

    def segment_for(e: dict) -> Segment:
        """The visitor's assignment's segment; an event of a visitor without one keeps its own."""
        assignment = assignments.get((e["campaign_id"], e["visitor_id"]))
        if assignment is not None:
            return assignment["segment"]
        return segment_of(device=e["device"], payload=e["payload"])

    responses: list[Response] = []
    consents: list[ConsentRecord] = []
    for e in events:
        kind, campaign_id, variant_id, visitor = e["type"], e["campaign_id"], e["variant_id"], e["visitor_id"]
        day = day_of(e["site_id"], e["ts"])
        key = (campaign_id, variant_id, day)
        segment = segment_for(e) if campaign_id is not None else None
        ids = {"campaign_id": campaign_id, "variant_id": variant_id, "visitor_id": visitor, "day": day,
               "segment": segment}
        if kind in EVENT_COUNTER and campaign_id is not None:
            fold.add(key, segment, EVENT_COUNTER[kind])
        if kind == "impression" and campaign_id is not None:
            fold.step(**ids, step=Step.IMPRESSION)
        if kind in ("exposure", "impression") and campaign_id is not None:
            assignment = assignments.get((campaign_id, visitor))
            if assignment is not None and assignment["variant_id"] != variant_id:
                fold.step(**{**ids, "variant_id": assignment["variant_id"]}, step=Step.MIXED)
        if kind in ("click", "submit") and campaign_id is not None:
            fold.step(**ids, step=Step.ENGAGED)
            goal = goal_of.get(campaign_id)
            if goal is not None and goal.type == ("cta_click" if kind == "click" else "submit"):
                _convert(fold, **ids)
        if kind == "submit" and campaign_id is not None:
            fold.step(**ids, step=Step.SUBMIT)
            response = response_of(e)
            if response is not None:
                responses.append(response)
        if kind in ("pageview", "conversion") and visitor:
            for goal in goals_by_site.get(e["site_id"], ()):
                if not goal_reached(goal, e):
                    continue
                assignment = assignments.get((goal.campaign_id, visitor))
                if assignment is None or not within_window(
                    goal, exposed_at=assignment["first_exposed_at"], at=e["ts"]
                ):
                    continue
                value = revenue_of(e["payload"]) if kind == "conversion" else None
                _convert(
                    fold, campaign_id=goal.campaign_id, variant_id=assignment["variant_id"], visitor_id=visitor,
                    day=day, segment=assignment["segment"], assignment_id=assignment["id"], value=value,
                )
        if kind == "consent":
            consent = consent_of(e)
            if consent is not None:
                consents.append(consent)

    _revenue_apply(fold)
    _steps_record(fold, assignments=assignments)
    if responses:
        Response.objects.bulk_create(responses, ignore_conflicts=True)
    if consents:
        ConsentRecord.objects.bulk_create(consents, ignore_conflicts=True)
    journeys_fold_events(events=events, day_of=day_of)
    installation_fold_events(events=events)
    audiences_fold_events(events=events, day_of=day_of)
    _counters_write(fold)  # last, as in the SQL fold
    denials_erase([e for e in events if e["type"] == "consent"])


def _convert(
    fold: _Fold, *, campaign_id: int, variant_id: int | None, visitor_id: str, day: date, segment: Segment,
    assignment_id: int | None = None, value: Decimal | None = None,
) -> None:
    fold.add((campaign_id, variant_id, day), segment, "conversions")
    fold.step(campaign_id=campaign_id, variant_id=variant_id, visitor_id=visitor_id, step=Step.CONVERTED, day=day,
              segment=segment)
    if assignment_id is not None and value:
        previous = fold.revenue.get(assignment_id)
        total = value + (previous[0] if previous else 0)
        # The whole batch's revenue of a visitor lands on the day of their last conversion in it.
        fold.revenue[assignment_id] = (total, campaign_id, variant_id, day, segment)


class _NewAssignment(NamedTuple):
    id: int
    site_id: int
    campaign_id: int
    variant_id: int | None
    visitor_id: str
    first_exposed_at: datetime
    segment: Segment


def _assignments_create(candidates: dict) -> list[_NewAssignment]:
    """Insert the assignments that do not exist yet; returns the new ones."""
    if not candidates:
        return []
    table = Assignment._meta.db_table
    items = sorted(candidates.items())
    sql = (
        f"INSERT INTO {table} (site_id, campaign_id, variant_id, visitor_id, first_exposed_at, revenue, device,"
        ' source, "returning") VALUES '
        + ", ".join(["(%s, %s, %s, %s, %s, 0, %s, %s, %s)"] * len(items))
        + " ON CONFLICT (campaign_id, visitor_id) DO NOTHING"
        ' RETURNING id, site_id, campaign_id, variant_id, visitor_id, first_exposed_at, device, source, "returning"'
    )
    params = [
        value
        for (campaign_id, visitor_id), (site_id, variant_id, ts, segment) in items
        for value in (site_id, campaign_id, variant_id, visitor_id, ts, *segment)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [_NewAssignment(i, site, c, v, visitor, _aware(t), (device, source, bool(returning)))
                for i, site, c, v, visitor, t, device, source, returning in cursor.fetchall()]


def _late_conversions(fold: _Fold, *, new_assignments: list[_NewAssignment], goal_of: dict, batch: set[int],
                      day_of) -> None:
    """Conversions counted in earlier batches, before the exposure that now makes their visitor's assignment:
    credited now when within the attribution window (sql.py's _CONVERT_LATE, step 3c)."""
    wanted = [a for a in new_assignments if (goal := goal_of.get(a.campaign_id)) is not None and goal_looks_back(goal)]
    if not wanted:
        return
    last_tx, last_id = TallyCursor.objects.values_list("last_tx", "last_id").get(id=1)
    earlier = (
        Event.objects.filter(type="conversion", site_id__in={a.site_id for a in wanted},
                             visitor_id__in={a.visitor_id for a in wanted})
        .exclude(id__in=batch)
        .values("id", "tx", "site_id", "visitor_id", "type", "ts", "url", "payload")
    )
    of_visitor: dict[tuple[int, str], list[_NewAssignment]] = defaultdict(list)
    for a in wanted:
        of_visitor[(a.site_id, a.visitor_id)].append(a)
    for e in sorted(earlier, key=lambda e: (e["tx"], e["id"])):
        if (e["tx"], e["id"]) > (last_tx, last_id):
            continue  # not counted yet: its own batch credits it
        for a in of_visitor[(e["site_id"], e["visitor_id"])]:
            goal = goal_of[a.campaign_id]
            if not goal_reached(goal, e):
                continue
            if within_window(goal, exposed_at=a.first_exposed_at, at=e["ts"]):
                _convert(fold, campaign_id=a.campaign_id, variant_id=a.variant_id, visitor_id=a.visitor_id,
                         day=day_of(e["site_id"], e["ts"]), segment=a.segment, assignment_id=a.id,
                         value=revenue_of(e["payload"]))


def _aware(moment) -> datetime:
    if isinstance(moment, str):  # SQLite returns text
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _steps_carry(new_assignments: list[_NewAssignment]) -> None:
    """Steps a visitor reached before having an assignment, on its variant: moved from FunnelStep onto it (they
    were counted when their rows were written)."""
    if not new_assignments:
        return
    by_visitor = {(a.campaign_id, a.variant_id, a.visitor_id): a.id for a in new_assignments}
    rows = FunnelStep.objects.filter(
        campaign_id__in={a.campaign_id for a in new_assignments}, visitor_id__in={a.visitor_id for a in new_assignments}
    ).values_list("id", "campaign_id", "variant_id", "visitor_id", "step", "day")
    moved: dict[int, Assignment] = {}
    step_ids = []
    for step_id, campaign_id, variant_id, visitor_id, step, day in rows:
        assignment_id = by_visitor.get((campaign_id, variant_id, visitor_id))
        if assignment_id is not None:
            setattr(moved.setdefault(assignment_id, Assignment(id=assignment_id)), STEP_FIELD[step], day)
            step_ids.append(step_id)
    if moved:  # a new assignment has no step yet: the fields not set here stay null
        Assignment.objects.bulk_update(list(moved.values()), list(STEP_FIELD.values()))
        FunnelStep.objects.filter(id__in=step_ids).delete()


def _steps_record(fold: _Fold, *, assignments: dict) -> None:
    """A step on the visitor's assigned variant fills its Assignment field when empty; any other is an
    insert-if-absent FunnelStep row. What is new counts."""
    if not fold.steps:
        return
    filled: dict[int, dict] = {}
    others = {}
    for key, (day, segment) in fold.steps.items():
        campaign_id, variant_id, visitor_id, step = key
        assignment = assignments.get((campaign_id, visitor_id))
        if assignment is None or assignment["variant_id"] != variant_id:
            others[key] = (day, segment)
            continue
        field = STEP_FIELD[step]
        if assignment[field] is None:
            assignment[field] = day
            filled[assignment["id"]] = assignment
            fold.add((campaign_id, variant_id, day), segment, STEP_COUNTER[step])
    if filled:
        Assignment.objects.bulk_update(
            [Assignment(id=i, **{field: row[field] for field in STEP_FIELD.values()}) for i, row in filled.items()],
            list(STEP_FIELD.values()),
        )
    if not others:
        return
    table = FunnelStep._meta.db_table
    items = sorted(others.items(), key=lambda item: (item[0][0], item[0][1] or 0, item[0][2], item[0][3]))
    sql = (
        f"INSERT INTO {table} (campaign_id, variant_id, visitor_id, step, day) VALUES "
        + ", ".join(["(%s, %s, %s, %s, %s)"] * len(items))
        + " ON CONFLICT (campaign_id, COALESCE(variant_id, 0), visitor_id, step) DO NOTHING"
        " RETURNING campaign_id, variant_id, visitor_id, step"
    )
    params = [value for (c, v, visitor, step), (day, _seg) in items for value in (c, v, visitor, str(step), day)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for campaign_id, variant_id, visitor_id, step in cursor.fetchall():
            day, segment = others[(campaign_id, variant_id, visitor_id, step)]
            fold.add((campaign_id, variant_id, day), segment, STEP_COUNTER[step])


def _revenue_apply(fold: _Fold) -> None:
    """Add revenue to each visitor's running total; the counters get the sum and the change of the squares."""
    if not fold.revenue:
        return
    table = Assignment._meta.db_table
    items = sorted(fold.revenue.items())
    with connection.cursor() as cursor:
        totals = {}
        for assignment_id, (delta, *_rest) in items:  # one statement per converting visitor: the demo's scale
            cursor.execute(f"UPDATE {table} SET revenue = revenue + %s WHERE id = %s", [delta, assignment_id])
            cursor.execute(f"SELECT revenue FROM {table} WHERE id = %s", [assignment_id])
            totals[assignment_id] = cursor.fetchone()[0]
    # The campaigns' revenue caps, one query a batch; the counters get the change of the capped total (see sql.py).
    caps = dict(Campaign.objects.filter(id__in={campaign_id for _delta, campaign_id, *_rest in fold.revenue.values()},
                                        revenue_cap__isnull=False).values_list("id", "revenue_cap"))
    for assignment_id, (delta, campaign_id, variant_id, day, segment) in items:
        if assignment_id not in totals:
            continue
        cap = caps.get(campaign_id)
        after = Decimal(str(totals[assignment_id]))
        before = revenue_capped(after - delta, cap=cap)
        after = revenue_capped(after, cap=cap)
        key = (campaign_id, variant_id, day)
        fold.add(key, segment, "revenue_sum", after - before)
        fold.add(key, segment, "revenue_sum_squares", after * after - before * before)


def _counters_write(fold: _Fold) -> None:
    if not fold.counters:
        return
    table = VariantDailyStats._meta.db_table
    names = VariantDailyStats.COUNTERS
    items = sorted(fold.counters.items(), key=lambda item: (item[0][0], item[0][1] or 0, *item[0][2:]))
    columns = ", ".join(("campaign_id", "variant_id", "day", SEGMENT, *names))
    row = "(" + ", ".join(["%s"] * (6 + len(names))) + ")"
    updates = ", ".join(f"{name} = {table}.{name} + EXCLUDED.{name}" for name in names)
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES "
        + ", ".join([row] * len(items))
        + f" ON CONFLICT (campaign_id, COALESCE(variant_id, 0), day, {SEGMENT}) DO UPDATE SET {updates}"
    )
    params = []
    for key, counts in items:
        params.extend((*key, *(counts.get(name, 0) for name in names)))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


