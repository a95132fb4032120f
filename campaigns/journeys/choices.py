"""The journey map's filter choices: the segments (devices, sources, new/returning) and the most viewed paths (the
"From the page" options), computed by the worker and kept for the page, so that a page never scans the counters.

Read whole, they scan every counter row of the site (`journey_segments_get`, `journey_paths_get`): seconds at a
million page views a day. So on PostgreSQL the worker computes them at the end of each rollup refresh, for each site
whose days it rebuilt (a group edit refreshes that site's rollups, hence its choices), and keeps them in the cache
(Redis, shared by the web and worker processes) for KEPT_SECONDS, far longer than they are refreshed; the page only
reads them there. The cache rather than a model: no migration, one key read per page, and an evicted key costs
only what the page did before (the fallback below).
- segments: the distinct full segments of the label rollups (found along their read index, one probe each),
  with those of the counters of the days not rolled up yet (stale, or newer than any built day);
- paths: the page views by path over the last PATHS_DAYS counted days (an index range of the counters, read in
  the worker only, at most every PATHS_SECONDS), so a path not viewed for a month leaves the choices.

Where nothing is kept (a new site; SQLite or in-process tasks, where no worker builds rollups) the page computes
them the way it always did, over all the counters (cheap there), and caches them for CHOICES_SECONDS.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Sequence

from django.core.cache import cache
from django.db import connection
from django.db.models import Max, Sum

from campaigns.journeys.paths import Group, journey_groups_key, labeller
from campaigns.models import JourneyLabelDaily, JourneyPageDaily, JourneyRollupDay, Site

# How long choices the page computed itself are cached (they change when a new source or page shows up).
CHOICES_SECONDS = 600
# How long the worker's choices are kept: refreshed every few minutes on a site with traffic, they outlive a day
# without any so that a quiet site's page does not scan either.
KEPT_SECONDS = 7 * 86_400
# The most viewed paths are read over this many days up to the newest counted one, at most every PATHS_SECONDS.
PATHS_DAYS = 30
PATHS_SECONDS = 600
# How many paths are kept (the page offers fewer: PATHS_OFFERED, the start paths among them).
PATHS_KEPT = 500
PATHS_OFFERED = 200

PAGES = JourneyPageDaily._meta.db_table
LABEL_PAGES = JourneyLabelDaily._meta.db_table
DAYS = JourneyRollupDay._meta.db_table


def _key(site_id: int) -> str:
    return f"journeys:choices:{site_id}"


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


def journey_paths_get(*, site: Site, limit: int = 500, since: dt.date | None = None) -> list[tuple[str, int]]:
    """The site's most viewed cleaned paths, with their page views over all the days counted (or from `since`)."""
    rows = JourneyPageDaily.objects.filter(site=site)
    if since is not None:
        rows = rows.filter(day__gte=since)
    return [
        (row["path"], row["views"])
        for row in rows.values("path").annotate(views=Sum("pageviews")).order_by("-views", "path")[:limit]
    ]


# The full segments of the built rollups, and of the counters of the days whose rollups are stale or not there yet
# (newer than any day the site has a rollup state for). The rollups' part skips from one segment to the next along
# their read index (site, device, source, returning, day): one index probe per segment, however many days and
# labels it has rows for; the counters' part is an index range of the few days not rolled up.
_FULL = 'site_id = %(site)s AND device IS NOT NULL AND source IS NOT NULL AND "returning" IS NOT NULL'
_SEGMENTS = f"""
WITH RECURSIVE rolled AS (
    (SELECT device, source, "returning" FROM {LABEL_PAGES} WHERE {_FULL}
     ORDER BY device, source, "returning" LIMIT 1)
    UNION ALL
    SELECT after.* FROM rolled, LATERAL (
        SELECT device, source, "returning" FROM {LABEL_PAGES}
        WHERE {_FULL} AND (device, source, "returning") > (rolled.device, rolled.source, rolled."returning")
        ORDER BY device, source, "returning" LIMIT 1) AS after
)
SELECT device, source, "returning" FROM rolled
UNION
SELECT DISTINCT device, source, "returning" FROM {PAGES}
WHERE site_id = %(site)s AND (
    day IN (SELECT day FROM {DAYS} WHERE site_id = %(site)s AND stale)
    OR day > coalesce((SELECT max(day) FROM {DAYS} WHERE site_id = %(site)s), '-infinity'::date))
"""


