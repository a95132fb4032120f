"""Session rollups: per site and day, the steps of the walks from each label (campaigns/journeys/walks.py), kept by a
worker, so that the map's flows from a chosen page and back from a goal read one row a day.

- `journey_walks_build` (site, day): reads the day's JourneySession rows grouped by segment and kept paths,
  labels them with the site's groups, and replaces the day's JourneyWalkDaily rows (one per anchor, direction and
  segment, with "any" (None) for each of device, source and new/returning, so that any filter reads one row a
  day), the day's exits for the intervention points (exits.journey_exits_build) and its JourneyWalkDay, in one
  transaction under that row's lock. It does nothing when the day was built
  with the same groups from the same session rows (their number and page views: the fold adds a page view to
  every session it touches, and moves a session's day only with its count), so running it twice is harmless.
- `journey_walks_update` (a site): builds the last RECENT_DAYS days, any day of the last MAX_DAYS built with
  other groups, and, with `full`, every day of the last MAX_DAYS whose rows changed (a late page view); then the
  weeks whose days are all built (walk_weeks.py).
- `journey_walks_get` (the map's read): the steps summed over the filter's days, from the rollups of the days built
  with the site's current groups (a whole week's from its week rows when they were built after its days,
  walk_weeks.py), and from the session rows (the exact read) for the other days; an audience
  (a set of visitors) always reads the session rows. A built day lags its session rows by at most the task's
  interval.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from itertools import product

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from campaigns.journeys.exits import day_runs, journey_exits_build, segment_filter
from campaigns.journeys.flow import SessionPaths, sessions_labelled
from campaigns.journeys.label_sql import WORK_MEM, kept_paths_sql, labels_table, rows_write, temp_table, union_sql
from campaigns.journeys.paths import Group, journey_groups_key
from campaigns.journeys.selectors import SESSIONS_TABLE, JourneyFilter, journey_label_sessions_get
from campaigns.journeys.walk_sums import walk_rows
from campaigns.journeys.walk_weeks import journey_walk_weeks_build, rolled_read, week_days
from campaigns.journeys.walks import WalkStep, walk_steps_by_anchor, walk_steps_summed
from campaigns.models import JourneySession, JourneyWalkDaily, JourneyWalkDay, JourneyWalkWeekly, Site
from campaigns.models.journeys import SESSION_PATHS
from campaigns.rules import zone

# The days the task rebuilds on every run when their session rows changed (the fold writes mostly today's).
RECENT_DAYS = 3
# How far back the task keeps rollups: the map reads the session rows beyond.
MAX_DAYS = 400
SEGMENT = ("device", "source", "returning")


def _day_sessions(*, site: Site, day: dt.date, groups: Sequence[Group]) -> dict[tuple, list[SessionPaths]]:
    """The day's sessions by segment, summed by the labels of their kept paths (flow.sessions_labelled); in SQL on
    PostgreSQL, as journey_label_sessions_get, so that a day's few thousand label sequences reach Python, not its
    sessions."""
    found: dict[tuple, list[SessionPaths]] = defaultdict(list)
    if connection.vendor != "postgresql":
        fields = JourneySession.PATH_FIELDS
        by_segment: dict[tuple, list[SessionPaths]] = defaultdict(list)
        for device, source, returning, *rest in (
                JourneySession.objects.filter(site=site, day=day).values_list(*SEGMENT, *fields, "steps")
                .annotate(sessions=Count("id")).order_by()):
            *paths, steps, sessions = rest
            kept = paths[:paths.index(None)] if None in paths else paths
            by_segment[device, source, returning].append(SessionPaths(paths=tuple(kept), steps=steps,
                                                                      sessions=sessions))
        for segment, rows in by_segment.items():
            found[segment] = sessions_labelled(sessions=rows, groups=groups)
        return found
    columns = JourneySession.PATH_FIELDS
    kept, positions = kept_paths_sql(columns)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(WORK_MEM)
        temp_table(cursor, "journey_day_sessions", f"""ON COMMIT DROP AS
            SELECT r.device, r.source, r."returning",
                {positions},
                r.steps > k.kept AS went_on, count(*) AS sessions
            FROM {SESSIONS_TABLE} AS r CROSS JOIN LATERAL (SELECT {kept} AS kept) AS k
            WHERE r.site_id = %s AND r.day = %s GROUP BY {", ".join(str(n) for n in range(1, len(columns) + 5))}""",
                    [site.id, day])
        labels_table(cursor, groups=groups, paths_sql=" UNION ".join(
            f"SELECT {name} FROM journey_day_sessions WHERE {name} IS NOT NULL" for name in columns))
        names = [f"coalesce(l{n}.label, s.{name})" for n, name in enumerate(columns)]
        joins = " ".join(f"LEFT JOIN journey_labels AS l{n} ON l{n}.path = s.{name}" for n, name in enumerate(columns))
        cursor.execute(f"""SELECT s.device, s.source, s."returning", {", ".join(names)}, s.went_on, sum(s.sessions)
            FROM journey_day_sessions AS s {joins} GROUP BY {", ".join(str(n) for n in range(1, len(columns) + 5))}""")
        for device, source, returning, *labels, went_on, count in cursor.fetchall():
            paths = tuple(labels[:labels.index(None)] if None in labels else labels)
            found[device, source, returning].append(
                SessionPaths(paths=paths, steps=len(paths) + went_on, sessions=int(count)))
    return found


def _signature(*, site: Site, day: dt.date) -> tuple[int, int]:
    found = JourneySession.objects.filter(site=site, day=day).aggregate(sessions=Count("id"), views=Sum("pageviews"))
    return found["sessions"], found["views"] or 0


def journey_walks_build(*, site: Site, day: dt.date, groups: Sequence[Group], force: bool = False) -> bool:
    """Rebuilds the day's walk rows when its session rows or the site's groups changed (or `force`); True when
    it did. One transaction, under the lock of the day's JourneyWalkDay."""
    key = journey_groups_key(groups=groups)
    with transaction.atomic():
        state = JourneyWalkDay.objects.select_for_update().filter(site=site, day=day).first()
        sessions, views = _signature(site=site, day=day)
        if state is None:
            if not sessions:  # nothing to keep: the read finds no session rows either
                return False
            JourneyWalkDay.objects.get_or_create(site=site, day=day,
                                                 defaults={"groups_key": "", "built_at": timezone.now()})
            state = JourneyWalkDay.objects.select_for_update().get(site=site, day=day)
        elif not force and (state.groups_key, state.sessions, state.pageviews) == (key, sessions, views):
            return False
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(WORK_MEM)
                # The exits' plan costs enough to be compiled, which takes longer than running it.
                cursor.execute("SET LOCAL jit = off")
        JourneyWalkDaily.objects.filter(site=site, day=day).delete()
        by_segment = _day_sessions(site=site, day=day, groups=groups)
        rows = walk_rows(by_segment=by_segment, columns=SESSION_PATHS)
        if rows is None:  # too many labels for walk_rows' keys
            _walks_summed_write(site=site, day=day, by_segment=by_segment)
        else:
            rows_write(model=JourneyWalkDaily, fields=("site_id", "day", "anchor", "backward", *SEGMENT, "sessions",
                                                       "steps"),
                       rows=((site.id, day, row.anchor, row.backward, *row.segment, row.sessions, row.steps)
                             for row in rows))
        journey_exits_build(site=site, day=day, groups=groups)
        state.groups_key, state.sessions, state.pageviews, state.built_at = key, sessions, views, timezone.now()
        state.save()
    return True


