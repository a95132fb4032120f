"""The "why not shown?" preview: every campaign of a site, armed or with the first rule that excluded it."""

import json
import time
from urllib.parse import urlsplit

from django.utils import timezone

from campaigns.models import Campaign, Site
from campaigns.rules import context_problem, decide
from campaigns.selectors.config import site_config_build
from campaigns.targeting.vocabulary import DEFAULT_TRIGGER

ERROR_CONTEXT_JSON = "The visitor context is not valid JSON: {error}"
ERROR_CONTEXT_OBJECT = "The visitor context must be a JSON object."
ERROR_CONTEXT_SHAPE = "The visitor context has a field of the wrong type: {problem}"


def preview_context_parse(*, url: str, context_text: str) -> tuple[dict, str | None]:
    """A visitor context from a URL and pasted JSON (the widget's `retarget('debug')` output works as is)."""
    context: dict = {}
    if context_text.strip():
        try:
            context = json.loads(context_text)
        except ValueError as error:
            return {}, ERROR_CONTEXT_JSON.format(error=error)
        if isinstance(context, dict) and isinstance(context.get("context"), dict):
            context = context["context"]
        if not isinstance(context, dict):
            return {}, ERROR_CONTEXT_OBJECT
    if url:
        context["url"] = url
    context.setdefault("now", int(time.time() * 1000))
    context.setdefault("device", "desktop")
    context.setdefault("consent", "granted")
    problem = context_problem(context=context)
    if problem:
        return {}, ERROR_CONTEXT_SHAPE.format(problem=problem)
    return context, None


def site_preview(*, site: Site, context: dict) -> list[dict]:
    now = timezone.now()
    config = site_config_build(site=site, now=now)
    decision = decide(config=config, context=context)
    by_id = {entry["id"]: entry for entry in decision["campaigns"]}
    rows = []
    for campaign in Campaign.objects.filter(site=site).prefetch_related("variants").order_by("-priority", "id"):
        entry = by_id.get(campaign.id)
        variant_names = {variant.id: variant.name for variant in campaign.variants.all()}
        if entry is None:
            reason = (
                f"Not active ({campaign.get_status_display().lower()})."
                if campaign.status != Campaign.Status.ACTIVE
                else "Outside its start and end dates, or it has no valid variant."
            )
            rows.append({"campaign": campaign, "armed": False, "reason": reason, "path": "status"})
            continue
        rows.append({
            "campaign": campaign,
            "armed": entry["armed"],
            "reason": entry["reason_text"] or "",
            "path": entry["path"] or "",
            "variant": "holdout (sees nothing)" if entry["holdout"] else variant_names.get(entry["variant"], ""),
            "wins_overlay": decision["overlay"] == campaign.id,
            "triggers": ", ".join(t.get("type", "?") for t in entry["triggers"]) or DEFAULT_TRIGGER,
        })
    return rows


def url_for_site(*, site: Site, path: str) -> str:
    if urlsplit(path).scheme:
        return path
    origin = (site.allowed_origins or ["https://example.com"])[0]
    return origin.rstrip("/") + "/" + path.lstrip("/")
