"""The installation check in the admin: on a site's page, its origins and what was refused, with "Add this origin"
and "Check now"; on a campaign's page, its last impression and the warning when it shows nowhere (owner-scoped)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext as _

from campaigns.installation.page_check import FOUND, KEY_ELSEWHERE, MISSING, OTHER_KEY, page_check
from campaigns.installation.selectors import (
    INSTALLED,
    PAGE_SAMPLE,
    QUIET,
    WAITING,
    WARNING_HOURS,
    campaign_installation_get,
    site_installation_get,
)
from campaigns.installation.services import site_origin_add
from campaigns.models import Site


class SiteInstallationAdminMixin:
    """For SiteAdmin: the check's panel on the change page, and its two POST views."""

    def get_urls(self):
        view = self.admin_site.admin_view
        custom = [
            path("<int:site_id>/installation/origin/", view(self.installation_origin_view),
                 name="campaigns_site_installation_origin"),
            path("<int:site_id>/installation/check/", view(self.installation_check_view),
                 name="campaigns_site_installation_check"),
        ]
        return custom + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            context["installation"] = site_installation_get(site=obj)
            context["installation_states"] = {"installed": INSTALLED, "waiting": WAITING, "quiet": QUIET}
            context["installation_origin_url"] = reverse("admin:campaigns_site_installation_origin", args=[obj.pk])
            context["installation_check_url"] = reverse("admin:campaigns_site_installation_check", args=[obj.pk])
            context["installation_can_change"] = self.has_change_permission(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _installation_site(self, request, site_id: int) -> Site:
        """The site if the user may edit it; 404 for one they may not see, never a page that names it."""
        site = self.get_queryset(request).filter(id=site_id).first()
        if site is None:
            raise Http404("No such site.")
        if not self.has_change_permission(request, site):
            raise PermissionDenied
        return site

    def _back(self, site: Site) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:campaigns_site_change", args=[site.pk]) + "#installation")

    def installation_origin_view(self, request, site_id: int):
        """POST origin: add it to the site's allowed origins."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        site = self._installation_site(request, site_id)
        try:
            origin = site_origin_add(site=site, origin=request.POST.get("origin", ""))
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(request, _("Added %(origin)s to this site's origins.") % {"origin": origin})
        return self._back(site)

    def installation_check_view(self, request, site_id: int):
        """POST url: fetch that page of the site and say whether this site's snippet is on it."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        site = self._installation_site(request, site_id)
        url = request.POST.get("url", "").strip()
        found = page_check(url=url, public_key=site.public_key, allowed_origins=site.allowed_origins)
        if found.state == FOUND:
            messages.success(request, _("The snippet for this site is on %(url)s.") % {"url": found.url})
        elif found.state == OTHER_KEY:
            messages.warning(request, _("%(url)s has a Retarget snippet with another site's key (%(keys)s): paste "
                                        "this site's snippet instead.") % {"url": found.url,
                                                                            "keys": ", ".join(found.keys)})
        elif found.state == KEY_ELSEWHERE:
            messages.warning(request, _("This site's key is on %(url)s, but not in a script tag: if a tag manager "
                                        "adds the snippet, open the page to check it runs.") % {"url": found.url})
        elif found.state == MISSING:
            messages.error(request, _("No Retarget snippet on %(url)s: paste the snippet before </head>.")
                           % {"url": found.url})
        else:
            messages.error(request, _("Could not check the page: %(detail)s") % {"detail": found.detail})
        return self._back(site)


class CampaignInstallationAdminMixin:
    """For CampaignAdmin: the last impression and the "shows nowhere" warning on the change page."""

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            context["campaign_installation"] = campaign_installation_get(campaign=obj)
            context["campaign_installation_hours"] = WARNING_HOURS
            context["campaign_installation_sample"] = PAGE_SAMPLE
            context["site_preview_url"] = reverse("admin:campaigns_site_preview", args=[obj.site_id])
        return super().render_change_form(request, context, add, change, form_url, obj)
