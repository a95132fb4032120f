"""The journey map's daily rollups by label (campaigns/models/journey_rollups.py): built by a worker, read by the map.

A day's counters by path (a million page views a day is ~575,000 rows) are summed by label once, with the site's
groups as they are then, for every combination of segment filters; the map then reads about a thousand rows a
day (its filter's) instead of summing every path row of every day it shows. Groups still apply when the map is
read: a day is read from its rollups only when they were built with the site's groups now (`groups_hash`), and
from the counters otherwise, so editing a group re-groups history at once (slowly, until the worker has rebuilt
the days).

What makes a day due for a rebuild (`JourneyRollupDay.stale`), without any work in the tally's fold:
- page views of that day were folded since it was built: the worker reads the day of each page view the tally has
  counted since it last looked (events between its own cursor and the tally's, in the tally's order; a minute of
  a busy site is a few thousand events), so a late page view for a past day marks that day;
- the site's groups changed: each run compares the hash every day was built with to the groups' hash now.

`journey_rollups_refresh` (the `campaigns.journey_rollups_refresh` task, run by beat every minute) marks, then
rebuilds the stale days newest first (today first), each in its own transaction: the day's state row is claimed
with FOR UPDATE SKIP LOCKED, its rollup rows deleted and summed again from its counters, and the state updated,
so two workers never build the same day and a rebuild can be repeated. A day with new page views (today) waits
REBUILD_SECONDS after its last build; a regrouped day does not wait. On SQLite (the demo, tasks in-process)
nothing is built and the map reads the counters, as it always did.

build.py marks and rebuilds the days; weeks.py sums whole weeks of them, read in place of their days while
built after them; read.py is the map's read.
"""

from campaigns.journeys.rollups.build import (
    LABEL_MOVES,
    LABEL_PAGES,
    REBUILD_SECONDS,
    groups_hash,
    journey_rollup_build,
    journey_rollups_mark,
    journey_rollups_refresh,
)
from campaigns.journeys.rollups.read import RollupStatus, journey_label_counts_rolled

__all__ = [
    "LABEL_MOVES", "LABEL_PAGES", "REBUILD_SECONDS", "RollupStatus", "groups_hash", "journey_label_counts_rolled",
    "journey_rollup_build", "journey_rollups_mark", "journey_rollups_refresh",
]