def _walks_summed_write(*, site: Site, day: dt.date, by_segment: dict[tuple, list[SessionPaths]]) -> None:
    """The rows of walk_rows, walked in Python (walks.walk_steps_by_anchor per segment, summed into its "any"
    segments)."""
    summed: dict[tuple, Counter] = defaultdict(Counter)
    reached: Counter = Counter()
    for segment, rows in by_segment.items():
        by_anchor = walk_steps_by_anchor(sessions=rows)
        anyway = [tuple(value if keep else None for value, keep in zip(segment, mask, strict=True))
                  for mask in product((True, False), repeat=len(SEGMENT))]
        for (anchor, backward), steps in by_anchor.items():
            walks = sum(step.sessions for step in steps if step.column == 0)
            for target in anyway:
                reached[anchor, backward, target] += walks
                counter = summed[anchor, backward, target]
                for step in steps:
                    counter[step.column, step.label, step.to, step.end] += step.sessions
    JourneyWalkDaily.objects.bulk_create([
        JourneyWalkDaily(site=site, day=day, anchor=anchor, backward=backward, device=device, source=source,
                         returning=returning, sessions=reached[anchor, backward, (device, source, returning)],
                         steps=[[*step_key, count] for step_key, count in sorted(counter.items())])
        for (anchor, backward, (device, source, returning)), counter in summed.items()
    ], batch_size=2000)


