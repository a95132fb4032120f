"""A short way through WSGI for POST and OPTIONS /api/w/<key>/events, the endpoint with thousands of requests a second.

Django's handler, its request and response objects and the middleware cost a collect request about a fifth of its
CPU and do nothing for it. Here the request goes from the WSGI environ straight to collect_reply (the whole
endpoint, on plain inputs; the Django view calls the same function) and its Reply straight to start_response.

Everything else goes to Django unchanged, and so does any request this path would not answer exactly as Django:
another method or path, a key not in the form of public keys, a Host not in ALLOWED_HOSTS (Django's 400 and its
security log), plain HTTP under SECURE_SSL_REDIRECT (Django's redirect). What Django adds to the answer is added
here: Content-Length, and the headers of the middleware that change a collect answer (SecurityMiddleware's,
XFrameOptionsMiddleware's), taken from those middleware themselves. Database connections are checked and recycled
as Django does (close_old_connections), once, before the request: a connection that became obsolete or failed is
closed before its next use rather than right after the request that found it so (the web worker rarely queries: the
collect writer stores). The request_started and request_finished signals are not sent; their other receivers do
nothing for this endpoint (a Redis cache's close, the urlconf, the DEBUG query log).

The path is used only with the middleware it was written against (MIDDLEWARE_STOOD_IN_FOR); with any other, every
request goes to Django.
"""

import logging
import re
from functools import lru_cache
from http import HTTPStatus

from django.conf import settings
from django.db import close_old_connections
from django.http import HttpResponse
from django.http.request import split_domain_port, validate_host
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.utils.http import parse_header_parameters

from campaigns.ingest.sender import client_ip
from campaigns.outages import OUTAGE_ERRORS
from widget.api.collect import collect_reply
from widget.api.responses import ERROR_SERVER, error_reply, unavailable_reply

# The middleware this path stands in for. SecurityMiddleware's redirect and headers, CommonMiddleware's host check
# and Content-Length and XFrameOptionsMiddleware's header are reproduced here; the others add nothing to a collect
# answer: WhiteNoise answers under STATIC_URL only, the CSP middleware skips /api/w/, the admin's language applies
# under /admin/ only, the view is exempt from CSRF, and it reads no session, user or message.
MIDDLEWARE_STOOD_IN_FOR = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "retarget.hardening.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "retarget.admin_locale.AdminLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]
# Site.public_key's alphabet (public_key_new) and length: any other key goes to Django, which answers it.
_EVENTS_PATH = re.compile(r"/api/w/([A-Za-z0-9_-]{1,40})/events")
_METHODS = frozenset({"POST", "OPTIONS"})
_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}
SERVER_ERROR = error_reply(500, ERROR_SERVER)

request_logger = logging.getLogger("django.request")


class _SecureRequest:
    """What SecurityMiddleware and XFrameOptionsMiddleware ask of a request when they add their headers."""

    def __init__(self, secure: bool) -> None:
        self.secure = secure

    def is_secure(self) -> bool:
        return self.secure


@lru_cache(maxsize=2)
def middleware_headers(secure: bool) -> tuple[tuple[str, str], ...]:
    """The headers SecurityMiddleware and XFrameOptionsMiddleware add to an answer over HTTPS or HTTP."""
    response = HttpResponse()
    before = set(response.headers)
    request = _SecureRequest(secure)
    response = XFrameOptionsMiddleware(lambda r: response).process_response(request, response)
    response = SecurityMiddleware(lambda r: response).process_response(request, response)
    return tuple((name, value) for name, value in response.items() if name not in before)


def _secure(environ) -> bool:
    """request.is_secure(), from the environ."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _host_allowed(environ) -> bool:
    """Whether request.get_host() would accept the request's host; False sends it to Django, which refuses it."""
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
        host = environ["HTTP_X_FORWARDED_HOST"]
    else:
        host = environ.get("HTTP_HOST")
        if host is None:
            return False  # rebuilt from SERVER_NAME by Django: rare enough to leave to it
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return _host_valid(host, tuple(allowed))


@lru_cache(maxsize=256)
def _host_valid(host: str, allowed: tuple[str, ...]) -> bool:
    """Cached: a server is asked for the same few hosts; a client sending many others only churns this cache."""
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed)


@lru_cache(maxsize=64)
def _media_type(content_type: str) -> str:
    """request.content_type: the type without its parameters, as Django parses it."""
    return parse_header_parameters(content_type)[0]


def collect_fast_path(django_application):
    """The WSGI application: collect requests answered here, every other request by `django_application`."""
    if list(settings.MIDDLEWARE) != MIDDLEWARE_STOOD_IN_FOR or settings.FORCE_SCRIPT_NAME or settings.PREPEND_WWW:
        request_logger.warning("collect fast path off: the middleware, FORCE_SCRIPT_NAME or PREPEND_WWW differ")
        return django_application

    def application(environ, start_response):
        match = _EVENTS_PATH.fullmatch(environ.get("PATH_INFO", ""))
        method = environ.get("REQUEST_METHOD", "").upper()
        if match is None or method not in _METHODS or environ.get("SCRIPT_NAME") or not _host_allowed(environ):
            return django_application(environ, start_response)
        secure = _secure(environ)
        if settings.SECURE_SSL_REDIRECT and not secure:
            return django_application(environ, start_response)
        try:
            close_old_connections()
            reply = collect_reply(
                public_key=match[1], method=method, origin=environ.get("HTTP_ORIGIN"),
                referer=environ.get("HTTP_REFERER"), content_type=_media_type(environ.get("CONTENT_TYPE", "")),
                content_length=environ.get("CONTENT_LENGTH"), read=environ["wsgi.input"].read,
                ip=client_ip(environ), user_agent=environ.get("HTTP_USER_AGENT", ""),
            )
        except OUTAGE_ERRORS:
            reply = unavailable_reply()  # collect_reply answers its own; this is the connection check before it
        except Exception:
            # As Django's handler does with an exception in a view: logged for the admins, a 500 to the client.
            request_logger.exception("Internal Server Error: %s", environ.get("PATH_INFO"))
            reply = SERVER_ERROR
        headers = [*reply.headers.items(), ("Content-Length", str(len(reply.body))), *middleware_headers(secure)]
        start_response(_STATUS_LINES[reply.status], headers)
        return [reply.body]

    return application
