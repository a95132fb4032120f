"""The admin's protections: the login throttle's view of the client, and the Content-Security-Policy middleware.

The policy itself (settings.CONTENT_SECURITY_POLICY) covers every page Django renders: the admin, the results
pages, the calculator. The widget's public endpoints answer JSON to other sites' pages and skip it outright.
"""

from csp.middleware import CSPMiddleware

from campaigns.ingest.sender import client_ip


def login_client_ip(request) -> str:
    """AXES_CLIENT_IP_CALLABLE: the address the throttle counts, read as collect reads it (TRUSTED_PROXY_COUNT)."""
    return client_ip(request.META)


API_PREFIX = "/api/"
# The widget's public endpoints (config, decide, collect).
PUBLIC_PREFIX = "/api/w/"
# REST framework's browsable API lays out its pages with style attributes (no script): allowed there, and only there.
BROWSABLE_API_STYLES = {"style-src-attr": ["'unsafe-inline'"]}


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with no work at all on the widget's public endpoints (their hot path)."""

    async_capable = False

    def __call__(self, request):
        if request.path_info.startswith(PUBLIC_PREFIX):
            return self.get_response(request)
        return super().__call__(request)

    def process_response(self, request, response):
        if request.path_info.startswith(API_PREFIX) and response.get("Content-Type", "").startswith("text/html"):
            response._csp_update = BROWSABLE_API_STYLES
        return super().process_response(request, response)
