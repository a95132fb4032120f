"""The journey map's intervention points and journey effects, and the one-click draft for a point.

`SiteInterventionsAdminMixin` sits behind `SiteJourneysAdminMixin` (whose `_site` it uses, so another owner's site
answers 404 here too): it adds the POST that creates a draft campaign for a point and redirects to its change page
in the editors. `interventions_context` is what the map page adds to its context for its "Intervention points" and
"Does the message move people along?" blocks (admin/campaigns/journeys/_interventions.html).
"""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.gallery.catalog import gallery_template_get
from campaigns.journeys.audiences import site_audiences_get
from campaigns.journeys.exits import STAGE_ORDINAL
from campaigns.journeys.intervention_drafts import intervention_draft_create, stage_templates
from campaigns.journeys.interventions import intervention_points_get
from campaigns.journeys.paths import Group
from campaigns.journeys.selectors import JourneyFilter
from campaigns.journeys.services import journey_setup_get
from campaigns.models import Campaign, Site, Stage
from campaigns.results.journey_effect import LIVE_ASSIGNMENTS, journey_effects_read
from campaigns.rules import zone

DRAFT_CREATED = _("Draft campaign created for {label}: check it, then activate it.")
DRAFT_REFUSED = _("No draft was created: {problem}")
BAD_POINT = _("the point or the template asked for is not one the map offers.")
FOREIGN_AUDIENCE = _("the audience #{audience_id} is not one of this site's audiences.")
EFFECT_STATUSES = (Campaign.Status.ACTIVE, Campaign.Status.PAUSED)


class InterventionDraftForm(forms.Form):
    kind = forms.ChoiceField(choices=[("group", "group"), ("path", "path")])
    label = forms.CharField(max_length=200)
    stage = forms.ChoiceField(choices=Stage.choices)
    template = forms.CharField(max_length=64, required=False)
    # An audience of the site (the map's audience filter preselects it): the draft shows to its visitors only.
    audience = forms.IntegerField(required=False, min_value=1)


def audience_rule(*, audience_id: int) -> dict:
    """The targeting leaf that names one audience (docs/rules.md, "Audiences")."""
    return {"attr": "audiences", "op": "includes", "value": [audience_id]}


def _template_choices(stage: str, label: str) -> list[dict]:
    offered = stage_templates(stage=stage, label=label)
    return [{"key": key, "name": gallery_template_get(key=key).name} for key in offered]


def journey_effects_context(*, site: Site, campaigns: list[Campaign]) -> dict:
    """The journey effects of the campaigns for _journey_effects.html: each with the time of the worker's count in
    the site's zone (None: counted on this read), and the names of the campaigns still to be counted."""
    effects, pending = journey_effects_read(campaigns=campaigns)
    names = {campaign.id: campaign for campaign in campaigns}
    site_zone = zone(site.time_zone)
    return {
        "journey_effects": [{"campaign": names[effect.campaign_id], "effect": effect,
                             "as_of": timezone.localtime(effect.as_of, site_zone) if effect.as_of else None}
                            for effect in effects],
        "journey_effects_pending": ", ".join(campaign.name for campaign in pending),
        "journey_effects_live_limit": LIVE_ASSIGNMENTS,
    }


def interventions_context(*, site: Site, where: JourneyFilter, groups: Sequence[Group]) -> dict:
    """The map's intervention points (pages, and pages at a step) and its campaigns' journey effects."""
    points = intervention_points_get(site=site, where=where, groups=groups)
    stage_labels = dict(Stage.choices)
    rows = {
        name: [{"point": point, "stage_label": stage_labels[point.stage], "ordinal": STAGE_ORDINAL[point.stage],
                "templates": _template_choices(point.stage, point.label)} for point in ranked]
        for name, ranked in points.items()
    }
    # The running campaigns with a holdout (archived campaigns stay on their own results pages).
    campaigns = list(Campaign.objects.filter(site=site, status__in=EFFECT_STATUSES, control_share__gt=0)
                     .order_by("name", "id"))
    return {"intervention_pages": rows["pages"], "intervention_steps": rows["steps"],
            **journey_effects_context(site=site, campaigns=campaigns),
            "intervention_draft_url": reverse("admin:campaigns_site_intervention_draft", args=[site.id]),
            "intervention_audiences": site_audiences_get(site=site), "intervention_audience": where.audience}


class SiteInterventionsAdminMixin:
    """The POST that turns an intervention point into a draft campaign (owner-scoped, CSRF-checked by the admin)."""

    def get_urls(self):
        custom = [
            path("<int:site_id>/journeys/intervene/", self.admin_site.admin_view(self.intervention_draft_view),
                 name="campaigns_site_intervention_draft"),
        ]
        return custom + super().get_urls()

    def intervention_draft_view(self, request, site_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        site = self._site(request, site_id, change=True)
        back = HttpResponseRedirect(reverse("admin:campaigns_site_journeys", args=[site.id]))
        form = InterventionDraftForm(request.POST)
        if not form.is_valid():
            self.message_user(request, DRAFT_REFUSED.format(problem=BAD_POINT), messages.ERROR)
            return back
        data = form.cleaned_data
        audience = data["audience"]
        if audience is not None and audience not in dict(site_audiences_get(site=site)):
            self.message_user(request, DRAFT_REFUSED.format(problem=FOREIGN_AUDIENCE.format(audience_id=audience)),
                              messages.ERROR)
            return back
        groups, _cleanups = journey_setup_get(site=site)
        try:
            campaign = intervention_draft_create(
                site=site, owner=request.user, kind=data["kind"], label=data["label"], stage=data["stage"],
                groups=groups, template_key=data["template"] or None,
                audience=None if audience is None else audience_rule(audience_id=audience),
            )
        except (ValueError, ValidationError) as error:
            problem = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            self.message_user(request, DRAFT_REFUSED.format(problem=problem), messages.ERROR)
            return back
        self.message_user(request, DRAFT_CREATED.format(label=data["label"]), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[campaign.id]))
