"""Reads of the journey counters for the map: summed in SQL over the days and segments asked, returned as the plain
data the flows, tables and funnel take (campaigns/journeys/flow.py, transitions.py, funnel.py).

The map's own reads (`journey_label_counts_get`, `journey_label_sessions_get`, `journey_funnel_get`) sum by label
and compute the funnel in the database on PostgreSQL, so that a page reads a few hundred rows, not one per path and
day: the rows by path are summed into a temporary table, their distinct paths labelled in Python (groups are the
rule language's, applied when read) and the sums by label read back; the counts by label read the days whose daily
rollups by label are current from those instead (campaigns/journeys/rollups/). On SQLite they read the rows
by path and sum them with the plain functions they are tested against (flow.counts_labelled,
flow.sessions_labelled, funnel.stage_funnel). The filter choices are the worker's (campaigns/journeys/choices.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from django.db import connection, transaction
from django.db.models import Count, QuerySet, Sum

from campaigns.journeys.audiences import audience_counts_from_sessions, audience_visitors
from campaigns.journeys.choices import (  # noqa: F401 (the map's reads, re-exported)
    CHOICES_SECONDS,
    journey_paths_choices,
    journey_paths_get,
    journey_segments_choices,
    journey_segments_get,
    journey_start_paths,
)
from campaigns.journeys.filters import JourneyFilter
from campaigns.journeys.flow import (
    MAX_COLUMNS,
    LabelCounts,
    PageCount,
    SessionPaths,
    TransitionCount,
    counts_labelled,
    sessions_labelled,
)
from campaigns.journeys.funnel import FunnelStage, StageReach, stage_funnel, stages_check
from campaigns.journeys.funnel_rollups import FunnelStatus, journey_funnel_rolled
from campaigns.journeys.label_sql import WORK_MEM, kept_paths_sql, labels_table, temp_table, where_sql
from campaigns.journeys.paths import STAGES, Group, path_clean
from campaigns.journeys.rollups import RollupStatus, journey_label_counts_rolled
from campaigns.models import (
    Event,
    EventType,
    JourneyPageDaily,
    JourneySession,
    JourneyTransitionDaily,
    JourneyVisitorStage,
    Site,
)


def _filtered(rows: QuerySet, *, site: Site, where: JourneyFilter) -> QuerySet:
    rows = rows.filter(site=site, day__gte=where.start, day__lte=where.end)
    if where.source is not None:
        rows = rows.filter(source=where.source)
    if where.device is not None:
        rows = rows.filter(device=where.device)
    if where.returning is not None:
        rows = rows.filter(returning=where.returning)
    if where.audience is not None:
        rows = rows.filter(visitor_id__in=audience_visitors(
            site=site, audience_id=where.audience, start=where.start, end=where.end))
    return rows


def journey_counts_get(*, site: Site, where: JourneyFilter) -> tuple[list[PageCount], list[TransitionCount]]:
    """Page views and moves by step and cleaned path, summed over the filter's days and segment (for an audience,
    from its visitors' session rows: the daily counters have no visitor)."""
    if where.audience is not None:
        return audience_counts_from_sessions(sessions=journey_sessions_get(site=site, where=where))
    pages = [
        PageCount(step=row["step"], path=row["path"], pageviews=row["views"], entries=row["entered"])
        for row in _filtered(JourneyPageDaily.objects, site=site, where=where)
        .values("step", "path").annotate(views=Sum("pageviews"), entered=Sum("entries")).order_by("step", "path")
    ]
    transitions = [
        TransitionCount(step=row["step"], from_path=row["from_path"], path=row["path"], count=row["moves"])
        for row in _filtered(JourneyTransitionDaily.objects, site=site, where=where)
        .values("step", "from_path", "path").annotate(moves=Sum("count")).order_by("step", "from_path", "path")
    ]
    return pages, transitions


def journey_sessions_get(*, site: Site, where: JourneyFilter) -> list[SessionPaths]:
    """The sessions that began in the filter's days with the segment asked, grouped by their kept paths."""
    fields = JourneySession.PATH_FIELDS
    grouped = (
        _filtered(JourneySession.objects, site=site, where=where)
        .values(*fields, "steps").annotate(sessions=Count("id")).order_by(*fields, "steps")
    )
    found = []
    for row in grouped:
        paths = []
        for name in fields:
            if row[name] is None:
                break
            paths.append(row[name])
        found.append(SessionPaths(paths=tuple(paths), steps=row["steps"], sessions=row["sessions"]))
    return found


def journey_stage_reaches_get(*, site: Site, where: JourneyFilter) -> list[StageReach]:
    """When each visitor first reached each stage, for the visitors who reached a stage in the filter's days and
    segment: those rows are `counted`, and the visitor's other rows come with them, so that a conversion to a stage
    reached after the period (or in another segment) still counts."""
    counted = _filtered(JourneyVisitorStage.objects, site=site, where=where)
    ids = set(counted.values_list("id", flat=True))
    return [
        StageReach(visitor_id=visitor, stage=stage, first_at=first_at, counted=row_id in ids)
        for row_id, visitor, stage, first_at in JourneyVisitorStage.objects.filter(
            site=site, visitor_id__in=counted.values("visitor_id"))
        .values_list("id", "visitor_id", "stage", "first_at").order_by("visitor_id", "stage")
    ]


