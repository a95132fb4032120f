"""The journey fold: page views into the journey map's tables, in both tally folds, exactly once.

campaigns/models/journeys.py says what each table counts and how a page view fills it; this module does it, in the
batch's transaction (the one that moves the tally's cursor), so each page view is folded once. `journeys_fold`
is the SQL fold's step (set-based statements over the batch's `tally_events`), `journeys_fold_events` the Python
fold's (the same rows from the batch's events in memory); both read a page view's journey with the same rule
(`journey_of`, `_STEP_SQL`) and clean its paths with the same function, once per distinct URL of the batch
(`paths_resolve`).

What "the same rows whatever the order of arrival" rests on: counters are sums; a session row's positions are
filled when still empty (the position comes from the step the widget sent, not from the order the page views are
folded in), its times are the earliest and the latest seen; a visitor's stage row keeps the earliest page view
that reached the stage. Within a batch, ties go to the lowest event id, in both folds.

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

    The step is a whole JSON number from 1 (kept up to STEPS_CAP); the previous page (a path or URL, cleaned later)
    counts only when it is a string and the step is past the first. _STEP_SQL is the same rule in SQL.
    """
    journey = payload.get("journey") if isinstance(payload, dict) else None
    if not isinstance(journey, dict):
        return None
    step = journey.get("step")
    if isinstance(step, bool) or not isinstance(step, int | float):
        return None
    if isinstance(step, float) and not step.is_integer():  # also NaN and infinities
        return None
    if step < 1:
        return None
    step = int(min(step, STEPS_CAP))
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


def paths_resolve(*, raws: Iterable[tuple[int, str]]) -> dict[tuple[int, str], tuple[str, str]]:
    """(site, URL or path) -> (cleaned path, stage of its page group or ""), each URL cleaned once and each
    cleaned path grouped once, with the site's set-up as it is now."""
    raws = set(raws)
    setups = setups_read(site_ids={site_id for site_id, _raw in raws})
    stages: dict[tuple[int, str], str] = {}
    resolved = {}
    for site_id, raw in raws:
        groups, cleanups = setups[site_id]
        path = path_clean(url=raw, rules=cleanups)
        if (site_id, path) not in stages:
            group = group_of(path=path, groups=groups) if groups else None
            stages[(site_id, path)] = group.stage if group is not None else ""
        resolved[(site_id, raw)] = (path, stages[(site_id, path)])
    return resolved


# ---------------------------------------------------------------- the SQL fold

# journey_of in SQL, over an event aliased `e`: the step as a number, NULL when it is not one (never cast
# otherwise: a string step must not fail the batch); the callers keep whole numbers from 1.
_STEP_SQL = """CASE WHEN jsonb_typeof(e.payload -> 'journey' -> 'step') = 'number'
    THEN (e.payload -> 'journey' ->> 'step')::numeric END"""
_PREV_SQL = """CASE WHEN jsonb_typeof(e.payload -> 'journey' -> 'prev') = 'string'
    THEN e.payload -> 'journey' ->> 'prev' END"""

_TABLES = """
CREATE TEMP TABLE IF NOT EXISTS tally_journey_views (
    id bigint, site_id bigint, ts timestamptz, day date, visitor_id text, session_id text, device text, source text,
    "returning" boolean, steps integer, url text, prev_raw text
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS tally_journey_paths (site_id bigint, raw text, path text, stage text)
ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS tally_journeys (
    id bigint, site_id bigint, ts timestamptz, day date, visitor_id text, session_id text, device text, source text,
    "returning" boolean, steps integer, step smallint, path text, prev text, stage text
) ON COMMIT DELETE ROWS;
TRUNCATE tally_journey_views, tally_journey_paths, tally_journeys;
"""

# The batch's page views that carry a journey which counts, with their step (capped) and raw previous page, into
# a table of their own: the statements that join them to their paths then plan on its real size (a filter on JSON
# fields is estimated at a row or two, and a nested loop over thousands of page views and paths takes seconds).
_VIEWS = f"""
INSERT INTO tally_journey_views
SELECT v.id, v.site_id, v.ts, v.day, v.visitor_id, v.session_id, v.device, v.source, v."returning",
    least(v.raw_step, {STEPS_CAP})::integer, v.url, CASE WHEN v.raw_step > 1 THEN v.raw_prev END
FROM (SELECT e.*, {_STEP_SQL} AS raw_step, {_PREV_SQL} AS raw_prev FROM tally_events AS e
      WHERE e.type = 'pageview') AS v
WHERE v.raw_step >= 1 AND v.raw_step = trunc(v.raw_step)
"""

# Every URL and previous page of the batch's journeys, once per site.
_RAWS = """
SELECT DISTINCT v.site_id, r.raw FROM tally_journey_views AS v
CROSS JOIN LATERAL (VALUES (v.url), (v.prev_raw)) AS r(raw) WHERE r.raw IS NOT NULL
"""

