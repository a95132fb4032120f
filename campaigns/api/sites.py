"""REST API for sites and campaigns. Every query is scoped to the caller's sites: others answer 404.

The serializers shape data; the views hand what they read to the services (campaigns/services/campaigns.py),
which check and write, and turn the services' refusals into 400s.
"""

from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied

from campaigns import services
from campaigns.models import Campaign, Site, Variant
from campaigns.models.site import validate_consent_mode_map
from campaigns.selectors.access import campaigns_for_user, sites_for_user
from widget.snippet import consent_mode_defaults, embed_snippet

ERROR_NOT_OWNER = "Only the site's owner can delete it."


class SiteSerializer(serializers.ModelSerializer):
    snippet = serializers.SerializerMethodField()
    # Declared so that the schema says what the mapping is: Consent Mode type -> category id.
    consent_mode_map = serializers.DictField(
        child=serializers.CharField(max_length=64), required=False, validators=[validate_consent_mode_map],
        help_text=Site._meta.get_field("consent_mode_map").help_text,
    )

    class Meta:
        model = Site
        fields = (
            "id", "name", "allowed_origins", "public_key", "snippet", "consent_required", "show_before_consent",
            "privacy_policy_url", "policy_version", "time_zone", "language",
            "event_retention_days", "consent_retention_days",
            "response_retention_days", "kept_query_params", "consent_source", "consent_mode", "consent_mode_map",
            "consent_erase_on_denial",
            "max_overlays_per_session", "min_overlay_gap_seconds", "form_min_fill_seconds", "leads_per_mailbox_per_day",
            "leads_per_ip_per_hour", "max_order_value", "created_at",
        )
        read_only_fields = ("public_key", "created_at")

    def get_snippet(self, site) -> str:
        return embed_snippet(public_key=site.public_key, consent_mode=consent_mode_defaults(site=site))


class VariantSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(required=False)

    class Meta:
        model = Variant
        fields = ("id", "name", "weight", "content")


class CampaignSerializer(serializers.ModelSerializer):
    variants = VariantSerializer(many=True)

    class Meta:
        model = Campaign
        fields = (
            "id", "site", "name", "status", "message_type", "priority", "language", "starts_at", "ends_at", "schedule",
            "triggers", "targeting", "frequency", "goal", "control_share", "allocation_mode", "variants",
            "created_at", "updated_at",
        )
        read_only_fields = ("created_at", "updated_at")

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["site"].queryset = sites_for_user(user=request.user)
        return fields


@contextmanager
def _refusals_as_400():
    """A service's refusal answers 400: a campaign's input as {"errors": [...]}, a model's checks by field."""
    try:
        yield
    except services.CampaignInvalid as error:
        raise serializers.ValidationError({"errors": error.errors}) from error
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.message_dict) from error


class SiteListCreateApi(generics.ListCreateAPIView):
    serializer_class = SiteSerializer

    def get_queryset(self):
        return sites_for_user(user=self.request.user).order_by("id")

    def perform_create(self, serializer):
        with _refusals_as_400():
            serializer.instance = services.site_create(owner=self.request.user, **serializer.validated_data)


class SiteDetailApi(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = SiteSerializer

    def get_queryset(self):
        return sites_for_user(user=self.request.user)

    def perform_update(self, serializer):
        with _refusals_as_400():
            services.site_update(site=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        if instance.owner_id != self.request.user.id and not self.request.user.is_superuser:
            raise PermissionDenied(ERROR_NOT_OWNER)
        services.site_delete(site=instance)


class CampaignWrites:
    """Creates and updates through services.campaign_save."""

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        with _refusals_as_400():
            serializer.instance = services.campaign_save(campaign=None, variants=data.pop("variants", None), **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        with _refusals_as_400():
            services.campaign_save(campaign=serializer.instance, variants=data.pop("variants", None), **data)


class CampaignListCreateApi(CampaignWrites, generics.ListCreateAPIView):
    serializer_class = CampaignSerializer

    def get_queryset(self):
        queryset = campaigns_for_user(user=self.request.user).prefetch_related("variants").order_by("id")
        site = self.request.query_params.get("site")
        return queryset.filter(site_id=site) if site and site.isdigit() else queryset


class CampaignDetailApi(CampaignWrites, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = CampaignSerializer

    def get_queryset(self):
        return campaigns_for_user(user=self.request.user).prefetch_related("variants")
