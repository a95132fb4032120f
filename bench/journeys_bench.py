"""Journey map bench: the journey page's server time on 90 days of counts from a site with a million page views a day.

Seeds, in a throw-away PostgreSQL test database, the journey counters as the fold would write them for one
simulated day of a large shop, repeated over `--days` days with each day's counts varied:

- one day: 1,000,000 page views in ~300,000 sessions (lengths geometric, mean 3.3 pages), over `--paths` cleaned
  paths (home, cart, checkout, thank you, search, blog articles, products, categories; Zipf-distributed entries,
  next pages mostly near the previous one and sometimes anywhere), 3 devices, 12 traffic sources (Zipf) and
  new/returning: every (step, path, segment) and (step, previous path, path, segment) seen is a row, so a day
  holds about 165,000 page rows and 410,000 transition rows with 1,000 paths;
- session rows (one per session) and visitor stage rows (one per visitor and stage reached) for the last
  `--session-days` days (90 for an honest funnel and session flows: 27 million sessions), the simulated day's
  sessions repeated in SQL; a returning session (30 %) belongs to the visitor of another session 1 to 14 days
  earlier, so a visitor's stage rows may span days, each stage at its earliest reach.

Then builds the map's rollups as the worker does, timing what they cost: the daily rollups by label
(campaigns/journeys/rollups/, and their weeks) and the stage funnel's days (campaigns/journeys/funnel_rollups.py),
every day (what a group edit, or the first run, costs) and one day again; the session rollups (walks and exits,
campaigns/journeys/session_rollups.py), one day built and copied to the others (the bench's days are one simulated
day repeated), and their weeks summed (campaigns/journeys/walk_weeks.py). With every rollup built, times in-process
the journey page (admin, HTTP through the middleware) over the 90 days and over the last 7, from the entry pages and
back from a goal, and its parts (the counts summed by label; flow, entry and exit tables; SVG; the funnel; the
intervention points, matched against the site's campaigns; the journey effects of its two campaigns with a holdout,
of 850,000 and 1,500 assigned visitors, read from the worker's counts, which are timed), after a first
call that reads the filter choices (cached after it); then (over the session
days and the last 7) the filter choices' first read, the funnel (and once from the stage rows, at 7 days), and the
flows back from a goal and from a chosen page, exact (from the session rows) and from the session rollups. `--no-
page` times only these. Prints median and p95 against the budget; asserts nothing. Budget: under 200 ms a page.

    .venv/bin/python bench/journeys_bench.py [--days 90] [--paths 1000] [--session-days 7] [--runs 5] [--keep]
        [--rebuild] [--seed-only] [--no-page] [--exact-runs N]

`--keep` keeps the seeded database (JOURNEYS_BENCH_DB, by default test_retarget_journeys_bench) and reuses it the
next time (seeding 90 days takes minutes); without it the database is dropped at the end.
"""

import argparse
import datetime as dt
import gc
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retarget.test_settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

BUDGET_MS = 200
PAGEVIEWS_A_DAY = 1_000_000
MEAN_SESSION_PAGES = 3.3
SOURCES = ("direct", "google", "google/cpc", "facebook", "newsletter", "bing", "instagram", "partner.example",
           "news.example", "duckduckgo", "tiktok", "other")
DEVICES = ("desktop", "mobile", "tablet")
DEVICE_SHARES = (0.40, 0.55, 0.05)
RETURNING_SHARE = 0.3
# A next page is a near neighbour of the previous one (site navigation) except this often.
JUMP_SHARE = 0.3
LATER = 11


def path_names(count: int) -> list[str]:
    """Cleaned paths of a shop by popularity rank: the funnel's pages first, then content, products, categories."""
    fixed = ["/", "/cart/", "/checkout/", "/thank-you/", "/search/"]
    names = list(fixed)
    rest = count - len(fixed)
    for index in range(rest):
        kind = index % 10
        if kind < 3:
            names.append(f"/blog/topic-{index % 7}/article-{index}/")
        elif kind < 8:
            names.append(f"/product/model-{index}/")
        else:
            names.append(f"/category/range-{index}/")
    return names[:count]


def _zipf(rng, n: int, size: int, s: float) -> np.ndarray:
    weights = 1 / np.arange(1, n + 1) ** s
    return rng.choice(n, size=size, p=weights / weights.sum())


