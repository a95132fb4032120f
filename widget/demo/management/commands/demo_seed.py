"""Seed the demo shop: an admin login, the demo site, one active campaign of every message type (and a lead magnet: the
trail checklist handed out after a blog reader signs up), its journey map's page groups and stages with simulated
journeys (source simulated/<kind>) to read before real browsing, and an audience of blog readers with a slide-in that
only they see.

Idempotent: running it again updates the demo campaigns in place (matched by name) and
resets the admin password, which it prints.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from campaigns import services
from campaigns.journeys.demo import audience_demo_apply, journey_demo_apply
from campaigns.journeys.simulate import journeys_simulate
from campaigns.models import Asset, Campaign, Site
from campaigns.services.assets import asset_create
from widget.demo import DEMO_SITE_NAME

DEMO_ORIGINS = ["http://127.0.0.1:8000", "http://localhost:8000"]

# The lead magnet's file: a URL asset, the demo shop's own static PDF (an uploaded file would be written under
# MEDIA_ROOT at every seed); the signed link redirects to it once the sign-up is stored.
MAGNET_NAME = "trail-checklist.pdf"
MAGNET_TITLE = "The one-page trail checklist (PDF)"
MAGNET_PATH = "demo/trail-checklist.pdf"

NOT_CHECKOUT = {"not": {"attr": "path", "op": "starts_with", "value": "/demo/checkout"}}
ONCE_PER_SESSION = {"once_per_session": True, "stop_after_close": True, "stop_after_conversion": True}

READERS_OFFER = "Blog readers' offer"


def readers_offer(*, audience_id: int) -> dict:
    """A slide-in on the shop's pages (not the blog, nor the checkout) for the audience of blog readers only."""
    return {
        "name": READERS_OFFER,
        "message_type": "slide_in",
        "priority": 15,
        "triggers": [{"type": "page_load", "delay": 0}],
        "targeting": {"all": [
            {"attr": "audiences", "op": "includes", "value": [audience_id]},
            {"not": {"attr": "path", "op": "starts_with", "value": "/demo/blog/"}},
            NOT_CHECKOUT,
        ]},
        "frequency": {"stop_after_close": True},
        "goal": {"type": "cta_click"},
        "variants": [{"name": "Readers", "weight": 100, "content": {
            "headline": "Thanks for reading our guides",
            "body": "<p>Readers get 15% off trail gear this week.</p>",
            "cta": {"label": "See the gear", "url": "/demo/product/trail-shoe/"},
            "position": "bottom_left",
        }}],
    }


