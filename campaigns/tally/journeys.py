"""The journey fold: page views into the journey map's tables, in both tally folds, exactly once.

campaigns/models/journeys.py says what each table counts and how a page view fills it; this module does it, in the
batch's transaction (the one that moves the tally's cursor), so each page view is folded once. `journeys_fold`
is the SQL fold's step (set-based statements over the batch's `tally_events`), `journeys_fold_events` the Python
fold's (the same rows from the batch's events in memory); both read a page view's journey with the same rule
(`journey_of`, `JOURNEY_CLAIM_SQL`) and clean its paths with the same function, once per distinct URL
(`paths_resolve`).

What "the same rows whatever the order of arrival" rests on: counters are sums; a session row's positions are
filled when still empty (the position comes from the step the widget sent, not from the order the page views are
folded in), its times are the earliest and the latest seen; a visitor's stage row keeps the earliest page view
that reached the stage. Within a batch, ties go to the lowest event id (or, for a session's position, the least
path), in both folds.

Sessions are the widget's: it starts a new session id after 30 minutes without a page view or an event
(widget/src/core/state.js), and the fold keys on that id. A reload is a page view like any other: a step from a
path to itself, counted as a page view and a transition.
"""

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, datetime

from django.db import connection

from campaigns.journeys.paths import Cleanup, Group, group_of, path_clean
from campaigns.models import (
    CleanupRule,
    JourneyPageDaily,
    JourneySession,
    JourneyTransitionDaily,
    JourneyVisitorStage,
    PageGroup,
)
from campaigns.models.journeys import SESSION_PATHS, STEP_LATER, STEPS_CAP
from campaigns.tally.segments import SEGMENT, segment_of

PAGES = JourneyPageDaily._meta.db_table
TRANSITIONS = JourneyTransitionDaily._meta.db_table
SESSIONS = JourneySession._meta.db_table
STAGES = JourneyVisitorStage._meta.db_table
PATH_COLUMNS = JourneySession.PATH_FIELDS
SEGMENT_COLUMNS = ("device", "source", "returning")

Segment = tuple[str, str, bool]  # device, source, returning


def journey_of(payload) -> tuple[int, str | None] | None:
    """(step, previous page) of a page view's `data.journey`, or None when it has none that counts.

    The step is a JSON integer from 1 (kept up to STEPS_CAP; 2.0 is not one, as the collect checks refuse it); the
    previous page (a path or URL, cleaned later) counts only when it is a string and the step is past the first.
    JOURNEY_CLAIM_SQL is the same rule in SQL (where an integer is the digits PostgreSQL writes the number as, which
    is what the Python fold reads back).
    """
    journey = payload.get("journey") if isinstance(payload, dict) else None
    if not isinstance(journey, dict):
        return None
    step = journey.get("step")
    if type(step) is not int or step < 1:
        return None
    step = min(step, STEPS_CAP)
    prev = journey.get("prev")
    return step, prev if isinstance(prev, str) and step > 1 else None


def setups_read(*, site_ids: Iterable[int]) -> dict[int, tuple[list[Group], list[Cleanup]]]:
    """Each site's page groups and clean-up rules, in the order they apply (two queries, whatever the sites)."""
    setups: dict[int, tuple[list[Group], list[Cleanup]]] = {site_id: ([], []) for site_id in site_ids}
    for row in PageGroup.objects.filter(site_id__in=setups).order_by("order", "id"):
        setups[row.site_id][0].append(Group(name=row.name, rule=row.url_rule, stage=row.stage, order=row.order))
    for row in CleanupRule.objects.filter(site_id__in=setups).order_by("order", "id"):
        setups[row.site_id][1].append(Cleanup(pattern=row.pattern, replacement=row.replacement))
    return setups


# Paths already resolved, per site, with the set-up they were resolved with: a site's pages recur batch after
# batch, and cleaning and grouping them again is most of the fold's Python. Bounded: emptied when it grows past
# RESOLVED_MAX entries (the next batches fill it again).
RESOLVED_MAX = 200_000
_resolved: dict[int, tuple[tuple[list[Group], list[Cleanup]], dict[str, tuple[str, str]]]] = {}


