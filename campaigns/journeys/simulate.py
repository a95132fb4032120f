"""Simulated journeys: counter rows for three kinds of visitor, so the map has something to read before real traffic.

Written straight into the four journey tables, as the tally's fold would write them for these page views (see
campaigns/models/journeys.py), on the demo shop's paths. Every simulated row says so: its source is
`simulated/<kind>` (the map's source filter lists them apart from real traffic) and its visitor and session ids
start with `sim-`. Writing them again replaces the site's simulated rows and nothing else, and the same arguments
give the same rows.

- readers arrive on a blog article from a search engine, read one to three articles, maybe the home page, and leave;
- searchers click an ad straight to a product page, put it in the cart and leave there;
- returning buyers look at a product on a first visit and come back days later to buy it (cart, checkout, thank you);
  one in four of them leaves at the checkout instead (the drop-off the map's intervention points show there).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from campaigns.journeys.funnel_rollups import days_mark
from campaigns.journeys.paths import Group, group_of
from campaigns.journeys.services import journey_setup_get
from campaigns.models import JourneyPageDaily, JourneySession, JourneyTransitionDaily, JourneyVisitorStage, Site
from campaigns.rules import zone as zone_of

SIMULATED_SOURCE_PREFIX = "simulated/"
SIMULATED_ID_PREFIX = "sim-"
KINDS = ("reader", "searcher", "buyer")
# Of every ten simulated visitors: readers, searchers and returning buyers.
KIND_WEIGHTS = (5, 3, 2)
# The share of returning buyers who reach the checkout and leave there without ordering.
CHECKOUT_DROP = 0.25

HOME = "/demo/"
ARTICLES = ("/demo/blog/seo-basics/", "/demo/blog/choosing-running-shoes/")
PRODUCT = "/demo/product/*/"
CART = "/demo/cart/"
CHECKOUT = "/demo/checkout/"
THANKS = "/demo/thanks/"


@dataclass(frozen=True)
class _Visit:
    paths: tuple[str, ...]
    started_at: dt.datetime
    device: str
    source: str
    returning: bool
    session_id: str


def _visits(*, kind: str, number: int, first_day: dt.date, days: int, rng: random.Random,
            zone: dt.tzinfo) -> list[_Visit]:
    """One simulated visitor's sessions."""
    day = first_day + dt.timedelta(days=rng.randrange(days))
    start = dt.datetime.combine(day, dt.time(hour=rng.randrange(7, 22), minute=rng.randrange(60)), tzinfo=zone)
    device = "mobile" if rng.random() < 0.55 else "desktop"
    source = SIMULATED_SOURCE_PREFIX + kind
    session = f"{SIMULATED_ID_PREFIX}{kind}-{number}"
    if kind == "reader":
        articles = list(ARTICLES)
        rng.shuffle(articles)
        paths = articles[: rng.randint(1, 2)] + ([HOME] if rng.random() < 0.3 else [])
        return [_Visit(tuple(paths), start, device, source, False, session + "-1")]
    if kind == "searcher":
        paths = (PRODUCT, CART) if rng.random() < 0.8 else (PRODUCT,)
        return [_Visit(paths, start, device, source, False, session + "-1")]
    first = _Visit((PRODUCT,) if rng.random() < 0.5 else (HOME, PRODUCT), start, device, source, False,
                   session + "-1")
    later = start + dt.timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 5))
    ordered = rng.random() >= CHECKOUT_DROP
    back = _Visit((HOME, PRODUCT, CART, CHECKOUT, *((THANKS,) if ordered else ())), later, device, source, True,
                  session + "-2")
    # A buyer's return after the last day would be a visit from the future.
    return [first, back] if later.date() < first_day + dt.timedelta(days=days) else [first]


def _kind_of(number: int) -> str:
    slot = number % sum(KIND_WEIGHTS)
    for kind, weight in zip(KINDS, KIND_WEIGHTS, strict=True):
        if slot < weight:
            return kind
        slot -= weight
    return KINDS[-1]


