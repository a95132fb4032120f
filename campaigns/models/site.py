import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from campaigns.rules import zone_known


def public_key_new() -> str:
    # 128 random bits, URL-safe: unguessable, and short enough for a data- attribute.
    return "pk_" + secrets.token_urlsafe(16)


def goal_default() -> dict:
    return {"type": "cta_click"}


def validate_time_zone(value: str) -> None:
    if not zone_known(value):
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/Paris)")


def validate_kept_params(value) -> None:
    from campaigns.ingest.url_hygiene import kept_params_errors

    errors = kept_params_errors(value)
    if errors:
        raise ValidationError(errors)


# Google Consent Mode v2's consent types (developers.google.com/tag-platform/security/guides/consent).
CONSENT_MODE_TYPES = (
    "ad_storage", "analytics_storage", "ad_user_data", "ad_personalization", "functionality_storage",
    "personalization_storage", "security_storage",
)
# The category that is granted on every site: a Consent Mode type mapped to it is granted by default.
NECESSARY = "necessary"
CATEGORY_ID = re.compile(r"^[\w-]{1,64}$")
ERROR_MAP_NOT_OBJECT = "The mapping is an object of Consent Mode type -> category id."
ERROR_MAP_TYPE = "{type!r} is not a Consent Mode type (one of: {types})."
ERROR_MAP_CATEGORY = "{type}: {category!r} is not a category id (letters, digits, _ and -)."


def consent_mode_map_default() -> dict:
    """Our categories as Google's four v2 types: marketing covers ads, analytics covers measurement."""
    return {"ad_storage": "marketing", "ad_user_data": "marketing", "ad_personalization": "marketing",
            "analytics_storage": "analytics"}


def validate_consent_mode_map(value) -> None:
    if not isinstance(value, dict):
        raise ValidationError(ERROR_MAP_NOT_OBJECT)
    errors = []
    for key, category in value.items():
        if key not in CONSENT_MODE_TYPES:
            errors.append(ERROR_MAP_TYPE.format(type=key, types=", ".join(CONSENT_MODE_TYPES)))
        elif not isinstance(category, str) or not CATEGORY_ID.match(category):
            errors.append(ERROR_MAP_CATEGORY.format(type=key, category=category))
    if errors:
        raise ValidationError(errors)


def kept_params_default() -> list[str]:
    from campaigns.ingest.url_hygiene import kept_params_default as default

    return default()


def validate_origins(value) -> None:
    from campaigns.ingest.origins import origins_errors

    errors = origins_errors(value)
    if errors:
        raise ValidationError(errors)


class Language(models.TextChoices):
    """The languages the widget speaks to visitors: one table of its words each (widget/src/lang/<code>.js)."""

    EN = "en", "English"
    PL = "pl", "Polski"
    RO = "ro", "Română"
    FA = "fa", "فارسی"


class SiteQuerySet(models.QuerySet):
    def for_user(self, user) -> "SiteQuerySet":
        """The sites a user may see and edit: a superuser sees all, an owner or member sees theirs."""
        if user.is_superuser:
            return self.all()
        if not user.is_authenticated:
            return self.none()
        return self.filter(models.Q(owner=user) | models.Q(members=user)).distinct()