def paths_resolve(*, raws: Iterable[tuple[int, str]]) -> dict[tuple[int, str], tuple[str, str]]:
    """(site, URL or path) -> (cleaned path, stage of its page group or ""), with the site's set-up as it is now:
    each URL cleaned once and each cleaned path grouped once, while the set-up stays the same."""
    raws = set(raws)
    setups = setups_read(site_ids={site_id for site_id, _raw in raws})
    if sum(len(known) for _setup, known in _resolved.values()) > RESOLVED_MAX:
        _resolved.clear()
    for site_id, setup in setups.items():
        if site_id not in _resolved or _resolved[site_id][0] != setup:
            _resolved[site_id] = (setup, {})
    resolved = {}
    for site_id, raw in raws:
        setup, known = _resolved[site_id]
        if raw not in known:
            groups, cleanups = setup
            path = path_clean(url=raw, rules=cleanups)
            if path in known:  # a cleaned path is a raw path of its own, and cleaning it again changes nothing
                known[raw] = (path, known[path][1])
            else:
                group = group_of(path=path, groups=groups) if groups else None
                known[raw] = (path, group.stage if group is not None else "")
        resolved[(site_id, raw)] = known[raw]
    return resolved


# ---------------------------------------------------------------- the SQL fold

# journey_of in SQL, over an event aliased `e`, for the tally's claim (sql.py's _CLAIM), which keeps them on the
# batch's tally_events: the step (NULL when the event is no page view with a journey that counts) and the previous
# page as sent (counted only when the step is past the first). The steps are never cast before they are known to be
# digits: a string step must not fail the batch.
_JOURNEY = "e.payload -> 'journey'"
JOURNEY_CLAIM_SQL = f"""CASE WHEN e.type = 'pageview' AND jsonb_typeof({_JOURNEY} -> 'step') = 'number'
        AND {_JOURNEY} ->> 'step' ~ '^[1-9][0-9]*$'
    THEN least(({_JOURNEY} ->> 'step')::numeric, {STEPS_CAP})::integer END,
    CASE WHEN e.type = 'pageview' AND jsonb_typeof({_JOURNEY} -> 'prev') = 'string' THEN {_JOURNEY} ->> 'prev' END"""
# Their columns on tally_events.
JOURNEY_CLAIM_COLUMNS = "journey_steps integer, journey_prev text"

_TABLES = """
CREATE TEMP TABLE IF NOT EXISTS tally_journey_paths (site_id bigint, raw text, path text, stage text)
ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS tally_journeys (
    id bigint, site_id bigint, ts timestamptz, day date, visitor_id text, session_id text, device text, source text,
    "returning" boolean, steps integer, step smallint, path text, prev text, stage text
) ON COMMIT DELETE ROWS;
TRUNCATE tally_journey_paths, tally_journeys;
"""

# Every URL and previous page of the batch's journeys, once per site.
_PREV_RAW = "CASE WHEN e.journey_steps > 1 THEN e.journey_prev END"
_RAWS = f"""
SELECT DISTINCT e.site_id, r.raw FROM tally_events AS e
CROSS JOIN LATERAL (VALUES (e.url), ({_PREV_RAW})) AS r(raw) WHERE e.journey_steps IS NOT NULL AND r.raw IS NOT NULL
"""

# The page views with their paths cleaned (tally_journey_paths: what paths_resolve answered).
_JOURNEYS = f"""
INSERT INTO tally_journey_paths SELECT * FROM unnest(%(sites)s::bigint[], %(raws)s::text[], %(paths)s::text[],
    %(stages)s::text[]);
-- Its statistics (a few thousand rows: milliseconds): without them the planner takes every site for one of many
-- and joins on the site alone, comparing each page view with every path.
ANALYZE tally_journey_paths;
INSERT INTO tally_journeys
SELECT e.id, e.site_id, e.ts, e.day, e.visitor_id, e.session_id, e.device, e.source, e."returning", e.journey_steps,
    least(e.journey_steps, {STEP_LATER}), p.path, CASE WHEN e.journey_steps > 1 THEN q.path END, p.stage
FROM tally_events AS e
JOIN tally_journey_paths AS p ON p.site_id = e.site_id AND p.raw = e.url
-- on the columns themselves, so that the join is hashed
LEFT JOIN tally_journey_paths AS q ON q.site_id = e.site_id AND q.raw = e.journey_prev
WHERE e.journey_steps IS NOT NULL;
"""

