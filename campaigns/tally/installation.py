"""The installation fold: a batch's events into what the installation check reads (campaigns/models/installation.py),
in both tally folds, in the transaction that moves the tally's cursor.

Per site and origin: the latest event, the latest page view and the widget version its batch named (the latest page
view wins; on a tie, the one stored last); events per minute (ours); per campaign, the latest impression. All are
latest-of or sums, so both folds write the same rows whatever the order of arrival. Times are the server's
(`received_at`), not the visitor's clock.

An event's origin is its URL's scheme and host (ORIGIN_PATTERN, read alike by both folds) when that is one of the
site's allowed origins, normalized; anything else counts under OTHER_ORIGIN, so a client cannot add rows by sending
made-up URLs.
"""

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from campaigns.ingest.origins import origin_normalize
from campaigns.models import CampaignActivity, OriginActivity, OriginMinute, Site
from campaigns.models.installation import MINUTES_KEPT, OTHER_ORIGIN

ACTIVITY = OriginActivity._meta.db_table
MINUTES = OriginMinute._meta.db_table
CAMPAIGNS = CampaignActivity._meta.db_table

# A URL's origin as both folds read it: scheme and authority, lower-cased (the widget sends location.href, whose
# origin is already in the form origin_normalize gives).
ORIGIN_PATTERN = r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]+"
_ORIGIN = re.compile(ORIGIN_PATTERN)

# Claimed with the batch (sql.py's _CLAIM), after the journey's columns.
INSTALLATION_CLAIM_SQL = "e.received_at, e.widget_version"
INSTALLATION_CLAIM_COLUMNS = "received_at timestamptz, widget_version text"

# The origin is read once per distinct URL of the batch (tally_url_origins), not once per event: a site's pages recur,
# and the pattern's match is most of this step's cost when done per event. What needs no origin (a campaign's latest
# impression, a site's newest event) is read from the batch's events directly. Origins compare bytewise ("C"): the
# counters are grouped and locked in their order, which needs no language's rules, and sorting a batch's events by
# origin is then several times cheaper.
_FOLD = f"""
CREATE TEMP TABLE IF NOT EXISTS tally_url_origins (site_id bigint, url text, origin text COLLATE "C")
    ON COMMIT DELETE ROWS;
TRUNCATE tally_url_origins;
INSERT INTO tally_url_origins
SELECT u.site_id, u.url, coalesce(a.origin, '{OTHER_ORIGIN}')
FROM (SELECT DISTINCT site_id, url FROM tally_events) AS u
LEFT JOIN unnest(%(sites)s::bigint[], %(origins)s::text[]) AS a(site_id, origin)
    ON a.site_id = u.site_id AND a.origin = lower(substring(u.url from '{ORIGIN_PATTERN}'));
ANALYZE tally_url_origins;

INSERT INTO {ACTIVITY} AS t (site_id, origin, last_event_at, last_pageview_at, widget_version)
SELECT o.site_id, o.origin, max(e.received_at), max(e.received_at) FILTER (WHERE e.type = 'pageview'),
    coalesce((array_agg(e.widget_version ORDER BY e.received_at DESC, e.id DESC)
              FILTER (WHERE e.type = 'pageview'))[1], '')
FROM tally_events AS e JOIN tally_url_origins AS o ON o.site_id = e.site_id AND o.url = e.url
GROUP BY o.site_id, o.origin ORDER BY o.site_id, o.origin
ON CONFLICT (site_id, origin) DO UPDATE SET
    last_event_at = greatest(t.last_event_at, EXCLUDED.last_event_at),
    last_pageview_at = greatest(t.last_pageview_at, EXCLUDED.last_pageview_at),
    widget_version = CASE WHEN EXCLUDED.last_pageview_at >= coalesce(t.last_pageview_at, EXCLUDED.last_pageview_at)
        THEN EXCLUDED.widget_version ELSE t.widget_version END;

INSERT INTO {MINUTES} AS t (site_id, origin, minute, events)
SELECT o.site_id, o.origin, date_trunc('minute', e.received_at), count(*)
FROM tally_events AS e JOIN tally_url_origins AS o ON o.site_id = e.site_id AND o.url = e.url
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
ON CONFLICT (site_id, origin, minute) DO UPDATE SET events = t.events + EXCLUDED.events;

DELETE FROM {MINUTES} AS t
USING (SELECT site_id, max(received_at) AS newest FROM tally_events GROUP BY site_id) AS s
WHERE t.site_id = s.site_id AND t.minute < s.newest - interval '{MINUTES_KEPT} minutes';

INSERT INTO {CAMPAIGNS} AS t (campaign_id, site_id, last_impression_at)
SELECT campaign_id, min(site_id), max(received_at)
FROM tally_events WHERE type = 'impression' AND campaign_id IS NOT NULL GROUP BY campaign_id ORDER BY campaign_id
ON CONFLICT (campaign_id) DO UPDATE SET
    last_impression_at = greatest(t.last_impression_at, EXCLUDED.last_impression_at);
"""


