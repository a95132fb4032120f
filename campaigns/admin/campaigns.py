"""Django admin for site owners: their sites (members, invitations, the embed code) and campaigns with variants.

Any active staff user is a site owner: they see and edit only the sites they own or belong to,
and those sites' campaigns and variants. Scoping lives in get_queryset (change lists, change
pages, actions and autocomplete all read it) and in the foreign-key choices; an object outside
the scope answers 404, never a redirect to a page that names it.
"""

import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import escape, format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from campaigns import services
from campaigns.admin.base import OwnerScopedAdmin
from campaigns.admin.editors import JsonEditorWidget, site_rule_choices
from campaigns.admin.installation import CampaignInstallationAdminMixin, SiteInstallationAdminMixin
from campaigns.admin.journeys import SiteJourneysAdminMixin
from campaigns.admin.live_preview import LivePreviewAdminMixin
from campaigns.admin.results import CampaignResultsAdminMixin
from campaigns.content import content_clean
from campaigns.models import Campaign, Site, Variant
from campaigns.selectors.assets import magnet_asset_errors
from campaigns.services.members import invitations_pending, site_invitation_answer, site_member_invite
from campaigns.targeting.describe import campaign_describe
from campaigns.targeting.preview import preview_context_parse, site_preview, url_for_site
from widget.snippet import consent_mode_defaults, embed_snippet


class SiteForm(forms.ModelForm):
    invite = forms.CharField(
        required=False, max_length=254, label=_("Invite a member"),
        help_text=_("Their exact username or e-mail address. The site appears in their admin once they accept."),
    )

    class Meta:
        widgets = {"allowed_origins": JsonEditorWidget(kind="origins")}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if "members" in self.fields and user is not None and not user.is_superuser:
            # An owner sees, and may remove, only the site's own members: never the installation's users.
            self.fields["members"].queryset = (
                self.instance.members.all() if self.instance.pk else get_user_model().objects.none()
            )
            self.fields["members"].help_text = gettext(
                "Remove a member by moving them out; add one with an invitation.")


