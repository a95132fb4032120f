"""Reads of the journey counters for the map: summed in SQL over the days and segments asked, returned as the plain
data the flows, tables and funnel take (campaigns/journeys/flow.py, transitions.py, funnel.py)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, QuerySet, Sum

from campaigns.journeys.audiences import audience_counts_from_sessions, audience_visitors
from campaigns.journeys.flow import PageCount, SessionPaths, TransitionCount
from campaigns.journeys.funnel import StageReach
from campaigns.journeys.paths import path_clean
from campaigns.models import (
    Event,
    EventType,
    JourneyPageDaily,
    JourneySession,
    JourneyTransitionDaily,
    JourneyVisitorStage,
    Site,
)


@dataclass(frozen=True)
class JourneyFilter:
    """The days (both included, in the site's time zone) and the segment a reader asks for; None: any."""

    start: dt.date
    end: dt.date
    source: str | None = None
    device: str | None = None
    returning: bool | None = None
    # An audience's id: only its visitors (campaigns/journeys/audiences.py says how the map reads them).
    audience: int | None = None


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
    """When each visitor first reached each stage, for the visitors who reached any stage in the filter's days.

    A visitor is in the funnel when one of their stage rows falls in the days asked; all their stage rows come with
    them, so a conversion to a stage reached after the period still counts (the funnel sees whole journeys).
    """
    visitors = _filtered(JourneyVisitorStage.objects, site=site, where=where).values("visitor_id")
    return [
        StageReach(visitor_id=visitor, stage=stage, first_at=first_at)
        for visitor, stage, first_at in JourneyVisitorStage.objects.filter(site=site, visitor_id__in=visitors)
        .values_list("visitor_id", "stage", "first_at").order_by("visitor_id", "stage")
    ]


def journey_segments_get(*, site: Site) -> dict[str, list]:
    """The devices, sources and new/returning values the site's journey counters hold (the map's filter choices)."""
    found: dict[str, set] = {"device": set(), "source": set(), "returning": set()}
    # One pass over the distinct segments, not one per field.
    for device, source, returning in (
        JourneyPageDaily.objects.filter(site=site).values_list("device", "source", "returning").distinct()
    ):
        found["device"].add(device)
        found["source"].add(source)
        found["returning"].add(returning)
    return {field: sorted(values) for field, values in found.items()}


def journey_paths_get(*, site: Site, limit: int = 500) -> list[tuple[str, int]]:
    """The site's most viewed cleaned paths, with their page views over all the days counted."""
    return [
        (row["path"], row["views"])
        for row in JourneyPageDaily.objects.filter(site=site).values("path")
        .annotate(views=Sum("pageviews")).order_by("-views", "path")[:limit]
    ]


def journey_raw_paths_get(*, site: Site, limit: int = 5000) -> list[tuple[str, int]]:
    """The paths of the site's latest raw page views, cleaned without the owner's rules (what clean-up rules are
    suggested from: counted paths are already cleaned by them)."""
    urls = (
        Event.objects.filter(site=site, type=EventType.PAGEVIEW).order_by("-ts")
        .values_list("url", flat=True)[:limit]
    )
    return list(Counter(path_clean(url=url) for url in urls if url).most_common())