class Site(models.Model):
    class ConsentSource(models.TextChoices):
        OURS = "ours", "Retarget's own consent message or retarget('consent', ...)"
        TCF = "tcf", "Another consent tool through IAB TCF v2.2 (__tcfapi)"
        GCM = "gcm", "Another consent tool through Google Consent Mode updates"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_sites")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="member_sites")
    name = models.CharField(max_length=200)
    allowed_origins = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_origins],
        help_text='The scheme and host of every page that embeds the widget, e.g. ["https://shop.example", '
        '"https://www.shop.example"]. Events and config requests from any other origin are refused.',
    )
    public_key = models.CharField(max_length=40, unique=True, default=public_key_new, editable=False)
    consent_required = models.BooleanField(
        default=False,
        help_text="Nothing is stored in the browser and nothing is sent before the visitor decides.",
    )
    show_before_consent = models.BooleanField(
        default=False,
        help_text="With consent required: show messages before the decision, keeping visitor state in memory only.",
    )
    privacy_policy_url = models.URLField(blank=True)
    policy_version = models.CharField(
        max_length=40, default="1", help_text="Change it to ask every visitor again for consent."
    )
    consent_source = models.CharField(
        max_length=8, choices=ConsentSource.choices, default=ConsentSource.OURS,
        help_text="Where the visitor's decision comes from. With another tool, the widget reads its decision: "
        "TCF purposes 1, 5 and 6 (store on a device, create and use content profiles) all consented grant "
        "marketing; with Consent Mode, "
        "a category is granted when every type mapped to it is granted.",
    )
    consent_mode = models.BooleanField(
        default=False,
        help_text="Google Consent Mode v2: the snippet sets every mapped type to denied by default (paste it above "
        "your gtag snippet) and the visitor's decision updates them.",
    )
    consent_mode_map = models.JSONField(
        default=consent_mode_map_default, validators=[validate_consent_mode_map],
        help_text='Consent Mode type -> our category id, e.g. {"ad_storage": "marketing", "analytics_storage": '
        '"analytics"}. A type mapped to "necessary" is granted by default.',
    )
    consent_erase_on_denial = models.BooleanField(
        default=False,
        help_text="A denial also erases what the server holds for that visitor (events, assignments, answers); "
        "the consent records stay as proof.",
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.EN,
        help_text=_("The language of the widget's own words (Send, Close...) when the page's <html lang> is not one "
                    "it speaks."),
    )
    kept_query_params = models.JSONField(
        default=kept_params_default, blank=True, validators=[validate_kept_params],
        help_text='The only query parameters kept in stored page URLs, e.g. ["utm_source", "ref"]; every other one '
        "(an e-mail address or a token in a link) is dropped before an event is stored. Targeting and URL goals "
        "may only name these.",
    )
    event_retention_days = models.PositiveIntegerField(
        default=90, validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="Raw events older than this are deleted; counters and responses stay.",
    )
    consent_retention_days = models.PositiveIntegerField(
        default=3 * 365, validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="Consent records older than this are deleted (also those whose visitor's data was erased).",
    )
    response_retention_days = models.PositiveIntegerField(
        default=730, validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="Answers and leads older than this are deleted; their counts in results stay.",
    )
    max_overlays_per_session = models.PositiveIntegerField(
        null=True, blank=True, default=2,
        help_text="At most this many overlay messages per visitor session (empty: no cap).",
    )
    min_overlay_gap_seconds = models.PositiveIntegerField(
        default=60, help_text="Minimum time between any two overlay messages for one visitor."
    )
    max_order_value = models.DecimalField(
        max_digits=12, decimal_places=2, default=100_000, validators=[MinValueValidator(0)],
        help_text="A purchase or conversion worth more than this is refused at collect: one forged request adds at "
        "most this much to a campaign's revenue.",
    )
    form_min_fill_seconds = models.FloatField(
        default=2.0, validators=[MinValueValidator(0.0), MaxValueValidator(600.0)],
        help_text="A form submitted sooner than this after the server received its impression is refused as a bot's.",
    )
    leads_per_mailbox_per_day = models.PositiveIntegerField(
        default=5, validators=[MinValueValidator(1)],
        help_text="At most this many answers with the same e-mail address per day are kept.",
    )
    leads_per_ip_per_hour = models.PositiveIntegerField(
        default=20, validators=[MinValueValidator(1)],
        help_text="At most this many form answers from one network address per hour are kept.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class SiteInvitation(models.Model):
    """An owner's invitation to help run a site. The invitee becomes a member only when they accept, so nobody
    is put on a site, or learns of it, without agreeing."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # What the owner typed; `user` is the account it named exactly, if any (the owner is not told which).
    invitee = models.CharField(max_length=254)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="site_invitations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    accepted = models.BooleanField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "invitee"], condition=models.Q(answered_at__isnull=True),
                                    name="invitation_unique_pending")
        ]

    def __str__(self) -> str:
        return f"{self.invitee} to {self.site}"


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        ARCHIVED = "archived", "Archived"

    class MessageType(models.TextChoices):
        POPUP = "popup", "Popup"
        BAR = "bar", "Sticky bar"
        SLIDE_IN = "slide_in", "Slide-in"
        FULLSCREEN = "fullscreen", "Fullscreen"
        NPS = "nps", "Net Promoter Score"
        FEEDBACK = "feedback", "Feedback form"
        LEAD = "lead", "Lead capture"
        CART_RECOVERY = "cart_recovery", "Cart recovery"
        CONSENT = "consent", "GDPR consent banner"

    class Allocation(models.TextChoices):
        FIXED = "fixed", "Fixed weights"
        AUTO = "auto", "Automatic (Thompson sampling)"

    class Engine(models.TextChoices):
        BAYESIAN = "bayesian", "Bayesian"
        FREQUENTIST = "frequentist", "Frequentist"

    class Difference(models.TextChoices):
        RELATIVE = "relative", "Relative (lift %)"
        ABSOLUTE = "absolute", "Absolute (percentage points)"

    class Correction(models.TextChoices):
        NONE = "none", "None"
        HOLM = "holm", "Holm"
        BH = "bh", "Benjamini-Hochberg"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    message_type = models.CharField(max_length=20, choices=MessageType.choices, default=MessageType.POPUP)
    priority = models.IntegerField(default=0, help_text="Higher shows first when two overlays want to show.")
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, blank=True, default="",
        help_text=_("The language of the message's built-in words; empty: the page's, else the site's."),
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    schedule = models.JSONField(
        default=dict, blank=True,
        help_text='Optional weekdays (0 = Monday) and hours in the site\'s time zone: '
        '{"weekdays": [0, 1, 2, 3, 4], "hours": [9, 18]}',
    )
    triggers = models.JSONField(
        default=list, blank=True,
        help_text='When to show; several are OR\'d. Example: [{"type": "exit_intent", "sensitivity": 20}, '
        '{"type": "scroll", "percent": 50}]. See docs/rules.md.',
    )
    targeting = models.JSONField(
        null=True, blank=True,
        help_text='Who and where; empty means everyone. Example: {"all": [{"attr": "path", "op": "starts_with", '
        '"value": "/blog/"}, {"attr": "device", "op": "equals", "value": "mobile"}]}',
    )
    frequency = models.JSONField(
        default=dict, blank=True,
        help_text='Example: {"max_impressions": 3, "min_gap_seconds": 86400, "once_per_session": true, '
        '"stop_after_close": true, "stop_after_conversion": true, "cancel_on": ["purchase"]}',
    )
    goal = models.JSONField(
        default=goal_default,
        help_text='What counts as a conversion. Example: {"type": "submit"} or {"type": "purchase", '
        '"attribution_days": 7} or {"type": "url", "url": {"op": "contains", "value": "/thanks"}} '
        "(the page's full URL)",
    )
    control_share = models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(0.9)],
        help_text="Share of visitors held out (they see nothing), so uplift over showing nothing is measurable.",
    )
    allocation_mode = models.CharField(max_length=10, choices=Allocation.choices, default=Allocation.FIXED)
    stats_engine = models.CharField(max_length=12, choices=Engine.choices, default=Engine.BAYESIAN)
    stats_difference = models.CharField(max_length=10, choices=Difference.choices, default=Difference.RELATIVE)
    stats_alpha = models.FloatField(default=0.05, validators=[MinValueValidator(0.001), MaxValueValidator(0.5)])
    stats_sequential_tuning = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="Frequentist only: sequential testing so that looking every day does not inflate false "
        "positives (GrowthBook's default tuning is 5000). Empty: fixed-horizon test.",
    )
    stats_prior_mean = models.FloatField(null=True, blank=True, help_text="Bayesian prior on the lift (empty: flat).")
    stats_prior_variance = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0.0)])
    stats_correction = models.CharField(max_length=5, choices=Correction.choices, default=Correction.NONE)
    revenue_cap = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)],
        help_text="Revenue per visitor counts in results up to this amount (GrowthBook's absolute capping), so one "
        "outlier cannot decide a test. Empty: no cap. A change applies to revenue counted from then on.",
    )
    winner = models.ForeignKey(
        "Variant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Set by 'declare winner': all traffic goes to this variant.",
    )
    winner_declared_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(control_share__gte=0) & models.Q(control_share__lte=0.9),
                name="campaign_control_share_range",
            ),
            models.CheckConstraint(
                condition=models.Q(starts_at__isnull=True)
                | models.Q(ends_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
                name="campaign_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from campaigns.targeting.validation import validate_campaign_rules

        errors = validate_campaign_rules(
            triggers=self.triggers,
            targeting=self.targeting,
            frequency=self.frequency,
            schedule=self.schedule,
            goal=self.goal,
            kept_params=frozenset(self.site.kept_query_params or ()) if self.site_id else None,
        )
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors.append("ends_at: must be after starts_at")
        if errors:
            raise ValidationError(_errors_by_field(errors))


class Variant(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=100, default="A")
    weight = models.PositiveIntegerField(
        default=50, validators=[MaxValueValidator(10000)],
        help_text="Relative share of traffic; 0 stops showing this variant.",
    )
    content = models.JSONField(
        default=dict, blank=True,
        help_text='The message. Example: {"headline": "10% off your first order", "body": "<p>Join us.</p>", '
        '"cta": {"label": "Get my code", "url": "/shop/"}}. Fields per type: docs/contracts.md.',
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.campaign} / {self.name}"


def _errors_by_field(errors: list[str]) -> dict[str, list[str]]:
    """'targeting.all[2].op: ...' goes to the targeting field, with its path kept in the message."""
    by_field: dict[str, list[str]] = {}
    for message in errors:
        head = message.split(":", 1)[0]
        field = head.split(".", 1)[0].split("[", 1)[0]
        if field not in {"triggers", "targeting", "frequency", "schedule", "goal", "starts_at", "ends_at"}:
            field = "__all__"
        by_field.setdefault(field, []).append(message)
    return by_field
