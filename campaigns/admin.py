"""Django admin for site owners.

Any active staff user is a site owner: they see and edit only the sites they own or belong to,
and those sites' campaigns and variants. Scoping lives in get_queryset (change lists, change
pages, actions and autocomplete all read it) and in the foreign-key choices; an object outside
the scope answers 404, never a redirect to a page that names it.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from campaigns import services
from campaigns.admin_results import CampaignResultsAdminMixin
from campaigns.content import content_clean
from campaigns.describe import campaign_describe
from campaigns.models import Campaign, Site, Variant
from campaigns.preview import preview_context_parse, site_preview, url_for_site
from widget.snippet import embed_snippet


class OwnerScopedAdmin(admin.ModelAdmin):
    """Staff see only their own sites' objects; `site_path` leads from the model to its Site."""

    site_path = "site"

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and (obj is None or self._in_scope(request, obj))

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        sites = Site.objects.for_user(request.user).values("id")
        return queryset.filter(**{f"{self.site_path}__in" if self.site_path else "id__in": sites})

    def _in_scope(self, request, obj) -> bool:
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Site:
            kwargs["queryset"] = Site.objects.for_user(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _object_or_404(self, request, object_id):
        if object_id is not None and self.get_object(request, unquote(object_id)) is None:
            raise Http404("No such object.")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._object_or_404(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._object_or_404(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._object_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)


@admin.register(Site)
class SiteAdmin(OwnerScopedAdmin):
    site_path = ""
    list_display = ("name", "public_key", "consent_required", "time_zone", "owner")
    search_fields = ("name", "public_key")
    readonly_fields = ("public_key",)
    filter_horizontal = ("members",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("name", "owner", "members", "allowed_origins")}),
        ("Embed", {"fields": ("public_key",)}),
        ("Consent", {"fields": ("consent_required", "show_before_consent", "privacy_policy_url", "policy_version")}),
        ("Visitor experience", {"fields": ("max_overlays_per_session", "min_overlay_gap_seconds")}),
        ("Data", {"fields": ("time_zone", "event_retention_days", "consent_retention_days",
                             "response_retention_days")}),
    )

    def get_queryset(self, request):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        return (
            queryset
            if request.user.is_superuser
            else queryset.filter(id__in=Site.objects.for_user(request.user).values("id"))
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        # An owner cannot hand a site to someone else; members are managed by the owner.
        return tuple(
            (title, {**opts, "fields": tuple(f for f in opts["fields"] if f != "owner")}) for title, opts in fieldsets
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (
            obj is None or request.user.is_superuser or obj.owner_id == request.user.id
        )

    def save_model(self, request, obj, form, change):
        if not change and not request.user.is_superuser:
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "members" and not request.user.is_superuser:
            from django.contrib.auth import get_user_model

            # Owners add members by username; they do not browse the whole user table.
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_urls(self):
        custom = [
            path(
                "<int:site_id>/preview/", self.admin_site.admin_view(self.preview_view), name="campaigns_site_preview"
            ),
        ]
        return custom + super().get_urls()

    def preview_view(self, request, site_id: int):
        """ "Why not shown?": every campaign for a URL and a visitor context, with the rule that excluded it."""
        site = self.get_queryset(request).filter(id=site_id).first()
        if site is None:
            raise Http404("No such site.")
        url = request.POST.get("url", "/")
        context_text = request.POST.get("context", "")
        rows, error = [], None
        if request.method == "POST":
            context, error = preview_context_parse(url=url_for_site(site=site, path=url), context_text=context_text)
            if error is None:
                rows = site_preview(site=site, context=context)
        return TemplateResponse(
            request,
            "admin/campaigns/site/preview.html",
            {
                **self.admin_site.each_context(request),
                "site": site,
                "url": url,
                "context_text": context_text,
                "rows": rows,
                "error": error,
                "title": f"Why not shown? — {site}",
            },
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            base_url = settings.PUBLIC_BASE_URL or request.build_absolute_uri("/").rstrip("/")
            context["embed_snippet"] = embed_snippet(public_key=obj.public_key, base_url=base_url)
            context["preview_url"] = reverse("admin:campaigns_site_preview", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)


class VariantFormSet(BaseInlineFormSet):
    """Content is checked against the campaign's message type as submitted in the same form."""

    def clean(self):
        super().clean()
        for form in self.forms:
            if (
                not hasattr(form, "cleaned_data")
                or form.cleaned_data.get("DELETE")
                or "content" not in form.cleaned_data
            ):
                continue
            content, errors = content_clean(
                message_type=self.instance.message_type, content=form.cleaned_data["content"]
            )
            if errors:
                form.add_error("content", errors)
            else:
                form.cleaned_data["content"] = content
                form.instance.content = content


class VariantInline(admin.StackedInline):
    model = Variant
    formset = VariantFormSet
    extra = 0
    fields = ("name", "weight", "content")

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    has_change_permission = has_add_permission = has_delete_permission = has_view_permission


@admin.register(Campaign)
class CampaignAdmin(CampaignResultsAdminMixin, OwnerScopedAdmin):
    list_display = ("name", "site", "message_type", "status", "priority", "starts_at", "ends_at")
    list_filter = (("site", admin.RelatedOnlyFieldListFilter), "status", "message_type")
    search_fields = ("name",)
    autocomplete_fields = ("site",)
    inlines = (VariantInline,)
    readonly_fields = ("summary", "winner", "winner_declared_at")
    actions = ("activate", "pause", "archive", "duplicate")
    fieldsets = (
        (None, {"fields": ("site", "name", "message_type", "status", "priority", "summary")}),
        ("When", {"fields": ("triggers", "starts_at", "ends_at", "schedule")}),
        ("Who and how often", {"fields": ("targeting", "frequency")}),
        ("Measurement", {"fields": ("goal", "control_share", "allocation_mode")}),
        (
            "Statistics",
            {
                "fields": (
                    "stats_engine",
                    "stats_difference",
                    "stats_alpha",
                    "stats_sequential_tuning",
                    "stats_prior_mean",
                    "stats_prior_variance",
                    "stats_correction",
                    "winner",
                    "winner_declared_at",
                )
            },
        ),
    )

    @admin.display(description="In plain words")
    def summary(self, obj):
        return (
            campaign_describe(
                message_type=obj.message_type, triggers=obj.triggers, targeting=obj.targeting, frequency=obj.frequency
            )
            if obj.pk
            else "-"
        )

    def _status(self, request, queryset, status, verb):
        changed = services.campaigns_set_status(campaigns=queryset, status=status)
        self.message_user(request, f"{changed} campaign(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Activate selected campaigns")
    def activate(self, request, queryset):
        self._status(request, queryset, Campaign.Status.ACTIVE, "activated")

    @admin.action(description="Pause selected campaigns")
    def pause(self, request, queryset):
        self._status(request, queryset, Campaign.Status.PAUSED, "paused")

    @admin.action(description="Archive selected campaigns")
    def archive(self, request, queryset):
        self._status(request, queryset, Campaign.Status.ARCHIVED, "archived")

    @admin.action(description="Duplicate selected campaigns (as drafts, with their variants)")
    def duplicate(self, request, queryset):
        for campaign in queryset.prefetch_related("variants"):
            services.campaign_duplicate(campaign=campaign)
        self.message_user(request, f"{queryset.count()} campaign(s) duplicated as drafts.", messages.SUCCESS)


from campaigns import admin_events  # noqa: E402,F401  (registers the ingestion admins)
