"""The admin's front page: per site the user may see, how its campaigns did (campaigns/results/overview.py), with a
link to every report, above Django's list of everything the user may edit.

Served at /admin/ in front of Django's index (retarget/urls.py): Django's index view still builds the page, so the
app list, the permissions and the header stay Django's; only the template and the overview are added.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from campaigns.admin.results import EXPORT_KINDS, REPORT_OF_TYPE
from campaigns.models import Campaign
from campaigns.results import charts, overview
from campaigns.results.overview import CampaignOverview, SiteOverview

TEMPLATE = "admin/campaigns/overview/index.html"


def report_labels() -> dict[str, str]:
    """Read per request, so each reader gets their own language."""
    return {"nps": _("NPS report"), "feedback": _("Feedback report"), "leads": _("Leads"),
            "consent": _("Consent report")}


def export_labels() -> dict[str, str]:
    return {"results": _("Results CSV"), "nps": _("NPS answers CSV"), "feedback": _("Feedback answers CSV"),
            "leads": _("Leads CSV")}


def campaign_links(campaign: Campaign) -> list[tuple[str, str]]:
    """(URL, label) of every page that reports on the campaign: results, its own report, its CSV exports."""
    links = [(reverse("admin:campaigns_campaign_results", args=[campaign.id]), _("Results"))]
    report = REPORT_OF_TYPE.get(campaign.message_type)
    if report:
        links.append((reverse(f"admin:campaigns_campaign_{report[0]}", args=[campaign.id]), report_labels()[report[0]]))
    exports = ["results"] + ([report[0]] if report and report[0] in EXPORT_KINDS else [])
    for kind in exports:
        links.append((reverse("admin:campaigns_campaign_export", args=[campaign.id, kind]), export_labels()[kind]))
    return links


def _campaign_row(row: CampaignOverview) -> dict:
    title = _("Impressions per day, last %(days)d days: %(name)s") % {
        "days": overview.SERIES_DAYS, "name": row.campaign.name}
    return {
        "campaign": row.campaign,
        "windows": [row.windows[days] for days in sorted(row.windows)],
        "sparkline": mark_safe(charts.sparkline(title=title, points=row.daily_impressions)),  # noqa: S308 (escaped)
        "links": campaign_links(row.campaign),
    }


def _site_context(site: SiteOverview) -> dict:
    consent = next((row.campaign for row in site.campaigns
                    if row.campaign.message_type == Campaign.MessageType.CONSENT), None)
    return {
        "site": site.site,
        "today": site.today,
        "campaigns": [_campaign_row(row) for row in site.campaigns],
        "tests": site.tests,
        "nps": [{"row": row, "link": reverse("admin:campaigns_campaign_nps", args=[row.campaign.id])}
                for row in site.nps],
        "consent": site.consent,
        "consent_link": reverse("admin:campaigns_campaign_consent", args=[consent.id]) if consent else None,
        "site_links": [
            (reverse("admin:campaigns_site_change", args=[site.site.id]), _("Site settings and embed code")),
            (reverse("admin:campaigns_site_journeys", args=[site.site.id]), _("Journey map")),
            (reverse("admin:campaigns_campaign_changelist") + f"?site__id__exact={site.site.id}",
             _("All campaigns")),
        ],
    }


def overview_view(request):
    sites = [_site_context(site) for site in overview.overview_get(user=request.user)]
    response = admin.site.index(request, extra_context={
        "overview": sites, "series_days": overview.SERIES_DAYS, "records_days": overview.RECORDS_DAYS,
        "records_latest": overview.RECORDS_LATEST,
    })
    # Django's index builds the page (app list, permissions, header); only its template is ours.
    response.template_name = TEMPLATE
    return response
