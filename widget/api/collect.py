"""POST /api/w/<public_key>/events: the collect endpoint's HTTP face over the collect service
(campaigns/ingest/collect.py). The Django view and the WSGI fast path (widget/api/fast_path.py) both call
`collect_reply` and send its Reply as it is."""

import logging
from collections.abc import Callable

import msgspec
from django.views.decorators.csrf import csrf_exempt

from campaigns.ingest.collect import Refusal, collect_site_get, events_collect, request_origin
from campaigns.ingest.origins import origin_allowed
from campaigns.ingest.sender import client_ip
from campaigns.outages import OUTAGE_ERRORS
from widget.api.magnet import magnet_path
from widget.api.responses import (
    JSON,
    Reply,
    cors_headers,
    django_response,
    error_reply,
    method_not_allowed_reply,
    unavailable_reply,
)

ERROR_UNKNOWN_SITE = "unknown site key"
# What Django gives a response without a type (the preflight's empty answer).
EMPTY = "text/html; charset=utf-8"

logger = logging.getLogger(__name__)


@csrf_exempt
def events_collect_api(request, public_key: str):
    # Headers are read from META: `request.headers` would build a dict of every header on each request.
    meta = request.META
    return django_response(collect_reply(
        public_key=public_key, method=request.method, origin=meta.get("HTTP_ORIGIN"), referer=meta.get("HTTP_REFERER"),
        content_type=request.content_type, content_length=meta.get("CONTENT_LENGTH"), read=request.read,
        ip=client_ip(meta), user_agent=meta.get("HTTP_USER_AGENT", ""),
    ))


def collect_reply(*, public_key: str, method: str, origin: str | None, referer: str | None, content_type: str,
                  content_length: str | None, read: Callable[[int], bytes], ip: str, user_agent: str) -> Reply:
    """The whole endpoint on plain inputs: `content_type` without its parameters, `read(n)` the body's next n bytes,
    `ip` the client's address as client_ip reads it.

    An outage of the database or Redis is answered 503: the collect service meets one only before the events are
    stored, so a 503 never hides stored events and a 202 always means stored.
    """
    try:
        return _collect_reply(public_key=public_key, method=method, origin=origin, referer=referer,
                              content_type=content_type, content_length=content_length, read=read, ip=ip,
                              user_agent=user_agent)
    except OUTAGE_ERRORS as error:
        logger.warning("collect: %s; answered 503", error.__class__.__name__)
        return unavailable_reply()


def _collect_reply(*, public_key: str, method: str, origin: str | None, referer: str | None, content_type: str,
                   content_length: str | None, read: Callable[[int], bytes], ip: str, user_agent: str) -> Reply:
    ingest = collect_site_get(public_key=public_key)
    if ingest is None:
        return error_reply(404, ERROR_UNKNOWN_SITE)
    headers = cors_headers(origin=origin, allowed_origins=ingest.allowed_origins, methods="POST")
    sender_origin = request_origin(origin, referer)
    if method == "OPTIONS":
        allowed = origin_allowed(origin=sender_origin, allowed=ingest.allowed_origins)
        return Reply(204 if allowed else 403, {"Content-Type": EMPTY, **headers}, b"")
    if method != "POST":
        return method_not_allowed_reply(allow="POST, OPTIONS", headers=headers)
    outcome = events_collect(ingest=ingest, public_key=public_key, origin=sender_origin, content_type=content_type,
                             content_length=content_length, read=read, ip=ip, user_agent=user_agent)
    if type(outcome) is Refusal:
        if outcome.retry_after is not None:
            headers["Retry-After"] = str(outcome.retry_after)
        return error_reply(outcome.status, outcome.error, outcome.detail, headers=headers)
    answer = {"accepted": outcome.accepted, "rejected": outcome.rejected}
    if outcome.deliver:
        answer["deliver"] = [
            {"event_id": d.event_id, "url": magnet_path(public_key=public_key, token=d.token), "title": d.title}
            for d in outcome.deliver
        ]
    return Reply(202, {"Content-Type": JSON, **headers}, msgspec.json.encode(answer))
