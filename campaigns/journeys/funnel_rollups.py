"""The stage funnel's daily rollups (JourneyStageDaily, JourneyStageDay): built by a worker, read by the map.

The funnel counts, per stage, the visitors who first reached it in the period and those of them who reached the next
stage at or after (funnel.py): a sum over the period's days of each day's stage rows, with every segment filter's
own rows (GROUP BY CUBE: NULL = any) and the times to the next stage as histograms (funnel.py's buckets). The map
then reads about five rows a day, not every stage row of the period (42 million at 90 days of a site with a million
page views a day); the median is read to within half a fine bucket (0.45 %).

What makes a day due (`JourneyStageDay.stale`): a day's rows change when one of its stage rows is written or moved
by the fold, and when the next stage's row of one of its visitors is (their time to it changed). The worker finds
both from the page views the tally counted since it last looked (the label rollups' cursor, rollups/build.py): the
fold only writes a stage row at one of those page views' times, so the rows of those visitors at or after their
earliest new page view are all the rows it may have written. Each marks its day and every later day to today (a
row moved to an earlier page view left a later day), and the day of the visitor's row of the stage before. The
erasure of a visitor and the simulated journeys mark the days of the rows they delete or write (`days_mark`).

Built days are read from their rows even while stale ("as of" their build: a day with new stage rows waits
REBUILD_SECONDS, as the label rollups do); days never built are read from the stage rows, summed the same way. On
SQLite the funnel is always read from the stage rows (selectors.journey_funnel_get).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction

from campaigns.journeys.funnel import (
    GAP_FINE,
    FunnelStage,
    StageSums,
    funnel_from_sums,
    gap_bucket_sql,
    median_from_buckets,
    middle_coarse,
    stages_check,
)
from campaigns.journeys.label_sql import SHORT_READ, WORK_MEM, rollup_where, where_sql
from campaigns.journeys.paths import STAGES
from campaigns.models import Event, JourneyStageDaily, JourneyStageDay, JourneyVisitorStage, Site
from campaigns.tally.zones import known_zones

STAGE_ROWS = JourneyVisitorStage._meta.db_table
STAGE_DAILY = JourneyStageDaily._meta.db_table
STAGE_DAYS = JourneyStageDay._meta.db_table
# A day whose stage rows changed is rebuilt at most this often (as the label rollups, rollups/build.py); a day
# before yesterday PAST_DAYS_WAIT times less often. A day of a busy site takes seconds to build (journeys_bench.py
# prints it), and every minute's conversions of returning visitors touch the days of their earlier stages (up to
# weeks back): rebuilt each time, those days would keep a worker busy; they are read "as of" their build meanwhile.
REBUILD_SECONDS = 300
PAST_DAYS_WAIT = 12


def _next_stages_sql(stages: Sequence[str]) -> str:
    """VALUES (stage, the next one or NULL) in the order given, as `o(stage, next)`; the names are the funnel's
    stages (checked), written as literals."""
    stages_check(stages)
    quoted = [f"'{stage}'" for stage in stages] + ["NULL"]
    pairs = ", ".join(f"({stage}::text, {after}::text)" for stage, after in zip(quoted, quoted[1:], strict=False))
    return f"(VALUES {pairs}) AS o(stage, next)"


def _gaps_sql(*, stages: Sequence[str], filtered: str, segment: bool) -> str:
    """Each stage row `filtered` selects with its time to the visitor's next stage, bucketed (coarse NULL: not
    reached at or after), grouped by stage, bucket and, with `segment`, every segment combination. The next stage's
    row is looked up by its unique key, one per row (LIMIT 1 keeps the planner from hashing every stage row of the
    site instead), and `filtered` should name the stages, so that the rows are found by the (site, stage, day)
    index."""
    coarse, fine = gap_bucket_sql("g.gap")
    group = 'r.stage, CUBE (r.device, r.source, r."returning"), b.coarse, b.fine' if segment else \
        "r.stage, b.coarse, b.fine"
    columns = 'r.stage, r.device, r.source, r."returning"' if segment else "r.stage"
    return f"""
