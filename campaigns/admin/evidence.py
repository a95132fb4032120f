"""Read-only admin for what the tally and the collect endpoint write: responses, consent proof, refusals.

Owner-scoped like every admin page (OwnerScopedAdmin). Nothing here can be added or edited: these
rows are evidence. Responses are the visitors' own data: their site's owners may delete them, and export or
erase everything of the visitors who sent them (campaigns/admin/data_requests.py). Consent records cannot be
deleted by hand; retention deletes them.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from campaigns.admin.base import OwnerScopedAdmin, ReadOnlyAdmin
from campaigns.admin.data_requests import VisitorDataActions
from campaigns.models import ConsentRecord, RejectedEventCount, Response
from campaigns.results.exports import consent_export


@admin.register(Response)
class ResponseAdmin(VisitorDataActions, ReadOnlyAdmin):
    list_display = ("created_at", "site", "campaign_id", "variant_id", "form", "score", "email", "text")
    list_filter = (("site", admin.RelatedOnlyFieldListFilter), "form")
    search_fields = ("email", "name", "text", "followup", "visitor_id")
    date_hierarchy = "created_at"
    list_select_related = ("site",)
    actions = ["visitor_data_export", "visitor_data_erase"]

    def has_delete_permission(self, request, obj=None):
        return OwnerScopedAdmin.has_delete_permission(self, request, obj)


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ("decided_at", "site", "decision", "policy_version", "consent_id", "ip_truncated")
    list_filter = (("site", admin.RelatedOnlyFieldListFilter), "decision", "policy_version")
    search_fields = ("consent_id",)
    date_hierarchy = "decided_at"
    list_select_related = ("site",)
    actions = ["export_csv"]

    @admin.action(description=_("Export the selected consent records as CSV"))
    def export_csv(self, request, queryset):
        return consent_export(records=queryset)


@admin.register(RejectedEventCount)
class RejectedEventCountAdmin(ReadOnlyAdmin):
    list_display = ("day", "site", "reason", "count")
    list_filter = (("site", admin.RelatedOnlyFieldListFilter), "reason")
    date_hierarchy = "day"
    list_select_related = ("site",)
