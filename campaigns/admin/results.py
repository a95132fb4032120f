"""Admin pages for results: per campaign A/B results, NPS, feedback, leads and consent reports, CSV
exports, "declare winner", and the A/B calculator.

`CampaignResultsAdminMixin` goes in front of `OwnerScopedAdmin` on `CampaignAdmin`: it adds URLs
under /admin/campaigns/campaign/ and reads the campaign through the admin's scoped get_queryset,
so another owner's campaign answers 404 on every page here too. Views are thin: filters in,
one selector (campaigns/results/campaign.py, campaigns/results/reports.py) or service call, a template out.
"""

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from campaigns.admin.interventions import journey_effects_context
from campaigns.models import Campaign, Variant
from campaigns.results import calculator, charts, exports, reports
from campaigns.results.campaign import FUNNEL, ResultsFilter, campaign_results, segments_present
from campaigns.selectors.visitor_data import visitors_erased
from campaigns.services.results import campaign_winner_clear, campaign_winner_declare

PAGE_SIZE = 50
TEMPLATES = "admin/campaigns/results/"
REPORT_OF_TYPE = {
    Campaign.MessageType.NPS: ("nps", _("NPS report")),
    Campaign.MessageType.FEEDBACK: ("feedback", _("Feedback report")),
    Campaign.MessageType.CART_RECOVERY: ("feedback", _("Feedback report")),
    Campaign.MessageType.LEAD: ("leads", _("Leads")),
    Campaign.MessageType.CONSENT: ("consent", _("Consent report")),
}
EXPORT_KINDS = ("results", "nps", "feedback", "leads")
ARMS_HELP = _(
    "One arm per line, the control first: name, visitors, conversions (conversion rate) or "
    "name, visitors, sum, sum of squares (mean metric)."
)


class RangeForm(forms.Form):
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                            label=pgettext_lazy("date range", "From"))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                            label=pgettext_lazy("date range", "To"))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ValidationError(_("'From' must be on or before 'To'."))
        return data