def day_simulate(*, paths: int, seed: int = 1) -> dict:
    """One day's page views as the fold counts them: page rows, transition rows and the sessions' first 10 paths."""
    rng = np.random.default_rng(seed)
    sessions = int(PAGEVIEWS_A_DAY / MEAN_SESSION_PAGES)
    lengths = rng.geometric(1 / MEAN_SESSION_PAGES, sessions)
    total = int(lengths.sum())
    device = rng.choice(len(DEVICES), size=sessions, p=DEVICE_SHARES)
    source = _zipf(rng, len(SOURCES), sessions, 1.3)
    returning = (rng.random(sessions) < RETURNING_SHARE).astype(np.int64)
    of_session = np.repeat(np.arange(sessions), lengths)
    starts = np.cumsum(lengths) - lengths
    position = np.arange(total) - np.repeat(starts, lengths)
    step = np.minimum(position + 1, LATER)
    path = np.empty(total, dtype=np.int64)
    path[starts] = _zipf(rng, paths, sessions, 1.1)
    jump = _zipf(rng, paths, total, 1.1)
    near = _zipf(rng, 30, total, 1.2) + 1
    jumps = rng.random(total) < JUMP_SHARE
    for at in range(1, int(lengths.max())):
        index = np.nonzero(position == at)[0]
        path[index] = np.where(jumps[index], jump[index], (path[index - 1] + near[index]) % paths)
    segment = (device[of_session] << 5) | (source[of_session] << 1) | returning[of_session]
    page_keys, page_counts = np.unique((step << 40) | (path << 12) | segment, return_counts=True)
    moved = np.nonzero(position > 0)[0]
    move_keys, move_counts = np.unique(
        (step[moved] << 50) | (path[moved - 1] << 30) | (path[moved] << 12) | segment[moved], return_counts=True)
    kept = position < 10
    session_paths = np.full((sessions, 10), -1, dtype=np.int64)
    session_paths[of_session[kept], position[kept]] = path[kept]
    return {
        "pageviews": total, "sessions": sessions, "lengths": lengths, "segment": (device, source, returning),
        "pages": (page_keys, page_counts), "moves": (move_keys, move_counts), "session_paths": session_paths,
    }


def _segment(code: int) -> tuple[str, str, bool]:
    return DEVICES[code >> 5], SOURCES[(code >> 1) & 0xF], bool(code & 1)


def _copy(raw, table: str, columns: tuple[str, ...], rows) -> None:
    quoted = ", ".join(f'"{column}"' for column in columns)
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _constraints_off(cursor, table: str) -> list[str]:
    """Drop the table's unique constraints and indexes; returns the statements that rebuild them (after the bulk
    insert, which is much faster than keeping them up to date row by row)."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'u'",
        [table])
    constraints = cursor.fetchall()
    cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT LIKE %s",
                   [table, "%pkey"])
    indexes = [(name, definition) for name, definition in cursor.fetchall()
               if name not in {constraint for constraint, _ in constraints}]
    for name, _definition in constraints:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    return [f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}" for name, definition in constraints] + [
        definition for _name, definition in indexes]


def _sessions_seed(*, raw, site, day: dict, names: list[str], groups, today: dt.date, days: int,
                   tables: tuple[str, str]) -> None:
    """Session and visitor stage rows for `days` days: the simulated day's sessions copied once into temporary
    tables, then repeated day by day in SQL (ids, times and days shifted). A returning session (RETURNING_SHARE)
    belongs to the visitor of another session of the template, 1 to 14 days earlier, so a visitor's stages may be
    reached in several sessions and days; their stage rows keep each stage's earliest reach, as the fold does."""
    from campaigns.journeys.paths import group_of

    sessions_table, stages_table = tables
    session_paths, lengths = day["session_paths"], day["lengths"]
    device, source, returning = day["segment"]
    stage_of = [(group.stage if group else "") for group in (group_of(path=name, groups=groups) for name in names)]
    count = len(lengths)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE day_sessions (i int, device text, source text, ret bool, steps int, "
                       + ", ".join(f"path_{n} text" for n in range(1, 11)) + ")")
        cursor.execute("CREATE TEMP TABLE day_stages (i int, stage text, position int, path text)")
    session_rows, stage_rows = [], []
    for index, codes in enumerate(session_paths.tolist()):
        kept = [code for code in codes if code >= 0]
        session_rows.append((index, DEVICES[device[index]], SOURCES[source[index]], bool(returning[index]),
                             int(lengths[index]), *(names[code] for code in kept), *([None] * (10 - len(kept)))))
        reached = set()
        for position, code in enumerate(kept):
            if stage_of[code] and stage_of[code] not in reached:
                reached.add(stage_of[code])
                stage_rows.append((index, stage_of[code], position, names[code]))
    _copy(raw, "day_sessions", ("i", "device", "source", "ret", "steps", *(f"path_{n}" for n in range(1, 11))),
          session_rows)
    _copy(raw, "day_stages", ("i", "stage", "position", "path"), stage_rows)
    paths = ", ".join(f"path_{n}" for n in range(1, 11))
    # (days back, template index) of the visitor a session belongs to; its start: the day's midnight (UTC, as the
    # bench's days) plus a share of the day by index.
    visitor = (f"'v' || (d + CASE WHEN s.ret THEN 1 + mod(s.i, 14) ELSE 0 END) || '-' || "
               f"CASE WHEN s.ret THEN mod(s.i::bigint * 7919 + 13, {count}) ELSE s.i END")
    started_at = f"(%s::date - d)::timestamp AT TIME ZONE 'UTC' + (s.i::bigint * 86000 / {count}) * interval '1 second'"
    with connection.cursor() as cursor:
        cursor.execute("SET work_mem = '1GB'")
        cursor.execute(
            f"INSERT INTO {sessions_table} (site_id, visitor_id, session_id, day, started_at, last_at, steps, "
            f'pageviews, device, source, "returning", {paths})'
            f" SELECT %s, {visitor}, 's' || d || '-' || s.i, %s::date - d, {started_at},"
            f" {started_at} + s.steps * interval '1 minute', s.steps, s.steps, s.device, s.source, s.ret, {paths}"
            # Day by day, as the fold writes them (d outside: no sort of the whole).
            f" FROM generate_series(0, %s - 1) AS d CROSS JOIN LATERAL (SELECT * FROM day_sessions) AS s",
            [site.id, today, today, today, days])
        cursor.execute(
            f"INSERT INTO {stages_table} (site_id, visitor_id, stage, first_at, day, path, session_id, device, source,"
            ' "returning")'
            " SELECT * FROM (SELECT DISTINCT ON (visitor_id, stage) * FROM ("
            f" SELECT %s AS site_id, {visitor} AS visitor_id, t.stage, {started_at} + t.position * interval '1 minute'"
            " AS first_at, %s::date - d AS day, t.path, 's' || d || '-' || s.i AS session_id, s.device, s.source,"
            ' s.ret AS "returning"'
            " FROM day_stages AS t JOIN day_sessions AS s ON s.i = t.i, generate_series(0, %s - 1) AS d) AS reached"
            " ORDER BY visitor_id, stage, first_at) AS firsts ORDER BY day, first_at",
            [site.id, today, today, days])
        cursor.execute("RESET work_mem")


