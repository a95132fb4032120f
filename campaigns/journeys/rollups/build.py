"""Which days of the journey rollups are due, and their rebuild (the package's docstring says how)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Sequence

from django.db import connection, transaction

from campaigns.journeys.choices import journey_choices_refresh
from campaigns.journeys.funnel_rollups import funnel_day_build, funnel_days_backfill, funnel_days_mark
from campaigns.journeys.label_sql import WORK_MEM, labels_table, temp_table
from campaigns.journeys.paths import Group, groups_sorted
from campaigns.journeys.rollups.weeks import journey_rollup_weeks_build
from campaigns.models import (
    Event,
    JourneyLabelDaily,
    JourneyLabelMoveDaily,
    JourneyPageDaily,
    JourneyRollupCursor,
    JourneyRollupDay,
    JourneyTransitionDaily,
    PageGroup,
    Site,
    TallyCursor,
)
from campaigns.tally.lock import LOCK_NAMESPACE
from campaigns.tally.zones import known_zones

logger = logging.getLogger(__name__)

PAGES = JourneyPageDaily._meta.db_table
TRANSITIONS = JourneyTransitionDaily._meta.db_table
LABEL_PAGES = JourneyLabelDaily._meta.db_table
LABEL_MOVES = JourneyLabelMoveDaily._meta.db_table
DAYS = JourneyRollupDay._meta.db_table
ROLLUP_CURSOR = JourneyRollupCursor._meta.db_table
# One marking at a time (the second key of the tally's advisory locks, see campaigns/tally/lock.py).
LOCK_ROLLUP_MARK = 2
# A run's time for rebuilding: beat starts one a minute, and a day of a busy site takes seconds (journeys_bench.py
# prints it).
REFRESH_SECONDS = 50.0
# A day with new page views (today, mostly) is rebuilt at most this often: each rebuild costs seconds and leaves
# the day's old rows dead until vacuumed. The map says how old its counts are.
REBUILD_SECONDS = 300


def groups_hash(groups: Sequence[Group]) -> str:
    """What the labels depend on: the groups' names and URL rules, in the order they are tried."""
    applied = [[group.name, group.rule] for group in groups_sorted(groups)]
    return hashlib.sha256(json.dumps(applied, sort_keys=True, default=str).encode()).hexdigest()


def _groups_of(site_ids) -> dict[int, list[Group]]:
    found: dict[int, list[Group]] = {site_id: [] for site_id in site_ids}
    for row in PageGroup.objects.filter(site_id__in=found).order_by("order", "id"):
        found[row.site_id].append(Group(name=row.name, rule=row.url_rule, stage=row.stage, order=row.order))
    return found


# ---------------------------------------------------------------- which days are due

# Every (site, day) of the page views counted between the two cursors, marked stale (inserted when new).
_MARK = f"""
INSERT INTO {DAYS} AS d (site_id, day, groups_hash, stale)
SELECT DISTINCT e.site_id, (e.ts AT TIME ZONE coalesce(z.name, 'UTC'))::date, '', true
FROM {Event._meta.db_table} AS e JOIN {Site._meta.db_table} AS s ON s.id = e.site_id
LEFT JOIN unnest(%(zones)s::text[]) AS z(name) ON z.name = s.time_zone
WHERE (e.tx, e.id) > (%(from_tx)s, %(from_id)s) AND (e.tx, e.id) <= (%(to_tx)s, %(to_id)s) AND e.type = 'pageview'
ON CONFLICT (site_id, day) DO UPDATE SET stale = true WHERE NOT d.stale
"""
# The first run: every day already counted (read after the tally's cursor, so it holds at least what that counted).
_BACKFILL = f"""
INSERT INTO {DAYS} (site_id, day, groups_hash, stale) SELECT DISTINCT site_id, day, '', true FROM {PAGES}
ON CONFLICT (site_id, day) DO NOTHING
"""
_REGROUPED = f"""
UPDATE {DAYS} AS d SET stale = true, built_at = NULL FROM unnest(%s::bigint[], %s::text[]) AS h(site_id, groups_hash)
WHERE d.site_id = h.site_id AND d.groups_hash <> h.groups_hash AND d.built_at IS NOT NULL
"""


