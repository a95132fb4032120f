"""Raw events, as the collect endpoint stores them, and the refusals it counts.

Write path: the collect endpoint inserts `Event` rows, nothing else. The tally reads the events past its
cursor in commit order and folds them into the tables of tally.py and records.py (campaigns/tally/). Raw
events expire (retention); what is kept after them lives in those two modules.

Campaign and variant references on these tables are plain integers, not foreign keys: the rows
are an append-only history that must outlive a deleted campaign or variant (results and consent
proof stay), ingestion checks the ids against the site's cached campaign map instead, and a
foreign-key check per inserted row would sit on the hottest write path for no benefit.
"""

from django.db import models

from campaigns.ingest.body import MAX_WIDGET_VERSION_CHARS
from campaigns.models.site import Site

__all__ = [
    "Event",
    "EventType",
    "RejectedEventCount",
]


class EventType(models.TextChoices):
    PAGEVIEW = "pageview", "Page view"
    EXPOSURE = "exposure", "Exposure"
    IMPRESSION = "impression", "Impression"
    CLOSE = "close", "Close"
    CLICK = "click", "Click"
    SUBMIT = "submit", "Submit"
    CONVERSION = "conversion", "Conversion"
    CONSENT = "consent", "Consent"


class Event(models.Model):
    """One event as the widget sent it, plus what the server knows (receipt time, device, IP hash)."""

    # No database constraint and no index of its own: the collect view has already resolved the site from its
    # key, a foreign-key check would take a shared lock on the one site row for every inserted event, and the
    # unique (site, event_id) and (site, received_at) indexes both start with the site. Deleting a site still
    # deletes its events (Django's collector cascades).
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    event_id = models.UUIDField()
    type = models.CharField(max_length=12, choices=EventType.choices)
    ts = models.DateTimeField(help_text="The visitor's clock.")
    received_at = models.DateTimeField(help_text="Ours.")
    visitor_id = models.CharField(max_length=64)
    session_id = models.CharField(max_length=64, blank=True)
    campaign_id = models.BigIntegerField(null=True, blank=True)
    variant_id = models.BigIntegerField(null=True, blank=True)
    url = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    device = models.CharField(max_length=8, blank=True)
    # A daily-salted hash of the client address: enough to rate-limit and count uniques within a day,
    # useless to recover the address.
    ip_hash = models.CharField(max_length=32, blank=True)
    # Only consent events keep these, as proof of who decided (the IP truncated to /24 or /48).
    ip_truncated = models.CharField(max_length=45, blank=True)
    user_agent = models.TextField(blank=True)
    # The widget version its batch named (the batch's `v`), on page views only: the installation check shows the
    # version each origin runs. A database default, so adding the column rewrites no row.
    widget_version = models.CharField(max_length=MAX_WIDGET_VERSION_CHARS, blank=True, db_default="")
    # The transaction that stored the event: PostgreSQL's pg_current_xact_id() (the column's default there, set
    # by migration 0008; 0 on other databases). The tally reads events in (tx, id) order and only those of
    # transactions older than every running one, so an event committed late can never be skipped.
    tx = models.BigIntegerField(db_default=0, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "event_id"], name="event_unique_per_site")]
        indexes = [
            models.Index(fields=["site", "received_at"], name="event_site_received"),
            models.Index(fields=["tx", "id"], name="event_tally_order"),
            # A visitor's conversions, for crediting them when their exposure reaches the tally later (rare rows).
            models.Index(fields=["site", "visitor_id"], name="event_conversion_visitor",
                         condition=models.Q(type="conversion")),
            # A visitor's impressions, for the time a form took from its impression to its submit (tally/forms.py).
            models.Index(fields=["site", "visitor_id", "campaign_id"], name="event_impression_visitor",
                         condition=models.Q(type="impression")),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class RejectedEventCount(models.Model):
    """Refused events by site, day (UTC) and reason: a site owner's debugging aid.

    Events refused inside an accepted batch count one by one under their reason. Whole refused requests
    (campaigns/ingest/refusals.py, REFUSED_*) count their events when these could be read (over the rate limit,
    too many in a batch), else the request once under a `request_...` reason.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    reason = models.CharField(max_length=32)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "day", "reason"], name="rejected_unique_day_reason")]

    def __str__(self) -> str:
        return f"{self.reason}: {self.count}"
