"""Records kept after the raw events expire: form answers (NPS, feedback, leads), consent proof, and the history
of automatic allocation's reweightings.

The tally copies responses and consent proof out of the few events that carry them; allocation writes its own.
Campaign and variant references are plain integers, as on Event (models/events.py says why).
"""

from django.db import models

from campaigns.models.site import Site

__all__ = [
    "AllocationChange",
    "ConsentRecord",
    "Response",
]


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