def seed(*, days: int, paths: int, session_days: int):
    from django.contrib.auth import get_user_model

    from campaigns import services
    from campaigns.journeys.services import journey_setup_replace
    from campaigns.journeys.suggest import suggest_groups
    from campaigns.models import JourneyPageDaily, JourneySession, JourneyTransitionDaily, JourneyVisitorStage

    owner = get_user_model().objects.create_user(username="bench", password="bench", is_staff=True)
    site = services.site_create(owner=owner, name="Bench shop", allowed_origins=["https://bench.example"])
    names = path_names(paths)
    groups = [suggestion.group for suggestion in suggest_groups(paths_with_counts=[(n, 1) for n in names])]
    journey_setup_replace(site=site, groups=groups, cleanups=[])
    started = time.perf_counter()
    day = day_simulate(paths=paths)
    print(f"one simulated day: {day['pageviews']:,} page views, {day['sessions']:,} sessions, "
          f"{len(day['pages'][0]):,} page rows, {len(day['moves'][0]):,} transition rows "
          f"({time.perf_counter() - started:.1f} s)", flush=True)
    from campaigns.rules import zone

    today = dt.datetime.now(zone(site.time_zone)).date()
    raw = connection.connection
    tables = {model: model._meta.db_table for model in
              (JourneyPageDaily, JourneyTransitionDaily, JourneySession, JourneyVisitorStage)}
    with connection.cursor() as cursor:
        restore = {table: _constraints_off(cursor, table) for table in tables.values()}
        cursor.execute("CREATE TEMP TABLE day_pages (step int, path text, device text, source text, ret bool, "
                       "pageviews int)")
        cursor.execute("CREATE TEMP TABLE day_moves (step int, from_path text, path text, device text, source text, "
                       "ret bool, count int)")
    page_keys, page_counts = day["pages"]
    _copy(raw, "day_pages", ("step", "path", "device", "source", "ret", "pageviews"), (
        (int(key >> 40), names[(key >> 12) & 0xFFFFFFF], *_segment(int(key & 0xFFF)), int(count))
        for key, count in zip(page_keys.tolist(), page_counts.tolist(), strict=True)))
    move_keys, move_counts = day["moves"]
    _copy(raw, "day_moves", ("step", "from_path", "path", "device", "source", "ret", "count"), (
        (int(key >> 50), names[(key >> 30) & 0xFFFFF], names[(key >> 12) & 0x3FFFF], *_segment(int(key & 0xFFF)),
         int(count))
        for key, count in zip(move_keys.tolist(), move_counts.tolist(), strict=True)))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Each day the same keys with counts varied by up to 20 % either way; step 1 rows are all entries. Day by
        # day, as the fold writes them: a day's rows together, so reading a few days reads their blocks only.
        cursor.execute(
            f"INSERT INTO {tables[JourneyPageDaily]}"
            ' (site_id, day, step, path, device, source, "returning", pageviews, entries)'
            " SELECT %s, %s::date - d, step, path, device, source, ret, v, CASE WHEN step = 1 THEN v ELSE 0 END"
            " FROM day_pages, generate_series(0, %s - 1) AS d,"
            " LATERAL (SELECT greatest(1, round(pageviews * (0.8 + 0.4 * random())))::int AS v) AS varied ORDER BY d",
            [site.id, today, days])
        cursor.execute(
            f"INSERT INTO {tables[JourneyTransitionDaily]}"
            ' (site_id, day, step, from_path, path, device, source, "returning", count)'
            " SELECT %s, %s::date - d, step, from_path, path, device, source, ret,"
            " greatest(1, round(count * (0.8 + 0.4 * random())))::int FROM day_moves, generate_series(0, %s - 1) AS d"
            " ORDER BY d",
            [site.id, today, days])
    print(f"counters for {days} days inserted ({time.perf_counter() - started:.0f} s)", flush=True)
    started = time.perf_counter()
    _sessions_seed(raw=raw, site=site, day=day, names=names, groups=groups, today=today, days=session_days,
                   tables=(tables[JourneySession], tables[JourneyVisitorStage]))
    print(f"session and stage rows for {session_days} days inserted ({time.perf_counter() - started:.0f} s)",
          flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table, statements in restore.items():
            for statement in statements:
                cursor.execute(statement)
            cursor.execute(f"ANALYZE {table}")
        counts = {}
        for model, table in tables.items():
            cursor.execute(f"SELECT count(*), pg_total_relation_size(%s) FROM {table}", [table])
            counts[model.__name__] = cursor.fetchone()
    print(f"indexes rebuilt and analyzed ({time.perf_counter() - started:.0f} s); rows: "
          + ", ".join(f"{name} {rows:,} ({size / 2**20:,.0f} MiB)" for name, (rows, size) in counts.items()),
          flush=True)
    return owner, site, today


def seeded_get():
    """(owner, site, last day) of a database this bench seeded and kept, or None."""
    from django.contrib.auth import get_user_model
    from django.db.models import Max

    from campaigns.models import JourneyPageDaily, Site

    owner = get_user_model().objects.filter(username="bench").first()
    site = Site.objects.filter(name="Bench shop").first()
    if owner is None or site is None:
        return None
    today = JourneyPageDaily.objects.filter(site=site).aggregate(last=Max("day"))["last"]
    return None if today is None else (owner, site, today)


def rollups_build(*, site, today, rebuild: bool) -> None:
    """The map's daily rollups by label, as the worker builds them: every stale day (all of them after seeding, or
    after a group edit: `rebuild` marks them so), then one day again (what a day that changed costs a run)."""
    from campaigns.journeys.funnel_rollups import STAGE_DAILY
    from campaigns.journeys.rollups import LABEL_MOVES, LABEL_PAGES, journey_rollup_build, journey_rollups_mark
    from campaigns.models import JourneyRollupDay

    journey_rollups_mark()
    if rebuild:
        JourneyRollupDay.objects.filter(site=site).update(stale=True)  # as after a group edit
    stale = JourneyRollupDay.objects.filter(site=site, stale=True).count()
    if stale:
        started = time.perf_counter()
        while journey_rollup_build(site_id=site.id, min_age=0) is not None:
            pass
        took = time.perf_counter() - started
        print(f"rollups of {stale} days built (as after a group edit): {took:.0f} s, {took / stale:.1f} s a day",
              flush=True)
    samples = []
    for _ in range(3):
        JourneyRollupDay.objects.filter(site=site, day=JourneyRollupDay.objects.filter(site=site).order_by(
            "-day").values("day")[:1]).update(stale=True)
        started = time.perf_counter()
        journey_rollup_build(site_id=site.id, min_age=0)
        samples.append(time.perf_counter() - started)
    print(f"rollup of one day rebuilt (a day that changed): median {statistics.median(samples):.2f} s", flush=True)
    from campaigns.journeys.rollups.weeks import journey_rollup_weeks_build

    started, weeks = time.perf_counter(), 0
    while built := journey_rollup_weeks_build(site_id=site.id, today=today):
        weeks += built
    if weeks:
        took = time.perf_counter() - started
        print(f"label rollups: {weeks} weeks summed in {took:.0f} s, {took / weeks:.1f} s a week", flush=True)
    funnel_days_build(site=site, rebuild=rebuild)
    with connection.cursor() as cursor:
        for table in (LABEL_PAGES, LABEL_MOVES, STAGE_DAILY):
            cursor.execute(f"ANALYZE {table}")  # as autovacuum does after so many rows
            cursor.execute(f"SELECT count(*), pg_total_relation_size(%s) FROM {table}", [table])
            rows, size = cursor.fetchone()
            print(f"  {table}: {rows:,} rows ({size / 2**20:,.0f} MiB)", flush=True)


def funnel_days_build(*, site, rebuild: bool) -> None:
    """The stage funnel's daily rollups as the worker builds them (campaigns/journeys/funnel_rollups.py): every stale
    day (all after seeding; `rebuild` marks them so), then one day again (a day whose stage rows changed)."""
    from campaigns.journeys.funnel_rollups import funnel_day_build
    from campaigns.models import JourneyStageDay

    if rebuild:
        JourneyStageDay.objects.filter(site=site).update(stale=True)
    stale = JourneyStageDay.objects.filter(site=site, stale=True).count()
    if stale:
        started = time.perf_counter()
        while funnel_day_build(site_id=site.id, min_age=0) is not None:
            pass
        took = time.perf_counter() - started
        print(f"stage funnel days built: {stale} in {took:.0f} s, {took / stale:.1f} s a day", flush=True)
    samples = []
    for _ in range(3):
        JourneyStageDay.objects.filter(site=site, day=JourneyStageDay.objects.filter(site=site).order_by(
            "-day").values("day")[:1]).update(stale=True)
        started = time.perf_counter()
        funnel_day_build(site_id=site.id, min_age=0)
        samples.append(time.perf_counter() - started)
    print(f"stage funnel of one day rebuilt (a day that changed): median {statistics.median(samples):.2f} s",
          flush=True)


def session_rollups_build(*, site, today, days: int) -> None:
    """The session rollups (walks and exits) of every session day, as the worker builds them: one day built and
    timed, copied to the others (the bench's days are one simulated day repeated), then the task's full run, which
    finds nothing left to build."""
    from campaigns.journeys.paths import journey_groups_key
    from campaigns.journeys.services import journey_setup_get
    from campaigns.journeys.session_rollups import MAX_DAYS, journey_walks_build, journey_walks_update
    from campaigns.journeys.walk_weeks import journey_walk_weeks_build
    from campaigns.models import JourneyExitDaily, JourneyExitPathsDaily, JourneyWalkDaily, JourneyWalkDay

    groups, _ = journey_setup_get(site=site)
    started = time.perf_counter()
    journey_walks_build(site=site, day=today, groups=groups, force=True)
    rows = JourneyWalkDaily.objects.filter(site=site, day=today).count()
    print(f"session rollups: one day built in {time.perf_counter() - started:.1f} s ({rows:,} rows)", flush=True)
    # The bench's days are one simulated day repeated: its rollup rows are copied to the others (what the task would
    # build, as the full run below confirms by building none: their session rows have the same signature).
    with connection.cursor() as cursor:
        for model in (JourneyWalkDaily, JourneyWalkDay, JourneyExitDaily, JourneyExitPathsDaily):
            columns = [field.column for field in model._meta.concrete_fields if field.column not in ("id", "day")]
            quoted = ", ".join(f'"{column}"' for column in columns)
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE site_id = %s AND day < %s", [site.id, today])
            cursor.execute(f"INSERT INTO {model._meta.db_table} (day, {quoted}) SELECT %s::date - d, {quoted}"
                           f" FROM {model._meta.db_table}, generate_series(1, %s - 1) AS d"
                           " WHERE site_id = %s AND day = %s", [today, days, site.id, today])
        for model in (JourneyWalkDaily, JourneyExitDaily, JourneyExitPathsDaily):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    started = time.perf_counter()
    built = journey_walks_update(site=site, groups=groups, full=True, today=today)
    print(f"session rollups: the full run built {built} days in {time.perf_counter() - started:.0f} s; "
          f"{JourneyWalkDaily.objects.filter(site=site).count():,} rows", flush=True)
    # The weeks (walk_weeks.py): the task sums WEEKS_A_RUN a run; here every one due, timed.
    started, weeks = time.perf_counter(), 0
    while built_now := journey_walk_weeks_build(site=site, key=journey_groups_key(groups=groups), today=today,
                                                oldest=today - dt.timedelta(days=MAX_DAYS - 1)):
        weeks += built_now
    if weeks:
        took = time.perf_counter() - started
        print(f"session rollups: {weeks} weeks summed in {took:.0f} s, {took / weeks:.1f} s a week", flush=True)


def timed(fn, runs: int) -> tuple[float, float]:
    """(median, p95) in milliseconds, after one warm-up call (none for a single run: the slow reads at 90 days)."""
    if runs > 1:
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]


