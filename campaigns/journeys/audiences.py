"""Audiences (personas): a site's audiences written and read, their daily counts, and the journey map's audience
filter.

An audience is a rule in the rule language (campaigns/models/audiences.py says how a campaign names one, how the
widget evaluates it and what the tally counts). The journey map's daily counters have no visitor in them, so the
map of one audience is read from the session rows of its visitors: the visitors in the audience on any day of the
period asked, and their sessions that began in it (`audience_counts_from_sessions`: the kept positions only, so
steps past the tenth are not shown).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db import transaction
from django.db.models import QuerySet

from campaigns.journeys.flow import PageCount, SessionPaths, TransitionCount
from campaigns.models import Audience, AudienceDaily, AudienceVisitorDay, Site
from campaigns.targeting.describe import describe_targeting

# ---------------------------------------------------------------- writes


def audience_create(*, site: Site, name: str, rule: object) -> Audience:
    """A new audience of the site; raises ValidationError (nothing saved) for a blank or taken name or a bad rule."""
    audience = Audience(site=site, name=name, rule=rule)
    audience.full_clean()
    audience.save()
    return audience


def audience_update(*, audience: Audience, name: str, rule: object) -> Audience:
    """The audience renamed or given another rule; raises ValidationError (nothing saved) as audience_create."""
    audience.name, audience.rule = name, rule
    audience.full_clean()
    with transaction.atomic():
        audience.save()
    return audience


# ---------------------------------------------------------------- reads


def site_audiences_get(*, site: Site) -> list[tuple[int, str]]:
    """The site's audiences as (id, name), by name: the map's filter and the rule editors' choices."""
    return list(Audience.objects.filter(site=site).order_by("name", "id").values_list("id", "name"))


def audience_summary(*, audience: Audience) -> str:
    """The audience's rule in plain English."""
    return describe_targeting(targeting=audience.rule)


def audience_daily_get(*, audience: Audience, start: dt.date, end: dt.date) -> list[tuple[dt.date, int, int]]:
    """(day, visitors, page views) for every day from start to end (both included), 0 on the days nobody was in it:
    the audience's size and its trend, from the same evaluation that targets it."""
    counted = {
        day: (visitors, pageviews)
        for day, visitors, pageviews in AudienceDaily.objects.filter(
            audience=audience, day__gte=start, day__lte=end
        ).values_list("day", "visitors", "pageviews")
    }
    days = (start + dt.timedelta(days=n) for n in range((end - start).days + 1))
    return [(day, *counted.get(day, (0, 0))) for day in days]


def audience_visitors(*, site: Site, audience_id: int, start: dt.date, end: dt.date) -> QuerySet:
    """The visitor ids that were in the audience on a day from start to end (a subquery, not read here)."""
    return AudienceVisitorDay.objects.filter(
        site=site, audience_id=audience_id, day__gte=start, day__lte=end
    ).values("visitor_id")


def audience_counts_from_sessions(
    *, sessions: list[SessionPaths]
) -> tuple[list[PageCount], list[TransitionCount]]:
    """Page views and moves by step as the map's daily counters give them, from session rows (each kept position is
    a page view at that step; the first an entry, each other one a move from the position before it)."""
    pages: Counter = Counter()
    entries: Counter = Counter()
    moves: Counter = Counter()
    for session in sessions:
        for position, path in enumerate(session.paths, 1):
            pages[(position, path)] += session.sessions
            if position == 1:
                entries[(position, path)] += session.sessions
            else:
                moves[(position, session.paths[position - 2], path)] += session.sessions
    return (
        [PageCount(step=step, path=path, pageviews=n, entries=entries[(step, path)])
         for (step, path), n in sorted(pages.items())],
        [TransitionCount(step=step, from_path=prev, path=path, count=n)
         for (step, prev, path), n in sorted(moves.items())],
    )
