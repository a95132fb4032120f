"""Weekly walk and exit rollups: the day rows of the walks (session_rollups.py) of a whole week, Monday to Sunday,
summed into one row per anchor, direction and segment, so that a long period's flow from a page or back from a goal
reads a row a week for its whole weeks and a row a day for the rest (90 days: about 18 rows instead of 90); and the
day rows of its exits (exits.py), summed by segment, label, step and ordinal, with every path their days kept, for
the intervention points.

- `journey_walk_weeks_build` (a site): the past weeks of the last MAX_DAYS whose days are all built with the site's
  groups, and that have no week rows built after their days' last build, newest first, at most WEEKS_A_RUN a
  run; each summed in SQL from its day rows (a day without sessions has none and adds nothing), in one transaction
  that holds its days' locks (a day being rebuilt is waited for). Called by session_rollups.journey_walks_update
  after the days. PostgreSQL only (the map reads the day rows elsewhere).
- `weeks_readable`: the whole weeks of a period whose week rows may be read in place of their days: built with
  the groups asked, after every build of their days.
- `rolled_read`: what a read of a period takes from the walk and exit rollups: its whole weeks readable, and its
  other days built with the groups asked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import (
    JourneyExitDaily,
    JourneyExitPathsDaily,
    JourneyExitPathsWeekly,
    JourneyExitWeekly,
    JourneyWalkDaily,
    JourneyWalkDay,
    JourneyWalkWeek,
    JourneyWalkWeekly,
    Site,
)

# Summing a week of a busy site's day rows takes seconds: a run builds a few, the next ones the rest.
WEEKS_A_RUN = 4
DAILY = JourneyWalkDaily._meta.db_table
WEEKLY = JourneyWalkWeekly._meta.db_table

# Per anchor, direction and segment: the sessions and the steps summed over the week's day rows (the steps of
# all its rows exploded, summed by (column, label, next, end), aggregated back into one list).
_BUILD = f"""
INSERT INTO {WEEKLY} (site_id, week, anchor, backward, device, source, "returning", sessions, steps)
SELECT %(site)s, %(week)s, d.anchor, d.backward, d.device, d.source, d."returning", sum(d.sessions), (
    SELECT coalesce(jsonb_agg(jsonb_build_array(s.c, s.l, s.t, s.x, s.n) ORDER BY s.c, s.l, s.t, s.x), '[]')
    FROM (
        SELECT (e ->> 0)::int AS c, e ->> 1 AS l, e ->> 2 AS t, e ->> 3 AS x, sum((e ->> 4)::bigint) AS n
        FROM unnest(array_agg(d.steps)) AS r(steps) CROSS JOIN LATERAL jsonb_array_elements(r.steps) AS e
        GROUP BY 1, 2, 3, 4
    ) AS s
)
FROM {DAILY} AS d WHERE d.site_id = %(site)s AND d.day >= %(week)s AND d.day < %(week)s + 7
GROUP BY d.anchor, d.backward, d.device, d.source, d."returning"
"""
_EXITS_BUILD = f"""
INSERT INTO {JourneyExitWeekly._meta.db_table} (site_id, week, device, source, "returning", label, step, ordinal, exits)
SELECT %(site)s, %(week)s, d.device, d.source, d."returning", d.label, d.step, d.ordinal, sum(d.exits)
FROM {JourneyExitDaily._meta.db_table} AS d WHERE d.site_id = %(site)s AND d.day >= %(week)s AND d.day < %(week)s + 7
GROUP BY d.device, d.source, d."returning", d.label, d.step, d.ordinal
"""
# Every path kept on a day of the week, summed (a day's list is capped; the week's is their union).
_EXIT_PATHS_BUILD = f"""
INSERT INTO {JourneyExitPathsWeekly._meta.db_table} (site_id, week, device, source, "returning", label, step, paths)
SELECT %(site)s, %(week)s, d.device, d.source, d."returning", d.label, d.step, (
    SELECT coalesce(jsonb_object_agg(s.path, s.exits), '{{}}') FROM (
        SELECT e.key AS path, sum(e.value::bigint) AS exits
        FROM unnest(array_agg(d.paths)) AS r(paths) CROSS JOIN LATERAL jsonb_each_text(r.paths) AS e GROUP BY 1
    ) AS s
)
FROM {JourneyExitPathsDaily._meta.db_table} AS d
WHERE d.site_id = %(site)s AND d.day >= %(week)s AND d.day < %(week)s + 7
GROUP BY d.device, d.source, d."returning", d.label, d.step
"""


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_days(week: dt.date) -> list[dt.date]:
    return [week + dt.timedelta(days=n) for n in range(7)]


def _readable(*, week: JourneyWalkWeek | None, key: str, states: Mapping[dt.date, tuple[str, dt.datetime]]) -> bool:
    if week is None or week.groups_key != key:
        return False
    for day in week_days(week.week):
        state = states.get(day)
        if state is not None and (state[0] != key or state[1] > week.built_at):
            return False
    return True


def weeks_readable(*, site: Site, start: dt.date, end: dt.date, key: str,
                   states: Mapping[dt.date, tuple[str, dt.datetime]]) -> list[dt.date]:
    """The Mondays of the whole weeks in [start, end] whose week rows may be read in place of their days: built with
    `key`, after the last build of each of their days (`states`: each built day's groups key and build time)."""
    if connection.vendor != "postgresql":
        return []
    first = monday(start) if start.weekday() == 0 else monday(start) + dt.timedelta(days=7)
    mondays = []
    while first + dt.timedelta(days=6) <= end:
        mondays.append(first)
        first += dt.timedelta(days=7)
    if not mondays:
        return []
    weeks = {row.week: row for row in JourneyWalkWeek.objects.filter(site=site, week__in=mondays)}
    return [week for week in mondays if _readable(week=weeks.get(week), key=key, states=states)]


def rolled_read(*, site: Site, start: dt.date, end: dt.date, key: str) -> tuple[list[dt.date], list[dt.date]]:
    """(the days in [start, end] to read from their day rows: built with `key` and in no readable week; the Mondays
    of the weeks to read from their week rows, weeks_readable). The period's other days have no rollup to read."""
    states = {day: (groups_key, built_at) for day, groups_key, built_at in JourneyWalkDay.objects.filter(
        site=site, day__gte=start, day__lte=end).values_list("day", "groups_key", "built_at")}
    weeks = weeks_readable(site=site, start=start, end=end, key=key, states=states)
    covered = {day for week in weeks for day in week_days(week)}
    return sorted(day for day, (groups_key, _at) in states.items() if groups_key == key and day not in covered), weeks


def journey_walk_weeks_build(*, site: Site, key: str, today: dt.date, oldest: dt.date) -> int:
    """Build the weeks due (the module's docstring says which) between `oldest` and the Monday of `today`,
    newest first, at most WEEKS_A_RUN; how many were built."""
    if connection.vendor != "postgresql":
        return 0
    states = {day: (groups_key, built_at) for day, groups_key, built_at in JourneyWalkDay.objects.filter(
        site=site, day__gte=monday(oldest), day__lt=monday(today)).values_list("day", "groups_key", "built_at")}
    weeks = {row.week: row for row in JourneyWalkWeek.objects.filter(site=site, week__lt=monday(today))}
    due = [week for week in sorted({monday(day) for day in states}, reverse=True)
           if week >= oldest and all(states.get(day, (key,))[0] == key for day in week_days(week))
           and not _readable(week=weeks.get(week), key=key, states=states)]
    built = 0
    for week in due[:WEEKS_A_RUN]:
        with transaction.atomic():
            # Wait for a day of the week being rebuilt, and keep its rows as read until this commits.
            held = list(JourneyWalkDay.objects.select_for_update().filter(site=site, day__gte=week,
                                                                          day__lt=week + dt.timedelta(days=7))
                        .values_list("groups_key", flat=True))
            if any(groups_key != key for groups_key in held):
                continue
            built_at = timezone.now()
            for model in (JourneyWalkWeekly, JourneyExitWeekly, JourneyExitPathsWeekly):
                model.objects.filter(site=site, week=week).delete()
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '64MB'")
                for build in (_BUILD, _EXITS_BUILD, _EXIT_PATHS_BUILD):
                    cursor.execute(build, {"site": site.id, "week": week})
            JourneyWalkWeek.objects.update_or_create(site=site, week=week,
                                                     defaults={"groups_key": key, "built_at": built_at})
        built += 1
    return built
