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
from campaigns.models import Audience, Site
from campaigns.rules import AUDIENCE, zone
from campaigns.selectors.access import sites_for_user

# The days the change page counts back from today (the site's).
DAYS_SHOWN = 14
# The journey map's "New audience from these pages": at least this many views unless the owner says otherwise.
MAP_VIEWS_DEFAULT = 1
MAP_VIEWS_MAX = 1000
NAME_MAX = Audience._meta.get_field("name").max_length


def views_rule(*, groups: list[str], views: int) -> dict:
    """Visitors with at least `views` page views in one of the page `groups` (one leaf per group; any of them)."""
    leaves = [{"attr": f"views.{group}", "op": "gte", "value": views} for group in groups]
    return leaves[0] if len(leaves) == 1 else {"any": leaves}


def map_prefill(*, site: Site, group_names: list[str], views_text: str) -> dict:
    """The add form's name and rule from the journey map's choice of page groups (those the site has, in the
    map's order) and views; {} when no group of the site was chosen."""
    known = list(site.page_groups.order_by("order", "id").values_list("name", flat=True))
    groups = [name for name in known if name in group_names]
    if not groups:
        return {}
    views = int(views_text) if views_text.isdigit() else MAP_VIEWS_DEFAULT
    views = min(max(views, 1), MAP_VIEWS_MAX)
    return {"name": f"Readers of {' or '.join(groups)}"[:NAME_MAX], "rule": views_rule(groups=groups, views=views)}


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

    def _site_asked(self, request) -> Site | None:
        """The site named by ?site= on the add page, if the user may see it."""
        site_id = request.GET.get("site", "")
        if not site_id.isdigit():
            return None
        return sites_for_user(user=request.user).filter(id=int(site_id)).first()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        site = obj.site if obj is not None else self._site_asked(request)
        if site is not None:
            context = site_rule_choices(site=site)
            context["choices"].pop(AUDIENCE)  # an audience's rule cannot name audiences
            form.base_fields["rule"].widget = JsonEditorWidget(kind="targeting", context=context)
        return form

    def get_changeform_initial_data(self, request):
        # "New audience" on a site's journey map names the site; "from these pages" also the groups and views.
        # Only a site the user may see is named (the GET's own ?site= is dropped otherwise).
        initial = {key: value for key, value in super().get_changeform_initial_data(request).items()
                   if key == "name"}
        site = self._site_asked(request)
        if site is not None:
            initial["site"] = site.id
            initial.update(map_prefill(site=site, group_names=request.GET.getlist("group"),
                                       views_text=request.GET.get("views", "")))
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
