"""The log of data-subject requests: every export and erasure of one person's data, by whom, and what it found."""

from django.conf import settings
from django.db import models

from campaigns.models.site import Site

__all__ = ["DataRequest"]


class DataRequest(models.Model):
    """One export or erasure, kept after the data it names is gone (the owner's proof that they answered).

    The look-up is stored as its keyed hash, never as typed: a log of erasures must not keep the very e-mail
    or visitor id it erased, yet hashing the same input again finds the requests made for it.
    """

    class Action(models.TextChoices):
        EXPORT = "export", "Export"
        ERASE = "erase", "Erase"

    class Lookup(models.TextChoices):
        VISITOR = "visitor", "Visitor id"
        EMAIL = "email", "E-mail address"

    class Channel(models.TextChoices):
        ADMIN = "admin", "Admin"
        API = "api", "REST API"
        COMMAND = "command", "Management command"
        DENIAL = "denial", "Visitor's denial (erase on denial)"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="data_requests")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Empty for the management command.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=8, choices=Action.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    lookup = models.CharField(max_length=8, choices=Lookup.choices)
    lookup_hash = models.CharField(max_length=64, help_text="Keyed hash of what was looked up (not the value).")
    visitors = models.PositiveIntegerField(default=0, help_text="Visitor ids the look-up led to.")
    found = models.JSONField(default=dict, blank=True, help_text='Rows found per kind: {"events": 12, ...}')
    erased = models.JSONField(default=dict, blank=True, help_text="Rows deleted or unlinked per kind.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["site", "action", "created_at"], name="data_request_site_action"),
            models.Index(fields=["site", "lookup_hash"], name="data_request_site_lookup"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.get_lookup_display()} on {self.created_at:%Y-%m-%d %H:%M}"