def report(label: str, median: float, p95: float, *, budget: bool = False) -> None:
    verdict = f"  ({'within' if median < BUDGET_MS else 'OVER'} {BUDGET_MS} ms)" if budget else ""
    print(f"{label:<58} median {median:9.1f} ms  p95 {p95:9.1f} ms{verdict}", flush=True)


def vacuumed() -> None:
    """Every rollup table vacuumed and analyzed, as autovacuum does after the rows this bench has just rewritten
    (their dead rows and missing statistics would slow the page's reads)."""
    from django.apps import apps

    with connection.cursor() as cursor:
        for model in apps.get_app_config("campaigns").get_models():
            rollup = model.__name__.endswith(("Daily", "Weekly", "Day", "Week")) and model.__name__ not in (
                "JourneyPageDaily", "JourneyTransitionDaily")  # the counters: not rewritten, and tens of GB
            if model.__name__.startswith("Journey") and rollup:
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")


# The site's campaigns, as a shop runs them: URL targeting of every kind the map matches its intervention points
# against, conditions on the visitor, and two with a holdout (the map's journey effects), both more than a page
# counts itself (journey_effect.LIVE_ASSIGNMENTS): their counts are the worker's.
CAMPAIGN_TARGETING = {
    "Product slide-in": {"attr": "path", "op": "starts_with", "value": "/product/"},
    "Cart recovery": {"attr": "path", "op": "equals", "value": "/cart/"},
    "Checkout survey": {"attr": "path", "op": "contains", "value": "checkout"},
    "Blog lead magnet": {"attr": "path", "op": "regex", "value": "^/blog/topic-[0-3]/"},
    "Engaged readers": {"all": [{"attr": "path", "op": "starts_with", "value": "/blog/"},
                                {"attr": "pageviews_total", "op": "gte", "value": 3}]},
    "Mobile categories": {"all": [{"attr": "path", "op": "starts_with", "value": "/category/"},
                                  {"attr": "device", "op": "equals", "value": "mobile"}]},
    "Not on the home page": {"not": {"attr": "path", "op": "equals", "value": "/"}},
    "Sitewide bar": None,
}
HOLDOUT_CAMPAIGNS = {"Free shipping nudge (holdout)": 850_000, "Search helper (holdout)": 1_500}