@admin.register(Site)
class SiteAdmin(SiteInstallationAdminMixin, SiteJourneysAdminMixin, OwnerScopedAdmin):
    form = SiteForm
    site_path = ""
    list_display = ("name", "public_key", "consent_required", "time_zone", "owner")
    search_fields = ("name", "public_key")
    readonly_fields = ("public_key",)
    filter_horizontal = ("members",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("name", "owner", "members", "invite", "allowed_origins")}),
        (_("Embed"), {"fields": ("public_key",)}),
        (_("Consent"), {"fields": ("consent_required", "show_before_consent", "privacy_policy_url",
                                   "policy_version", "consent_source", "consent_mode", "consent_mode_map",
                                   "consent_erase_on_denial")}),
        (_("Visitor experience"), {"fields": ("language", "max_overlays_per_session", "min_overlay_gap_seconds")}),
        (_("Forms and revenue"), {"fields": ("form_min_fill_seconds", "leads_per_mailbox_per_day",
                                             "leads_per_ip_per_hour", "max_order_value")}),
        (_("Data"), {"fields": ("time_zone", "event_retention_days", "consent_retention_days",
                                "response_retention_days", "kept_query_params")}),
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
            return tuple((t, {**o, "fields": tuple(f for f in o["fields"] if f != "invite")}) for t, o in fieldsets)
        # An owner cannot hand a site to someone else; members are managed by the owner alone.
        hidden = {"owner"} if obj is None or obj.owner_id == request.user.id else {"owner", "members", "invite"}
        return tuple((t, {**o, "fields": tuple(f for f in o["fields"] if f not in hidden)}) for t, o in fieldsets)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class FormForUser(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, user=request.user, **kw)

        return FormForUser

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        invitee = form.cleaned_data.get("invite")
        if invitee:
            site_member_invite(site=form.instance, invited_by=request.user, invitee=invitee)
            recorded = gettext("Invitation for %(invitee)r recorded: if such an account exists, it sees the site once "
                               "its user accepts.")
            messages.info(request, recorded % {"invitee": invitee})

    def changelist_view(self, request, extra_context=None):
        count = invitations_pending(user=request.user).count()
        if count:
            invited = ngettext('You are invited to help run {} site: <a href="{}">answer</a>.',
                               'You are invited to help run {} sites: <a href="{}">answer</a>.', count)
            messages.info(request, format_html(invited,
                                               count, reverse("admin:campaigns_site_invitations")))
        return super().changelist_view(request, extra_context)

    def invitations_view(self, request):
        """The invitations addressed to the signed-in user, to accept or decline."""
        if request.method == "POST":
            try:
                site_invitation_answer(invitation_id=int(request.POST.get("invitation", 0) or 0), user=request.user,
                                       accept=request.POST.get("answer") == "accept")
            except (PermissionDenied, ValidationError, ValueError) as error:
                messages.error(request, getattr(error, "messages", [str(error)])[0])
            return HttpResponseRedirect(reverse("admin:campaigns_site_invitations"))
        return TemplateResponse(request, "admin/campaigns/site/invitations.html", {
            **self.admin_site.each_context(request),
            "invitations": invitations_pending(user=request.user),
            "title": gettext("Invitations"),
        })

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (
            obj is None or request.user.is_superuser or obj.owner_id == request.user.id
        )

    def save_model(self, request, obj, form, change):
        if not change and not request.user.is_superuser:
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        custom = [
            path(
                "<int:site_id>/preview/", self.admin_site.admin_view(self.preview_view), name="campaigns_site_preview"
            ),
            path("invitations/", self.admin_site.admin_view(self.invitations_view), name="campaigns_site_invitations"),
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
                "title": gettext("Why not shown? — %(site)s") % {"site": site},
            },
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            base_url = settings.PUBLIC_BASE_URL or request.build_absolute_uri("/").rstrip("/")
            context["embed_snippet"] = embed_snippet(
                public_key=obj.public_key, base_url=base_url, consent_mode=consent_mode_defaults(site=obj)
            )
            context["preview_url"] = reverse("admin:campaigns_site_preview", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)


class VariantFormSet(BaseInlineFormSet):
    """Content is checked against the campaign's message type as submitted in the same form."""

    def get_form_kwargs(self, index):
        # A variant added beside saved ones starts at the first one's weight, so a new A/B test starts even
        # (templates give their one variant 100, the model's default is 50).
        kwargs = super().get_form_kwargs(index)
        if index is None and self.instance.pk is not None:
            first = self.instance.variants.order_by("id").values_list("weight", flat=True).first()
            if first:
                kwargs["initial"] = {**kwargs.get("initial", {}), "weight": first}
        return kwargs

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
            if not errors:
                errors = magnet_asset_errors(site_id=self.instance.site_id, content=content)
            if errors:
                form.add_error("content", errors)
            else:
                form.cleaned_data["content"] = content
                form.instance.content = content


class VariantForm(forms.ModelForm):
    class Meta:
        widgets = {"content": JsonEditorWidget(kind="content")}
        # The admin renders help text as HTML: the example's own tags must show as text.
        help_texts = {"content": escape(Variant._meta.get_field("content").help_text)}


class VariantInline(admin.StackedInline):
    model = Variant
    form = VariantForm
    formset = VariantFormSet
    extra = 0
    fields = ("name", "weight", "content")

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    has_change_permission = has_add_permission = has_delete_permission = has_view_permission


RULE_FIELDS = ("triggers", "targeting", "frequency", "schedule", "goal")
BAD_DESCRIBE_INPUT = "Send message_type and the rule fields as JSON text."


class CampaignForm(forms.ModelForm):
    class Meta:
        widgets = {name: JsonEditorWidget(kind=name) for name in RULE_FIELDS}