def journey_raw_paths_get(*, site: Site, limit: int = 5000) -> list[tuple[str, int]]:
    """The paths of the site's latest raw page views, cleaned without the owner's rules (what clean-up rules are
    suggested from: counted paths are already cleaned by them)."""
    urls = (
        Event.objects.filter(site=site, type=EventType.PAGEVIEW).order_by("-ts")
        .values_list("url", flat=True)[:limit]
    )
    return list(Counter(path_clean(url=url) for url in urls if url).most_common())


# ---------------------------------------------------------------- the map's reads, summed by label

SESSIONS_TABLE = JourneySession._meta.db_table


def journey_label_counts_read(
    *, site: Site, where: JourneyFilter, groups: Sequence[Group], steps: int = MAX_COLUMNS, moves: bool = True
) -> tuple[LabelCounts, RollupStatus | None]:
    """The counters of the filter's days and segment summed by label (flow.LabelCounts), for a flow of `steps`
    columns and the entry and exit tables; with how they were read (None: from the counters by path alone).

    On PostgreSQL the days whose daily rollups by label are current are read from them
    (campaigns/journeys/rollups/), the others from the counters; an audience reads its visitors' session rows.
    `moves=False` leaves out the moves between labels (which a flow from a page or back from a goal does not read).
    """
    if connection.vendor != "postgresql" or where.audience is not None:
        pages, transitions = journey_counts_get(site=site, where=where)
        return counts_labelled(pages=pages, transitions=transitions, groups=groups, steps=steps), None
    return journey_label_counts_rolled(site=site, where=where, groups=groups, steps=steps, moves=moves)


def journey_label_counts_get(
    *, site: Site, where: JourneyFilter, groups: Sequence[Group], steps: int = MAX_COLUMNS
) -> LabelCounts:
    """journey_label_counts_read without how they were read."""
    return journey_label_counts_read(site=site, where=where, groups=groups, steps=steps)[0]


def journey_label_sessions_get(*, site: Site, where: JourneyFilter, groups: Sequence[Group]) -> list[SessionPaths]:
    """journey_sessions_get summed by the labels of the kept paths (flow.sessions_labelled), for
    flow_from_sessions with `groups=()`."""
    if connection.vendor != "postgresql" or where.audience is not None:  # an audience: its visitors' rows
        return sessions_labelled(sessions=journey_sessions_get(site=site, where=where), groups=groups)
    filtered, params = where_sql(site=site, where=where)
    columns = JourneySession.PATH_FIELDS
    kept, positions = kept_paths_sql(columns)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(WORK_MEM)
        temp_table(cursor, "journey_sessions", f"""ON COMMIT DROP AS
            SELECT {positions},
                r.steps > k.kept AS went_on, count(*) AS sessions
            FROM {SESSIONS_TABLE} AS r CROSS JOIN LATERAL (SELECT {kept} AS kept) AS k
            WHERE {filtered} GROUP BY {", ".join(str(n) for n in range(1, len(columns) + 2))}""", params)
        labels_table(cursor, groups=groups, paths_sql=" UNION ".join(
            f"SELECT {name} FROM journey_sessions WHERE {name} IS NOT NULL" for name in columns))
        names = [f"coalesce(l{n}.label, s.{name})" for n, name in enumerate(columns)]
        joins = " ".join(f"LEFT JOIN journey_labels AS l{n} ON l{n}.path = s.{name}" for n, name in enumerate(columns))
        cursor.execute(f"""SELECT {", ".join(names)}, s.went_on, sum(s.sessions) FROM journey_sessions AS s {joins}
            GROUP BY {", ".join(str(n) for n in range(1, len(columns) + 2))}""")
        rows = cursor.fetchall()
    found = []
    for *labels, went_on, count in rows:
        paths = tuple(labels[:labels.index(None)] if None in labels else labels)
        found.append(SessionPaths(paths=paths, steps=len(paths) + went_on, sessions=int(count)))
    return sessions_labelled(sessions=found)


def journey_funnel_read(*, site: Site, where: JourneyFilter, stages: Sequence[str] = STAGES
                        ) -> tuple[list[FunnelStage], FunnelStatus | None]:
    """The stage funnel (funnel.stage_funnel) of the visitors who first reached a stage in the filter's days and
    segment, with how it was read (None: from the stage rows alone). On PostgreSQL from the daily funnel rollups
    where built, the other days from the stage rows, summed in the database (campaigns/journeys/funnel_rollups.py;
    medians to within 0.45 %); an audience reads its visitors' rows."""
    stages_check(stages)
    if connection.vendor != "postgresql" or where.audience is not None:
        return stage_funnel(reached=journey_stage_reaches_get(site=site, where=where), stages=stages), None
    return journey_funnel_rolled(site=site, where=where, stages=stages)


def journey_funnel_get(*, site: Site, where: JourneyFilter, stages: Sequence[str] = STAGES) -> list[FunnelStage]:
    """journey_funnel_read without how it was read."""
    return journey_funnel_read(site=site, where=where, stages=stages)[0]
