"""The map's reads summed by label in the database answer as the plain functions do on the rows by path.

Generated counters, session rows and stage rows (several days and segments, groups that overlap, a regex group,
paths in no group, session rows with a position still empty) are read both ways: the flows, the entry and exit
tables and the stage funnel must be equal.
"""

import datetime as dt
import random

import pytest

from campaigns.journeys.flow import (
    counts_labelled,
    entry_exit_tables,
    flow_from_counts,
    flow_from_sessions,
    sessions_labelled,
)
from campaigns.journeys.funnel import stage_funnel
from campaigns.journeys.paths import STAGES, Group
from campaigns.journeys.selectors import (
    JourneyFilter,
    journey_counts_get,
    journey_funnel_get,
    journey_label_counts_get,
    journey_label_sessions_get,
    journey_paths_choices,
    journey_paths_get,
    journey_segments_choices,
    journey_segments_get,
    journey_sessions_get,
    journey_stage_reaches_get,
)
from campaigns.models import JourneyPageDaily, JourneySession, JourneyTransitionDaily, JourneyVisitorStage
from tests.campaigns.journeys.journey_kit import funnels_close

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 20)
PATHS = ("/", "/blog/a", "/blog/b", "/blog/seo/c", "/product/x", "/product/y", "/cart", "/checkout", "/thanks",
         "/about", "/Ünïcode/page", "/Blog", "/search")
GROUPS = [
    Group(name="SEO", rule={"op": "starts_with", "value": "/blog/seo/"}, stage="awareness", order=1),
    Group(name="Blog", rule={"op": "starts_with", "value": "/blog/"}, stage="awareness", order=2),
    Group(name="Product", rule={"op": "regex", "value": "^/product/[a-z]+$"}, stage="consideration", order=3),
    Group(name="Buy", rule={"op": "contains", "value": "check"}, stage="decision", order=4),
    Group(name="/about", rule={"op": "equals", "value": "/thanks"}, stage="retention", order=5),
]
SEGMENTS = (("desktop", "google", False), ("mobile", "direct", True), ("tablet", "google", True))


def counters_generate(site, rng: random.Random) -> None:
    pages, moves, sessions, stages = {}, {}, [], []
    for index in range(300):
        day = DAY + dt.timedelta(days=rng.randrange(5))
        segment = rng.choice(SEGMENTS)
        length = rng.choice((1, 1, 2, 3, 4, 6, 11, 13))
        walk = [rng.choice(PATHS[:4] if rng.random() < 0.5 else PATHS) for _ in range(length)]
        for position, path in enumerate(walk):
            step = min(position + 1, 11)
            key = (day, step, path, segment)
            views, entries = pages.get(key, (0, 0))
            pages[key] = (views + 1, entries + (position == 0))
            if position:
                moves[(day, step, walk[position - 1], path, segment)] = moves.get(
                    (day, step, walk[position - 1], path, segment), 0) + 1
        kept = {f"path_{n}": path for n, path in enumerate(walk[:10], 1)}
        if length > 3 and rng.random() < 0.2:  # a page view still to come: an empty position among the kept
            kept[f"path_{rng.randrange(2, min(length, 10) + 1)}"] = None
        at = dt.datetime.combine(day, dt.time(8), tzinfo=dt.UTC) + dt.timedelta(microseconds=rng.randrange(10**10))
        sessions.append(JourneySession(
            site=site, visitor_id=f"v{index}", session_id="s", day=day, started_at=at, last_at=at, steps=length,
            pageviews=length, device=segment[0], source=segment[1], returning=segment[2], **kept))
        for stage in rng.sample(STAGES, rng.randrange(len(STAGES))):
            first_at = at + dt.timedelta(microseconds=rng.randrange(-10**9, 10**11))
            stages.append(JourneyVisitorStage(
                site=site, visitor_id=f"v{index}", stage=stage, first_at=first_at, day=first_at.date(), path="/",
                device=segment[0], source=segment[1], returning=segment[2]))
    JourneyPageDaily.objects.bulk_create(
        JourneyPageDaily(site=site, day=day, step=step, path=path, device=device, source=source, returning=returning,
                         pageviews=views, entries=entries)
        for (day, step, path, (device, source, returning)), (views, entries) in pages.items())
    JourneyTransitionDaily.objects.bulk_create(
        JourneyTransitionDaily(site=site, day=day, step=step, from_path=source_path, path=path, device=device,
                               source=source, returning=returning, count=count)
        for (day, step, source_path, path, (device, source, returning)), count in moves.items())
    JourneySession.objects.bulk_create(sessions)
    JourneyVisitorStage.objects.bulk_create(stages)


