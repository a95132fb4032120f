"""What the tally writes: its cursor, each visitor's assignment with the funnel steps they reached, and the daily
counters per variant and segment.

The tally moves its cursor in the transaction that writes what a batch adds, so every accepted event is counted
exactly once. Campaign and variant references are plain integers, as on Event (models/events.py says why).
"""

from django.db import models
from django.db.models.functions import Coalesce

from campaigns.models.site import Site

__all__ = [
    "Assignment",
    "FunnelStep",
    "TallyCursor",
    "VariantDailyStats",
]


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