def campaigns_seed(*, site) -> None:
    """The site's campaigns (CAMPAIGN_TARGETING, HOLDOUT_CAMPAIGNS) unless seeded already, the holdout ones with
    their assignments (visitors sampled from the stage rows, 10 % held out, 3 % converted), and the worker's count
    of the big one's journey effect, timed."""
    from campaigns import services
    from campaigns.models import Assignment, Campaign, JourneyVisitorStage
    from campaigns.results.journey_effect import journey_effect_count

    if Campaign.objects.filter(site=site).exists():
        return
    variants = [{"name": "A", "weight": 100, "content": {"headline": "Hello"}}]
    common = {"site": site, "message_type": "popup", "status": Campaign.Status.ACTIVE, "variants": variants,
              "triggers": [{"type": "page_load", "delay": 0}]}
    for name, targeting in CAMPAIGN_TARGETING.items():
        services.campaign_create(name=name, targeting=targeting, **common)
    for name, assignments in HOLDOUT_CAMPAIGNS.items():
        campaign = services.campaign_create(name=name, control_share=0.1, **common)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f"""INSERT INTO {Assignment._meta.db_table} (site_id, campaign_id, variant_id, visitor_id,
                    first_exposed_at, revenue, device, source, "returning", converted_on)
                SELECT %s, %s, CASE WHEN random() < 0.1 THEN NULL ELSE %s END, r.visitor_id, r.first_at, 0, r.device,
                    r.source, r."returning", CASE WHEN random() < 0.03 THEN r.first_at::date END
                FROM {JourneyVisitorStage._meta.db_table} AS r TABLESAMPLE SYSTEM (5)
                WHERE r.site_id = %s AND r.stage = 'consideration' LIMIT %s ON CONFLICT DO NOTHING""",
                           [site.id, campaign.id, campaign.variants.first().id, site.id, assignments])
            cursor.execute(f"ANALYZE {Assignment._meta.db_table}")
        count = Assignment.objects.filter(campaign_id=campaign.id).count()
        print(f"campaign {name!r}: {count:,} assignments inserted ({time.perf_counter() - started:.0f} s)", flush=True)
        started = time.perf_counter()
        journey_effect_count(campaign=campaign)
        print(f"  its journey effect counted by the worker: {time.perf_counter() - started:.1f} s", flush=True)