DEMO_CAMPAIGNS = [
    {
        "name": "Cookie consent",
        "message_type": "consent",
        "priority": 100,
        "triggers": [{"type": "page_load", "delay": 0}],
        "targeting": None,
        "frequency": {},
        "goal": {"type": "cta_click"},
        "variants": [{"name": "Banner", "weight": 100, "content": {
            "headline": "We value your privacy",
            "body": "<p>We use cookies to measure our shop and to show you relevant offers.</p>",
            "categories": [
                {"id": "necessary", "label": "Necessary", "required": True},
                {"id": "analytics", "label": "Analytics"},
                {"id": "marketing", "label": "Marketing"},
            ],
            "accept_label": "Accept all", "reject_label": "Reject all",
            "customize_label": "Choose", "save_label": "Save choices", "policy_label": "Privacy policy",
        }}],
    },
    {
        "name": "Free shipping bar",
        "message_type": "bar",
        "priority": 10,
        "triggers": [{"type": "page_load", "delay": 1}],
        "targeting": {"attr": "path", "op": "equals", "value": "/demo/"},
        "frequency": {"stop_after_close": True},
        "goal": {"type": "cta_click"},
        "variants": [{"name": "Bar", "weight": 100, "content": {
            "headline": "Free shipping on orders over €50",
            "cta": {"label": "Shop now", "url": "/demo/product/trail-shoe/"},
            "position": "top",
        }}],
    },
    {
        "name": "Exit-intent lead popup (A/B headline)",
        "message_type": "lead",
        # Below the gallery's exit-intent templates (25 and up): a campaign an owner builds from one shows first on
        # leaving, instead of this example.
        "priority": 20,
        "triggers": [{"type": "exit_intent", "sensitivity": 20}, {"type": "mobile_exit", "scroll_up": True,
                                                                    "tab_hidden": False}],
        "targeting": NOT_CHECKOUT,
        "frequency": ONCE_PER_SESSION,
        "goal": {"type": "submit"},
        "variants": [
            {"name": "A: 10% off", "weight": 50, "content": {
                "headline": "Wait! Take 10% off your first order",
                "body": "<p>Join our newsletter and get your code now.</p>",
                "fields": [{"name": "email", "label": "Email", "required": True},
                           {"name": "name", "label": "First name", "required": False}],
                "consent_label": "I agree to receive emails from Ridge Outdoor",
                "coupon": {"code": "RIDGE10", "label": "Your code"},
            }},
            {"name": "B: trail guide", "weight": 50, "content": {
                "headline": "Before you go: our free trail guide and 10% off",
                "body": "<p>One email a month, no spam.</p>",
                "fields": [{"name": "email", "label": "Email", "required": True}],
                "consent_label": "I agree to receive emails from Ridge Outdoor",
                "coupon": {"code": "RIDGE10", "label": "Your code"},
            }},
        ],
    },
    {
        "name": "Blog checklist slide-in",
        "message_type": "slide_in",
        "priority": 20,
        "triggers": [{"type": "scroll", "percent": 50}],
        "targeting": {"attr": "path", "op": "starts_with", "value": "/demo/blog/"},
        "frequency": {"once_per_session": True, "stop_after_close": True},
        "goal": {"type": "cta_click"},
        "variants": [{"name": "Checklist", "weight": 100, "content": {
            "headline": "Get the one-page checklist",
            "body": "<p>Everything in this guide on one printable page.</p>",
            "cta": {"label": "Download", "url": "/demo/"},
            "position": "bottom_right",
        }}],
    },
    {
        # After half a minute on an article (not on exit, which the exit popup above answers), in the corner the
        # slide-in leaves free.
        "name": "Blog lead magnet: the trail checklist",
        "message_type": "lead",
        "priority": 25,
        "triggers": [{"type": "time_on_page", "seconds": 30}],
        "targeting": {"attr": "path", "op": "starts_with", "value": "/demo/blog/"},
        "frequency": {"once_per_session": True, "stop_after_close": True, "stop_after_conversion": True},
        "goal": {"type": "submit"},
        "variants": [{"name": "Checklist", "weight": 100, "content": {
            "headline": "Free: the one-page trail checklist",
            "body": "<p>Everything to check before a long run, on one printable page.</p>",
            "fields": [{"name": "email", "label": "Email", "required": True}],
            "consent_label": "Send me the checklist and the monthly newsletter from Ridge Outdoor",
            "cta": {"label": "Send me the checklist"},
            "magnet": {"title": MAGNET_TITLE, "asset": f"asset:{MAGNET_NAME}"},
            "position": "bottom_left",
            "thank_you": {"headline": "Thank you for subscribing",
                          "body": "<p>Your checklist is ready: download it below.</p>"},
        }}],
    },
    {
        "name": "Cart recovery on exit",
        "message_type": "cart_recovery",
        "priority": 60,
        "triggers": [{"type": "cart_abandonment", "via": "exit_intent"}],
        "targeting": {"all": [{"attr": "path", "op": "starts_with", "value": "/demo/cart"},
                              {"attr": "cart.count", "op": "gt", "value": 0}]},
        "frequency": {"once_per_session": True, "cancel_on": ["purchase"]},
        "goal": {"type": "purchase", "attribution_days": 7},
        "variants": [{"name": "Reminder", "weight": 100, "content": {
            "headline": "Your cart is waiting: €{{cart.value}}",
            "body": "<p>Complete your order today, shipping is on us.</p>",
            "cta": {"label": "Back to my cart", "url": "/demo/checkout/"},
            "feedback": {"label": "What stopped you?", "question": "What stopped you from ordering?",
                         "options": ["Price", "Shipping cost", "Just looking", "Something else"]},
        }}],
    },
    {
        "name": "Checkout feedback",
        "message_type": "feedback",
        "priority": 40,
        "triggers": [{"type": "exit_intent", "sensitivity": 20}],
        "targeting": {"attr": "path", "op": "starts_with", "value": "/demo/checkout"},
        "frequency": {"once_per_session": True, "stop_after_conversion": True},
        "goal": {"type": "submit"},
        "variants": [{"name": "Question", "weight": 100, "content": {
            "question": "What's stopping you from completing your order?",
            "options": ["Price", "Shipping cost", "Payment options", "I'm just looking"],
            "multiple": False,
            "free_text": {"label": "Anything else?"},
            "thank_you": {"headline": "Thank you!", "body": "<p>Your answer helps us improve.</p>"},
        }}],
    },
    {
        "name": "Post-purchase NPS",
        "message_type": "nps",
        "priority": 30,
        "triggers": [{"type": "page_load", "delay": 2}],
        "targeting": {"attr": "path", "op": "starts_with", "value": "/demo/thanks"},
        "frequency": {"max_impressions": 1},
        "goal": {"type": "submit"},
        "variants": [{"name": "NPS", "weight": 100, "content": {
            "question": "How likely are you to recommend Ridge Outdoor to a friend?",
            "low_label": "Not likely", "high_label": "Very likely",
            "followup": {"detractor": "What went wrong?", "passive": "What would make it a 10?",
                         "promoter": "What do you love about us?"},
            "thank_you": {"headline": "Thank you!"},
        }}],
    },
    {
        "name": "Product page help popup",
        "message_type": "popup",
        "priority": 15,
        "triggers": [{"type": "inactivity", "seconds": 20}],
        "targeting": {"attr": "path", "op": "starts_with", "value": "/demo/product/"},
        "frequency": {"once_per_session": True, "stop_after_close": True},
        "goal": {"type": "cta_click"},
        "variants": [{"name": "Help", "weight": 100, "content": {
            "headline": "Not sure about your size?",
            "body": "<p>Our size guide answers most questions in a minute.</p>",
            "cta": {"label": "Open the size guide", "url": "/demo/blog/choosing-running-shoes/"},
        }}],
    },
    {
        "name": "Black Friday fullscreen",
        "message_type": "fullscreen",
        "priority": 70,
        "triggers": [{"type": "page_load", "delay": 0}],
        "targeting": {"attr": "query.promo", "op": "equals", "value": "blackfriday"},
        "frequency": {"once_per_session": True},
        "goal": {"type": "purchase"},
        "variants": [{"name": "Offer", "weight": 100, "content": {
            "headline": "Black Friday: 30% off everything",
            "body": "<p>Today only, on every shoe and sock.</p>",
            "cta": {"label": "Shop the sale", "url": "/demo/product/trail-shoe/"},
            "countdown": {"minutes": 30, "label": "Offer ends in"},
        }}],
    },
]


