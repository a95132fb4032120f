"""What the installation check reads: each origin's last page view and widget version, its events per minute, each
campaign's last impression (written by the tally, from stored events), and the origins collect refused (written by
campaigns/ingest/refusals.py, at most REFUSED_ORIGINS_KEPT per site).

The tally writes the first three in the transaction that moves its cursor (campaigns/tally/installation.py), so the
config and collect paths write nothing for them, and the admin reads a handful of rows instead of raw events.

Bounded, whatever a client sends: an event's origin is the origin of its URL when that is one of the site's allowed
origins, else OTHER_ORIGIN (one row for all the rest); minutes older than MINUTES_KEPT before a site's newest
folded event are deleted by the fold; refused origins keep the most recently refused REFUSED_ORIGINS_KEPT.
"""

from django.db import models

from campaigns.models.site import Campaign, Site

__all__ = [
    "CampaignActivity",
    "OriginActivity",
    "OriginMinute",
    "RefusedOrigin",
]

# The origin under which events whose URL is on none of the site's allowed origins are counted.
OTHER_ORIGIN = ""
ORIGIN_MAX_LENGTH = 255
# The per-minute counts kept behind a site's newest folded event (the check reads the last hour of them).
MINUTES_KEPT = 120
REFUSED_ORIGINS_KEPT = 20


def _site_reference():
    return models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)


class OriginActivity(models.Model):
    """One origin of a site as its stored events show it: the latest page view, the widget version that page view's
    batch named, the latest event."""

    site = _site_reference()
    origin = models.CharField(max_length=ORIGIN_MAX_LENGTH, blank=True)
    last_event_at = models.DateTimeField()
    last_pageview_at = models.DateTimeField(null=True, blank=True)
    widget_version = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "origin"], name="origin_activity_unique")]

    def __str__(self) -> str:
        return self.origin or "other"


class OriginMinute(models.Model):
    """Events of one origin received in one minute (ours, UTC)."""

    site = _site_reference()
    origin = models.CharField(max_length=ORIGIN_MAX_LENGTH, blank=True)
    minute = models.DateTimeField()
    events = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "origin", "minute"], name="origin_minute_unique")]

    def __str__(self) -> str:
        return f"{self.origin or 'other'} {self.minute:%H:%M}: {self.events}"


class CampaignActivity(models.Model):
    """A campaign's latest impression (ours), kept after its raw events expire."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    site = _site_reference()
    last_impression_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"campaign {self.campaign_id}: {self.last_impression_at:%Y-%m-%d %H:%M}"


class RefusedOrigin(models.Model):
    """An origin whose requests were refused because the site does not allow it: the owner is asked to add it."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    origin = models.CharField(max_length=ORIGIN_MAX_LENGTH)
    count = models.PositiveIntegerField(default=0)
    last_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "origin"], name="refused_origin_unique")]

    def __str__(self) -> str:
        return f"{self.origin}: {self.count}"
