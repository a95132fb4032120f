"""Weekly label rollups: a whole week's (Monday to Sunday) daily rollups by label summed into JourneyLabelWeekly and
JourneyLabelMoveWeekly, so that a long period reads a row set a week for its whole weeks (90 days: 13 instead of 90
days of rows).

A week is summed once all seven of its days are built with the site's groups and none waits for a rebuild, and
again after any of them is rebuilt; it is read in place of its days while its sum was built with the site's groups
now, after the last build of each of its days (`weeks_readable`). `journey_rollup_weeks_build` is run by the
rollups' refresh after the days (build.py), a few weeks a run, newest first; each in one transaction holding its
days' rows, so that a day being rebuilt is waited for.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping

from django.db import connection, transaction
from django.utils import timezone

from campaigns.journeys.walk_weeks import monday, week_days
from campaigns.models import (
    JourneyLabelDaily,
    JourneyLabelMoveDaily,
    JourneyLabelMoveWeekly,
    JourneyLabelWeekly,
    JourneyRollupDay,
    JourneyRollupWeek,
)

# Summing a week of a busy site's rollups takes seconds: a run sums a few, the next runs the rest.
WEEKS_A_RUN = 4
LABEL_PAGES_WEEKLY = JourneyLabelWeekly._meta.db_table
LABEL_MOVES_WEEKLY = JourneyLabelMoveWeekly._meta.db_table
_SEGMENT = 'device, source, "returning"'
_BUILD_PAGES = f"""
INSERT INTO {LABEL_PAGES_WEEKLY} (site_id, week, step, label, {_SEGMENT}, pageviews, entries, moves_out)
SELECT %(site)s, %(week)s, step, label, {_SEGMENT}, sum(pageviews), sum(entries), sum(moves_out)
FROM {JourneyLabelDaily._meta.db_table} WHERE site_id = %(site)s AND day >= %(week)s AND day < %(week)s + 7
GROUP BY step, label, {_SEGMENT} ORDER BY {_SEGMENT}, step, label
"""
_BUILD_MOVES = f"""
INSERT INTO {LABEL_MOVES_WEEKLY} (site_id, week, step, from_label, label, {_SEGMENT}, count)
SELECT %(site)s, %(week)s, step, from_label, label, {_SEGMENT}, sum(count)
FROM {JourneyLabelMoveDaily._meta.db_table} WHERE site_id = %(site)s AND day >= %(week)s AND day < %(week)s + 7
GROUP BY step, from_label, label, {_SEGMENT} ORDER BY {_SEGMENT}, step, from_label, label
"""


def weeks_readable(*, site_id: int, rolled: Mapping[dt.date, dt.datetime], groups_hash: str) -> list[dt.date]:
    """The Mondays of the weeks all of whose days are in `rolled` (the days read from rollups built with
    `groups_hash`, with their build times) and whose sum was built with it after them."""
    candidates = sorted({monday(day) for day in rolled})
    candidates = [week for week in candidates if all(day in rolled for day in week_days(week))]
    if not candidates:
        return []
    weeks = JourneyRollupWeek.objects.filter(site_id=site_id, week__in=candidates, groups_hash=groups_hash)
    return sorted(row.week for row in weeks if all(rolled[day] <= row.built_at for day in week_days(row.week)))


def journey_rollup_weeks_build(*, site_id: int | None = None, today: dt.date | None = None) -> int:
    """Sum the weeks due (the module's docstring says which), newest first, at most WEEKS_A_RUN; how many were."""
    today = today or timezone.now().date()
    days = JourneyRollupDay.objects.filter(built_at__isnull=False, day__lt=monday(today))
    if site_id is not None:
        days = days.filter(site_id=site_id)
    states: dict[tuple[int, dt.date], dict[dt.date, tuple]] = defaultdict(dict)
    for site, day, groups_hash, built_at, stale in days.values_list("site_id", "day", "groups_hash", "built_at",
                                                                     "stale"):
        states[site, monday(day)][day] = (groups_hash, built_at, stale)
    weeks = {(row.site_id, row.week): row for row in JourneyRollupWeek.objects.filter(
        site_id__in={site for site, _week in states}, week__in={week for _site, week in states})}
    due = []
    for (site, week), found in states.items():
        hashes = {groups_hash for groups_hash, _at, _stale in found.values()}
        if len(found) < 7 or len(hashes) > 1 or any(stale for _hash, _at, stale in found.values()):
            continue
        summed = weeks.get((site, week))
        if summed is None or summed.groups_hash not in hashes or any(
                at > summed.built_at for _hash, at, _stale in found.values()):
            due.append((week, site, hashes.pop()))
    built = 0
    for week, site, groups_hash in sorted(due, reverse=True)[:WEEKS_A_RUN]:
        with transaction.atomic(), connection.cursor() as cursor:
            held = list(JourneyRollupDay.objects.select_for_update().filter(site_id=site, day__in=week_days(week))
                        .values_list("groups_hash", "stale"))
            if len(held) < 7 or any(found != groups_hash or stale for found, stale in held):
                continue
            built_at = timezone.now()
            for table in (LABEL_PAGES_WEEKLY, LABEL_MOVES_WEEKLY):
                cursor.execute(f"DELETE FROM {table} WHERE site_id = %s AND week = %s", [site, week])
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute(_BUILD_PAGES, {"site": site, "week": week})
            cursor.execute(_BUILD_MOVES, {"site": site, "week": week})
            JourneyRollupWeek.objects.update_or_create(site_id=site, week=week,
                                                       defaults={"groups_hash": groups_hash, "built_at": built_at})
        built += 1
    return built
