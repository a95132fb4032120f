"""Exits for the map's intervention points (campaigns/journeys/interventions.py has the definitions): exact from the
session rows, or from the day's exit rollups, built by the session rollup task (session_rollups.journey_walks_build)
with the day's walks, under the same JourneyWalkDay and staleness rule.

- `intervention_exits_get`: the exact read, exits by cleaned path, step and ordinal, one grouped query.
- `journey_exits_build` (site, day): the day's exits by segment (None for "any" in each of device, source and
  new/returning), label (with the groups of the build), step and ordinal; and the label's most exited cleaned paths
  at each step and at any step, PATHS_KEPT of them, a few for campaigns_running_on to match.
- `intervention_exits_read`: exits from the rollups of the days built with the current groups, by label (a whole
  week's from its weekly sums, walk_weeks.py, while built after its days), and from the session rows for the other
  days, by path; with the most exited paths kept of the built days. The exits read the same whatever the filter's
  audience: the exact read does not filter by audience either.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from itertools import product
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce

from campaigns.journeys.label_sql import rows_write, union_sql
from campaigns.journeys.paths import STAGES, Group, journey_groups_key, labeller
from campaigns.journeys.walk_weeks import rolled_read, week_days
from campaigns.models import (
    JourneyExitDaily,
    JourneyExitPathsDaily,
    JourneyExitPathsWeekly,
    JourneyExitWeekly,
    JourneySession,
    JourneyVisitorStage,
    Site,
)
from campaigns.models.journeys import SESSION_PATHS

if TYPE_CHECKING:
    from campaigns.journeys.filters import JourneyFilter

# A stage's weight: its position in the journey, 1 for awareness to 5 for advocacy.
STAGE_ORDINAL = {stage: position for position, stage in enumerate(STAGES, start=1)}
# The weight of an exit by a visitor who had reached no stage yet (they had seen the site: awareness).
NO_STAGE_ORDINAL = STAGE_ORDINAL["awareness"]
# The most exited cleaned paths a rollup keeps per day, label and step (interventions.PATHS_MATCHED are matched).
PATHS_KEPT = 40
SEGMENT = ("device", "source", "returning")


def stage_ordinal_sql(field_name: str = "stage") -> Case:
    """A stage column as its ordinal (0 for a value that is not a stage)."""
    return Case(*(When(**{field_name: stage}, then=Value(ordinal)) for stage, ordinal in STAGE_ORDINAL.items()),
                default=Value(0), output_field=IntegerField())


@dataclass(frozen=True)
class ExitCount:
    """Sessions that ended on `path` at position `step`, whose visitor had reached the stage of `ordinal` then.
    `labelled`: `path` is already a label (a rollup's row, which keeps labels, not paths)."""

    path: str
    step: int
    ordinal: int
    exits: int
    labelled: bool = False


def _exit_rows(*, sessions, fields: Sequence[str] = ()) -> Iterable[dict]:
    """The sessions' exits grouped by `fields`, exit path, step and ordinal (the definitions of interventions.py)."""
    reached = (
        JourneyVisitorStage.objects.filter(site_id=OuterRef("site_id"), visitor_id=OuterRef("visitor_id"),
                                           first_at__lte=OuterRef("last_at"))
        .annotate(ordinal=stage_ordinal_sql()).order_by("-ordinal").values("ordinal")[:1]
    )
    last_path = Case(*(When(steps=position, then=F(f"path_{position}")) for position in range(1, SESSION_PATHS + 1)))
    return (
        sessions.filter(steps__gte=1, steps__lte=SESSION_PATHS)
        .annotate(exit_path=last_path,
                  ordinal=Coalesce(Subquery(reached, output_field=IntegerField()), Value(NO_STAGE_ORDINAL)))
        .filter(exit_path__isnull=False)
        .values(*fields, "exit_path", "steps", "ordinal").annotate(exits=Count("id"))
        .order_by(*fields, "exit_path", "steps", "ordinal")
    )


def intervention_exits_get(*, site: Site, where: JourneyFilter) -> list[ExitCount]:
    """Exits by path, step and the ordinal of the stage reached, for the sessions that began in the filter's days
    with its segment. One grouped query."""
    sessions = JourneySession.objects.filter(site=site, day__gte=where.start, day__lte=where.end)
    for name in SEGMENT:
        if getattr(where, name) is not None:
            sessions = sessions.filter(**{name: getattr(where, name)})
    return [ExitCount(path=row["exit_path"], step=row["steps"], ordinal=max(row["ordinal"], NO_STAGE_ORDINAL),
                      exits=row["exits"]) for row in _exit_rows(sessions=sessions)]


def journey_exits_build(*, site: Site, day: dt.date, groups: Sequence[Group]) -> int:
    """Replaces the day's exit rows (call it in the transaction that holds the day's JourneyWalkDay lock); how many
    exit rows it wrote. The exits are summed by segment first, then each segment's sums into its "any" segments."""
    label = labeller(groups=groups)
    fine: Counter = Counter()
    fine_paths: Counter = Counter()
    sessions = JourneySession.objects.filter(site=site, day=day)
    for *segment, path, step, ordinal, count in _exit_rows(sessions=sessions, fields=SEGMENT).values_list(
            *SEGMENT, "exit_path", "steps", "ordinal", "exits"):
        segment, name = tuple(segment), label(path)
        fine[segment, name, step, max(ordinal, NO_STAGE_ORDINAL)] += count
        fine_paths[segment, name, step, path] += count
    anyway = {segment: [tuple(value if keep else None for value, keep in zip(segment, mask, strict=True))
                        for mask in product((True, False), repeat=len(SEGMENT))]
              for segment, *_rest in fine}
    exits: Counter = Counter()
    for (segment, name, step, ordinal), count in fine.items():
        for target in anyway[segment]:
            exits[target, name, step, ordinal] += count
    paths: dict[tuple, Counter] = defaultdict(Counter)
    for (segment, name, step, path), count in fine_paths.items():
        for target in anyway[segment]:
            paths[target, name, step][path] += count
            paths[target, name, None][path] += count
    JourneyExitDaily.objects.filter(site=site, day=day).delete()
    JourneyExitPathsDaily.objects.filter(site=site, day=day).delete()
    rows_write(model=JourneyExitDaily, fields=("site_id", "day", *SEGMENT, "label", "step", "ordinal", "exits"),
               rows=((site.id, day, *segment, name, step, ordinal, count)
                     for (segment, name, step, ordinal), count in exits.items()))
    rows_write(model=JourneyExitPathsDaily, fields=("site_id", "day", *SEGMENT, "label", "step", "paths"),
               rows=((site.id, day, *segment, name, step, json.dumps(dict(heapq.nsmallest(
                   PATHS_KEPT, counter.items(), key=lambda item: (-item[1], item[0])))))
                     for (segment, name, step), counter in paths.items()))
    return len(exits)


def segment_filter(rows, where: JourneyFilter):
    """Rows of the filter's segment: each of device, source and new/returning given, or None ("any")."""
    for name in SEGMENT:
        value = getattr(where, name)
        rows = rows.filter(**({f"{name}__isnull": True} if value is None else {name: value}))
    return rows


def day_runs(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days as (first, last) runs."""
    runs: list[list[dt.date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + dt.timedelta(days=1) == day:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(first, last) for first, last in runs]


@dataclass
class ExitsRead:
    """The exits of a filter's days, and the days and whole weeks read from the rollups (whose paths `kept_paths`
    reads): `built` the days read from their day rows, `weeks` the Mondays of the weeks read from their week rows."""

    exits: list[ExitCount]
    built: list[dt.date]
    weeks: list[dt.date] = field(default_factory=list)


def intervention_exits_read(*, site: Site, where: JourneyFilter, groups: Sequence[Group]) -> ExitsRead:
    """The filter's exits: by label from the rollups of the days built with these groups (their weeks' sums for
    whole weeks summed after them), by path from the session rows for the other days (one grouped query per run of
    consecutive days)."""
    built, weeks = rolled_read(site=site, start=where.start, end=where.end, key=journey_groups_key(groups=groups))
    covered = {day for week in weeks for day in week_days(week)}
    exits: list[ExitCount] = []
    for model, column, which in ((JourneyExitDaily, "day", built), (JourneyExitWeekly, "week", weeks)):
        if not which:
            continue
        rows = segment_filter(model.objects.filter(site=site, **{f"{column}__in": which}), where)
        exits += [ExitCount(path=row["label"], step=row["step"], ordinal=row["ordinal"], exits=row["total"],
                            labelled=True)
                  for row in rows.values("label", "step", "ordinal").annotate(total=Sum("exits")).order_by()]
    all_days = {where.start + dt.timedelta(days=n) for n in range((where.end - where.start).days + 1)}
    for first, last in day_runs(all_days - set(built) - covered):
        exits += intervention_exits_get(site=site, where=replace(where, start=first, end=last))
    return ExitsRead(exits=exits, built=built, weeks=weeks)


def kept_paths(*, site: Site, where: JourneyFilter, read: ExitsRead,
               points: Iterable[tuple[str, int | None]]) -> dict[tuple[str, int | None], Counter]:
    """The most exited paths kept on the days (and weeks) `read` took from the rollups, for each (label, step or
    None for any step), summed: the paths matched are the most exited among those each day kept. One query."""
    points = set(points)
    if not (read.built or read.weeks) or not points:
        return {}
    wanted = Q()
    for name, step in points:
        wanted |= Q(label=name, step=step) if step is not None else Q(label=name, step__isnull=True)
    found: dict[tuple[str, int | None], Counter] = defaultdict(Counter)
    parts = [segment_filter(model.objects.filter(wanted, site=site, **{f"{column}__in": which}), where)
             for model, column, which in ((JourneyExitPathsDaily, "day", read.built),
                                          (JourneyExitPathsWeekly, "week", read.weeks)) if which]
    if connection.vendor != "postgresql":
        for rows in parts:
            for name, step, stored in rows.values_list("label", "step", "paths"):
                found[name, step].update(stored)
        return found
    # Summed in the database: 90 days of 20 points are some 70,000 (path, exits) pairs, a few thousand once summed.
    union, params = union_sql(parts, ("label", "step", "paths"))
    with connection.cursor() as cursor:
        cursor.execute(f"""SELECT r.label, r.step, e.key, sum(e.value::bigint)
            FROM ({union}) AS r CROSS JOIN LATERAL jsonb_each_text(r.paths) AS e GROUP BY 1, 2, 3""", params)
        for name, step, path, exits in cursor.fetchall():
            found[name, step][path] = int(exits)
    return found
