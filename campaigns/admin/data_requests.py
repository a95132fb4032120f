"""Admin for data-subject requests: the "Data requests" page, where an owner types a visitor id or an e-mail
address and a site to export or erase that person's data, the read-only log of every request, and the export
and erase actions on the responses list (for the visitors who sent the selected answers).

Everything is owner-scoped: a site outside the user's scope is not a choice, a request outside it answers 404.
An erasure is shown what it will delete and asks for a confirmation first.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from campaigns.admin.base import ReadOnlyAdmin
from campaigns.models import DataRequest, Site
from campaigns.pseudonyms import email_hash, visitor_hash
from campaigns.selectors.visitor_data import (
    MAX_INPUT_LENGTH,
    LookupInvalid,
    subject_resolve,
    visitor_data_counts,
    visitor_data_json,
    visitors_erased,
)
from campaigns.services.visitor_data import VisitorDataBusy, visitor_data_erase, visitor_data_export

TEMPLATES = "admin/campaigns/datarequest/"
CONFIRM = "yes"
NO_VISITORS = _("None of the selected rows names a visitor of your sites.")


def _json_download(*, export: dict, name: str) -> HttpResponse:
    response = HttpResponse(visitor_data_json(export=export), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.now():%Y%m%d-%H%M%S}.json"'
    return response


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items())


class AnswerForm(forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.none(), label=_("Site"))
    visitor_id = forms.CharField(required=False, max_length=MAX_INPUT_LENGTH, strip=True, label=_("Visitor id"),
                                 help_text=_("As the widget stored it: the id in the site's _rt_v entry of the "
                                             "browser's localStorage."))
    email = forms.CharField(
        required=False, max_length=MAX_INPUT_LENGTH, strip=True, label=_("E-mail address"),
        help_text=_("Finds the answers sent with it, and everything of the visitors who sent them."),
    )
    action = forms.ChoiceField(choices=DataRequest.Action.choices, widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.for_user(user)

    def clean(self):
        data = super().clean()
        site = data.get("site")
        if site is not None and not self.errors:
            try:
                data["subject"] = subject_resolve(site=site, visitor_id=data.get("visitor_id", ""),
                                                  email=data.get("email", ""))
            except LookupInvalid as error:
                raise forms.ValidationError(str(error)) from error
        return data


@admin.register(DataRequest)
class DataRequestAdmin(ReadOnlyAdmin):
    """The log: read-only, kept after the data it names is gone."""

    list_display = ("created_at", "site", "action", "lookup", "channel", "requested_by", "visitors", "found_text",
                    "erased_text")
    list_filter = (("site", admin.RelatedOnlyFieldListFilter), "action", "lookup", "channel")
    search_fields = ("lookup_hash",)
    date_hierarchy = "created_at"
    list_select_related = ("site", "requested_by")
    change_list_template = TEMPLATES + "change_list.html"

    def get_search_results(self, request, queryset, search_term):
        """The search box takes a visitor id or an e-mail as typed (hashed here), or a hash."""
        term = search_term.strip()
        if not term:
            return queryset, False
        keys = {term, visitor_hash(visitor_id=term), email_hash(email=term)}
        return queryset.filter(lookup_hash__in=keys), False

    @admin.display(description=_("Found"))
    def found_text(self, obj):
        return _counts_text(obj.found)

    @admin.display(description=_("Erased"))
    def erased_text(self, obj):
        return _counts_text(obj.erased) if obj.erased else "-"

    def get_urls(self):
        answer = path("answer/", self.admin_site.admin_view(self.answer_view), name="campaigns_datarequest_answer")
        return [answer, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        sites = Site.objects.for_user(request.user).order_by("name", "id")
        erased = [(site, n) for site in sites if (n := visitors_erased(site_id=site.id))]
        return super().changelist_view(request, {**(extra_context or {}), "erased_per_site": erased})

    def answer_view(self, request):
        """GET: the form. POST export: the JSON file. POST erase: what will go, then (confirmed) the erasure."""
        form = AnswerForm(request.POST or None, user=request.user)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": gettext("Answer a data request")}
        if request.method != "POST" or not form.is_valid():
            return TemplateResponse(request, TEMPLATES + "answer.html", context)
        data = form.cleaned_data
        site, subject = data["site"], data["subject"]
        lookup = {"visitor_id": data["visitor_id"], "email": data["email"]}
        if data["action"] == DataRequest.Action.ERASE:
            if request.POST.get("confirm") != CONFIRM:
                counts = visitor_data_counts(site=site, subject=subject)
                return TemplateResponse(request, TEMPLATES + "answer.html", {
                    **context, "confirm": True, "counts": counts, "counts_text": _counts_text(counts),
                    "visitors": len(subject.visitor_ids)})
            try:
                done = visitor_data_erase(site=site, requested_by=request.user, channel=DataRequest.Channel.ADMIN,
                                          **lookup)
            except VisitorDataBusy as error:
                self.message_user(request, str(error), messages.ERROR)
                return TemplateResponse(request, TEMPLATES + "answer.html", context)
            erased = ngettext("%(n)d visitor erased on %(site)s: %(counts)s.",
                              "%(n)d visitors erased on %(site)s: %(counts)s.", done.visitors) % {
                "n": done.visitors, "site": site, "counts": _counts_text(done.erased)}
            self.message_user(request, erased, messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:campaigns_datarequest_changelist"))
        _request, export = visitor_data_export(site=site, requested_by=request.user,
                                               channel=DataRequest.Channel.ADMIN, **lookup)
        return _json_download(export=export, name=f"visitor-data-site{site.id}")


class VisitorDataActions:
    """Export and erase actions for a list of rows that carry a site and a visitor id (the responses list)."""

    def _visitors(self, queryset) -> list[tuple[Site, str]]:
        pairs = sorted(set(queryset.exclude(visitor_id="").values_list("site_id", "visitor_id")))
        sites = Site.objects.in_bulk({site_id for site_id, _visitor in pairs})
        return [(sites[site_id], visitor) for site_id, visitor in pairs]

    @admin.action(description=_("Export all data of the selected answers' visitors (JSON)"))
    def visitor_data_export(self, request, queryset):
        visitors = self._visitors(queryset)
        if not visitors:
            self.message_user(request, NO_VISITORS, messages.WARNING)
            return None
        exports = [visitor_data_export(site=site, requested_by=request.user, channel=DataRequest.Channel.ADMIN,
                                       visitor_id=visitor)[1] for site, visitor in visitors]
        return _json_download(export={"visitors": exports}, name="visitor-data")

    @admin.action(description=_("Erase all data of the selected answers' visitors"))
    def visitor_data_erase(self, request, queryset):
        visitors = self._visitors(queryset)
        if not visitors:
            self.message_user(request, NO_VISITORS, messages.WARNING)
            return None
        if request.POST.get("confirm") != CONFIRM:
            return TemplateResponse(request, TEMPLATES + "confirm_erase.html", {
                **self.admin_site.each_context(request), "opts": self.model._meta,
                "title": gettext("Erase visitors' data"),
                "visitors": len(visitors), "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
                "action": "visitor_data_erase",
            })
        erased = 0
        for site, visitor in visitors:
            try:
                erased += visitor_data_erase(site=site, requested_by=request.user,
                                             channel=DataRequest.Channel.ADMIN, visitor_id=visitor).visitors
            except VisitorDataBusy as error:
                self.message_user(request, str(error), messages.ERROR)
                break
        self.message_user(request, ngettext("%(n)d visitor erased.", "%(n)d visitors erased.", erased) % {"n": erased},
                          messages.SUCCESS)
        return None
