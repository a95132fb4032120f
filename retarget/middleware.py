"""A short way through the middleware for the widget's public endpoints.

The collect endpoint answers thousands of anonymous requests a second. Sessions, authentication, messages
and CSRF (the view is exempt) do nothing for it, yet the chain cost about as much as the trivial view itself.
A view marked with `@public_endpoint` is called straight from here; every other request takes the whole chain.
The middleware that do change such a response still run: CommonMiddleware (allowed hosts, Content-Length) and
XFrameOptionsMiddleware, here; SecurityMiddleware and WhiteNoise, placed before this one.
An outage of the database or Redis that reaches this point is answered 503 with Retry-After, as the views do.
"""

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.urls import Resolver404, resolve

from campaigns.outages import OUTAGE_ERRORS
from widget.api.responses import service_unavailable

PUBLIC_PREFIX = "/api/w/"


class PublicEndpointMiddleware:
    def __init__(self, get_response):
        if not settings.PUBLIC_SHORTCUT:  # RETARGET_PUBLIC_SHORTCUT=0: Django leaves this middleware out
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.common = CommonMiddleware(get_response)
        self.xframe = XFrameOptionsMiddleware(get_response)

    def __call__(self, request):
        if not request.path_info.startswith(PUBLIC_PREFIX):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        if not getattr(match.func, "public_endpoint", False):
            return self.get_response(request)
        response = self.common.process_request(request)  # DisallowedHost (400) for a host not allowed
        if response is None:
            request.resolver_match = match
            try:
                response = match.func(request, *match.args, **match.kwargs)
            except OUTAGE_ERRORS:
                response = service_unavailable()
        response = self.common.process_response(request, response)
        return self.xframe.process_response(request, response)
