"""The admin's protections: the login throttle's view of the client, and the Content-Security-Policy middleware.

The policy itself (settings.CONTENT_SECURITY_POLICY) covers every page Django renders: the admin, the results
pages, the calculator. The widget's public endpoints answer JSON to other sites' pages and skip it outright.
"""

from csp.middleware import CSPMiddleware

from retarget.middleware import PUBLIC_PREFIX
from widget.api.client import client_ip


def login_client_ip(request) -> str:
    """AXES_CLIENT_IP_CALLABLE: the address the throttle counts, read as collect reads it (TRUSTED_PROXY_COUNT)."""
    return client_ip(request.META)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with no work at all on the widget's public endpoints (their hot path)."""

    async_capable = False

    def __call__(self, request):
        if request.path_info.startswith(PUBLIC_PREFIX):
            return self.get_response(request)
        return super().__call__(request)