SELECT {columns}, b.coarse, b.fine, count(*)
FROM {STAGE_ROWS} AS r JOIN {_next_stages_sql(stages)} ON o.stage = r.stage
LEFT JOIN LATERAL (
    SELECT extract(epoch FROM n.first_at - r.first_at)::float8 AS gap FROM {STAGE_ROWS} AS n
    WHERE n.site_id = r.site_id AND n.visitor_id = r.visitor_id AND n.stage = o.next AND n.first_at >= r.first_at
    LIMIT 1
) AS g ON true
CROSS JOIN LATERAL (SELECT CASE WHEN g.gap IS NOT NULL THEN {coarse} END AS coarse, {fine} AS fine) AS b
WHERE {filtered}
GROUP BY {group}
"""


@dataclass
class _Sums:
    """One stage's sums: visitors, converted, and the gap histogram ({coarse: {fine: count}})."""

    visitors: int = 0
    converted: int = 0
    buckets: dict[int, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, coarse: int | None, fine: int, count: int) -> None:
        self.visitors += count
        if coarse is not None:
            self.converted += count
            self.buckets[coarse][fine] += count


# ---------------------------------------------------------------- which days are due

MARK_SQL = f"""
WITH seen AS (
    SELECT e.site_id, e.visitor_id, min(e.ts) AS since FROM {Event._meta.db_table} AS e
    WHERE (e.tx, e.id) > (%(from_tx)s, %(from_id)s) AND (e.tx, e.id) <= (%(to_tx)s, %(to_id)s)
        AND e.type = 'pageview' AND e.visitor_id <> ''
    GROUP BY 1, 2
), touched AS (
    SELECT r.site_id, r.visitor_id, r.stage, r.day FROM {STAGE_ROWS} AS r JOIN seen AS s
        ON r.site_id = s.site_id AND r.visitor_id = s.visitor_id AND r.first_at >= s.since
), due AS (
    SELECT t.site_id, d::date AS day FROM touched AS t JOIN {Site._meta.db_table} AS s ON s.id = t.site_id
    LEFT JOIN unnest(%(zones)s::text[]) AS z(name) ON z.name = s.time_zone
    CROSS JOIN LATERAL generate_series(
        t.day, greatest(t.day, (now() AT TIME ZONE coalesce(z.name, 'UTC'))::date), interval '1 day') AS d
    UNION
    SELECT p.site_id, p.day FROM touched AS t JOIN {_next_stages_sql(STAGES[::-1])} ON o.stage = t.stage
    JOIN {STAGE_ROWS} AS p ON p.site_id = t.site_id AND p.visitor_id = t.visitor_id AND p.stage = o.next
)
INSERT INTO {STAGE_DAYS} AS d (site_id, day, stale) SELECT site_id, day, true FROM due
ON CONFLICT (site_id, day) DO UPDATE SET stale = true WHERE NOT d.stale
"""


def funnel_days_mark(cursor, *, from_cursor: tuple[int, int], to_cursor: tuple[int, int]) -> int:
    """Mark stale the funnel days the page views counted between the two (tx, id) cursors may have changed (the
    module's docstring says which; o.next is the stage before in the reversed order); called by
    rollups.journey_rollups_mark under its lock. How many rows changed."""
    cursor.execute(MARK_SQL, {"from_tx": from_cursor[0], "from_id": from_cursor[1], "to_tx": to_cursor[0],
                              "to_id": to_cursor[1], "zones": list(known_zones())})
    return cursor.rowcount


def days_mark(*, site_id: int, days: Iterable[dt.date]) -> None:
    """Mark these days of the site stale (rows written or deleted outside the fold)."""
    days = sorted(set(days))
    if connection.vendor != "postgresql" or not days:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"""INSERT INTO {STAGE_DAYS} AS d (site_id, day, stale) SELECT %s, day, true
            FROM unnest(%s::date[]) AS day ON CONFLICT (site_id, day) DO UPDATE SET stale = true WHERE NOT d.stale""",
                       [site_id, days])