_PAGES = f"""
INSERT INTO {PAGES} AS t (site_id, day, step, path, {SEGMENT}, pageviews, entries)
SELECT site_id, day, step, path, {SEGMENT}, count(*), count(*) FILTER (WHERE prev IS NULL)
FROM tally_journeys GROUP BY site_id, day, step, path, {SEGMENT}
ON CONFLICT (site_id, day, step, path, {SEGMENT}) DO UPDATE SET
    pageviews = t.pageviews + EXCLUDED.pageviews, entries = t.entries + EXCLUDED.entries
"""

_TRANSITIONS = f"""
INSERT INTO {TRANSITIONS} AS t (site_id, day, step, from_path, path, {SEGMENT}, count)
SELECT site_id, day, step, prev, path, {SEGMENT}, count(*)
FROM tally_journeys WHERE prev IS NOT NULL GROUP BY site_id, day, step, prev, path, {SEGMENT}
ON CONFLICT (site_id, day, step, from_path, path, {SEGMENT}) DO UPDATE SET count = t.count + EXCLUDED.count
"""

# One row per session of the batch, merged into the one already kept. A position is filled when still empty: in
# the batch, by a page view at that step, else by the previous path of a page view at the next step (the least
# path, bytewise, should two page views claim the same step). The day follows the earliest time (a day is the
# time's in one zone, so the earliest time has the earliest day); the segment is the first page view's.
_SESSION_KEY = "site_id, visitor_id, session_id"


def _position_sql(position: int) -> str:
    own = f'min(path COLLATE "C") FILTER (WHERE steps = {position})'
    return f'coalesce({own}, min(prev COLLATE "C") FILTER (WHERE steps = {position + 1}))'


_SESSIONS = f"""
WITH sessions AS (
    SELECT {_SESSION_KEY}, min(ts) AS started_at, max(ts) AS last_at, max(steps) AS steps, count(*) AS pageviews,
        min(day) AS day, min(id) AS first_id,
        {", ".join(f"{_position_sql(n)} AS {name}" for n, name in enumerate(PATH_COLUMNS, 1))}
    FROM tally_journeys WHERE visitor_id <> '' AND session_id <> '' GROUP BY {_SESSION_KEY}
)
INSERT INTO {SESSIONS} AS t ({_SESSION_KEY}, day, started_at, last_at, steps, pageviews, {SEGMENT},
    {", ".join(PATH_COLUMNS)})
SELECT s.site_id, s.visitor_id, s.session_id, s.day, s.started_at, s.last_at, s.steps, s.pageviews,
    f.device, f.source, f."returning", {", ".join(f"s.{name}" for name in PATH_COLUMNS)}
FROM sessions AS s JOIN tally_journeys AS f ON f.id = s.first_id
ON CONFLICT ({_SESSION_KEY}) DO UPDATE SET
    day = CASE WHEN EXCLUDED.started_at < t.started_at THEN EXCLUDED.day ELSE t.day END,
    started_at = least(t.started_at, EXCLUDED.started_at), last_at = greatest(t.last_at, EXCLUDED.last_at),
    steps = greatest(t.steps, EXCLUDED.steps), pageviews = t.pageviews + EXCLUDED.pageviews,
    {", ".join(f"{name} = coalesce(t.{name}, EXCLUDED.{name})" for name in PATH_COLUMNS)}
"""

# The earliest page view of the batch that reached a stage, per visitor (ties: the lowest id); it replaces the
# kept one only when strictly earlier.
_STAGE_FIELDS = ("first_at", "day", "path", "session_id", *SEGMENT_COLUMNS)
_STAGES = f"""
INSERT INTO {STAGES} AS t (site_id, visitor_id, stage, {", ".join(f'"{name}"' for name in _STAGE_FIELDS)})
SELECT DISTINCT ON (site_id, visitor_id COLLATE "C", stage) site_id, visitor_id, stage, ts, day, path, session_id,
    {SEGMENT}
FROM tally_journeys WHERE visitor_id <> '' AND stage <> ''
ORDER BY site_id, visitor_id COLLATE "C", stage, ts, id
ON CONFLICT (site_id, visitor_id, stage) DO UPDATE SET
    {", ".join(f'"{name}" = EXCLUDED."{name}"' for name in _STAGE_FIELDS)}
WHERE EXCLUDED.first_at < t.first_at
"""


