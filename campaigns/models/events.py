"""Events, assignments, counters, responses and consent records.

Write path: the collect endpoint inserts `Event` rows, nothing else. A worker reads the events past the
`TallyCursor` in commit order, folds them into the tables below and moves the cursor in the same
transaction, so every accepted event is counted exactly once.

Campaign and variant references on these tables are plain integers, not foreign keys: the rows
are an append-only history that must outlive a deleted campaign or variant (results and consent
proof stay), ingestion checks the ids against the site's cached campaign map instead, and a
foreign-key check per inserted row would sit on the hottest write path for no benefit.
"""

from django.db import models
from django.db.models.functions import Coalesce

from campaigns.models.site import Site

__all__ = [
    "AllocationChange",
    "Assignment",
    "ConsentRecord",
    "Event",
    "EventType",
    "FunnelStep",
    "RejectedEventCount",
    "Response",
    "TallyCursor",
    "VariantDailyStats",
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
            # A visitor's impressions, for the time a form took from its impression to its submit (tally_forms).
            models.Index(fields=["site", "visitor_id", "campaign_id"], name="event_impression_visitor",
                         condition=models.Q(type="impression")),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class TallyCursor(models.Model):
    """One row: the (tx, id) of the last event counted. Every event after it, in that order, is still to count.

    The tally moves it in the transaction that writes the counts, under one advisory lock, so a batch is
    counted exactly once whatever the workers, crashes and retries.
    """

    last_tx = models.BigIntegerField(default=0)
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"tally cursor at ({self.last_tx}, {self.last_id})"


class Assignment(models.Model):
    """The variant a visitor was first exposed to (null: the holdout), and what they brought since."""

    # No database constraint and no index, as on Event: the tally inserts these by the ten thousand, and a
    # deferred foreign-key check per row cost as much as the insert. The site comes from its events, which
    # were checked on the way in; deleting a site still deletes these (Django's collector cascades).
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    campaign_id = models.BigIntegerField()
    variant_id = models.BigIntegerField(null=True, blank=True)
    visitor_id = models.CharField(max_length=64)
    first_exposed_at = models.DateTimeField()
    # Running per-visitor revenue, so the daily counters can keep an exact sum of squares per visitor.
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    # The visitor's segment, fixed at first exposure: every later count of this visitor is booked under it,
    # so the segments of the daily counters always add up to the campaign's totals. The database defaults
    # ("", "", false: unknown) are those of the rows counted before segments existed.
    device = models.CharField(max_length=8, blank=True, default="", db_default="")
    source = models.CharField(max_length=64, blank=True, default="", db_default="")
    returning = models.BooleanField(default=False, db_default=False)
    # The funnel steps the visitor reached on their assigned variant, each on the day (in the site's zone) they
    # first reached it; null until then. The tally counts a unique visitor of a step when it fills the field,
    # so a first impression is one row written, not two. A step reached on another variant, or before the
    # visitor had an assignment, is a FunnelStep row instead (moved here when the assignment is made).
    impression_on = models.DateField(null=True, blank=True)
    engaged_on = models.DateField(null=True, blank=True)
    submit_on = models.DateField(null=True, blank=True)
    converted_on = models.DateField(null=True, blank=True)
    mixed_on = models.DateField(null=True, blank=True)

    STEPS = {  # FunnelStep.Step -> the field holding it
        "impression": "impression_on", "engaged": "engaged_on", "submit": "submit_on", "converted": "converted_on",
        "mixed": "mixed_on",
    }

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign_id", "visitor_id"], name="assignment_unique_visitor")
        ]

    def __str__(self) -> str:
        return f"{self.visitor_id} in {self.campaign_id}: {self.variant_id or 'holdout'}"


class FunnelStep(models.Model):
    """A visitor reached a step of a campaign's funnel on a variant that is not their assignment's, or before they
    had an assignment (steps on the assigned variant are fields of Assignment); the unique key makes unique counts
    exact and idempotent."""

    class Step(models.TextChoices):
        IMPRESSION = "impression", "Saw it"
        ENGAGED = "engaged", "Clicked or stepped"
        SUBMIT = "submit", "Submitted"
        CONVERTED = "converted", "Reached the goal"
        # Booked under the visitor's assigned variant when they were shown another one: the arms are then not
        # independent, and the results say so.
        MIXED = "mixed", "Saw another variant"

    campaign_id = models.BigIntegerField()
    variant_id = models.BigIntegerField(null=True, blank=True)
    visitor_id = models.CharField(max_length=64)
    step = models.CharField(max_length=10, choices=Step.choices)
    day = models.DateField()

    class Meta:
        constraints = [
            # COALESCE: the holdout (null variant) must collide with itself, on PostgreSQL and SQLite alike.
            models.UniqueConstraint(
                "campaign_id", Coalesce("variant_id", 0), "visitor_id", "step", name="funnel_step_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.visitor_id} {self.step} in {self.campaign_id}"


class VariantDailyStats(models.Model):
    """Per campaign, variant (null: the holdout), day in the site's time zone and segment. Written only by the tally."""

    campaign_id = models.BigIntegerField()
    variant_id = models.BigIntegerField(null=True, blank=True)
    day = models.DateField()
    # The segment of the visitors counted here: their assignment's (see Assignment).
    device = models.CharField(max_length=8, blank=True, default="", db_default="")
    source = models.CharField(max_length=64, blank=True, default="", db_default="")
    returning = models.BooleanField(default=False, db_default=False)
    # Events.
    impressions = models.PositiveIntegerField(default=0)
    closes = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    submits = models.PositiveIntegerField(default=0)
    conversions = models.PositiveIntegerField(default=0)
    # Unique visitors, each counted on the day they first reached the step.
    exposed = models.PositiveIntegerField(default=0)
    impression_visitors = models.PositiveIntegerField(default=0)
    engaged_visitors = models.PositiveIntegerField(default=0)
    submit_visitors = models.PositiveIntegerField(default=0)
    converters = models.PositiveIntegerField(default=0)
    # Summed over days: the sum of per-visitor revenue, and the sum of its squares (for a variance).
    revenue_sum = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    revenue_sum_squares = models.DecimalField(max_digits=28, decimal_places=4, default=0)
    # Visitors assigned to this arm who were also shown another variant of the campaign.
    mixed_visitors = models.PositiveIntegerField(default=0)

    COUNTERS = (
        "impressions", "closes", "clicks", "submits", "conversions",
        "exposed", "impression_visitors", "engaged_visitors", "submit_visitors", "converters",
        "revenue_sum", "revenue_sum_squares", "mixed_visitors",
    )
    SEGMENTS = ("device", "source", "returning")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "campaign_id", Coalesce("variant_id", 0), "day", "device", "source", "returning",
                name="variant_daily_unique",
            )
        ]
        verbose_name_plural = "variant daily stats"

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.variant_id or 'holdout'} {self.day}"