class ResultsForm(RangeForm):
    """Date range, segment and planned lift. The segment selects list the values the campaign's counters hold."""

    device = forms.ChoiceField(required=False, label=_("Device"))
    source = forms.ChoiceField(required=False, label=_("Traffic source"))
    returning = forms.TypedChoiceField(
        required=False, label=_("Visitors"), coerce=lambda value: value == "true", empty_value=None
    )
    mde = forms.FloatField(
        required=False, min_value=0.1, max_value=100, label=_("Plan for a lift of (%)"),
        help_text=_("Empty: each variant's observed lift."),
    )

    def __init__(self, *args, segments: dict[str, list], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["device"].choices = [("", _("Any device")), *((d, d.capitalize()) for d in segments["device"])]
        self.fields["source"].choices = [("", _("Any source")), *((s, s) for s in segments["source"])]
        self.fields["returning"].choices = [
            ("", _("New and returning")),
            *(("true", _("Returning")) if returning else ("false", _("New")) for returning in segments["returning"]),
        ]

    def results_filter(self) -> ResultsFilter:
        data = _filters(self)
        mde = data.get("mde")
        return ResultsFilter(
            since=data.get("since"), until=data.get("until"), mde=mde / 100 if mde else None,
            device=data.get("device") or None, source=data.get("source") or None, returning=data.get("returning"),
        )


class SearchForm(RangeForm):
    q = forms.CharField(required=False, max_length=200, label=_("Search"))


class CalculatorForm(forms.Form):
    metric = forms.ChoiceField(
        choices=[("binomial", _("Conversion rate")), ("mean", _("Mean (e.g. revenue per visitor)"))],
        label=_("Metric"),
    )
    engine = forms.ChoiceField(choices=Campaign.Engine.choices, initial="bayesian", label=_("Engine"))
    difference = forms.ChoiceField(choices=Campaign.Difference.choices, label=_("Difference"))
    alpha = forms.FloatField(initial=0.05, min_value=0.0001, max_value=0.5, label=_("Alpha"))
    sequential_tuning = forms.FloatField(required=False, label=_("Sequential tuning"),
                                         help_text=_("Frequentist only; empty: fixed horizon."))
    prior_mean = forms.FloatField(required=False, label=_("Prior mean"),
                                  help_text=_("Bayesian only; empty: flat prior."))
    prior_variance = forms.FloatField(required=False, label=_("Prior variance"))
    correction = forms.ChoiceField(choices=Campaign.Correction.choices, label=_("Correction"))
    weights = forms.CharField(required=False, label=_("Weights"),
                              help_text=_("Comma-separated, one per arm; empty: equal."))
    mde = forms.FloatField(required=False, label=_("Lift to detect"),
                           help_text=_("Relative lift to plan for, e.g. 0.05 for +5 %."))
    power = forms.FloatField(required=False, initial=0.8, label=_("Power"))
    arms = forms.CharField(widget=forms.Textarea(attrs={"rows": 6, "cols": 60}), label=_("Arms"), help_text=ARMS_HELP)

    def spec(self) -> dict:
        """The calculator spec (docs/stats.md) the form describes; numbers are checked by calculator.calculate."""
        data = self.cleaned_data
        spec = {k: data[k] for k in ("metric", "engine", "difference", "alpha", "correction")}
        for key in ("sequential_tuning", "mde"):
            if data.get(key) is not None:
                spec[key] = data[key]
        if data.get("mde") is not None and data.get("power") is not None:
            spec["power"] = data["power"]
        if data.get("prior_mean") is not None or data.get("prior_variance") is not None:
            spec["prior"] = {"mean": data.get("prior_mean"), "variance": data.get("prior_variance")}
        if data.get("weights", "").strip():
            spec["weights"] = [_number(w) for w in data["weights"].split(",")]
        spec["arms"] = [_arm_line(line, metric=data["metric"]) for line in data["arms"].splitlines() if line.strip()]
        return spec


def _number(text: str):
    text = text.strip().replace("_", "")
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text  # the calculator names the field and says what it must be


def _arm_line(line: str, *, metric: str) -> dict:
    name, *values = [part.strip() for part in line.split(",")]
    keys = ("visitors", "conversions") if metric == "binomial" else ("visitors", "sum", "sum_squares")
    return {"name": name, **{key: _number(value) for key, value in zip(keys, values, strict=False)}}


def _spec_as_form(spec: dict) -> dict:
    """The initial data of the calculator form for a spec (a campaign's)."""
    keys = ("visitors", "conversions") if spec.get("metric", "binomial") == "binomial" else (
        "visitors", "sum", "sum_squares")
    initial = {k: spec[k] for k in ("metric", "engine", "difference", "alpha", "correction") if k in spec}
    initial["sequential_tuning"] = spec.get("sequential_tuning")
    if spec.get("prior"):
        initial.update(prior_mean=spec["prior"]["mean"], prior_variance=spec["prior"]["variance"])
    if spec.get("weights"):
        initial["weights"] = ", ".join(f"{w:g}" for w in spec["weights"])
    initial["arms"] = "\n".join(", ".join([arm["name"], *(str(arm[k]) for k in keys)]) for arm in spec["arms"])
    return initial


def _filters(form: forms.Form) -> dict:
    return form.cleaned_data if form.is_valid() else {}


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def results_charts(results: dict) -> dict:
    """The results page's inline SVG charts, from the same numbers as the tables."""
    series = [
        charts.Series(
            name=line["arm"],
            points=[(p["day"], p["rate"]) for p in line["points"]],
            band=[(p["low"], p["high"]) for p in line["points"]],
        )
        for line in results["over_time"]
        if line["points"]
    ]
    over_time = charts.line_chart(title=gettext("Conversion rate over time (cumulative, with interval)"), series=series)
    funnel = charts.bar_chart(
        title=gettext("Funnel: share of exposed visitors reaching each step"),
        groups=[gettext(label) for _field, label in FUNNEL],  # msgids of the results page's table
        series=[
            (arm["name"], [arm["funnel"][field] / arm["funnel"]["exposed"] if arm["funnel"]["exposed"] else 0
                           for field, _label in FUNNEL])
            for arm in results["arms"]
        ],
        percent=True,
    )
    return {"over_time": mark_safe(over_time), "funnel": mark_safe(funnel)}  # noqa: S308 (escaped by charts)


class CampaignResultsAdminMixin:
    """Results, reports, exports, winner and calculator pages for CampaignAdmin (owner-scoped)."""

    change_form_template = TEMPLATES + "campaign_change_form.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        custom = [
            path("calculator/", view(self.calculator_view), name="campaigns_campaign_calculator"),
            path("<int:object_id>/results/", view(self.results_view), name="campaigns_campaign_results"),
            path("<int:object_id>/winner/", view(self.winner_view), name="campaigns_campaign_winner"),
            path("<int:object_id>/nps/", view(self.nps_view), name="campaigns_campaign_nps"),
            path("<int:object_id>/feedback/", view(self.feedback_view), name="campaigns_campaign_feedback"),
            path("<int:object_id>/leads/", view(self.leads_view), name="campaigns_campaign_leads"),
            path("<int:object_id>/consent/", view(self.consent_view), name="campaigns_campaign_consent"),
            path("<int:object_id>/export/<str:kind>.csv", view(self.export_view), name="campaigns_campaign_export"),
        ]
        return custom + super().get_urls()

    def get_list_display(self, request):
        return (*super().get_list_display(request), "results_link")

    @staticmethod
    def _report_of(campaign: Campaign) -> tuple[str, str] | None:
        return REPORT_OF_TYPE.get(campaign.message_type)

    def results_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:campaigns_campaign_results", args=[obj.pk]),
                           gettext("Results"))

    results_link.short_description = _("Results")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "results_links": self._links(object_id)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _links(self, object_id) -> list[tuple[str, str]]:
        if not str(object_id).isdigit():
            return []
        campaign = Campaign.objects.filter(pk=object_id).only("id", "message_type").first()
        if campaign is None:
            return []
        links = [(reverse("admin:campaigns_campaign_results", args=[campaign.id]), gettext("Results"))]
        report = self._report_of(campaign)
        if report:
            links.append((reverse(f"admin:campaigns_campaign_{report[0]}", args=[campaign.id]), str(report[1])))
        return links

    def _campaign(self, request, object_id, *, change: bool = False) -> Campaign:
        """The campaign if the user may see it (edit it, with change=True); 404 otherwise, never 403."""
        campaign = self.get_queryset(request).select_related("site").filter(pk=object_id).first()
        if campaign is None:
            raise Http404("No such campaign.")
        if change and not self.has_change_permission(request, campaign):
            raise PermissionDenied
        return campaign

    def _context(self, request, campaign: Campaign | None, title: str, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "campaign": campaign,
            "title": title,
            "report_link": self._report_of(campaign) if campaign else None,
            **extra,
        }

    def results_view(self, request, object_id: int):
        campaign = self._campaign(request, object_id)
        form = ResultsForm(request.GET or None, segments=segments_present(campaign_id=campaign.id))
        results = campaign_results(campaign=campaign, filters=form.results_filter())
        return TemplateResponse(request, TEMPLATES + "results.html", self._context(
            request, campaign, gettext("Results: %(name)s") % {"name": campaign.name}, form=form, results=results,
            charts=results_charts(results), query=request.GET.urlencode(),
            can_change=self.has_change_permission(request, campaign),
            calculator_spec=json.dumps(results["comparison"]["spec"]) if results["comparison"] else "",
            visitors_erased=visitors_erased(site_id=campaign.site_id),
            **journey_effects_context(site=campaign.site, campaigns=[campaign]),
        ))

    def winner_view(self, request, object_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        campaign = self._campaign(request, object_id, change=True)
        if request.POST.get("clear"):
            campaign_winner_clear(campaign=campaign)
            self.message_user(request, gettext("Winner withdrawn: traffic is split by the weights again."),
                              messages.SUCCESS)
        else:
            variant_id = request.POST.get("variant", "")
            variant = get_object_or_404(Variant, pk=int(variant_id) if variant_id.isdigit() else 0,
                                        campaign_id=campaign.id)
            campaign_winner_declare(campaign=campaign, variant=variant)
            declared = gettext("%(name)s declared the winner: all traffic now goes to it.") % {"name": variant.name}
            self.message_user(request, declared, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:campaigns_campaign_results", args=[campaign.id]))

    def nps_view(self, request, object_id: int):
        campaign = self._campaign(request, object_id)
        form = SearchForm(request.GET or None)
        filters = _report_filter(form)
        report = reports.nps_report(campaign=campaign, filters=filters)
        over_time = report["over_time"]
        distribution = charts.bar_chart(
            title=gettext("Answers per score"), groups=[str(score) for score in range(11)],
            series=[(gettext("Answers"), report["distribution"])],
        )
        split_title = (gettext("Promoters, passives and detractors per week") if report["period"] == "week"
                       else gettext("Promoters, passives and detractors per day"))
        split = charts.line_chart(title=split_title, series=[
            charts.Series(name=label, points=[(p["period"], p[f"{name}_share"]) for p in over_time])
            for name, label in (("promoters", gettext("Promoters")), ("passives", gettext("Passives")),
                                ("detractors", gettext("Detractors")))
        ])
        return TemplateResponse(request, TEMPLATES + "nps.html", self._context(
            request, campaign, gettext("NPS: %(name)s") % {"name": campaign.name}, form=form, report=report,
            page=_page(request, reports.nps_followups(campaign=campaign, filters=filters)),
            page_query=_query_without_page(request), export_query=request.GET.urlencode(),
            charts={"distribution": mark_safe(distribution), "split": mark_safe(split)},  # noqa: S308
        ))

    def feedback_view(self, request, object_id: int):
        campaign = self._campaign(request, object_id)
        form = SearchForm(request.GET or None)
        filters = _report_filter(form)
        report = reports.feedback_report(campaign=campaign, filters=filters)
        chart = charts.bar_chart(
            title=gettext("Share of respondents choosing each option"), groups=[o["option"] for o in report["options"]],
            series=[(gettext("Respondents"), [o["share"] or 0 for o in report["options"]])], percent=True,
        )
        return TemplateResponse(request, TEMPLATES + "feedback.html", self._context(
            request, campaign, gettext("Feedback: %(name)s") % {"name": campaign.name}, form=form, report=report,
            page=_page(request, reports.feedback_texts(campaign=campaign, filters=filters)),
            page_query=_query_without_page(request), export_query=request.GET.urlencode(),
            chart=mark_safe(chart),  # noqa: S308
        ))

    def leads_view(self, request, object_id: int):
        campaign = self._campaign(request, object_id)
        form = SearchForm(request.GET or None)
        filters = _report_filter(form)
        return TemplateResponse(request, TEMPLATES + "leads.html", self._context(
            request, campaign, gettext("Leads: %(name)s") % {"name": campaign.name}, form=form,
            summary=reports.leads_summary(campaign=campaign, filters=filters),
            page=_page(request, reports.leads(campaign=campaign, filters=filters)),
            page_query=_query_without_page(request), export_query=request.GET.urlencode(),
        ))

    def consent_view(self, request, object_id: int):
        campaign = self._campaign(request, object_id)
        form = RangeForm(request.GET or None)
        data = _filters(form)
        report = reports.consent_report(site=campaign.site, filters=reports.ReportFilter(
            since=data.get("since"), until=data.get("until")))
        categories = [c["category"] for c in report[0]["categories"]] if report else []
        chart = charts.bar_chart(
            title=gettext("Decisions per policy version"),
            groups=[gettext("Accepted all"), gettext("Rejected all"), gettext("Customised"), *categories],
            series=[(gettext("Policy %(version)s") % {"version": v["policy_version"]},
                     [v["accept_rate"], v["reject_rate"], v["custom_rate"], *(c["rate"] for c in v["categories"])])
                    for v in report],
            percent=True,
        )
        return TemplateResponse(request, TEMPLATES + "consent.html", self._context(
            request, campaign, gettext("Consent: %(site)s") % {"site": campaign.site}, form=form, report=report,
            chart=mark_safe(chart),  # noqa: S308
        ))

    def export_view(self, request, object_id: int, kind: str):
        campaign = self._campaign(request, object_id)
        if kind not in EXPORT_KINDS:
            raise Http404("No such export.")
        if kind == "results":
            form = ResultsForm(request.GET or None, segments=segments_present(campaign_id=campaign.id))
            filters = form.results_filter()
            return exports.results_export(campaign=campaign, since=filters.since, until=filters.until,
                                          segment=filters.segment)
        form = SearchForm(request.GET or None)
        return exports.EXPORTS[kind](campaign=campaign, filters=_report_filter(form))

    def calculator_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        result, error, spec = None, None, None
        if request.method == "POST":
            form = CalculatorForm(request.POST)
            if form.is_valid():
                spec = form.spec()
                try:
                    result = calculator.calculate(spec)
                except calculator.SpecError as exc:
                    error = str(exc)
        else:
            initial = {}
            campaign_id = request.GET.get("campaign", "")
            if campaign_id.isdigit():
                campaign = self._campaign(request, int(campaign_id))
                comparison = campaign_results(campaign=campaign)["comparison"]
                initial = _spec_as_form(comparison["spec"]) if comparison else {}
            form = CalculatorForm(initial=initial)
        return TemplateResponse(request, TEMPLATES + "calculator.html", self._context(
            request, None, gettext("A/B calculator"), form=form, result=result, error=error,
            spec_json=json.dumps(spec, indent=2) if spec else "", alpha=(spec or {}).get("alpha", 0.05),
        ))


def _report_filter(form: forms.Form) -> reports.ReportFilter:
    data = _filters(form)
    return reports.ReportFilter(since=data.get("since"), until=data.get("until"), search=data.get("q") or "")
