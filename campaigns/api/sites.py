"""REST API for sites and campaigns. Every query is scoped to the caller's sites: others answer 404."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework import generics, serializers

from campaigns import services
from campaigns.content import content_clean
from campaigns.models import Campaign, Site, Variant
from campaigns.models.site import validate_consent_mode_map
from campaigns.selectors import campaigns_for_user, sites_for_user
from campaigns.targeting.validation import validate_campaign_rules
from widget.snippet import consent_mode_defaults, embed_snippet


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
            "privacy_policy_url", "policy_version", "time_zone", "event_retention_days", "consent_retention_days",
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
            "id", "site", "name", "status", "message_type", "priority", "starts_at", "ends_at", "schedule",
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

    def validate(self, attrs):
        instance = self.instance
        merged = {
            key: attrs.get(key, getattr(instance, key, None) if instance else None)
            for key in ("triggers", "targeting", "frequency", "schedule", "goal")
        }
        defaults = {"triggers": [], "frequency": {}, "schedule": {}, "goal": {}}
        merged = {key: (defaults.get(key) if value is None and key != "targeting" else value)
                  for key, value in merged.items()}
        site = attrs.get("site", getattr(instance, "site", None) if instance else None)
        kept = frozenset(site.kept_query_params or ()) if site is not None else None
        errors = validate_campaign_rules(**merged, kept_params=kept)
        starts_at = attrs.get("starts_at", getattr(instance, "starts_at", None))
        ends_at = attrs.get("ends_at", getattr(instance, "ends_at", None))
        if starts_at and ends_at and ends_at <= starts_at:
            errors.append("ends_at: must be after starts_at")
        message_type = attrs.get("message_type", getattr(instance, "message_type", "popup"))
        for index, variant in enumerate(attrs.get("variants", [])):
            cleaned, content_errors = content_clean(message_type=message_type, content=variant.get("content", {}))
            errors += [f"variants[{index}].{message}" for message in content_errors]
            variant["content"] = cleaned
        if not instance and not attrs.get("variants"):
            errors.append("variants: at least one variant is required")
        if errors:
            raise serializers.ValidationError({"errors": errors})
        return attrs

    def create(self, validated_data):
        variants = validated_data.pop("variants")
        for variant in variants:
            variant.pop("id", None)
        try:
            return services.campaign_create(variants=variants, **validated_data)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from error

    @transaction.atomic
    def update(self, instance, validated_data):
        """Variants with an id are updated, without one created; omitted ones are kept (set weight 0 to stop one)."""
        variants = validated_data.pop("variants", None)
        for field, value in validated_data.items():
            setattr(instance, field, value)
        instance.save()
        if variants is not None:
            existing = {variant.id: variant for variant in instance.variants.all()}
            for spec in variants:
                variant = existing.get(spec.pop("id", None))
                if variant is None:
                    services.variant_create(campaign=instance, **spec)
                    continue
                for field, value in spec.items():
                    setattr(variant, field, value)
                variant.save()
        return instance


class SiteListCreateApi(generics.ListCreateAPIView):
    serializer_class = SiteSerializer

    def get_queryset(self):
        return sites_for_user(user=self.request.user).order_by("id")

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)


class SiteDetailApi(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = SiteSerializer

    def get_queryset(self):
        return sites_for_user(user=self.request.user)

    def perform_destroy(self, instance):
        if instance.owner_id != self.request.user.id and not self.request.user.is_superuser:
            from rest_framework.exceptions import PermissionDenied

            raise PermissionDenied("Only the site's owner can delete it.")
        instance.delete()


class CampaignListCreateApi(generics.ListCreateAPIView):
    serializer_class = CampaignSerializer

    def get_queryset(self):
        queryset = campaigns_for_user(user=self.request.user).prefetch_related("variants").order_by("id")
        site = self.request.query_params.get("site")
        return queryset.filter(site_id=site) if site and site.isdigit() else queryset


class CampaignDetailApi(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = CampaignSerializer

    def get_queryset(self):
        return campaigns_for_user(user=self.request.user).prefetch_related("variants")
