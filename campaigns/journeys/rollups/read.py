"""The map's read of the journey counts by label: the days whose rollups are current from them, the others from the
counters by path (the package's docstring says how)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction

from campaigns.journeys.flow import LabelCounts, PageCount, TransitionCount
from campaigns.journeys.label_sql import SHORT_READ, WORK_MEM, labels_table, rollup_where, temp_table, where_sql
from campaigns.journeys.paths import Group
from campaigns.journeys.rollups.build import LABEL_MOVES, LABEL_PAGES, PAGES, TRANSITIONS, groups_hash
from campaigns.journeys.rollups.weeks import LABEL_MOVES_WEEKLY, LABEL_PAGES_WEEKLY, weeks_readable
from campaigns.journeys.walk_weeks import week_days
from campaigns.models import JourneyRollupDay, Site


@dataclass(frozen=True)
class RollupStatus:
    """How the map's counts were read: `rolled` of the filter's `days` from rollups, as of `as_of` (the oldest
    build among those with page views counted since; the latest build when none has), the others from the
    counters; `regrouping`: days read from the counters because their rollups were built with other groups."""

    days: int
    rolled: int
    as_of: dt.datetime | None
    regrouping: int


def _rollup_days(*, site: Site, where, groups: Sequence[Group]
                 ) -> tuple[dict[dt.date, dt.datetime], list[dt.date], RollupStatus]:
    """(days read from rollups with their build times, days read from the counters, status)."""
    current = groups_hash(groups)
    states = JourneyRollupDay.objects.filter(site=site, day__gte=where.start, day__lte=where.end).values_list(
        "day", "groups_hash", "built_at", "stale")
    rolled, builds, changed, regrouping = {}, [], [], 0
    for day, built_with, built_at, stale in states:
        if built_with == current and built_at is not None:
            rolled[day] = built_at
            builds.append(built_at)
            if stale:
                changed.append(built_at)
        elif built_with:
            regrouping += 1
    days = (where.end - where.start).days + 1
    counted = [where.start + dt.timedelta(days=n) for n in range(max(days, 0))]
    as_of = min(changed) if changed else max(builds, default=None)
    return rolled, [day for day in counted if day not in rolled], RollupStatus(
        days=max(days, 0), rolled=len(rolled), as_of=as_of, regrouping=regrouping)


def journey_label_counts_rolled(
    *, site: Site, where, groups: Sequence[Group], steps: int, use_rollups: bool = True, moves: bool = True
) -> tuple[LabelCounts, RollupStatus]:
    """journey_label_counts_get on PostgreSQL: the days whose rollups are current read from them, the others from
    the counters by path (summed into temporary tables and labelled), both summed together in one query a part.
    The same answer as reading every day from the counters, which `use_rollups=False` does (for comparison).
    `moves=False` leaves the moves between labels out (empty): a flow from a page or back from a goal is drawn from
    the session rollups, and the tables read only pages and the moves out."""
    built, counted, status = _rollup_days(site=site, where=where, groups=groups)
    if not use_rollups:
        built, counted = {}, sorted([*built, *counted])
    # Whole weeks summed after their days' builds are read from their week rows (weeks.py).
    weeks = weeks_readable(site_id=site.id, rolled=built, groups_hash=groups_hash(groups)) if built else []
    covered = {day for week in weeks for day in week_days(week)}
    rolled = sorted(day for day in built if day not in covered)
    if not rolled and not weeks and not counted:  # no day between the filter's bounds
        return LabelCounts(pages=(), moves=(), out=()), status
    pages_parts, moves_parts, out_parts, params = [], [], [], {"pages": [], "moves": [], "out": []}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(WORK_MEM)
        if counted:
            filtered, counted_params = where_sql(site=site, where=where, days=counted if rolled else None)
            temp_table(cursor, "journey_pages", f"""ON COMMIT DROP AS
                SELECT r.step, r.path, sum(r.pageviews) AS pageviews, sum(r.entries) AS entries
                FROM {PAGES} AS r WHERE {filtered} GROUP BY r.step, r.path""", counted_params)
            temp_table(cursor, "journey_moves", f"""ON COMMIT DROP AS
                SELECT r.step, r.from_path, r.path, sum(r.count) AS count
                FROM {TRANSITIONS} AS r WHERE {filtered} GROUP BY r.step, r.from_path, r.path""", counted_params)
            labels_table(cursor, groups=groups, paths_sql="SELECT path FROM journey_pages UNION "
                         "SELECT from_path FROM journey_moves UNION SELECT path FROM journey_moves")
            pages_parts.append("""SELECT p.step, coalesce(l.label, p.path) AS name, p.pageviews, p.entries
                FROM journey_pages AS p LEFT JOIN journey_labels AS l ON l.path = p.path""")
            moves_parts.append("""SELECT m.step, coalesce(f.label, m.from_path) AS source,
                    coalesce(t.label, m.path) AS target, m.count
                FROM journey_moves AS m LEFT JOIN journey_labels AS f ON f.path = m.from_path
                LEFT JOIN journey_labels AS t ON t.path = m.path WHERE m.step BETWEEN 2 AND %s""")
            params["moves"].append(steps + 1)
            out_parts.append("""SELECT coalesce(f.label, m.from_path) AS source, m.count
                FROM journey_moves AS m LEFT JOIN journey_labels AS f ON f.path = m.from_path""")
        for pages_table, moves_table, column, which in (
                (LABEL_PAGES, LABEL_MOVES, "day", rolled), (LABEL_PAGES_WEEKLY, LABEL_MOVES_WEEKLY, "week", weeks)):
            if not which:
                continue
            filtered, rolled_params = rollup_where(site=site, where=where, days=which, column=column)
            pages_parts.append(f"""SELECT r.step, r.label, r.pageviews, r.entries FROM {pages_table} AS r
                WHERE {filtered} AND (r.pageviews > 0 OR r.entries > 0)""")
            params["pages"] += rolled_params
            moves_parts.append(f"""SELECT r.step, r.from_label, r.label, r.count FROM {moves_table} AS r
                WHERE {filtered} AND r.step BETWEEN 2 AND %s""")
            params["moves"] += [*rolled_params, steps + 1]
            out_parts.append(f"SELECT r.label, r.moves_out FROM {pages_table} AS r WHERE {filtered} "
                             "AND r.moves_out > 0")
            params["out"] += rolled_params
        cursor.execute(SHORT_READ)  # after the sums by path, which may well use workers
        cursor.execute(f"""SELECT step, name, sum(pageviews), sum(entries)
            FROM ({" UNION ALL ".join(pages_parts)}) AS p (step, name, pageviews, entries)
            GROUP BY step, name ORDER BY step, name""", params["pages"])
        pages = tuple(PageCount(step=step, path=name, pageviews=int(views), entries=int(entries))
                      for step, name, views, entries in cursor.fetchall())
        label_moves = ()
        if moves:
            cursor.execute(f"""SELECT step, source, target, sum(count)
                FROM ({" UNION ALL ".join(moves_parts)}) AS m (step, source, target, count)
                GROUP BY step, source, target ORDER BY step, source, target""", params["moves"])
            label_moves = tuple(TransitionCount(step=step, from_path=source, path=target, count=int(count))
                                for step, source, target, count in cursor.fetchall())
        cursor.execute(f"""SELECT source, sum(count) FROM ({" UNION ALL ".join(out_parts)}) AS o (source, count)
            GROUP BY source ORDER BY source""", params["out"])
        out = tuple(TransitionCount(step=0, from_path=source, path="", count=int(count))
                    for source, count in cursor.fetchall())
    return LabelCounts(pages=pages, moves=label_moves, out=out), status