def journeys_fold(cursor) -> None:
    """The SQL fold's journey step: the batch's page views (in `tally_events`) into the four journey tables."""
    cursor.execute(_TABLES)
    cursor.execute(_RAWS)
    raws = cursor.fetchall()
    if not raws:
        return
    resolved = paths_resolve(raws=raws)
    keys = list(resolved)
    cursor.execute(_JOURNEYS, {
        "sites": [site_id for site_id, _raw in keys], "raws": [raw for _site_id, raw in keys],
        "paths": [resolved[key][0] for key in keys], "stages": [resolved[key][1] for key in keys],
    })
    for statement in (_PAGES, _TRANSITIONS, _SESSIONS, _STAGES):
        cursor.execute(statement)


# ---------------------------------------------------------------- the Python fold

class _View:
    """One page view as the journey tables count it."""

    __slots__ = ("id", "site_id", "ts", "day", "visitor_id", "session_id", "segment", "steps", "step", "path",
                 "prev", "stage")

    def __init__(self, **fields) -> None:
        for name, value in fields.items():
            setattr(self, name, value)


def journeys_fold_events(*, events: list[dict], day_of: Callable[[int, datetime], date]) -> None:
    """The Python fold's journey step: the batch's events (in id order, with `session_id`) into the four tables.

    The same rows as journeys_fold, written through the ORM and portable SQL (SQLite runs this fold).
    """
    found = [(e, journey) for e in events if e["type"] == "pageview" and (journey := journey_of(e["payload"]))]
    if not found:
        return
    resolved = paths_resolve(raws=[(e["site_id"], raw) for e, (_step, prev) in found
                                   for raw in (e["url"], prev) if raw is not None])
    views = []
    for e, (steps, prev) in found:
        path, stage = resolved[(e["site_id"], e["url"])]
        views.append(_View(
            id=e["id"], site_id=e["site_id"], ts=e["ts"], day=day_of(e["site_id"], e["ts"]),
            visitor_id=e["visitor_id"], session_id=e["session_id"],
            segment=segment_of(device=e["device"], payload=e["payload"]), steps=steps, step=min(steps, STEP_LATER),
            path=path, prev=resolved[(e["site_id"], prev)][0] if prev is not None else None, stage=stage,
        ))
    views.sort(key=lambda view: view.id)
    _counts_write(views)
    _sessions_write([v for v in views if v.visitor_id and v.session_id])
    _stages_write([v for v in views if v.visitor_id and v.stage])


def _upsert_add(table: str, keys: tuple[str, ...], counts: dict[tuple, tuple[int, ...]], names: tuple[str, ...]):
    """Counters added to their rows (ON CONFLICT works on SQLite and PostgreSQL alike)."""
    if not counts:
        return
    columns = ", ".join(f'"{name}"' for name in (*keys, *names))
    row = "(" + ", ".join(["%s"] * (len(keys) + len(names))) + ")"
    conflict = ", ".join(f'"{name}"' for name in keys)
    updates = ", ".join(f'"{name}" = {table}."{name}" + EXCLUDED."{name}"' for name in names)
    items = list(counts.items())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES " + ", ".join([row] * len(items))
            + f" ON CONFLICT ({conflict}) DO UPDATE SET {updates}",
            [value for key, values in items for value in (*key, *values)],
        )


def _counts_write(views: list[_View]) -> None:
    pageviews, entries, moves = Counter(), Counter(), Counter()
    for v in views:
        key = (v.site_id, v.day, v.step, v.path, *v.segment)
        pageviews[key] += 1
        if v.prev is None:
            entries[key] += 1
        else:
            moves[(v.site_id, v.day, v.step, v.prev, v.path, *v.segment)] += 1
    _upsert_add(PAGES, ("site_id", "day", "step", "path", *SEGMENT_COLUMNS),
                {key: (count, entries[key]) for key, count in pageviews.items()}, ("pageviews", "entries"))
    _upsert_add(TRANSITIONS, ("site_id", "day", "step", "from_path", "path", *SEGMENT_COLUMNS),
                {key: (count,) for key, count in moves.items()}, ("count",))