def visitor_days_mark(*, site_id: int, visitor_ids: Iterable[str]) -> None:
    """Mark stale the days of these visitors' stage rows (before they are deleted)."""
    days = JourneyVisitorStage.objects.filter(site_id=site_id, visitor_id__in=list(visitor_ids)).values_list(
        "day", flat=True).distinct()
    days_mark(site_id=site_id, days=days)


def funnel_days_backfill(cursor) -> int:
    """Every (site, day) with stage rows, stale (the first marking: the rollups' cursor starts at the tally's)."""
    cursor.execute(f"""INSERT INTO {STAGE_DAYS} (site_id, day, stale) SELECT DISTINCT site_id, day, true
        FROM {STAGE_ROWS} ON CONFLICT (site_id, day) DO NOTHING""")
    return cursor.rowcount


# ---------------------------------------------------------------- a day's rebuild

_CLAIM = f"""SELECT id, site_id, day FROM {STAGE_DAYS}
WHERE stale AND (built_at IS NULL OR built_at <= now() - make_interval(
    secs => CASE WHEN day >= current_date - 1 THEN %(wait)s ELSE %(wait)s * {PAST_DAYS_WAIT} END)) {{only}}
ORDER BY day DESC, site_id LIMIT 1 FOR UPDATE SKIP LOCKED"""