def journey_segments_rolled(*, site_id: int) -> dict[str, list]:
    """journey_segments_get read from the label rollups (PostgreSQL): the same values once the days are built."""
    found: dict[str, set] = {"device": set(), "source": set(), "returning": set()}
    with connection.cursor() as cursor:
        cursor.execute(_SEGMENTS, {"site": site_id})
        for device, source, returning in cursor.fetchall():
            found["device"].add(device)
            found["source"].add(source)
            found["returning"].add(returning)
    return {field: sorted(values) for field, values in found.items()}


def journey_choices_refresh(*, site_id: int, now: float | None = None) -> dict:
    """Compute and keep a site's choices (the worker's, after rebuilding its days); the most viewed paths only
    when those kept are older than PATHS_SECONDS."""
    now = time.time() if now is None else now
    kept = cache.get(_key(site_id)) or {}
    choices = {"segments": journey_segments_rolled(site_id=site_id), "paths": kept.get("paths"),
               "paths_at": kept.get("paths_at", 0)}
    if choices["paths"] is None or now - choices["paths_at"] >= PATHS_SECONDS:
        newest = JourneyPageDaily.objects.filter(site_id=site_id).aggregate(newest=Max("day"))["newest"]
        since = newest - dt.timedelta(days=PATHS_DAYS - 1) if newest else None
        site = Site(id=site_id)
        choices.update(paths=journey_paths_get(site=site, limit=PATHS_KEPT, since=since), paths_at=now)
    cache.set(_key(site_id), choices, KEPT_SECONDS)
    return choices


def _kept(site: Site) -> dict | None:
    return cache.get(_key(site.id))


def journey_segments_choices(*, site: Site) -> dict[str, list]:
    """The map's segment choices: the worker's, else journey_segments_get cached for CHOICES_SECONDS."""
    kept = _kept(site)
    if kept is not None:
        return kept["segments"]
    key = f"journeys:segments:{site.id}"
    found = cache.get(key)
    if found is None:
        found = journey_segments_get(site=site)
        cache.set(key, found, CHOICES_SECONDS)
    return found


def journey_paths_choices(*, site: Site, limit: int) -> list[tuple[str, int]]:
    """The map's most viewed paths: the worker's, else journey_paths_get cached for CHOICES_SECONDS."""
    kept = _kept(site)
    if kept is not None and limit <= PATHS_KEPT:
        return kept["paths"][:limit]
    key = f"journeys:paths:{limit}:{site.id}"
    found = cache.get(key)
    if found is None:
        found = journey_paths_get(site=site, limit=limit)
        cache.set(key, found, CHOICES_SECONDS)
    return found


def journey_start_paths(*, site: Site, groups: Sequence[Group], limit: int) -> list[str]:
    """The most viewed of the map's paths that are in no group (pages a flow can start from besides the groups),
    cached with the paths and groups they were labelled from (labelling two hundred paths by the rule language takes
    tens of milliseconds)."""
    paths = [path for path, _views in journey_paths_choices(site=site, limit=PATHS_OFFERED)]
    digest = hashlib.sha256("\n".join(paths).encode()).hexdigest()[:16]
    key = f"journeys:start:{site.id}:{limit}:{journey_groups_key(groups=groups)[:16]}:{digest}"
    found = cache.get(key)
    if found is None:
        label = labeller(groups=groups)
        found = [path for path in paths if label(path) == path][:limit]
        cache.set(key, found, KEPT_SECONDS)
    return found