def _least(kept: str | None, path: str) -> str:
    return path if kept is None or path < kept else kept  # code points: the order of UTF-8 bytes, as "C" sorts


def _sessions_write(views: list[_View]) -> None:
    """Session rows merged as _SESSIONS merges them (views come in id order: the first one sets the segment)."""
    if not views:
        return
    batch: dict[tuple, JourneySession] = {}
    own: dict[tuple, dict[int, str]] = {}
    before: dict[tuple, dict[int, str]] = {}
    for v in views:
        key = (v.site_id, v.visitor_id, v.session_id)
        row = batch.get(key)
        if row is None:
            row = batch[key] = JourneySession(
                site_id=v.site_id, visitor_id=v.visitor_id, session_id=v.session_id, day=v.day, started_at=v.ts,
                last_at=v.ts, steps=v.steps, pageviews=0, device=v.segment[0], source=v.segment[1],
                returning=v.segment[2])
            own[key], before[key] = {}, {}
        if v.ts < row.started_at:
            row.started_at, row.day = v.ts, v.day
        row.last_at = max(row.last_at, v.ts)
        row.steps = max(row.steps, v.steps)
        row.pageviews += 1
        if v.steps <= SESSION_PATHS:
            own[key][v.steps] = _least(own[key].get(v.steps), v.path)
        if v.prev is not None and 2 <= v.steps <= SESSION_PATHS + 1:
            before[key][v.steps - 1] = _least(before[key].get(v.steps - 1), v.prev)
    for key, row in batch.items():
        for position, name in enumerate(PATH_COLUMNS, 1):
            path = own[key].get(position)
            setattr(row, name, path if path is not None else before[key].get(position))
    kept = {
        (row.site_id, row.visitor_id, row.session_id): row
        for row in JourneySession.objects.filter(
            site_id__in={key[0] for key in batch}, session_id__in={key[2] for key in batch})
        if (row.site_id, row.visitor_id, row.session_id) in batch
    }
    changed = []
    for key, row in kept.items():
        new = batch[key]
        if new.started_at < row.started_at:
            row.started_at, row.day = new.started_at, new.day
        row.last_at = max(row.last_at, new.last_at)
        row.steps = max(row.steps, new.steps)
        row.pageviews += new.pageviews
        for name in PATH_COLUMNS:
            if getattr(row, name) is None:
                setattr(row, name, getattr(new, name))
        changed.append(row)
    JourneySession.objects.bulk_create([row for key, row in batch.items() if key not in kept])
    JourneySession.objects.bulk_update(
        changed, ["day", "started_at", "last_at", "steps", "pageviews", *PATH_COLUMNS])


def _stages_write(views: list[_View]) -> None:
    """Stage rows as _STAGES writes them: the batch's earliest page view per visitor and stage (ties: the lowest
    id), replacing the kept row only when strictly earlier."""
    if not views:
        return
    earliest: dict[tuple, _View] = {}
    for v in views:
        key = (v.site_id, v.visitor_id, v.stage)
        if key not in earliest or v.ts < earliest[key].ts:
            earliest[key] = v
    kept = {
        (row.site_id, row.visitor_id, row.stage): row
        for row in JourneyVisitorStage.objects.filter(
            site_id__in={key[0] for key in earliest}, visitor_id__in={key[1] for key in earliest})
    }
    new_rows, changed = [], []
    for key, v in earliest.items():
        fields = {"first_at": v.ts, "day": v.day, "path": v.path, "session_id": v.session_id,
                  **dict(zip(SEGMENT_COLUMNS, v.segment, strict=True))}
        row = kept.get(key)
        if row is None:
            new_rows.append(JourneyVisitorStage(site_id=v.site_id, visitor_id=v.visitor_id, stage=v.stage, **fields))
        elif v.ts < row.first_at:
            for name, value in fields.items():
                setattr(row, name, value)
            changed.append(row)
    JourneyVisitorStage.objects.bulk_create(new_rows)
    JourneyVisitorStage.objects.bulk_update(changed, list(_STAGE_FIELDS))