@admin.register(Campaign)
class CampaignAdmin(CampaignInstallationAdminMixin, LivePreviewAdminMixin, CampaignResultsAdminMixin, OwnerScopedAdmin):
    form = CampaignForm
    list_display = ("name", "site", "message_type", "status", "priority", "starts_at", "ends_at")
    list_filter = (("site", admin.RelatedOnlyFieldListFilter), "status", "message_type")
    search_fields = ("name",)
    autocomplete_fields = ("site",)
    inlines = (VariantInline,)
    readonly_fields = ("summary", "winner", "winner_declared_at")
    actions = ("activate", "pause", "archive", "duplicate")
    fieldsets = (
        (None, {"fields": ("site", "name", "message_type", "status", "priority", "language", "summary")}),
        (_("When"), {"fields": ("triggers", "starts_at", "ends_at", "schedule")}),
        (_("Who and how often"), {"fields": ("targeting", "frequency")}),
        (_("Measurement"), {"fields": ("goal", "control_share", "allocation_mode", "revenue_cap")}),
        (
            _("Statistics"),
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

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and "schedule" in form.base_fields:
            # The schedule's hours are the site's: the editor names its time zone.
            form.base_fields["schedule"].widget = JsonEditorWidget(
                kind="schedule", context={"time_zone": obj.site.time_zone}
            )
        if obj is not None and "targeting" in form.base_fields:
            # The site's audiences and page groups, to choose from.
            form.base_fields["targeting"].widget = JsonEditorWidget(
                kind="targeting", context=site_rule_choices(site=obj.site)
            )
        return form

    def get_urls(self):
        describe = path("describe/", self.admin_site.admin_view(self.describe_view), name="campaigns_campaign_describe")
        return [describe, *super().get_urls()]

    def describe_view(self, request):
        """The plain-language summary of the rules being edited (POST, JSON text per field), for the editors."""
        if request.method != "POST":
            return JsonResponse({"error": "method_not_allowed"}, status=405)
        try:
            fields = {name: json.loads(request.POST.get(name) or "null") for name in ("triggers", "targeting",
                                                                                       "frequency")}
        except ValueError:
            return JsonResponse({"error": "bad_json", "detail": BAD_DESCRIBE_INPUT}, status=400)
        message_type = request.POST.get("message_type", "")
        if message_type not in Campaign.MessageType.values:
            return JsonResponse({"error": "bad_message_type", "detail": BAD_DESCRIBE_INPUT}, status=400)
        return JsonResponse({"summary": campaign_describe(message_type=message_type, **fields)})

    @admin.display(description=_("In plain words"))
    def summary(self, obj):
        return (
            campaign_describe(
                message_type=obj.message_type, triggers=obj.triggers, targeting=obj.targeting, frequency=obj.frequency
            )
            if obj.pk
            else "-"
        )

    def _status(self, request, queryset, status, said):
        """said(count): "3 campaigns activated." and the like, in the admin's language."""
        changed = services.campaigns_set_status(campaigns=queryset, status=status)
        self.message_user(request, said(changed) % {"count": changed}, messages.SUCCESS)

    @admin.action(description=_("Activate selected campaigns"))
    def activate(self, request, queryset):
        said = lambda n: ngettext("%(count)d campaign activated.", "%(count)d campaigns activated.", n)  # noqa: E731
        self._status(request, queryset, Campaign.Status.ACTIVE, said)

    @admin.action(description=_("Pause selected campaigns"))
    def pause(self, request, queryset):
        said = lambda n: ngettext("%(count)d campaign paused.", "%(count)d campaigns paused.", n)  # noqa: E731
        self._status(request, queryset, Campaign.Status.PAUSED, said)

    @admin.action(description=_("Archive selected campaigns"))
    def archive(self, request, queryset):
        said = lambda n: ngettext("%(count)d campaign archived.", "%(count)d campaigns archived.", n)  # noqa: E731
        self._status(request, queryset, Campaign.Status.ARCHIVED, said)

    @admin.action(description=_("Duplicate selected campaigns (as drafts, with their variants)"))
    def duplicate(self, request, queryset):
        for campaign in queryset.prefetch_related("variants"):
            services.campaign_duplicate(campaign=campaign)
        count = queryset.count()
        self.message_user(request, ngettext("%(count)d campaign duplicated as a draft.",
                                            "%(count)d campaigns duplicated as drafts.", count) % {"count": count},
                          messages.SUCCESS)