def origin_of_event_url(url: str, *, allowed: frozenset[str]) -> str:
    """The origin an event counts under: its URL's, when the site allows it, else OTHER_ORIGIN."""
    match = _ORIGIN.match(url or "")
    origin = match.group(0).lower() if match else None
    return origin if origin in allowed else OTHER_ORIGIN


def allowed_origins_read(*, site_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    """Each site's allowed origins, normalized (one query)."""
    return {
        site_id: frozenset(o for o in map(origin_normalize, origins or []) if o)
        for site_id, origins in Site.objects.filter(id__in=set(site_ids)).values_list("id", "allowed_origins")
    }


def installation_fold(cursor) -> None:
    """The SQL fold's step, over the batch's tally_events."""
    cursor.execute("SELECT DISTINCT site_id FROM tally_events")
    allowed = allowed_origins_read(site_ids=[row[0] for row in cursor.fetchall()])
    pairs = [(site_id, origin) for site_id, origins in allowed.items() for origin in sorted(origins)]
    cursor.execute(_FOLD, {"sites": [p[0] for p in pairs], "origins": [p[1] for p in pairs]})


def installation_fold_events(*, events: list[dict]) -> None:
    """The Python fold's step: the same rows from the batch's events in memory (each with id, site_id, type,
    campaign_id, url, received_at and widget_version)."""
    if not events:
        return
    allowed = allowed_origins_read(site_ids={e["site_id"] for e in events})
    activity: dict[tuple[int, str], dict] = {}
    minutes: dict[tuple[int, str, datetime], int] = defaultdict(int)
    newest: dict[int, datetime] = {}
    impressions: dict[int, tuple[int, datetime]] = {}
    for e in sorted(events, key=lambda e: e["id"]):
        site_id, at = e["site_id"], e["received_at"]
        origin = origin_of_event_url(e["url"], allowed=allowed.get(site_id, frozenset()))
        row = activity.setdefault((site_id, origin), {"last_event_at": at, "last_pageview_at": None,
                                                      "widget_version": ""})
        row["last_event_at"] = max(row["last_event_at"], at)
        if e["type"] == "pageview" and (row["last_pageview_at"] is None or at >= row["last_pageview_at"]):
            row["last_pageview_at"], row["widget_version"] = at, e["widget_version"] or ""
        minutes[(site_id, origin, at.replace(second=0, microsecond=0))] += 1
        newest[site_id] = max(newest.get(site_id, at), at)
        if e["type"] == "impression" and e["campaign_id"] is not None:
            known = impressions.get(e["campaign_id"])
            impressions[e["campaign_id"]] = (site_id, max(known[1], at) if known else at)
    _activity_merge(activity)
    for (site_id, origin, minute), count in sorted(minutes.items()):
        row, made = OriginMinute.objects.get_or_create(site_id=site_id, origin=origin, minute=minute,
                                                       defaults={"events": count})
        if not made:
            OriginMinute.objects.filter(id=row.id).update(events=row.events + count)
    for site_id, at in newest.items():
        OriginMinute.objects.filter(site_id=site_id, minute__lt=at - timedelta(minutes=MINUTES_KEPT)).delete()
    for campaign_id, (site_id, at) in sorted(impressions.items()):
        row, made = CampaignActivity.objects.get_or_create(
            campaign_id=campaign_id, defaults={"site_id": site_id, "last_impression_at": at}
        )
        if not made and at > row.last_impression_at:
            CampaignActivity.objects.filter(id=row.id).update(last_impression_at=at)


def _activity_merge(activity: dict[tuple[int, str], dict]) -> None:
    for (site_id, origin), new in sorted(activity.items()):
        row = OriginActivity.objects.filter(site_id=site_id, origin=origin).first()
        if row is None:
            OriginActivity.objects.create(site_id=site_id, origin=origin, **new)
            continue
        row.last_event_at = max(row.last_event_at, new["last_event_at"])
        if new["last_pageview_at"] is not None and (
            row.last_pageview_at is None or new["last_pageview_at"] >= row.last_pageview_at
        ):
            row.last_pageview_at, row.widget_version = new["last_pageview_at"], new["widget_version"]
        row.save(update_fields=["last_event_at", "last_pageview_at", "widget_version"])