# The page views with their paths cleaned (tally_journey_paths: what paths_resolve answered).
_JOURNEYS = f"""
INSERT INTO tally_journey_paths SELECT * FROM unnest(%(sites)s::bigint[], %(raws)s::text[], %(paths)s::text[],
    %(stages)s::text[]);
INSERT INTO tally_journeys
SELECT v.id, v.site_id, v.ts, v.day, v.visitor_id, v.session_id, v.device, v.source, v."returning", v.steps,
    least(v.steps, {STEP_LATER}), p.path, q.path, p.stage
FROM tally_journey_views AS v
JOIN tally_journey_paths AS p ON p.site_id = v.site_id AND p.raw = v.url
LEFT JOIN tally_journey_paths AS q ON q.site_id = v.site_id AND q.raw = v.prev_raw;
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

# One row per session of the batch, merged into the one already kept: a position is filled when still empty (in
# the batch, by the lowest event id: its own path before the next page view's previous path), the day follows
# the earliest time (a day is the time's in one zone, so the earliest time has the earliest day), the segment is
# the first page view's. Text keys are sorted bytewise ("C"): the order only has to be one.
_SESSION_KEY = "site_id, visitor_id, session_id"
_SESSION_ORDER = 'site_id, visitor_id COLLATE "C", session_id COLLATE "C"'
_SESSIONS = f"""
WITH views AS (
    SELECT * FROM tally_journeys WHERE visitor_id <> '' AND session_id <> ''
), sessions AS (
    SELECT {_SESSION_KEY}, min(ts) AS started_at, max(ts) AS last_at, max(steps) AS steps, count(*) AS pageviews,
        min(day) AS day, min(id) AS first_id
    FROM views GROUP BY {_SESSION_KEY}
), candidates AS (
    SELECT {_SESSION_KEY}, steps AS position, path, 2 * id AS rank FROM views WHERE steps <= {SESSION_PATHS}
    UNION ALL
    SELECT {_SESSION_KEY}, steps - 1, prev, 2 * id + 1 FROM views
    WHERE prev IS NOT NULL AND steps BETWEEN 2 AND {SESSION_PATHS + 1}
), kept AS (
    SELECT DISTINCT ON ({_SESSION_ORDER}, position) {_SESSION_KEY}, position, path FROM candidates
    ORDER BY {_SESSION_ORDER}, position, rank
), positions AS (
    SELECT {_SESSION_KEY},
        {", ".join(f"max(path) FILTER (WHERE position = {n}) AS {name}" for n, name in enumerate(PATH_COLUMNS, 1))}
    FROM kept GROUP BY {_SESSION_KEY}
)
INSERT INTO {SESSIONS} AS t ({_SESSION_KEY}, day, started_at, last_at, steps, pageviews, {SEGMENT},
    {", ".join(PATH_COLUMNS)})
SELECT s.site_id, s.visitor_id, s.session_id, s.day, s.started_at, s.last_at, s.steps, s.pageviews,
    f.device, f.source, f."returning", {", ".join(f"p.{name}" for name in PATH_COLUMNS)}
FROM sessions AS s JOIN views AS f ON f.id = s.first_id
LEFT JOIN positions AS p ON p.site_id = s.site_id AND p.visitor_id = s.visitor_id AND p.session_id = s.session_id
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
    cursor.execute(_VIEWS)
    if not cursor.rowcount:
        return
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


def _sessions_write(views: list[_View]) -> None:
    """Session rows merged as _SESSIONS merges them: views come in id order, so the first to fill a position (or
    to set the segment) is the lowest id, and then the row kept from earlier batches wins."""
    if not views:
        return
    batch: dict[tuple, JourneySession] = {}
    for v in views:
        key = (v.site_id, v.visitor_id, v.session_id)
        row = batch.get(key)
        if row is None:
            row = batch[key] = JourneySession(
                site_id=v.site_id, visitor_id=v.visitor_id, session_id=v.session_id, day=v.day, started_at=v.ts,
                last_at=v.ts, steps=v.steps, pageviews=0, device=v.segment[0], source=v.segment[1],
                returning=v.segment[2])
        if v.ts < row.started_at:
            row.started_at, row.day = v.ts, v.day
        row.last_at = max(row.last_at, v.ts)
        row.steps = max(row.steps, v.steps)
        row.pageviews += 1
        for position, path in ((v.steps, v.path), (v.steps - 1, v.prev)):
            if path is not None and 1 <= position <= SESSION_PATHS and getattr(row, f"path_{position}") is None:
                setattr(row, f"path_{position}", path)
    kept = {
        (row.site_id, row.visitor_id, row.session_id): row
        for row in JourneySession.objects.filter(
            site_id__in={key[0] for key in batch}, session_id__in={key[2] for key in batch})
        if (row.site_id, row.visitor_id, row.session_id) in batch
    }
    changed = []
    for key, new in batch.items():
        row = kept.get(key)
        if row is None:
            continue
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