def journey_walks_update(*, site: Site, groups: Sequence[Group], full: bool = False,
                         today: dt.date | None = None) -> int:
    """The days of the site to build (see the module's docstring), built one transaction each; how many were."""
    today = today or timezone.localdate(timezone=zone(site.time_zone))
    oldest = today - dt.timedelta(days=MAX_DAYS - 1)
    key = journey_groups_key(groups=groups)
    days = {today - dt.timedelta(days=back) for back in range(RECENT_DAYS)}
    days |= set(JourneyWalkDay.objects.filter(site=site, day__gte=oldest).exclude(groups_key=key)
                .values_list("day", flat=True))
    if full:
        days |= set(JourneySession.objects.filter(site=site, day__gte=oldest, day__lte=today)
                    .values_list("day", flat=True).distinct())
    built = sum(journey_walks_build(site=site, day=day, groups=groups) for day in sorted(days))
    journey_walk_weeks_build(site=site, key=key, today=today, oldest=oldest)
    return built


def _stored_summed(parts: Sequence, columns: int | None) -> list[WalkStep]:
    """The steps of the rollup rows of every part (querysets of day or week rows) summed by column, label and what
    came next, those of the first `columns` columns only when given: in SQL on PostgreSQL, in one query, so that
    a long period's rows reach Python as one list of distinct steps."""
    if connection.vendor != "postgresql":
        return [WalkStep(column=column, label=label, to=to, end=end, sessions=count)
                for rows in parts for stored in rows.values_list("steps", flat=True)
                for column, label, to, end, count in stored if columns is None or column < columns]
    union, params = union_sql(parts, ("steps",))
    kept = "WHERE (e ->> 0)::int < %s" if columns is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(f"""SELECT (e ->> 0)::int, e ->> 1, e ->> 2, e ->> 3, sum((e ->> 4)::bigint)
            FROM ({union}) AS r CROSS JOIN LATERAL jsonb_array_elements(r.steps) AS e {kept} GROUP BY 1, 2, 3, 4""",
                       params + ([columns] if kept else []))
        return [WalkStep(column=column, label=label, to=to, end=end, sessions=int(count))
                for column, label, to, end, count in cursor.fetchall()]


def journey_walks_get(*, site: Site, where: JourneyFilter, groups: Sequence[Group], anchor: str,
                      backward: bool, columns: int | None = None) -> list[WalkStep]:
    """The steps of the walks from `anchor` (forwards, or backwards from a goal) of the sessions that began in the
    filter's days with its segment: walks.flow_from_walks draws flow_from_sessions(start= or goal=anchor) from
    them; with `columns`, only the steps of the first columns (what a flow of that many columns reads). Built days
    read their rollup row, the others the session rows."""
    built: list[dt.date] = []
    weeks: list[dt.date] = []
    if where.audience is None:
        built, weeks = rolled_read(site=site, start=where.start, end=where.end, key=journey_groups_key(groups=groups))
    covered = {day for week in weeks for day in week_days(week)}
    parts = []
    if built:
        parts.append(segment_filter(JourneyWalkDaily.objects.filter(
            site=site, anchor=anchor, backward=backward, day__in=built), where))
    if weeks:
        parts.append(segment_filter(JourneyWalkWeekly.objects.filter(
            site=site, anchor=anchor, backward=backward, week__in=weeks), where))
    steps = _stored_summed(parts, columns) if parts else []
    all_days = {where.start + dt.timedelta(days=n) for n in range((where.end - where.start).days + 1)}
    for first, last in day_runs(all_days - set(built) - covered):
        sessions = journey_label_sessions_get(site=site, where=replace(where, start=first, end=last), groups=groups)
        steps += [step for step in walk_steps_by_anchor(sessions=sessions, anchors={anchor}).get((anchor, backward), [])
                  if columns is None or step.column < columns]
    return walk_steps_summed(steps)