def journey_rollups_mark() -> int:
    """Mark stale the days with page views counted since the last marking (and the stage funnel's days they may
    have changed, funnel_rollups.py), and the days of sites whose groups changed since they were built; returns how
    many rows changed (0 when another worker is marking)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, LOCK_ROLLUP_MARK])
        if not cursor.fetchone()[0]:
            return 0
        tally = TallyCursor.objects.filter(id=1).values_list("last_tx", "last_id").first() or (0, 0)
        mine = JourneyRollupCursor.objects.filter(id=1).first()
        if mine is None:
            cursor.execute(_BACKFILL)
            marked = cursor.rowcount + funnel_days_backfill(cursor)
            JourneyRollupCursor.objects.create(id=1, last_tx=tally[0], last_id=tally[1])
        else:
            marked = 0
            if (mine.last_tx, mine.last_id) < tally:
                cursor.execute(_MARK, {"zones": list(known_zones()), "from_tx": mine.last_tx,
                                       "from_id": mine.last_id, "to_tx": tally[0], "to_id": tally[1]})
                marked = cursor.rowcount + funnel_days_mark(
                    cursor, from_cursor=(mine.last_tx, mine.last_id), to_cursor=tally)
                JourneyRollupCursor.objects.filter(id=1).update(last_tx=tally[0], last_id=tally[1])
        hashes = {site_id: groups_hash(groups) for site_id, groups in _groups_of(
            JourneyRollupDay.objects.values_list("site_id", flat=True).distinct()).items()}
        cursor.execute(_REGROUPED, [list(hashes), list(hashes.values())])
        return marked + cursor.rowcount


# ---------------------------------------------------------------- a day's rebuild


# The day's moves by label for each full segment (what the two rollups are summed from).
_FINE_MOVES = f"""ON COMMIT DROP AS
SELECT r.step, coalesce(f.label, r.from_path) AS from_label, coalesce(t.label, r.path) AS label, r.device, r.source,
    r."returning", sum(r.count) AS count
