"""The audience fold: the audiences a page view names into the daily audience counters, in both tally folds.

campaigns/models/audiences.py says what the tables count. A page view names audiences in `data.audiences`, a list
of ids the widget evaluated (widget/src/lazy/audiences.js); an id counts when it is a JSON number equal to the id
of one of the event's site's audiences when the batch is folded, once per page view, and only for a page view with
a visitor. `audiences_fold` is the SQL fold's step (set-based over the batch's `tally_events`),
`audiences_fold_events` the Python fold's; both run in the batch's transaction, so each page view is counted once,
and give the same rows whatever the order of arrival (sums, and a visitor's row inserted once per audience and day).
"""

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime

from django.db import connection

from campaigns.models import Audience, AudienceDaily, AudienceVisitorDay

AUDIENCES = Audience._meta.db_table
DAILY = AudienceDaily._meta.db_table
MEMBERS = AudienceVisitorDay._meta.db_table
# Rows per INSERT of the Python fold (SQLite's limit on the parameters of one statement).
ROWS_PER_INSERT = 500

# ---------------------------------------------------------------- the SQL fold

# The (page view, audience) pairs of the batch, each once; the visitor-days inserted (RETURNING gives only the new
# ones: the tally is the only writer, one batch at a time); then pageviews and new visitors added per audience and day.
_FOLD = f"""
WITH named AS (
    SELECT DISTINCT e.id, e.site_id, e.day, e.visitor_id, a.id AS audience_id
    FROM tally_events AS e
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(e.payload -> 'audiences') = 'array'
        THEN e.payload -> 'audiences' ELSE '[]'::jsonb END) AS x(value)
    JOIN {AUDIENCES} AS a ON a.site_id = e.site_id AND to_jsonb(a.id) = x.value
    WHERE e.type = 'pageview' AND coalesce(e.visitor_id, '') <> ''
), members AS (
    INSERT INTO {MEMBERS} (site_id, audience_id, day, visitor_id)
    SELECT DISTINCT site_id, audience_id, day, visitor_id FROM named ORDER BY audience_id, day, visitor_id
    ON CONFLICT (audience_id, day, visitor_id) DO NOTHING
    RETURNING audience_id, day
)
INSERT INTO {DAILY} AS d (site_id, audience_id, day, pageviews, visitors)
SELECT p.site_id, p.audience_id, p.day, p.pageviews, coalesce(v.visitors, 0)
FROM (SELECT site_id, audience_id, day, count(*) AS pageviews FROM named GROUP BY site_id, audience_id, day) AS p
LEFT JOIN (SELECT audience_id, day, count(*) AS visitors FROM members GROUP BY audience_id, day) AS v
    USING (audience_id, day)
ORDER BY p.audience_id, p.day
ON CONFLICT (audience_id, day) DO UPDATE SET
    pageviews = d.pageviews + EXCLUDED.pageviews, visitors = d.visitors + EXCLUDED.visitors
"""


def audiences_fold(cursor) -> None:
    """The SQL fold's audience step: the batch's page views (in `tally_events`) into the audience tables."""
    cursor.execute(_FOLD)


# ---------------------------------------------------------------- the Python fold


def audience_ids_of(payload: object) -> list[float]:
    """The ids a page view's `data.audiences` names: its JSON numbers (not booleans), as the SQL fold reads them."""
    named = payload.get("audiences") if isinstance(payload, dict) else None
    return [x for x in named if type(x) in (int, float)] if isinstance(named, list) else []


def audiences_fold_events(*, events: list[dict], day_of: Callable[[int, datetime], date]) -> None:
    """The Python fold's audience step: the same rows as `audiences_fold`, from the batch's events in memory."""
    candidates = [
        (e, ids) for e in events
        if e["type"] == "pageview" and e["visitor_id"] and (ids := audience_ids_of(e["payload"]))
    ]
    if not candidates:
        return
    known = set(
        Audience.objects.filter(site_id__in={e["site_id"] for e, _ids in candidates}).values_list("site_id", "id")
    )
    named = set()
    for e, ids in candidates:
        day = day_of(e["site_id"], e["ts"])
        for x in ids:
            if x == int(x) and (e["site_id"], int(x)) in known:
                named.add((e["id"], e["site_id"], int(x), day, e["visitor_id"]))
    if not named:
        return
    pageviews = Counter((site_id, audience_id, day) for _id, site_id, audience_id, day, _visitor in named)
    members = {(site_id, audience_id, day, visitor) for _id, site_id, audience_id, day, visitor in named}
    kept = set(
        AudienceVisitorDay.objects.filter(
            audience_id__in={m[1] for m in members}, day__in={m[2] for m in members},
            visitor_id__in={m[3] for m in members},
        ).values_list("audience_id", "day", "visitor_id")
    )
    new = sorted(m for m in members if m[1:] not in kept)
    AudienceVisitorDay.objects.bulk_create(
        [AudienceVisitorDay(site_id=s, audience_id=a, day=d, visitor_id=v) for s, a, d, v in new],
        batch_size=ROWS_PER_INSERT,
    )
    visitors = Counter((site_id, audience_id, day) for site_id, audience_id, day, _visitor in new)
    rows = sorted((*key, count, visitors[key]) for key, count in pageviews.items())
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ROWS_PER_INSERT):
            chunk = rows[start:start + ROWS_PER_INSERT]
            cursor.execute(
                f"INSERT INTO {DAILY} (site_id, audience_id, day, pageviews, visitors) VALUES "
                + ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
                + f" ON CONFLICT (audience_id, day) DO UPDATE SET pageviews = {DAILY}.pageviews + EXCLUDED.pageviews,"
                f" visitors = {DAILY}.visitors + EXCLUDED.visitors",
                [value for row in chunk for value in row],
            )
