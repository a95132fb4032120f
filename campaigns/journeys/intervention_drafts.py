"""A draft campaign for an intervention point, in one click: the gallery template that fits the stage the visitors
lost there had reached, shown on exit intent on that page only.

What the draft holds (docs/interventions.md, "Intervention points"):
- targeting: the point's URL rule (a page group's rule, or the cleaned path), AND the template's own conditions
  that do not name a page (a cart recovery keeps "the cart is not empty"), AND the audience when one is given;
- triggers: exit intent on a computer and a phone, unless every trigger of the template is already an exit (a cart
  recovery's "cart abandonment via exit intent");
- everything else from the template; validated by campaign_create as any campaign is, and saved as a draft.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from campaigns.gallery.catalog import gallery_template_get
from campaigns.gallery.services import campaign_from_template
from campaigns.journeys.interventions import group_url_rule, path_url_rule
from campaigns.journeys.paths import Group, path_clean
from campaigns.models import Campaign, Site

# The templates that fit a stage, the first one preselected. Awareness: a lead magnet (keep in touch with someone
# who is only looking); consideration: a feedback question (what is missing to decide); decision: an offer, or a
# cart recovery, or the checkout survey; retention: an NPS; advocacy: an NPS too, whose promoter follow-up ("what do
# you love most?") asks a visitor who already recommends the site for the words a recommendation needs.
STAGE_TEMPLATES: dict[str, tuple[str, ...]] = {
    "awareness": ("lead_magnet", "exit_feedback"),
    "consideration": ("exit_feedback", "lead_magnet"),
    "decision": ("exit_discount", "cart_recovery", "checkout_survey"),
    "retention": ("nps_after_purchase", "exit_feedback"),
    "advocacy": ("nps_after_purchase", "exit_feedback"),
}
# Where a point's name says what the page is, the template made for that page comes first: a checkout's drop-off
# asks what stopped the visitor, a cart's reminds them of what they left.
PAGE_TEMPLATES: tuple[tuple[str, str], ...] = (("checkout", "checkout_survey"), ("cart", "cart_recovery"))
# Exit intent on a computer (the pointer leaves through the top) and its phone equivalent.
EXIT_TRIGGERS: tuple[dict[str, Any], ...] = (
    {"type": "exit_intent", "sensitivity": 20, "min_time": 5},
    {"type": "mobile_exit", "scroll_up": True, "back_button": True, "min_time": 5},
)
_EXIT_TYPES = frozenset({"exit_intent", "mobile_exit"})
# Attributes that say where a message shows: the point decides those, not the template.
_PAGE_ATTRS = frozenset({"url", "path", "host", "visited"})
NAME_MAX = 200

ERROR_UNKNOWN_STAGE = "{stage!r} is not a journey stage."
ERROR_TEMPLATE_NOT_FOR_STAGE = "The template {template!r} is not one offered for the {stage} stage."
ERROR_UNKNOWN_GROUP = "The site has no page group {name!r}."
ERROR_NOT_A_PATH = "{path!r} is not a page path as the journey map counts it."


def stage_templates(*, stage: str, label: str = "") -> tuple[str, ...]:
    """The templates offered at a point of this stage, the preselected one first: the page's own template when the
    point's name says it is a checkout or a cart."""
    if stage not in STAGE_TEMPLATES:
        raise ValueError(ERROR_UNKNOWN_STAGE.format(stage=stage))
    offered = STAGE_TEMPLATES[stage]
    name = label.lower()
    for word, key in PAGE_TEMPLATES:
        if word in name and key in offered:
            return (key, *(other for other in offered if other != key))
    return offered


def intervention_url_rule(*, kind: str, label: str, groups: Sequence[Group]) -> dict[str, Any]:
    """The targeting leaf of a point: a group's URL rule (kind "group") or a cleaned path's (kind "path").
    Raises ValueError for a group the site does not have or a path that is not a cleaned one."""
    if kind == "group":
        group = next((group for group in groups if group.name == label), None)
        if group is None:
            raise ValueError(ERROR_UNKNOWN_GROUP.format(name=label))
        return group_url_rule(group=group)
    if not label.startswith("/") or path_clean(url=label) != label:
        raise ValueError(ERROR_NOT_A_PATH.format(path=label))
    return path_url_rule(path=label)


def _names_a_page(node: object) -> bool:
    if isinstance(node, dict):
        if node.get("attr") in _PAGE_ATTRS:
            return True
        return any(_names_a_page(child) for key in ("all", "any", "not") for child in _children(node.get(key)))
    return False


def _children(value: object) -> list:
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, dict) else []


def _targeting(*, template_targeting: object, url_rule: dict, audience: dict | None) -> dict[str, Any]:
    if template_targeting is None:
        kept = []
    elif isinstance(template_targeting, dict) and isinstance(template_targeting.get("all"), list):
        kept = template_targeting["all"]
    else:
        kept = [template_targeting]
    conditions = [url_rule, *(copy.deepcopy(node) for node in kept if not _names_a_page(node))]
    if audience is not None:
        conditions.append(copy.deepcopy(audience))
    return {"all": conditions} if len(conditions) > 1 else conditions[0]


def _is_exit(trigger: object) -> bool:
    if not isinstance(trigger, dict):
        return False
    kind = trigger.get("type")
    return kind in _EXIT_TYPES or (kind == "cart_abandonment" and trigger.get("via", "exit_intent") == "exit_intent")


def _exit_only(triggers: object) -> bool:
    return isinstance(triggers, list) and bool(triggers) and all(_is_exit(trigger) for trigger in triggers)


def intervention_draft_create(
    *, site: Site, owner, kind: str, label: str, stage: str, groups: Sequence[Group], template_key: str | None = None,
    audience: dict | None = None,
) -> Campaign:
    """A draft campaign for the point (`kind` "group" or "path", its `label`), with the stage's template (or
    `template_key`, one of those offered for the stage). `audience` is a targeting rule (the selected audience's)
    added to the draft's conditions; None: every visitor of the page.

    Raises ValueError for an unknown stage, template or point, PermissionDenied for someone else's site and
    ValidationError when the draft does not validate (campaign_create's checks, those of every campaign)."""
    offered = stage_templates(stage=stage, label=label)
    key = template_key or offered[0]
    if key not in offered:
        raise ValueError(ERROR_TEMPLATE_NOT_FOR_STAGE.format(template=key, stage=stage))
    url_rule = intervention_url_rule(kind=kind, label=label, groups=groups)
    template = gallery_template_get(key=key)
    data = template.campaign_fields()
    fields: dict[str, Any] = {
        "targeting": _targeting(template_targeting=data.get("targeting"), url_rule=url_rule, audience=audience),
    }
    if not _exit_only(data.get("triggers")):
        fields["triggers"] = [dict(trigger) for trigger in EXIT_TRIGGERS]
    name = f"{template.name}: exits from {label}"[:NAME_MAX]
    return campaign_from_template(template_key=key, site=site, owner=owner, name=name, fields=fields)