def bench(*, owner, site, today, days: int, runs: int) -> None:
    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse

    from campaigns.journeys.flow import entry_exit_tables, flow_from_counts
    from campaigns.journeys.interventions import intervention_points_get
    from campaigns.journeys.paths import labeller
    from campaigns.journeys.rollups import journey_label_counts_rolled
    from campaigns.journeys.sankey import sankey_svg
    from campaigns.journeys.selectors import (
        JourneyFilter,
        journey_funnel_get,
        journey_label_counts_get,
    )
    from campaigns.journeys.services import journey_setup_get

    vacuumed()
    client = Client()
    client.force_login(owner)
    url = reverse("admin:campaigns_site_journeys", args=[site.id])
    groups, _ = journey_setup_get(site=site)
    goal = labeller(groups=groups)("/thank-you/")
    cache.clear()  # the filter choices: the first call reads them (timed apart), the timed ones find them cached
    started = time.perf_counter()
    assert client.get(url).status_code == 200
    print(f"journey page, first call (filter choices read and cached): {(time.perf_counter() - started) * 1000:.0f} ms")
    # What is loaded by now frozen, as a web worker does once it has loaded the app (retarget/gunicorn.conf.py).
    gc.collect()
    gc.freeze()
    for span in (days, 7):
        since = today - dt.timedelta(days=span - 1)
        query = {"since": since.isoformat(), "until": today.isoformat()}
        assert client.get(url, query).status_code == 200
        report(f"journey page, {span} days (entry pages, 5 steps, funnel, intervention points)",
               *timed(lambda query=query: client.get(url, query), runs), budget=True)
        back = {**query, "goal": goal}
        assert client.get(url, back).status_code == 200
        report(f"journey page, {span} days, back from {goal}", *timed(lambda back=back: client.get(url, back), runs),
               budget=True)
        where = JourneyFilter(start=since, end=today)
        report(f"  journey_label_counts_get, {span} days", *timed(
            lambda where=where: journey_label_counts_get(site=site, where=where, groups=groups, steps=5), runs))
        counts = journey_label_counts_get(site=site, where=where, groups=groups, steps=5)
        print(f"    ({len(counts.pages):,} page sums, {len(counts.moves):,} move sums by label)")
        _counts, status = journey_label_counts_rolled(site=site, where=where, groups=groups, steps=5)
        print(f"    ({status.rolled} of {status.days} days read from rollups, as of {status.as_of:%H:%M:%S})")
        started = time.perf_counter()
        counted, _status = journey_label_counts_rolled(site=site, where=where, groups=groups, steps=5,
                                                       use_rollups=False)
        print(f"    the same from the counters by path, once: {(time.perf_counter() - started) * 1000:.0f} ms "
              f"({'equal' if counted == counts else 'NOT EQUAL'} to the read from rollups)", flush=True)
        report("  flow_from_counts + entry_exit_tables", *timed(lambda c=counts: (
            flow_from_counts(pages=c.pages, transitions=c.moves),
            entry_exit_tables(pages=c.pages, transitions=c.out)), runs))
        flow = flow_from_counts(pages=counts.pages, transitions=counts.moves)
        report("  sankey_svg", *timed(lambda flow=flow: sankey_svg(flow=flow), runs))
        report(f"  journey_funnel_get, {span} days", *timed(
            lambda where=where: journey_funnel_get(site=site, where=where), runs))
        report(f"  intervention_points_get, {span} days", *timed(
            lambda where=where: intervention_points_get(site=site, where=where, groups=groups), runs))


