"""The gallery's templates: complete campaigns as data, one JSON file each under catalog/ (the file name is the key).

A template holds what the campaign form holds: name, message type, priority, triggers, schedule, targeting,
frequency, goal, control share (a holdout), and its variants with their content; plus a description and a category
for the gallery, and optionally `ends_in_days` (the campaign ends that many days after it is created from the
template, and a countdown without an end counts down to that moment).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from campaigns.content import content_clean
from campaigns.ingest.url_hygiene import kept_params_default
from campaigns.models import Campaign
from campaigns.targeting.validation import validate_campaign_rules

CATALOG = Path(__file__).resolve().parent / "catalog"
# The order of the gallery: sales first, then leads, feedback, engagement, compliance and testing.
ORDER = (
    "exit_discount", "seasonal_countdown", "cart_recovery", "free_shipping_bar", "lead_magnet", "product_quiz",
    "checkout_survey", "nps_after_purchase", "exit_feedback", "blog_interest", "utm_welcome", "welcome_back",
    "consent_banner", "ab_headlines",
)
# What a campaign row takes from a template (the rest is the gallery's own).
CAMPAIGN_FIELDS = ("priority", "triggers", "schedule", "targeting", "frequency", "goal", "control_share")
REQUIRED = ("name", "description", "category", "message_type", "triggers", "schedule", "targeting", "frequency",
            "goal", "variants")
KNOWN = frozenset((*REQUIRED, *CAMPAIGN_FIELDS, "ends_in_days"))

ERROR_UNKNOWN_TEMPLATE = "There is no template {key!r} in the gallery."
ERROR_MISSING_KEY = "{key}: a template needs it"
ERROR_UNKNOWN_KEY = "{key}: not a template field"
ERROR_NO_VARIANTS = "variants: a template needs at least one variant"
ERROR_BAD_MESSAGE_TYPE = "message_type: {value!r} is not a message type"
ERROR_BAD_ENDS = "ends_in_days: must be a whole number of days from 1 to 365"


@dataclass(frozen=True)
class GalleryTemplate:
    key: str
    name: str
    description: str
    category: str
    message_type: str
    data: dict[str, Any] = field(repr=False)

    @property
    def thumbnail(self) -> str:
        """The static path of its picture (drawn by `manage.py gallery_thumbnails`)."""
        return f"campaigns/gallery/{self.key}.png"

    def campaign_fields(self) -> dict[str, Any]:
        """A fresh copy of the campaign's rule fields, ready for campaign_create()."""
        return {name: copy.deepcopy(self.data[name]) for name in CAMPAIGN_FIELDS if name in self.data}

    def variants(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self.data["variants"])

    @property
    def ends_in_days(self) -> int | None:
        return self.data.get("ends_in_days")


@cache
def _load() -> dict[str, GalleryTemplate]:
    templates = {}
    for key in ORDER:
        data = json.loads((CATALOG / f"{key}.json").read_text())
        templates[key] = GalleryTemplate(
            key=key, name=data["name"], description=data["description"], category=data["category"],
            message_type=data["message_type"], data=data,
        )
    return templates


def gallery_templates() -> list[GalleryTemplate]:
    """Every template, in the gallery's order."""
    return list(_load().values())


def gallery_template_get(*, key: str) -> GalleryTemplate:
    """The template named `key`; KeyError (with ERROR_UNKNOWN_TEMPLATE) when there is none."""
    try:
        return _load()[key]
    except KeyError:
        raise KeyError(ERROR_UNKNOWN_TEMPLATE.format(key=key)) from None


def gallery_template_problems(*, template: GalleryTemplate) -> list[str]:
    """Everything wrong with a template, with the same checks a campaign saved in the admin goes through (its rules
    against a site that keeps the default query parameters, each variant's content against its message type)."""
    data = template.data
    problems = [ERROR_MISSING_KEY.format(key=key) for key in REQUIRED if key not in data]
    problems += [ERROR_UNKNOWN_KEY.format(key=key) for key in data if key not in KNOWN]
    if data.get("message_type") not in Campaign.MessageType.values:
        problems.append(ERROR_BAD_MESSAGE_TYPE.format(value=data.get("message_type")))
    ends = data.get("ends_in_days")
    if ends is not None and (not isinstance(ends, int) or isinstance(ends, bool) or not 1 <= ends <= 365):
        problems.append(ERROR_BAD_ENDS)
    problems += validate_campaign_rules(
        triggers=data.get("triggers"), targeting=data.get("targeting"), frequency=data.get("frequency"),
        schedule=data.get("schedule"), goal=data.get("goal"), kept_params=frozenset(kept_params_default()),
    )
    variants = data.get("variants") or []
    if not variants:
        problems.append(ERROR_NO_VARIANTS)
    for index, variant in enumerate(variants):
        _cleaned, errors = content_clean(message_type=data.get("message_type", ""), content=variant.get("content"))
        problems += [f"variants[{index}].{error}" for error in errors]
    return problems
