"""Lead magnet files: what a lead campaign hands out once a visitor's sign-up is stored."""

import re
import secrets
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.db import models

from campaigns.models.site import Site

# The name a variant's content refers to as `asset:<name>` (campaigns/content.py ASSET_REF_RE); digits alone are
# kept for references by id.
ASSET_NAME_RE = re.compile(r"^(?![0-9]+$)[a-z0-9][a-z0-9_.-]{0,99}$")
ERROR_NAME = "Lower-case letters, digits, '.', '_' and '-' (not digits alone), e.g. trail-checklist.pdf."
ERROR_FILE_OR_URL = "Give either a file or a URL, not both and not neither."


def validate_asset_name(value: str) -> None:
    if not ASSET_NAME_RE.match(value or ""):
        raise ValidationError(ERROR_NAME)


def asset_upload_to(instance: "Asset", filename: str) -> str:
    # A random folder: even a server that wrongly exposed MEDIA_ROOT would not let anyone guess a file's path.
    return f"assets/{instance.site_id}/{secrets.token_urlsafe(12)}/{PurePath(filename).name}"


class Asset(models.Model):
    """A file under MEDIA_ROOT or a URL. Never served at a URL of its own: only through a signed, short-lived link
    answered to the collect request that stored the lead (widget/api/magnet.py)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="assets")
    name = models.CharField(
        max_length=100, validators=[validate_asset_name],
        help_text="How a lead campaign's content names it: asset:<name>, e.g. asset:trail-checklist.pdf.",
    )
    title = models.CharField(max_length=200, help_text="What the visitor gets, e.g. The one-page checklist (PDF).")
    file = models.FileField(upload_to=asset_upload_to, blank=True, max_length=300)
    url = models.URLField(
        blank=True, max_length=2000,
        help_text="Or a file kept elsewhere: the signed link redirects to it, so it never appears in the widget.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site", "name"]
        verbose_name = "lead magnet file"
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="asset_name_unique_per_site"),
            models.CheckConstraint(
                condition=(models.Q(file="") & ~models.Q(url="")) | (~models.Q(file="") & models.Q(url="")),
                name="asset_file_or_url",
            ),
        ]

    def __str__(self) -> str:
        return f"asset:{self.name}"

    def clean(self) -> None:
        if bool(self.file) == bool(self.url):
            raise ValidationError(ERROR_FILE_OR_URL)
