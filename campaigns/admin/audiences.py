"""Audiences in the admin: a site's audiences created and edited with the structured rule editor (the targeting
editor, with the site's page groups to choose from), their rule in plain English, and their daily counts."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from campaigns.admin.base import OwnerScopedAdmin
from campaigns.admin.editors import JsonEditorWidget, site_rule_choices
from campaigns.journeys.audiences import audience_daily_get, audience_summary
from campaigns.models import Audience
from campaigns.rules import AUDIENCE, zone

# The days the change page counts back from today (the site's).
DAYS_SHOWN = 14


class AudienceForm(forms.ModelForm):
    class Meta:
        model = Audience
        fields = ("site", "name", "rule")
        widgets = {"rule": JsonEditorWidget(kind="targeting")}


@admin.register(Audience)
class AudienceAdmin(OwnerScopedAdmin):
    form = AudienceForm
    list_display = ("name", "site", "description")
    list_filter = (("site", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("name",)
    readonly_fields = ("description", "daily", "map_link")
    fields = ("site", "name", "rule", "description", "daily", "map_link")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            context = site_rule_choices(site=obj.site)
            context["choices"].pop(AUDIENCE)  # an audience's rule cannot name audiences
            form.base_fields["rule"].widget = JsonEditorWidget(kind="targeting", context=context)
        return form

    def get_changeform_initial_data(self, request):
        # "New audience" on a site's journey map names the site.
        initial = super().get_changeform_initial_data(request)
        if request.GET.get("site", "").isdigit():
            initial["site"] = int(request.GET["site"])
        return initial

    @admin.display(description="Who")
    def description(self, obj: Audience) -> str:
        return audience_summary(audience=obj) if obj.pk else ""

    @admin.display(description=f"Visitors per day (last {DAYS_SHOWN} days)")
    def daily(self, obj: Audience) -> str:
        if not obj.pk:
            return ""
        today = timezone.localdate(timezone=zone(obj.site.time_zone))
        rows = audience_daily_get(audience=obj, start=today - dt.timedelta(days=DAYS_SHOWN - 1), end=today)
        return format_html(
            '<table class="rt-audience-days"><thead><tr><th>Day</th><th>Visitors</th><th>Page views</th></tr>'
            "</thead><tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                             ((day.isoformat(), visitors, pageviews) for day, visitors, pageviews in rows)),
        )

    @admin.display(description="Journey map")
    def map_link(self, obj: Audience) -> str:
        if not obj.pk:
            return ""
        url = reverse("admin:campaigns_site_journeys", args=[obj.site_id]) + f"?audience={obj.pk}"
        return format_html('<a href="{}">The journeys of this audience</a>', url)