class Command(BaseCommand):
    help = "Create or update the demo shop's site, campaigns and admin login."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default=None, help="Default: a new random password, printed.")

    @transaction.atomic
    def handle(self, *args, username: str, password: str | None, **options):
        user_model = get_user_model()
        admin, _ = user_model.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        password = password or secrets.token_urlsafe(9)
        admin.is_staff = admin.is_superuser = admin.is_active = True
        admin.set_password(password)
        admin.save()

        site = Site.objects.filter(name=DEMO_SITE_NAME).order_by("id").first()
        if site is None:
            site = services.site_create(
                owner=admin, name=DEMO_SITE_NAME, allowed_origins=DEMO_ORIGINS, consent_required=True,
                privacy_policy_url="http://127.0.0.1:8000/demo/", policy_version="1", time_zone="Europe/Paris",
            )
        if "promo" not in site.kept_query_params:  # the Black Friday campaign targets ?promo=
            site.kept_query_params = [*site.kept_query_params, "promo"]
            site.save(update_fields=["kept_query_params"])
        if not Asset.objects.filter(site=site, name=MAGNET_NAME).exists():
            asset_create(site=site, name=MAGNET_NAME, title=MAGNET_TITLE,
                         url=f"{DEMO_ORIGINS[0]}{settings.STATIC_URL}{MAGNET_PATH}")
        for spec in DEMO_CAMPAIGNS:
            self._campaign(site=site, spec=spec)
        journey_demo_apply(site=site)
        readers = audience_demo_apply(site=site)
        self._campaign(site=site, spec=readers_offer(audience_id=readers.id))
        journeys_simulate(site=site)

        self.stdout.write(self.style.SUCCESS("Demo ready."))
        self.stdout.write(f"  Admin:     http://127.0.0.1:8000/admin/  user: {username}  password: {password}")
        self.stdout.write("  Demo shop: http://127.0.0.1:8000/demo/")
        self.stdout.write(f"  Site key:  {site.public_key}")

    def _campaign(self, *, site: Site, spec: dict) -> None:
        spec = dict(spec)
        variants = spec.pop("variants")
        campaign = Campaign.objects.filter(site=site, name=spec["name"]).first()
        if campaign is None:
            campaign = services.campaign_create(site=site, status=Campaign.Status.ACTIVE, variants=variants, **spec)
            return
        for field, value in spec.items():
            setattr(campaign, field, value)
        campaign.status = Campaign.Status.ACTIVE
        campaign.full_clean()
        campaign.save()
        existing = {variant.name: variant for variant in campaign.variants.all()}
        for variant_spec in variants:
            variant = existing.get(variant_spec["name"])
            if variant is None:
                services.variant_create(campaign=campaign, **variant_spec)
            else:
                variant.weight = variant_spec["weight"]
                variant.content = variant_spec["content"]
                variant.save()
