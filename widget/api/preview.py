"""GET /api/w/<public_key>/preview?token=...: the config of the one campaign a signed preview link names.

Loaded by the widget's lazy preview file on the owner's own page. Never cached anywhere (the token is short-lived
and the answer includes drafts); an Origin that is not one of the site's is refused, like the config's CORS.
"""

import json

from django.http import HttpResponse

from campaigns.ingest.origins import origin_allowed
from campaigns.models import Site
from campaigns.selectors.live_preview import ERROR_GONE, preview_config_get
from widget.api.responses import cors_headers, django_response, error_response, method_not_allowed_reply

ERROR_NO_TOKEN = "the preview token is missing"
ERROR_ORIGIN = "this origin is not one of the site's allowed origins"
ERROR_UNKNOWN_SITE = "unknown site key"
NO_STORE = {"Cache-Control": "no-store"}


def site_preview_api(request, public_key: str):
    if request.method not in ("GET", "OPTIONS"):
        return django_response(method_not_allowed_reply(allow="GET, OPTIONS", headers=NO_STORE))
    site = Site.objects.filter(public_key=public_key).only("id", "allowed_origins").first()
    if site is None:
        return error_response(404, ERROR_UNKNOWN_SITE, headers=NO_STORE)
    origin = request.headers.get("Origin")
    headers = {**cors_headers(origin=origin, allowed_origins=site.allowed_origins or ()), **NO_STORE}
    if request.method == "OPTIONS":
        return HttpResponse(status=204, headers=headers)
    # A same-origin GET carries no Origin; a cross-origin one must come from the site.
    if origin and not origin_allowed(origin=origin, allowed=site.allowed_origins or ()):
        return error_response(403, ERROR_ORIGIN, headers=headers)
    token = request.GET.get("token", "")
    if not token:
        return error_response(400, ERROR_NO_TOKEN, headers=headers)
    config, error = preview_config_get(public_key=public_key, token=token)
    if error is not None:
        return error_response(404 if error == ERROR_GONE else 403, error, headers=headers)
    return HttpResponse(json.dumps(config, separators=(",", ":")), content_type="application/json", headers=headers)
