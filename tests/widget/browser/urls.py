"""The app's URLs plus the HTML fixture pages of widget/fixtures/, for the browser tests only.

`/fixtures/<page>.html?site=<public key>` serves the page with its `<!--RETARGET ...-->` marker
replaced by the site's snippet (docs/widget.md, "Test fixtures"; with the Consent Mode default of a site that
turned it on; `&api=<origin>` names the server on another origin than the page's), and with the response headers
the page asks for in HEADERS (a Content-Security-Policy sent as a real header, not a <meta>).
"""

import re
from pathlib import Path

from csp.decorators import csp_exempt
from django.http import Http404, HttpResponse
from django.urls import path

from campaigns.models import Site
from retarget.urls import urlpatterns as app_urlpatterns
from widget.snippet import consent_mode_defaults, embed_script_tag, embed_snippet

FIXTURES = Path(__file__).resolve().parents[3] / "widget" / "fixtures"
MARKER = re.compile(r"<!--RETARGET(?: nonce=(?P<nonce>[\w-]+)| (?P<noinline>no-inline))?-->")
STRICT_CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'"
)
HEADERS = {"csp_strict.html": {"Content-Security-Policy": STRICT_CSP}}


@csp_exempt()  # a customer's page: its own policy, if any, comes from HEADERS
def fixture_page(request, name: str):
    file = FIXTURES / name
    if "/" in name or not file.is_file():
        raise Http404(name)
    text = file.read_text()
    if name.endswith(".js"):
        return HttpResponse(text, content_type="text/javascript")
    key = request.GET.get("site", "")
    # `api`: the Retarget server's origin when the page is served from another one (a page of an origin the site
    # does not allow, with the server the site's pages use).
    base = request.GET.get("api") or request.build_absolute_uri("/").rstrip("/")
    nonces = []

    def snippet(match: re.Match) -> str:
        if match["noinline"]:
            return embed_script_tag(public_key=key, base_url=base)
        if match["nonce"]:
            nonces.append(match["nonce"])
        site = Site.objects.filter(public_key=key).first()
        consent_mode = consent_mode_defaults(site=site) if site else None
        return embed_snippet(public_key=key, base_url=base, nonce=match["nonce"], consent_mode=consent_mode)

    text = MARKER.sub(snippet, text)
    response = HttpResponse(text, content_type="text/html; charset=utf-8")
    for header, value in HEADERS.get(name, {}).items():
        response[header] = value.format(nonce=nonces[0] if nonces else "")
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [path("fixtures/<str:name>", fixture_page), *app_urlpatterns]