FILTERS = (
    JourneyFilter(start=DAY, end=DAY + dt.timedelta(days=4)),
    JourneyFilter(start=DAY + dt.timedelta(days=1), end=DAY + dt.timedelta(days=3), source="google"),
    JourneyFilter(start=DAY, end=DAY + dt.timedelta(days=4), device="mobile", returning=True),
)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_reads_summed_by_label_answer_as_the_rows_by_path_do(site, outsider_site, seed):
    rng = random.Random(seed)
    counters_generate(site, rng)
    counters_generate(outsider_site, rng)
    for where in FILTERS:
        pages, transitions = journey_counts_get(site=site, where=where)
        for steps, top in ((5, 5), (10, 2), (1, 50)):
            counts = journey_label_counts_get(site=site, where=where, groups=GROUPS, steps=steps)
            assert counts == counts_labelled(pages=pages, transitions=transitions, groups=GROUPS, steps=steps)
            assert flow_from_counts(pages=counts.pages, transitions=counts.moves, steps=steps, top=top) == (
                flow_from_counts(pages=pages, transitions=transitions, groups=GROUPS, steps=steps, top=top))
        assert entry_exit_tables(pages=counts.pages, transitions=counts.out) == entry_exit_tables(
            pages=pages, transitions=transitions, groups=GROUPS)
        assert counts.sessions == sum(page.entries for page in pages)
        rows = journey_sessions_get(site=site, where=where)
        summed = journey_label_sessions_get(site=site, where=where, groups=GROUPS)
        assert summed == sessions_labelled(sessions=rows, groups=GROUPS)
        for anchor in ({}, {"start": "Blog"}, {"goal": "Buy"}, {"goal": "/about"}, {"start": "/search"}):
            assert flow_from_sessions(sessions=summed, steps=4, top=3, **anchor) == flow_from_sessions(
                sessions=rows, groups=GROUPS, steps=4, top=3, **anchor)
        # From the stage rows (no day built here: funnel_rollups reads the built ones), medians from histograms.
        assert funnels_close(journey_funnel_get(site=site, where=where), stage_funnel(
            reached=journey_stage_reaches_get(site=site, where=where)))
        assert funnels_close(journey_funnel_get(site=site, where=where, stages=["decision", "awareness"]), stage_funnel(
            reached=journey_stage_reaches_get(site=site, where=where), stages=["decision", "awareness"]))


def test_the_reads_summed_by_label_without_groups_keep_every_path(site):
    counters_generate(site, random.Random(3))
    where = FILTERS[0]
    pages, transitions = journey_counts_get(site=site, where=where)
    counts = journey_label_counts_get(site=site, where=where, groups=[])
    assert {page.path for page in counts.pages} == {page.path for page in pages}
    assert counts == counts_labelled(pages=pages, transitions=transitions, steps=10)


def test_the_filter_choices_are_read_once_then_cached(site, django_assert_num_queries):
    counters_generate(site, random.Random(4))
    segments = journey_segments_choices(site=site)
    paths = journey_paths_choices(site=site, limit=5)
    assert segments == journey_segments_get(site=site)
    assert paths == journey_paths_get(site=site, limit=5)
    with django_assert_num_queries(0):
        assert journey_segments_choices(site=site) == segments
        assert journey_paths_choices(site=site, limit=5) == paths
