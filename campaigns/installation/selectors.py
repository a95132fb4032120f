"""What the installation check shows: a site's origins (from what the tally wrote), the origins refused, and a
campaign's last impression with the "no impression while its pages had page views" warning.

Cheap by construction: a site's page reads one row per origin, at most sixty minute rows per origin and at most
REFUSED_ORIGINS_KEPT refused origins (three queries and one Redis read); a campaign's page reads its activity row,
and for an active campaign without an impression in WARNING_HOURS whether any origin had a page view since; only
when one had and the campaign's targeting names pages, the URLs of the site's latest PAGE_SAMPLE page views of that
period (the (site, received_at) index of events, newest first).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Sum
from django.utils import timezone

from campaigns.ingest.origins import origin_normalize
from campaigns.ingest.refusals import refused_origins_pending
from campaigns.installation.url_targeting import url_matches, url_targeting, url_targeting_has_urls
from campaigns.models import Campaign, CampaignActivity, Event, OriginActivity, OriginMinute, RefusedOrigin, Site
from campaigns.models.installation import OTHER_ORIGIN, REFUSED_ORIGINS_KEPT

# A page view within this many days makes the check green.
RECENT_DAYS = 7
WARNING_HOURS = 24
# The latest page views a campaign's warning reads: enough for any site's pages, bounded for a busy one.
PAGE_SAMPLE = 2000

WAITING = "waiting"  # no page view yet
INSTALLED = "installed"  # a page view from an allowed origin within RECENT_DAYS
QUIET = "quiet"  # page views seen, none within RECENT_DAYS


@dataclass
class OriginSeen:
    origin: str  # OTHER_ORIGIN for events whose URL is on none of the allowed origins
    last_pageview_at: datetime | None
    widget_version: str
    last_event_at: datetime
    events_last_hour: int


@dataclass
class OriginRefused:
    origin: str
    count: int
    last_at: datetime | None


@dataclass
class Installation:
    state: str
    origins: list[OriginSeen] = field(default_factory=list)
    refused: list[OriginRefused] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)


def site_installation_get(*, site: Site, now: datetime | None = None) -> Installation:
    now = now or timezone.now()
    allowed = [o for o in map(origin_normalize, site.allowed_origins or []) if o]
    hour = dict(
        OriginMinute.objects.filter(site=site, minute__gte=now - timedelta(minutes=60))
        .values_list("origin").annotate(events=Sum("events")).values_list("origin", "events")
    )
    origins = [
        OriginSeen(origin=row.origin, last_pageview_at=row.last_pageview_at, widget_version=row.widget_version,
                   last_event_at=row.last_event_at, events_last_hour=hour.get(row.origin, 0))
        for row in OriginActivity.objects.filter(site=site).order_by("origin")
    ]
    origins.sort(key=lambda o: (o.origin == OTHER_ORIGIN, o.origin))
    seen = [o.last_pageview_at for o in origins if o.origin != OTHER_ORIGIN and o.last_pageview_at]
    state = WAITING if not seen else INSTALLED if max(seen) >= now - timedelta(days=RECENT_DAYS) else QUIET
    return Installation(state=state, origins=origins, refused=refused_origins_get(site=site, allowed=allowed),
                        allowed=allowed)


def refused_origins_get(*, site: Site, allowed: list[str]) -> list[OriginRefused]:
    """The origins refused and still not allowed, most recent first: stored ones and those noted since the last
    flush (counted together)."""
    refused = {
        row.origin: OriginRefused(origin=row.origin, count=row.count, last_at=row.last_at)
        for row in RefusedOrigin.objects.filter(site=site).order_by("-last_at", "-id")
    }
    for origin, count in refused_origins_pending(site_id=site.id).items():
        known = refused.get(origin)
        if known is None:
            refused[origin] = OriginRefused(origin=origin, count=count, last_at=None)
        else:
            known.count += count
    listed = [r for r in refused.values() if r.origin not in allowed]
    listed.sort(key=lambda r: (r.last_at is not None, r.last_at or timezone.now()), reverse=True)
    return listed[:REFUSED_ORIGINS_KEPT]


@dataclass
class CampaignInstallation:
    last_impression_at: datetime | None
    # Set when an active campaign had no impression in WARNING_HOURS while its pages had page views: how many of
    # the page views read matched its URL targeting, and how many were read (none for a campaign on every page).
    pages_viewed: int = 0
    pages_read: int = 0
    warning: bool = False


def campaign_installation_get(*, campaign: Campaign, now: datetime | None = None) -> CampaignInstallation:
    now = now or timezone.now()
    since = now - timedelta(hours=WARNING_HOURS)
    last = CampaignActivity.objects.filter(campaign=campaign).values_list("last_impression_at", flat=True).first()
    answer = CampaignInstallation(last_impression_at=last)
    live = (campaign.status == Campaign.Status.ACTIVE and (campaign.starts_at is None or campaign.starts_at <= now)
            and (campaign.ends_at is None or campaign.ends_at > now))
    if not live or (last is not None and last >= since):
        return answer
    # The origins' latest page views say whether the site had any, without reading events.
    viewed = OriginActivity.objects.filter(site_id=campaign.site_id, last_pageview_at__gte=since).exists()
    if not viewed or not url_targeting_has_urls(campaign.targeting):
        answer.warning = viewed  # no page view at all, or every page is the campaign's
        return answer
    reduced = url_targeting(campaign.targeting)
    urls = list(
        Event.objects.filter(site_id=campaign.site_id, received_at__gte=since, type="pageview")
        .order_by("-received_at").values_list("url", flat=True)[:PAGE_SAMPLE]
    )
    answer.pages_read = len(urls)
    answer.pages_viewed = sum(1 for url in urls if url_matches(reduced=reduced, url=url))
    answer.warning = answer.pages_viewed > 0
    return answer