def sessions_bench(*, site, today, days: int, runs: int, exact_runs: int) -> None:
    """The filter choices' first read, the funnel, and the flows from session rows (back from a goal, from a chosen
    page): exact (the session rows), then from the session rollups, built here for every day first; and the
    intervention points from the exit rollups built with them."""
    from campaigns.journeys.choices import PATHS_DAYS, PATHS_KEPT, journey_segments_rolled
    from campaigns.journeys.flow import flow_from_sessions
    from campaigns.journeys.funnel_rollups import journey_funnel_rolled
    from campaigns.journeys.interventions import intervention_points_get
    from campaigns.journeys.paths import labeller
    from campaigns.journeys.selectors import (
        JourneyFilter,
        journey_funnel_get,
        journey_label_sessions_get,
        journey_paths_get,
        journey_segments_get,
    )
    from campaigns.journeys.services import journey_setup_get
    from campaigns.journeys.session_rollups import journey_walks_get
    from campaigns.journeys.walks import flow_from_walks

    groups, _ = journey_setup_get(site=site)
    label = labeller(groups=groups)
    goal, start = label("/thank-you/"), label("/cart/")
    report("filter choices, first read: journey_segments_get", *timed(lambda: journey_segments_get(site=site), runs))
    report("filter choices, first read: journey_paths_get(limit=200)",
           *timed(lambda: journey_paths_get(site=site, limit=200), runs))
    # What the worker reads instead after a rollup refresh (the page then reads one cache key).
    report("filter choices, worker: journey_segments_rolled",
           *timed(lambda: journey_segments_rolled(site_id=site.id), runs))
    since = today - dt.timedelta(days=PATHS_DAYS - 1)
    report(f"filter choices, worker: journey_paths_get(limit={PATHS_KEPT}, last {PATHS_DAYS} days)",
           *timed(lambda: journey_paths_get(site=site, limit=PATHS_KEPT, since=since), runs))
    spans = [(span, JourneyFilter(start=today - dt.timedelta(days=span - 1), end=today)) for span in (days, 7)]
    for span, where in spans:
        report(f"journey_funnel_get (daily rollups), {span} days", *timed(
            lambda where=where: journey_funnel_get(site=site, where=where), runs), budget=True)
    # The same from the stage rows (what a day not built yet costs): once, and at 7 days only (minutes at 90).
    where = spans[-1][1]
    started = time.perf_counter()
    exact, _status = journey_funnel_rolled(site=site, where=where, use_rollups=False)
    rolled = journey_funnel_get(site=site, where=where)
    print(f"  the funnel from the stage rows, 7 days, once: {(time.perf_counter() - started) * 1000:.0f} ms "
          f"({'equal' if exact == rolled else 'NOT EQUAL'} to the read from rollups)", flush=True)
    for span, where in spans:
        sessions = journey_label_sessions_get(site=site, where=where, groups=groups)
        print(f"{span} days: {sum(row.sessions for row in sessions):,} sessions, {len(sessions):,} label sequences")
        for anchor in ({"goal": goal}, {"start": start}) if exact_runs else ():
            report(f"  exact: journey_label_sessions_get + flow {anchor}, {span} days", *timed(
                lambda where=where, anchor=anchor: flow_from_sessions(
                    sessions=journey_label_sessions_get(site=site, where=where, groups=groups), **anchor),
                exact_runs), budget=True)
    for span, where in spans:
        for anchor in ({"goal": goal}, {"start": start}):
            name, backward = anchor.get("goal") or anchor.get("start"), "goal" in anchor
            report(f"  rollups: journey_walks_get + flow_from_walks {anchor}, {span} days", *timed(
                lambda where=where, name=name, backward=backward: flow_from_walks(
                    steps=journey_walks_get(site=site, where=where, groups=groups, anchor=name, backward=backward),
                    backward=backward), runs), budget=True)
        exact = flow_from_sessions(sessions=journey_label_sessions_get(site=site, where=where, groups=groups),
                                   goal=goal)
        rolled = flow_from_walks(steps=journey_walks_get(site=site, where=where, groups=groups, anchor=goal,
                                                         backward=True), backward=True)
        print(f"  {span} days, back from {goal}: the rollups' flow equals the exact one: {exact == rolled}")
    # The exact intervention points read every session row of the period (minutes at 90 days): rollups only.
    for span, where in spans:
        report(f"  rollups: intervention_points_get, {span} days", *timed(
            lambda where=where: intervention_points_get(site=site, where=where, groups=groups), runs), budget=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--paths", type=int, default=1000)
    parser.add_argument("--session-days", type=int, default=7)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--exact-runs", type=int, default=None,
                        help="runs of the exact flows from the session rows (minutes each at 90 days; 0: none, "
                             "the rollups are still compared with one); by default --runs")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database and reuse it next time")
    parser.add_argument("--rebuild", action="store_true",
                        help="rebuild every day's rollups, as after a group edit (they are built once after seeding)")
    parser.add_argument("--seed-only", action="store_true", help="seed (with --keep) and time nothing")
    parser.add_argument("--no-page", action="store_true",
                        help="time the funnel, the session flows and the filter choices only (not the page)")
    args = parser.parse_args()
    if args.exact_runs is None:
        args.exact_runs = args.runs
    if connection.vendor != "postgresql":
        print("journeys bench: needs PostgreSQL (DATABASE_URL)")
        return
    setup_test_environment()
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get(
        "JOURNEYS_BENCH_DB", "test_retarget_journeys_bench")
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.keep, serialize=False)
    try:
        with open("/proc/loadavg") as load:
            print(f"load average before: {load.read().split()[:3]}")
        seeded = seeded_get() if args.keep else None
        if seeded is None:
            owner, site, today = seed(days=args.days, paths=args.paths, session_days=args.session_days)
        else:
            owner, site, today = seeded
            print(f"reusing the seeded database (counters up to {today})", flush=True)
        if args.seed_only:
            return
        campaigns_seed(site=site)
        rollups_build(site=site, today=today, rebuild=args.rebuild)
        session_rollups_build(site=site, today=today, days=args.session_days)
        if not args.no_page:
            bench(owner=owner, site=site, today=today, days=args.days, runs=args.runs)
        sessions_bench(site=site, today=today, days=args.session_days, runs=args.runs, exact_runs=args.exact_runs)
        with open("/proc/loadavg") as load:
            print(f"load average after: {load.read().split()[:3]}")
    finally:
        if args.keep:
            connection.close()
            settings.DATABASES["default"]["NAME"] = old_name
        else:
            connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
