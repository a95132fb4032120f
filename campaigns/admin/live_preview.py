"""The campaign page's live preview: the message drawn by the widget's own files in a sandboxed frame, and
"Preview on my site" links. Unsaved content is compiled here as the config endpoint would compile it once saved.

The frame is a `srcdoc` document with `sandbox="allow-scripts"` (an opaque origin: it cannot reach the admin), its own
Content-Security-Policy allowing only the static files it runs, and the admin's policy too (a srcdoc document
inherits it). The page's script is campaigns/static/campaigns/admin/live_preview.js.
"""

import json
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.http import Http404, JsonResponse
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign, Site
from campaigns.selectors.live_preview import (
    PREVIEW_LINK_SECONDS,
    content_preview_config,
    preview_screens,
    preview_token_make,
)

MANIFEST = Path(settings.BASE_DIR) / "widget" / "static" / "widget" / "manifest.json"
PARAM = "retarget_preview"  # widget/src/lazy/preview.js
ERROR_JSON = "content: not valid JSON"
ERROR_TYPE = "message_type: unknown message type"
ERROR_NO_ORIGIN = _("The site has no allowed origin: add its address to the site first.")
ERROR_PATH = _("The page must be a path on the site, such as /pricing/.")


def _widget_files() -> dict:
    manifest = json.loads(MANIFEST.read_text())
    return {"preview": manifest["preview"], "render": manifest["renderers"]["message"]}


def live_preview_context(*, request, campaign: Campaign | None) -> dict:
    """What the page's script needs: the frame's files by absolute URL (the frame has no origin of its own)."""
    here = request.build_absolute_uri("/").rstrip("/")
    url = lambda name: request.build_absolute_uri(static(name))  # noqa: E731
    files = _widget_files()
    statics = request.build_absolute_uri(settings.STATIC_URL)
    context = {
        "frame_js": url("campaigns/admin/live_preview_frame.js"),
        "frame_css": url("campaigns/admin/live_preview_frame.css"),
        "preview": url("widget/" + files["preview"]),
        "render": url("widget/" + files["render"]),
        # No network but the static files; images from the admin's own origin or data: (the admin's policy, which
        # the frame inherits, allows no more).
        "csp": f"default-src 'none'; script-src {statics}; style-src {statics}; img-src {here} data:; "
               "base-uri 'none'; form-action 'none'",
        "config_url": reverse("admin:campaigns_campaign_live_preview"),
        "campaign": campaign.pk if campaign else None,
        "link_url": reverse("admin:campaigns_campaign_preview_link", args=[campaign.pk]) if campaign else None,
        "origin": (campaign.site.allowed_origins or [""])[0] if campaign else "",
        "link_minutes": PREVIEW_LINK_SECONDS // 60,
    }
    return context


def preview_link_url(*, origin: str, page: str, token: str) -> str | None:
    """The owner's page on the site's first origin, with the token; None for a page that is not a path there."""
    page = page.strip() or "/"
    if not page.startswith("/") or page.startswith("//"):
        return None
    target = urlsplit(origin.rstrip("/") + page)
    if target.netloc != urlsplit(origin).netloc:
        return None
    query = [(k, v) for k, v in parse_qsl(target.query, keep_blank_values=True) if k != PARAM] + [(PARAM, token)]
    return urlunsplit((target.scheme, target.netloc, target.path, urlencode(query), target.fragment))


class LivePreviewAdminMixin:
    """The preview panel of CampaignAdmin's change and add pages, and its two endpoints (owner-scoped)."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("live-preview/", view(self.live_preview_view), name="campaigns_campaign_live_preview"),
            path("<int:object_id>/preview-link/", view(self.preview_link_view), name="campaigns_campaign_preview_link"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["live_preview"] = live_preview_context(request=request, campaign=obj if obj and obj.pk else None)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @staticmethod
    def _owned_site(request, site_id: str) -> Site | None:
        return Site.objects.for_user(request.user).filter(pk=site_id).first() if str(site_id).isdigit() else None

    def live_preview_view(self, request):
        """POST message_type, content (JSON text), site, campaign: the variant compiled, its screens, or errors."""
        if request.method != "POST":
            return JsonResponse({"errors": ["POST only"]}, status=405)
        if not self.has_view_permission(request):
            raise Http404
        message_type = request.POST.get("message_type", "")
        if message_type not in Campaign.MessageType.values:
            return JsonResponse({"errors": [ERROR_TYPE]}, status=400)
        try:
            content = json.loads(request.POST.get("content") or "{}")
        except ValueError:
            return JsonResponse({"errors": [ERROR_JSON]}, status=400)
        campaign_id = request.POST.get("campaign", "")
        config, errors = content_preview_config(
            site=self._owned_site(request, request.POST.get("site", "")), message_type=message_type, content=content,
            campaign_id=int(campaign_id) if campaign_id.isdigit() else None,
        )
        if errors:
            return JsonResponse({"errors": errors}, status=400)
        variant = config["campaigns"][0]["variants"][0]
        return JsonResponse({"config": config, "screens": preview_screens(message_type=message_type,
                                                                           content=variant["content"])})

    def preview_link_view(self, request, object_id: int):
        """POST page (a path), variant (an id, optional): a signed link to that page of the site's first origin."""
        campaign = self.get_queryset(request).select_related("site").filter(pk=object_id).first()
        if campaign is None:
            raise Http404("No such campaign.")
        if request.method != "POST":
            return JsonResponse({"error": "POST only"}, status=405)
        origins = campaign.site.allowed_origins or []
        if not origins:
            return JsonResponse({"error": ERROR_NO_ORIGIN}, status=400)
        variant = request.POST.get("variant", "")
        variant_id = int(variant) if variant.isdigit() and campaign.variants.filter(pk=variant).exists() else None
        token = preview_token_make(campaign=campaign, user=request.user, variant_id=variant_id)
        url = preview_link_url(origin=origins[0], page=request.POST.get("page", "/"), token=token)
        if url is None:
            return JsonResponse({"error": ERROR_PATH}, status=400)
        return JsonResponse({"url": url, "seconds": PREVIEW_LINK_SECONDS})