def funnel_day_build(*, site_id: int | None = None, min_age: float = REBUILD_SECONDS) -> tuple[int, dt.date] | None:
    """Claim the newest stale funnel day (of one site, or of any) and rebuild it whole; (site id, day), or None
    when no day is left to claim. A stale day built less than `min_age` seconds ago waits (before yesterday,
    PAST_DAYS_WAIT times longer)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(WORK_MEM)
        cursor.execute(SHORT_READ)  # compiling the build's expressions takes longer than computing them
        only = "AND site_id = %(site)s" if site_id is not None else ""
        cursor.execute(_CLAIM.format(only=only), {"wait": min_age, "site": site_id})
        row = cursor.fetchone()
        if row is None:
            return None
        state_id, site_id, day = row
        cursor.execute(_gaps_sql(stages=STAGES, filtered="r.site_id = %s AND r.stage = ANY(%s) AND r.day = %s",
                                 segment=True), [site_id, list(STAGES), day])
        sums: dict[tuple, _Sums] = defaultdict(_Sums)
        for stage, device, source, returning, coarse, fine, count in cursor.fetchall():
            sums[stage, device, source, returning].add(coarse, fine, count)
        JourneyStageDaily.objects.filter(site_id=site_id, day=day).delete()
        JourneyStageDaily.objects.bulk_create([
            JourneyStageDaily(
                site_id=site_id, day=day, stage=stage, device=device, source=source, returning=returning,
                visitors=found.visitors, converted=found.converted,
                coarse=[sum(found.buckets[n].values()) for n in range(max(found.buckets, default=-1) + 1)],
                fine={str(n): [fines[m] for m in range(GAP_FINE)] for n, fines in found.buckets.items()},
            )
            for (stage, device, source, returning), found in sums.items()
        ], batch_size=1000)
        cursor.execute(f"UPDATE {STAGE_DAYS} SET built_at = now(), stale = false WHERE id = %s", [state_id])
    return site_id, day


# ---------------------------------------------------------------- the map's read


@dataclass(frozen=True)
class FunnelStatus:
    """How the funnel was read: `rolled` of the filter's `days` from rollups, as of `as_of` (the oldest build among
    the stale ones read; the latest build when none is stale)."""

    days: int
    rolled: int
    as_of: dt.datetime | None


def journey_funnel_rolled(*, site: Site, where, stages: Sequence[str] = STAGES, use_rollups: bool = True
                          ) -> tuple[list[FunnelStage], FunnelStatus]:
    """The stage funnel of the filter's days and segment (PostgreSQL, no audience): the built days from their
    rollups (the canonical order of stages only: the rollups hold each stage's time to the next of STAGES), the
    others (all with `use_rollups=False`) from the stage rows."""
    states = (JourneyStageDay.objects.filter(site=site, day__gte=where.start, day__lte=where.end,
                                             built_at__isnull=False).values_list("day", "built_at", "stale")
              if use_rollups and tuple(stages) == STAGES else [])
    built = sorted(day for day, _at, _stale in states)
    stale = [at for _day, at, is_stale in states if is_stale]
    as_of = min(stale) if stale else max((at for _day, at, _stale in states), default=None)
    days = (where.end - where.start).days + 1
    sums: dict[str, _Sums] = defaultdict(_Sums)
    rolled_coarse: dict[str, Counter] = defaultdict(Counter)
    rolled, rolled_params = rollup_where(site=site, where=where, days=built)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(WORK_MEM)
        if len(built) < days:  # the days never built, from the stage rows
            others = sorted({where.start + dt.timedelta(days=n) for n in range(days)} - set(built))
            filtered, params = where_sql(site=site, where=where, days=others)
            # The stages named too, so that the rows are found by the (site, stage, day) index, whichever days.
            filtered += " AND r.stage = ANY(%s::text[])"
            params.append(list(stages))
            cursor.execute(_gaps_sql(stages=stages, filtered=filtered, segment=False), params)
            for stage, coarse, fine, count in cursor.fetchall():
                sums[stage].add(coarse, fine, count)
        cursor.execute(SHORT_READ)
        if built:  # summed in the database: 90 days are some 35,000 coarse counts
            cursor.execute(f"SELECT r.stage, sum(r.visitors), sum(r.converted) FROM {STAGE_DAILY} AS r WHERE {rolled}"
                           " GROUP BY 1", rolled_params)
            for stage, visitors, converted in cursor.fetchall():
                sums[stage].visitors += int(visitors)
                sums[stage].converted += int(converted)
            cursor.execute(f"""SELECT r.stage, c.n - 1, sum(c.count::bigint) FROM {STAGE_DAILY} AS r
                CROSS JOIN LATERAL jsonb_array_elements_text(r.coarse) WITH ORDINALITY AS c(count, n)
                WHERE {rolled} GROUP BY 1, 2""", rolled_params)
            for stage, n, count in cursor.fetchall():
                if count:
                    rolled_coarse[stage][n] = int(count)

        coarse_of = {}
        for stage in stages:
            coarse_of[stage] = Counter({n: sum(fines.values()) for n, fines in sums[stage].buckets.items()})
            coarse_of[stage].update(rolled_coarse[stage])
        # The fine counts of the coarse buckets the medians fall in, for every stage at once.
        wanted = [(stage, str(n)) for stage in stages for n in middle_coarse(coarse_of[stage])]
        rolled_fine: dict[tuple[str, int], Counter] = defaultdict(Counter)
        if built and wanted:
            cursor.execute(f"""SELECT r.stage, w.n, (r.fine -> w.n)::text FROM {STAGE_DAILY} AS r
                JOIN unnest(%s::text[], %s::text[]) AS w(stage, n) ON w.stage = r.stage WHERE {rolled}""",
                           [[stage for stage, _n in wanted], [n for _stage, n in wanted], *rolled_params])
            for stage, n, stored in cursor.fetchall():
                for m, count in enumerate(json.loads(stored) if stored else ()):
                    rolled_fine[stage, int(n)][m] += count

    def fine_of(n: int, stage: str) -> Counter:
        return +(Counter(sums[stage].buckets.get(n, {})) + rolled_fine[stage, n])

    found = [StageSums(stage=stage, visitors=sums[stage].visitors, converted=sums[stage].converted,
                       median_seconds=median_from_buckets(coarse=+coarse_of[stage],
                                                          fine_of=lambda n, stage=stage: fine_of(n, stage)))
             for stage in stages]
    return funnel_from_sums(sums=found), FunnelStatus(days=days, rolled=len(built), as_of=as_of)
