"""The public endpoints' shared HTTP helpers: every JSON error they answer, `{"error": "...", "detail": ...}` with
its status, is written by `error_reply` (the collect endpoint and its WSGI fast path send that Reply as it is; the
Django views and the API 404 and 500 pages through `error_response`); the outage answer (503 with
Retry-After); CORS headers."""

from typing import NamedTuple

import msgspec
from django.http import HttpResponse

from campaigns.ingest.origins import origin_allowed

JSON = "application/json"
# What a client is told to wait when the database or Redis cannot be reached: long enough for a restart to finish,
# short enough that the widget's events are stored soon after the service is back.
RETRY_AFTER_SECONDS = 5
ERROR_UNAVAILABLE = "service unavailable"
DETAIL_UNAVAILABLE = "the database or cache cannot be reached; nothing was stored, send again after Retry-After"
ERROR_NOT_FOUND = "not found"
ERROR_METHOD = "method not allowed"
ERROR_SERVER = "server error"


class Reply(NamedTuple):
    """An answer as plain data, sent as it is by the WSGI fast path and wrapped by `django_response`."""

    status: int
    headers: dict[str, str]
    body: bytes


def error_reply(status: int, error: str, detail=None, *, headers: dict | None = None) -> Reply:
    """The one JSON error of the public endpoints."""
    body = {"error": error}
    if detail is not None:
        body["detail"] = detail
    return Reply(status, {"Content-Type": JSON, **(headers or {})}, msgspec.json.encode(body))


def method_not_allowed_reply(*, allow: str, headers: dict | None = None) -> Reply:
    """405 for a method the endpoint does not take; `allow` lists those it does."""
    return error_reply(405, ERROR_METHOD, headers={**(headers or {}), "Allow": allow})


def unavailable_headers(headers: dict | None = None) -> dict:
    return {**(headers or {}), "Retry-After": str(RETRY_AFTER_SECONDS)}


def unavailable_reply(*, headers: dict | None = None) -> Reply:
    """503 with Retry-After: an outage of the database or Redis, never an answer about the request itself."""
    return error_reply(503, ERROR_UNAVAILABLE, DETAIL_UNAVAILABLE, headers=unavailable_headers(headers))


def django_response(reply: Reply) -> HttpResponse:
    return HttpResponse(reply.body, status=reply.status, headers=reply.headers)


def error_response(status: int, error: str, detail=None, headers: dict | None = None) -> HttpResponse:
    return django_response(error_reply(status, error, detail, headers=headers))


def service_unavailable(*, headers: dict | None = None) -> HttpResponse:
    return django_response(unavailable_reply(headers=headers))


def cors_headers(*, origin: str | None, allowed_origins, methods: str = "GET") -> dict:
    """Access-Control headers for an allowed origin; none for any other (the browser then refuses)."""
    headers = {"Vary": "Origin"}
    if origin and origin_allowed(origin=origin, allowed=allowed_origins):
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Allow-Methods"] = f"{methods}, OPTIONS"
        headers["Access-Control-Allow-Headers"] = "Content-Type"
        headers["Access-Control-Max-Age"] = "86400"
    return headers