FROM {TRANSITIONS} AS r LEFT JOIN journey_labels AS f ON f.path = r.from_path
LEFT JOIN journey_labels AS t ON t.path = r.path
WHERE r.site_id = %(site)s AND r.day = %(day)s GROUP BY 1, 2, 3, 4, 5, 6
"""
# Each rollup sums the day's rows for every combination of the segment's fields given or "any" (CUBE), ordered so
# that the rows a filter reads lie together.
_CUBE = 'CUBE (device, source, "returning")'
_BUILD_MOVES = f"""
INSERT INTO {LABEL_MOVES} (site_id, day, step, from_label, label, device, source, "returning", count)
SELECT %(site)s, %(day)s, step, from_label, label, device, source, "returning", sum(count) FROM journey_fine_moves
GROUP BY step, from_label, label, {_CUBE} ORDER BY device, source, "returning", step, from_label, label
"""
# The moves out of a label at a step are the moves of the next step from it.
_BUILD_PAGES = f"""
INSERT INTO {LABEL_PAGES} (site_id, day, step, label, device, source, "returning", pageviews, entries, moves_out)
SELECT %(site)s, %(day)s, step, label, device, source, "returning", sum(pageviews), sum(entries), sum(moves_out)
FROM (
    SELECT r.step, coalesce(l.label, r.path) AS label, r.device, r.source, r."returning",
        sum(r.pageviews) AS pageviews, sum(r.entries) AS entries, 0 AS moves_out
    FROM {PAGES} AS r LEFT JOIN journey_labels AS l ON l.path = r.path
    WHERE r.site_id = %(site)s AND r.day = %(day)s GROUP BY 1, 2, 3, 4, 5
    UNION ALL
    SELECT m.step - 1, m.from_label, m.device, m.source, m."returning", 0, 0, m.count FROM journey_fine_moves AS m
) AS fine GROUP BY step, label, {_CUBE} ORDER BY device, source, "returning", step, label
"""
# A stale day built less than `min_age` seconds ago waits (a regrouped day has no build time: it never waits).
_CLAIM = f"""SELECT id, site_id, day FROM {DAYS}
WHERE stale AND (built_at IS NULL OR built_at <= clock_timestamp() - make_interval(secs => %s)) {{only}}
ORDER BY day DESC, site_id LIMIT 1 FOR UPDATE SKIP LOCKED"""


def journey_rollup_build(*, site_id: int | None = None, min_age: float = REBUILD_SECONDS
                         ) -> tuple[int, dt.date] | None:
    """Claim the newest stale day (of one site, or of any) and rebuild it whole; (site id, day), or None when no
    day is left to claim."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(WORK_MEM)
        only, params = ("AND site_id = %s", [site_id]) if site_id is not None else ("", [])
        cursor.execute(_CLAIM.format(only=only), [min_age, *params])
        row = cursor.fetchone()
        if row is None:
            return None
        state_id, site_id, day = row
        groups = _groups_of([site_id])[site_id]
        labels_table(cursor, groups=groups, params=[site_id, day, site_id, day], paths_sql=f"""
            SELECT path FROM {PAGES} WHERE site_id = %s AND day = %s
            UNION SELECT from_path FROM {TRANSITIONS} WHERE site_id = %s AND day = %s""")
        built = {"site": site_id, "day": day}
        for table in (LABEL_MOVES, LABEL_PAGES):
            cursor.execute(f"DELETE FROM {table} WHERE site_id = %(site)s AND day = %(day)s", built)
        temp_table(cursor, "journey_fine_moves", _FINE_MOVES, built)
        cursor.execute(_BUILD_MOVES, built)
        cursor.execute(_BUILD_PAGES, built)
        # The time the rows are complete (not the transaction's start): a week's sum is read only when built after.
        cursor.execute(f"UPDATE {DAYS} SET groups_hash = %s, built_at = clock_timestamp(), stale = false "
                       "WHERE id = %s", [groups_hash(groups), state_id])
    return site_id, day


def journey_rollups_refresh(*, site_id: int | None = None, time_budget: float = REFRESH_SECONDS,
                            min_age: float = REBUILD_SECONDS) -> int:
    """Mark the days due, then rebuild them (label rollups and stage funnel days in turn) newest first until none is
    left or the time is up, then sum the label rollups' weeks due (weeks.py); returns how many days of label rollups
    were rebuilt (a day built less than `min_age` seconds ago waits for a later run; the funnel's days are logged);
    then the map's filter choices of each site rebuilt (campaigns/journeys/choices.py). Nothing on databases other
    than PostgreSQL (the map reads the counters there)."""
    if connection.vendor != "postgresql":
        return 0
    journey_rollups_mark()
    deadline = time.monotonic() + time_budget
    sites: set[int] = set()
    built = 0
    labels = funnel = True
    funnel_days = 0
    while time.monotonic() < deadline and (labels or funnel):
        # A day of each in turn, so that a long rebuild of one (after a group edit) does not starve the other.
        if labels and (labels := journey_rollup_build(site_id=site_id, min_age=min_age)):
            sites.add(labels[0])
            built += 1
        if funnel and time.monotonic() < deadline and (funnel := funnel_day_build(site_id=site_id, min_age=min_age)):
            funnel_days += 1
    if funnel_days:
        logger.info("journey_rollups_refresh: %s stage funnel days rebuilt", funnel_days)
    if time.monotonic() < deadline and (weeks := journey_rollup_weeks_build(site_id=site_id)):
        logger.info("journey_rollups_refresh: %s weeks summed", weeks)
    for rebuilt in sorted(sites):
        journey_choices_refresh(site_id=rebuilt)
    return built


