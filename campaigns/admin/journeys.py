"""Admin pages of a site's journeys: the journey map and the editor of its page groups, stages and clean-up rules.

`SiteJourneysAdminMixin` goes in front of `OwnerScopedAdmin` on `SiteAdmin`: it adds URLs under
/admin/campaigns/site/<id>/ and reads the site through the admin's scoped get_queryset, so another owner's site
answers 404 here too. The map is a GET form (no JavaScript) over the journey selectors, the flow and funnel of
campaigns/journeys/, and a server-rendered SVG; the editor saves through journey_setup_replace, all or nothing.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy

from campaigns.admin.interventions import SiteInterventionsAdminMixin, interventions_context
from campaigns.admin.journey_forms import CleanupFormSet, GroupFormSet, JourneyMapForm, kept_forms
from campaigns.journeys.audiences import site_audiences_get
from campaigns.journeys.flow import (
    DEFAULT_COLUMNS,
    DEFAULT_TOP,
    PAGE,
    Flow,
    entry_exit_tables,
    flow_from_counts,
)
from campaigns.journeys.paths import Cleanup
from campaigns.journeys.rollups import RollupStatus
from campaigns.journeys.sankey import column_titles, sankey_svg
from campaigns.journeys.selectors import (
    JourneyFilter,
    journey_funnel_read,
    journey_label_counts_read,
    journey_paths_get,
    journey_raw_paths_get,
    journey_segments_choices,
    journey_start_paths,
)
from campaigns.journeys.services import journey_setup_get, journey_setup_replace
from campaigns.journeys.session_rollups import journey_walks_get
from campaigns.journeys.suggest import suggest_cleanups, suggest_groups
from campaigns.journeys.walks import flow_from_walks
from campaigns.models import Site, Stage
from campaigns.rules import zone

TEMPLATES = "admin/campaigns/journeys/"
DEFAULT_DAYS = 30
# The most moves listed under the diagram (the diagram itself shows them all).
LINKS_LISTED = 40
# Pages offered as a flow's starting point besides the groups.
START_PATHS = 30
# Days read from the counters because their rollups were built with other groups, from which the page says so.
REGROUPING_NOTICE_DAYS = 2


def _duration(value: dt.timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = round(value.total_seconds() / 60)
    units = {"min": gettext("%(n)s min"), "h": gettext("%(n)s h"), "d": gettext("%(n)s d")}
    if minutes < 60:
        return units["min"] % {"n": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        shown = [(hours, "h"), (minutes, "min")] if minutes else [(hours, "h")]
    else:
        days, hours = divmod(hours, 24)
        shown = [(days, "d"), (hours, "h")] if hours else [(days, "d")]
    return " ".join(units[unit] % {"n": n} for n, unit in shown)


def _link_rows(flow: Flow) -> list[dict]:
    """The flow's moves, most followed first, each with its columns' titles (what the diagram draws, as a table)."""
    titles = column_titles(flow)
    nodes = {node.id: node for node in flow.nodes}
    rows = [
        {"from_step": titles[nodes[link.source].column], "from": nodes[link.source].label,
         "to_step": titles[nodes[link.target].column] if nodes[link.target].column < len(titles) else "",
         "to": nodes[link.target].label, "count": link.count, "share": link.share}
        for link in flow.links
    ]
    rows.sort(key=lambda row: (-row["count"], row["from_step"], row["from"], row["to"]))
    return rows[:LINKS_LISTED]


def _rollup_context(rollup: RollupStatus | None, *, site: Site) -> dict | None:
    """How fresh the counts read from the daily rollups are (in the site's time zone), and whether days were read
    from the counters while the rollups are rebuilt for new groups (slower, until the worker is done)."""
    if rollup is None:
        return None
    as_of = timezone.localtime(rollup.as_of, zone(site.time_zone)) if rollup.as_of and rollup.rolled else None
    return {"as_of": as_of, "regrouping": rollup.regrouping >= REGROUPING_NOTICE_DAYS, "days": rollup.days,
            "counted": rollup.days - rollup.rolled}


class SiteJourneysAdminMixin(SiteInterventionsAdminMixin):
    """The journey map and the journey set-up pages of a site, for SiteAdmin (owner-scoped)."""

    def get_urls(self):
        view = self.admin_site.admin_view
        custom = [
            path("<int:site_id>/journeys/", view(self.journeys_view), name="campaigns_site_journeys"),
            path("<int:site_id>/journeys/setup/", view(self.journeys_setup_view),
                 name="campaigns_site_journeys_setup"),
        ]
        return custom + super().get_urls()

    def get_list_display(self, request):
        return (*super().get_list_display(request), "journeys_link")

    def journeys_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:campaigns_site_journeys", args=[obj.pk]),
                           gettext("Journey map"))

    journeys_link.short_description = gettext_lazy("Journeys")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            context["journeys_url"] = reverse("admin:campaigns_site_journeys", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _site(self, request, site_id: int, *, change: bool = False) -> Site:
        """The site if the user may see it (edit it, with change=True); 404 otherwise, never 403."""
        site = self.get_queryset(request).filter(id=site_id).first()
        if site is None:
            raise Http404("No such site.")
        if change and not self.has_change_permission(request, site):
            raise PermissionDenied
        return site

    def _context(self, request, site: Site, title: str, **extra) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "site": site, "title": title,
                **extra}

    def journeys_view(self, request, site_id: int):
        site = self._site(request, site_id)
        groups, _cleanups = journey_setup_get(site=site)
        start_paths = journey_start_paths(site=site, groups=groups, limit=START_PATHS)
        form = JourneyMapForm(request.GET or None, segments=journey_segments_choices(site=site), groups=groups,
                              paths=start_paths, audiences=site_audiences_get(site=site))
        data = form.cleaned_data if form.is_valid() else {}
        today = timezone.localdate(timezone=zone(site.time_zone))
        until = data.get("until") or today
        since = data.get("since") or until - dt.timedelta(days=DEFAULT_DAYS - 1)
        if not form.is_bound:  # the form shows the days the page reads
            form.initial.update(since=since, until=until)
        where = JourneyFilter(start=since, end=until, source=data.get("source") or None,
                              device=data.get("device") or None, returning=data.get("returning"),
                              audience=data.get("audience"))
        steps, top = data.get("steps") or DEFAULT_COLUMNS, data.get("top") or DEFAULT_TOP
        start, goal = data.get("start") or None, data.get("goal") or None
        # Everything below is read summed by label (the groups applied in the selectors), hence groups=().
        counts, rollup = journey_label_counts_read(site=site, where=where, groups=groups, steps=steps,
                                                   moves=not (start or goal))
        sessions_total = counts.sessions
        if start or goal:
            walks = journey_walks_get(site=site, where=where, groups=groups, anchor=goal or start,
                                      backward=goal is not None, columns=steps)
            flow = flow_from_walks(steps=walks, backward=goal is not None, columns=steps, top=top,
                                   base=sessions_total)
            title = (gettext("Sessions from %(start)s") % {"start": start} if start
                     else gettext("Sessions that reached %(goal)s, walked back") % {"goal": goal})
        else:
            flow = flow_from_counts(pages=counts.pages, transitions=counts.moves, steps=steps, top=top,
                                    base=sessions_total)
            title = gettext("Sessions from their entry pages")
        entries, exits = entry_exit_tables(pages=counts.pages, transitions=counts.out)
        funnel, funnel_status = journey_funnel_read(site=site, where=where)
        stage_labels = dict(Stage.choices)
        return TemplateResponse(request, TEMPLATES + "map.html", self._context(
            request, site, gettext("Journey map: %(site)s") % {"site": site}, form=form, since=since, until=until,
            sankey=mark_safe(sankey_svg(flow=flow, title=title)),  # noqa: S308 (sankey_svg escapes every label)
            flow=flow, flow_title=title, links=_link_rows(flow), sessions_total=sessions_total,
            pageviews_total=counts.pageviews,
            page_nodes=sum(1 for node in flow.nodes if node.kind == PAGE),
            entries=entries, exits=exits, groups=groups,
            funnel=[{"label": stage_labels[row.stage], "row": row, "median": _duration(row.median_to_next)}
                    for row in funnel],
            funnel_as_of=timezone.localtime(funnel_status.as_of, zone(site.time_zone))
            if funnel_status and funnel_status.rolled and funnel_status.as_of else None,
            setup_url=reverse("admin:campaigns_site_journeys_setup", args=[site.id]),
            audience_add_url=reverse("admin:campaigns_audience_add") + f"?site={site.id}",
            audience_add_base_url=reverse("admin:campaigns_audience_add"),
            audience_filtered=where.audience is not None, rollup=_rollup_context(rollup, site=site),
            can_change=self.has_change_permission(request, site),
            **interventions_context(site=site, where=where, groups=groups),
        ))

    def journeys_setup_view(self, request, site_id: int):
        site = self._site(request, site_id, change=request.method == "POST")
        suggested = None
        if request.method == "POST":
            group_forms = GroupFormSet(request.POST, prefix="groups")
            cleanup_forms = CleanupFormSet(request.POST, prefix="cleanups")
            if group_forms.is_valid() and cleanup_forms.is_valid():
                kept_cleanups = sorted(
                    (form.cleaned_data["order"], index, form.cleaned_data["pattern"], form.cleaned_data["replacement"])
                    for index, form in enumerate(kept_forms(cleanup_forms))
                )
                try:
                    journey_setup_replace(
                        site=site, groups=[form.group() for form in kept_forms(group_forms)],
                        cleanups=[Cleanup(pattern=pattern, replacement=replacement)
                                  for _order, _index, pattern, replacement in kept_cleanups],
                    )
                except ValidationError as error:
                    group_forms._non_form_errors = group_forms.error_class(error.messages)
                else:
                    self.message_user(request, gettext("Page groups and clean-up rules saved."), messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:campaigns_site_journeys_setup", args=[site.id]))
        else:
            groups, cleanups = journey_setup_get(site=site)
            group_rows = [{"name": g.name, "op": g.rule.get("op"), "value": g.rule.get("value"), "stage": g.stage,
                           "order": g.order} for g in groups]
            cleanup_rows = [{"pattern": c.pattern, "replacement": c.replacement, "order": (i + 1) * 10}
                            for i, c in enumerate(cleanups)]
            if request.GET.get("suggest"):
                suggested = _suggestions(site=site, groups=group_rows, cleanups=cleanup_rows)
                group_rows += suggested["groups"]
                cleanup_rows += suggested["cleanups"]
            group_forms = GroupFormSet(initial=group_rows, prefix="groups")
            cleanup_forms = CleanupFormSet(initial=cleanup_rows, prefix="cleanups")
        return TemplateResponse(request, TEMPLATES + "setup.html", self._context(
            request, site, gettext("Page groups and stages: %(site)s") % {"site": site}, group_forms=group_forms,
            cleanup_forms=cleanup_forms,
            suggested=suggested, map_url=reverse("admin:campaigns_site_journeys", args=[site.id]),
            can_change=self.has_change_permission(request, site),
        ))


def _suggestions(*, site: Site, groups: list[dict], cleanups: list[dict]) -> dict:
    """Groups and clean-up rules suggested from the URLs seen that the owner has not got yet, as form rows.

    Groups from the counted paths (or the raw page views' paths before anything is counted); clean-up rules from
    the raw page views' paths (counted paths are already cleaned), else from the counted ones.
    """
    counted = journey_paths_get(site=site)
    raw = journey_raw_paths_get(site=site)
    names = {row["name"] for row in groups}
    patterns = {row["pattern"] for row in cleanups}
    order = max((row["order"] for row in groups), default=0)
    new_groups = []
    for suggestion in suggest_groups(paths_with_counts=counted or raw):
        group = suggestion.group
        if group.name in names:
            continue
        order += 10
        new_groups.append({"name": group.name, "op": group.rule["op"], "value": group.rule["value"],
                           "stage": group.stage, "order": order})
    order = max((row["order"] for row in cleanups), default=0)
    new_cleanups = []
    for rule in suggest_cleanups(paths_with_counts=raw or counted):
        if rule.pattern in patterns:
            continue
        order += 10
        new_cleanups.append({"pattern": rule.pattern, "replacement": rule.replacement, "order": order})
    return {"groups": new_groups, "cleanups": new_cleanups, "paths": len(counted or raw)}