class Response(models.Model):
    """An answer to an NPS, feedback or lead form, kept after the raw event expires."""

    class Form(models.TextChoices):
        NPS = "nps", "NPS"
        FEEDBACK = "feedback", "Feedback"
        LEAD = "lead", "Lead"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="responses")
    event_id = models.UUIDField()
    campaign_id = models.BigIntegerField()
    variant_id = models.BigIntegerField(null=True, blank=True)
    visitor_id = models.CharField(max_length=64)
    form = models.CharField(max_length=10, choices=Form.choices)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    followup = models.TextField(blank=True)
    choices = models.JSONField(default=list, blank=True)
    text = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    # A keyed hash of the normalised address (campaigns/pseudonyms.py): a data-subject request by e-mail is one
    # index probe, whatever the case or spaces the visitor typed.
    email_hash = models.CharField(max_length=64, blank=True, default="", db_default="", editable=False)
    name = models.CharField(max_length=200, blank=True)
    marketing_consent = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField()
    # When the server received the answer and the daily-salted hash of the sender's address (as on the event):
    # the per-e-mail and per-address limits of form answers count by these, which a client cannot set.
    received_at = models.DateTimeField(null=True, blank=True, editable=False)
    ip_hash = models.CharField(max_length=32, blank=True, default="", db_default="", editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "event_id"], name="response_unique_event")]
        indexes = [
            models.Index(fields=["campaign_id", "created_at"], name="response_campaign_time"),
            models.Index(fields=["site", "email_hash"], name="response_site_email",
                         condition=~models.Q(email_hash="")),
            models.Index(fields=["site", "visitor_id"], name="response_site_visitor"),
            models.Index(fields=["site", "created_at"], name="response_site_time"),
            models.Index(fields=["site", "ip_hash", "received_at"], name="response_site_address",
                         condition=~models.Q(ip_hash="")),
        ]

    def __str__(self) -> str:
        return f"{self.form} response {self.event_id}"


class ConsentRecord(models.Model):
    """Append-only proof of a consent decision: who (pseudonymously), when, to which policy, what."""

    class Decision(models.TextChoices):
        GRANTED = "granted", "Granted"
        DENIED = "denied", "Denied"
        CUSTOM = "custom", "Custom"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="consent_records")
    event_id = models.UUIDField()
    consent_id = models.CharField(max_length=64)
    decided_at = models.DateTimeField()
    received_at = models.DateTimeField()
    policy_version = models.CharField(max_length=40)
    categories = models.JSONField(default=list, blank=True)
    decision = models.CharField(max_length=8, choices=Decision.choices)
    ip_truncated = models.CharField(max_length=45, blank=True)
    user_agent = models.TextField(blank=True)
    url = models.TextField(blank=True, help_text="Without its query string or fragment.")
    tc_string = models.TextField(
        blank=True, default="", help_text="The IAB TCF consent string the decision was read from (TCF sites)."
    )
    # A keyed hash of the visitor id that decided (campaigns/pseudonyms.py), so one visitor's proof can be found
    # without the record naming them; blank for a denial (sent without a visitor id) and once their data is erased.
    visitor_hash = models.CharField(max_length=64, blank=True, default="", db_default="", editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "event_id"], name="consent_unique_event")]
        indexes = [
            models.Index(fields=["site", "received_at"], name="consent_site_received"),
            models.Index(fields=["site", "visitor_hash"], name="consent_site_visitor",
                         condition=~models.Q(visitor_hash="")),
        ]

    def __str__(self) -> str:
        return f"{self.decision} {self.consent_id}"


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


class AllocationChange(models.Model):
    """A reweighting by automatic allocation, with the evidence it used."""

    campaign_id = models.BigIntegerField(db_index=True)
    changed_at = models.DateTimeField()
    weights_before = models.JSONField(help_text='{"<variant id>": weight}')
    weights_after = models.JSONField()
    evidence = models.JSONField(
        default=dict, help_text='{"<variant id>": {"exposed": n, "converters": n, "share": s}}'
    )

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} at {self.changed_at:%Y-%m-%d %H:%M}"
