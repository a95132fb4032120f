"""Structured editors for the admin's JSON fields: a textarea that stays the field, plus what the editor needs.

Each widget renders the ordinary textarea (the posted value, valid or not, so a failed save keeps everything typed)
inside a container marked `data-editor="<kind>"`, with the vocabulary it offers as a JSON data block: no inline
script, the admin's Content-Security-Policy allows none. campaigns/static/campaigns/admin/editors.js builds the
editor from that data and writes the JSON back into the textarea, with an `input` event on every change.
"""

from __future__ import annotations

from django import forms
from django.urls import reverse

from campaigns.content import content_vocabulary
from campaigns.journeys.audiences import site_audiences_get
from campaigns.models import Campaign, PageGroup, Site
from campaigns.targeting.editor import editor_vocabulary

KINDS = ("triggers", "targeting", "frequency", "schedule", "goal", "content", "origins")
# The fields the plain-language summary reads: their editors tell the page where to ask for it.
DESCRIBED = ("triggers", "targeting", "frequency")


def _vocabulary(kind: str) -> dict:
    """The slice of the vocabularies one editor reads."""
    if kind == "content":
        return content_vocabulary(message_types=list(Campaign.MessageType.values))
    if kind == "origins":
        return {}
    vocabulary = editor_vocabulary()
    if kind == "triggers":
        return {"triggers": vocabulary["triggers"]}
    if kind == "targeting":
        return {key: vocabulary[key] for key in ("operators", "attributes", "patterns", "max_depth")}
    if kind == "goal":
        return {"goal": vocabulary["goal"], "patterns": vocabulary["patterns"]}
    if kind == "schedule":
        return {"hours": vocabulary["hours"]}
    return {"frequency": vocabulary["frequency"]}


class JsonEditorWidget(forms.Textarea):
    """The JSON textarea of one field with the structured editor of `kind` over it.

    `context` adds facts of the page the editor shows (the site's time zone for a schedule)."""

    template_name = "campaigns/widgets/json_editor.html"

    class Media:
        css = {"all": ("campaigns/admin/editors.css",)}
        js = ("campaigns/admin/editors.js",)

    def __init__(self, *, kind: str, context: dict | None = None, attrs: dict | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"no editor of kind {kind!r}")
        super().__init__(attrs={"rows": 4, "cols": 80, **(attrs or {})})
        self.kind = kind
        self.context = context or {}

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["editor"] = {
            "kind": self.kind,
            "data": {**_vocabulary(self.kind), **self.context},
            "data_id": f"{context['widget']['attrs'].get('id') or name}-editor-data",
            "describe_url": reverse("admin:campaigns_campaign_describe") if self.kind in DESCRIBED else "",
        }
        return context


def site_rule_choices(*, site: Site) -> dict:
    """A targeting editor's choices on a site's page: its page groups (the rest of `views.`) and its audiences."""
    groups = list(PageGroup.objects.filter(site=site).order_by("order", "id").values_list("name", flat=True))
    choices: dict = {"audiences": [list(pair) for pair in site_audiences_get(site=site)]}
    if groups:
        choices["views."] = groups
    return {"choices": choices}