def _stage_rows(*, site: Site, visitor: str, visits: list[_Visit], groups: list[Group], zone: dt.tzinfo):
    firsts: dict[str, JourneyVisitorStage] = {}
    for visit in visits:
        for index, path in enumerate(visit.paths):
            group = group_of(path=path, groups=groups)
            if group is None or not group.stage or group.stage in firsts:
                continue
            at = visit.started_at + dt.timedelta(minutes=2 * index)
            firsts[group.stage] = JourneyVisitorStage(
                site=site, visitor_id=visitor, stage=group.stage, first_at=at, day=at.astimezone(zone).date(),
                path=path, session_id=visit.session_id, device=visit.device, source=visit.source,
                returning=visit.returning,
            )
    return list(firsts.values())


def journeys_simulate(*, site: Site, days: int = 30, visitors: int = 600, seed: int = 0,
                      today: dt.date | None = None) -> dict[str, int]:
    """Replace `site`'s simulated journey rows with `visitors` simulated visitors over the last `days` days.

    Stages come from the site's page groups as they are now (the demo shop's, after journey_demo_apply). Returns
    the number of rows written per table.
    """
    if days < 1 or visitors < 0:
        raise ValueError("days must be at least 1 and visitors at least 0")
    zone = zone_of(site.time_zone)
    today = today or timezone.localdate(timezone=zone)
    first_day = today - dt.timedelta(days=days - 1)
    groups, _cleanups = journey_setup_get(site=site)
    rng = random.Random(seed)
    pages: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    moves: dict[tuple, int] = defaultdict(int)
    sessions, stages = [], []
    for number in range(visitors):
        kind = _kind_of(number)
        visitor = f"{SIMULATED_ID_PREFIX}{kind}-{number}"
        visits = _visits(kind=kind, number=number, first_day=first_day, days=days, rng=rng, zone=zone)
        for visit in visits:
            day = visit.started_at.astimezone(zone).date()
            segment = (visit.device, visit.source, visit.returning)
            previous = None
            for step, path in enumerate(visit.paths, start=1):
                counted = pages[day, step, path, *segment]
                counted[0] += 1
                if previous is None:
                    counted[1] += 1
                else:
                    moves[day, step, previous, path, *segment] += 1
                previous = path
            ended = visit.started_at + dt.timedelta(minutes=2 * (len(visit.paths) - 1))
            sessions.append(JourneySession(
                site=site, visitor_id=visitor, session_id=visit.session_id, day=day, started_at=visit.started_at,
                last_at=ended, steps=len(visit.paths), pageviews=len(visit.paths), device=visit.device,
                source=visit.source, returning=visit.returning,
                **{f"path_{step}": path for step, path in enumerate(visit.paths, start=1)},
            ))
        stages += _stage_rows(site=site, visitor=visitor, visits=visits, groups=groups, zone=zone)
    page_rows = [
        JourneyPageDaily(site=site, day=day, step=step, path=path, device=device, source=source, returning=returning,
                         pageviews=views, entries=entries)
        for (day, step, path, device, source, returning), (views, entries) in pages.items()
    ]
    move_rows = [
        JourneyTransitionDaily(site=site, day=day, step=step, from_path=source_path, path=path, device=device,
                               source=source, returning=returning, count=count)
        for (day, step, source_path, path, device, source, returning), count in moves.items()
    ]
    with transaction.atomic():
        journeys_simulated_delete(site=site)
        JourneyPageDaily.objects.bulk_create(page_rows, batch_size=2000)
        JourneyTransitionDaily.objects.bulk_create(move_rows, batch_size=2000)
        JourneySession.objects.bulk_create(sessions, batch_size=2000)
        JourneyVisitorStage.objects.bulk_create(stages, batch_size=2000)
        days_mark(site_id=site.id, days={row.day for row in stages})
    return {"pages": len(page_rows), "transitions": len(move_rows), "sessions": len(sessions),
            "stages": len(stages)}


def journeys_simulated_delete(*, site: Site) -> None:
    """Remove `site`'s simulated journey rows (real traffic's rows stay)."""
    JourneyPageDaily.objects.filter(site=site, source__startswith=SIMULATED_SOURCE_PREFIX).delete()
    JourneyTransitionDaily.objects.filter(site=site, source__startswith=SIMULATED_SOURCE_PREFIX).delete()
    JourneySession.objects.filter(site=site, visitor_id__startswith=SIMULATED_ID_PREFIX).delete()
    simulated = JourneyVisitorStage.objects.filter(site=site, visitor_id__startswith=SIMULATED_ID_PREFIX)
    days_mark(site_id=site.id, days=simulated.values_list("day", flat=True).distinct())
    simulated.delete()
