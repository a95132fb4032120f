"""GET /api/w/<public_key>/config: one cacheable config per site, the same for every visitor."""

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified

from campaigns.ingest.refusals import refused_origin_note
from campaigns.ingest.site_keys import site_key_known
from campaigns.outages import OUTAGE_ERRORS
from campaigns.selectors.config import SiteConfig, site_config_get
from widget.api.responses import (
    cors_headers,
    django_response,
    error_response,
    method_not_allowed_reply,
    service_unavailable,
)

ERROR_UNKNOWN_SITE = "unknown site key"


def site_config_or_answer(*, public_key: str) -> tuple[SiteConfig | None, HttpResponse | None]:
    """The site's config, or the answer to give instead: 404 for a key no site has (from the process's key set, no
    query), 503 during an outage when this process holds no good config of the site."""
    if not site_key_known(public_key=public_key):
        return None, error_response(404, ERROR_UNKNOWN_SITE)
    try:
        config = site_config_get(public_key=public_key)  # during an outage, this process's last good config
    except OUTAGE_ERRORS:
        return None, service_unavailable()
    if config is None:
        return None, error_response(404, ERROR_UNKNOWN_SITE)
    return config, None


def site_config_api(request, public_key: str):
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        return django_response(method_not_allowed_reply(allow="GET, HEAD, OPTIONS"))
    config, answer = site_config_or_answer(public_key=public_key)
    if answer is not None:
        return answer
    origin = request.headers.get("Origin")
    headers = cors_headers(origin=origin, allowed_origins=config.allowed_origins)
    if origin and "Access-Control-Allow-Origin" not in headers:
        # The browser will keep the page from reading the config, so that page never reaches collect: the only
        # place its origin can be seen, for the installation check (campaigns/ingest/refusals.py, bounded).
        refused_origin_note(site_id=config.site_id, origin=origin)
    if request.method == "OPTIONS":
        return HttpResponse(status=204, headers=headers)
    headers["ETag"] = config.etag
    headers["Cache-Control"] = f"public, max-age={settings.CONFIG_MAX_AGE}"
    if_none_match = request.headers.get("If-None-Match", "")
    if config.etag in {tag.strip() for tag in if_none_match.split(",")} or if_none_match.strip() == "*":
        response = HttpResponseNotModified()
        for name, value in headers.items():
            response[name] = value
        return response
    return HttpResponse(config.body, content_type="application/json", headers=headers)
