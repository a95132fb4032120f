"""POST /api/w/<public_key>/events: a batch of widget events, stored before we answer 202.

Order of checks (cheapest first, and nothing read that a check can refuse): site key, origin,
declared size, body read up to the limit, UTF-8 and JSON, rate limits, then each event. A bad
event is refused alone; the good ones of the batch are kept. Never a 500 for anything a client sends.
"""

import logging
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import msgspec
from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from campaigns.origins import origin_allowed, origin_of_url
from campaigns.outages import DATABASE_ERRORS, OUTAGE_ERRORS, Unavailable
from campaigns.selectors_events import site_ingest_get, site_ingest_refresh_due
from campaigns.services.events import (
    CONSENT,
    EventsStoreBusy,
    events_batch_json,
    events_record,
    refusals_note,
    rejected_events_count,
)
from campaigns.site_keys import site_key_known
from retarget.middleware import public_endpoint
from widget.api.body import (
    CONTENT_TYPES,
    ERROR_CONTENT_TYPE,
    ERROR_TOO_LARGE,
    body_read,
    json_parse,
)
from widget.api.client import BOT, client_ip, device_of, ip_hash, ip_truncate, user_agent_clean
from widget.api.event_input import (
    REASON_BOT,
    REASON_CAMPAIGN,
    REASON_VARIANT,
    EventIn,
    Rejected,
    event_check,
    events_check_widget,
    events_read_widget,
)
from widget.api.ratelimit import Limit, rate_limit_hit
from widget.api.responses import DETAIL_UNAVAILABLE, ERROR_UNAVAILABLE, cors_headers, unavailable_headers
from widget.writer import FAILED, LIMITED, UNAVAILABLE, writer_submit

MAX_BATCH_BYTES = 64 * 1024
MAX_BATCH_EVENTS = 50

ERROR_UNKNOWN_SITE = "unknown site key"
ERROR_METHOD = "method not allowed"
ERROR_ORIGIN = "origin not allowed"
ERROR_TOO_MANY = "too many events in one batch"
ERROR_SHAPE = 'body must be {"events": [...]}'
ERROR_RATE_LIMITED = "too many events, slow down"
ERROR_BUSY = "busy, try again shortly"
# The widget keeps a batch answered 503 and sends it again; the stored ids make the retry safe.
BUSY_RETRY_AFTER_SECONDS = 2

JSON = "application/json"
# What Django gives a response without a type (the preflight's empty answer).
EMPTY = "text/html; charset=utf-8"

# Reasons under which whole refused requests are counted (RejectedEventCount): the events of a batch over its
# rate limit or over MAX_BATCH_EVENTS are counted one by one; a request whose events could not be read, once.
REFUSED_ORIGIN = "request_origin"
REFUSED_CONTENT_TYPE = "request_content_type"
REFUSED_TOO_LARGE = "request_too_large"
REFUSED_MALFORMED = "request_malformed"
REFUSED_TOO_MANY = "too_many_in_batch"
REFUSED_RATE_LIMITED = "rate_limited"

logger = logging.getLogger(__name__)


class Reply(NamedTuple):
    """An answer as plain data: the Django view and the WSGI fast path (widget/api/fast_path.py) send it as it is."""

    status: int
    headers: dict[str, str]
    body: bytes


def _request_origin(origin: str | None, referer: str | None) -> str | None:
    """Origin, or for a beacon that sent none, the origin of its Referer."""
    if origin and origin != "null":
        return origin
    return origin_of_url(referer) if referer else None


def _error(status: int, error: str, detail=None, *, headers: dict | None = None) -> Reply:
    body = {"error": error}
    if detail is not None:
        body["detail"] = detail
    return Reply(status, {"Content-Type": JSON, **(headers or {})}, msgspec.json.encode(body))


def _refused(status: int, error: str, detail=None, *, site_id: int, reason: str, count: int = 1, headers: dict,
             extra_headers: dict | None = None) -> Reply:
    """A whole request refused: answered, and counted for the site's owner (events when they could be read,
    else the request once)."""
    refusals_note(site_id=site_id, day=timezone.now().date(), reason=reason, count=count)
    return _error(status, error, detail, headers={**headers, **(extra_headers or {})})


def _check_all(raw_events: list, *, now_ms: int, ingest):
    accepted: list[EventIn] = []
    accepted_ids: list[str] = []
    rejected: list[dict] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_events):
        try:
            event = event_check(raw=raw, now_ms=now_ms, ingest=ingest)
        except Rejected as refusal:
            rejected.append({"index": index, "reason": refusal.reason})
            continue
        accepted_ids.append(event.event_id)
        if event.event_id in seen:
            continue  # the same event twice in a batch: accepted, stored once
        seen.add(event.event_id)
        accepted.append(event)
    return accepted, accepted_ids, rejected


@public_endpoint
@csrf_exempt
def events_collect_api(request, public_key: str):
    # Headers are read from META: `request.headers` would build a dict of every header on each request.
    meta = request.META
    reply = events_collect(
        public_key=public_key, method=request.method, origin=meta.get("HTTP_ORIGIN"), referer=meta.get("HTTP_REFERER"),
        content_type=request.content_type, content_length=meta.get("CONTENT_LENGTH"), read=request.read,
        ip=client_ip(meta), user_agent=meta.get("HTTP_USER_AGENT", ""),
    )
    return HttpResponse(reply.body, status=reply.status, headers=reply.headers)


def unavailable_reply() -> Reply:
    """503 with Retry-After: the database or Redis could not be reached, and nothing of the request was stored."""
    return _error(503, ERROR_UNAVAILABLE, DETAIL_UNAVAILABLE, headers=unavailable_headers())


def events_collect(*, public_key: str, method: str, origin: str | None, referer: str | None, content_type: str,
                   content_length: str | None, read: Callable[[int], bytes], ip: str, user_agent: str) -> Reply:
    """The whole endpoint on plain inputs: `content_type` without its parameters, `read(n)` the body's next n
    bytes (called only once the checks before it passed), `ip` the client's address as client_ip reads it.

    An outage of the database or Redis is answered 503: it can only happen before the events are stored (what
    follows the commit catches its own failures), so a 503 never hides stored events and a 202 always means stored.
    """
    try:
        return _events_collect(public_key=public_key, method=method, origin=origin, referer=referer,
                               content_type=content_type, content_length=content_length, read=read, ip=ip,
                               user_agent=user_agent)
    except OUTAGE_ERRORS as error:
        logger.warning("collect: %s; answered 503", error.__class__.__name__)
        return unavailable_reply()


def _events_collect(*, public_key: str, method: str, origin: str | None, referer: str | None, content_type: str,
                    content_length: str | None, read: Callable[[int], bytes], ip: str, user_agent: str) -> Reply:
    if not site_key_known(public_key=public_key):
        return _error(404, ERROR_UNKNOWN_SITE)
    ingest = site_ingest_get(public_key=public_key)
    if ingest is None:
        return _error(404, ERROR_UNKNOWN_SITE)
    allowed = origin_allowed(origin=_request_origin(origin, referer), allowed=ingest.allowed_origins)
    headers = cors_headers(origin=origin, allowed_origins=ingest.allowed_origins, methods="POST")
    if method == "OPTIONS":
        return Reply(204 if allowed else 403, {"Content-Type": EMPTY, **headers}, b"")
    if method != "POST":
        return _error(405, ERROR_METHOD, headers={**headers, "Allow": "POST, OPTIONS"})
    refused = partial(_refused, site_id=ingest.site_id, headers=headers)
    if not allowed:
        return refused(403, ERROR_ORIGIN, reason=REFUSED_ORIGIN)
    if content_type not in CONTENT_TYPES:
        return refused(415, ERROR_CONTENT_TYPE, reason=REFUSED_CONTENT_TYPE)
    body = body_read(read, content_length=content_length, max_bytes=MAX_BATCH_BYTES)
    if body is None:
        return refused(413, ERROR_TOO_LARGE, {"max_bytes": MAX_BATCH_BYTES}, reason=REFUSED_TOO_LARGE)
    # The widget's own form is read and typed in C; any other body as any JSON, to be checked event by event.
    # Off (COLLECT_TYPED_DECODE=0), every body takes the other way.
    widget_events = raw_events = events_read_widget(body) if settings.COLLECT_TYPED_DECODE else None
    if raw_events is None:
        document, error = json_parse(body)
        if error:
            return refused(400, error, reason=REFUSED_MALFORMED)
        raw_events = document.get("events") if isinstance(document, dict) else None
        if not isinstance(raw_events, list):
            return refused(400, ERROR_SHAPE, reason=REFUSED_MALFORMED)
    if len(raw_events) > MAX_BATCH_EVENTS:
        return refused(413, ERROR_TOO_MANY, {"max_events": MAX_BATCH_EVENTS}, reason=REFUSED_TOO_MANY,
                       count=len(raw_events))

    now = timezone.now()
    hashed_ip = ip_hash(ip, day=now.date())
    limits = [
        Limit(key=f"s:{ingest.site_id}", limit=settings.RATE_LIMIT_SITE_PER_MINUTE),
        Limit(key=f"c:{hashed_ip}", limit=settings.RATE_LIMIT_CLIENT_PER_MINUTE),
    ]
    cost = max(1, len(raw_events))
    user_agent = user_agent_clean(user_agent)
    device = device_of(user_agent[:1024])
    now_ms = int(now.timestamp() * 1000)
    checked = None if widget_events is None or device == BOT else events_check_widget(
        widget_events, now_ms=now_ms, ingest=ingest)
    if device == BOT:
        accepted, accepted_ids = [], []
        rejected = [{"index": index, "reason": REASON_BOT} for index in range(len(raw_events))]
    elif checked is not None:
        (accepted, accepted_ids), rejected = checked, []
    else:
        if widget_events is not None:  # an event to refuse, with its reason: each event as the JSON it came as
            raw_events = msgspec.json.decode(body)["events"]
        accepted, accepted_ids, rejected = _check_all(raw_events, now_ms=now_ms, ingest=ingest)
        if any(r["reason"] in (REASON_CAMPAIGN, REASON_VARIANT) for r in rejected) and site_ingest_refresh_due(
            ingest=ingest
        ):
            # Perhaps a campaign or variant created since the map was cached: look once more.
            ingest = site_ingest_get(public_key=public_key, refresh=True) or ingest
            accepted, accepted_ids, rejected = _check_all(raw_events, now_ms=now_ms, ingest=ingest)
    sender = {"site_id": ingest.site_id, "received_at": now, "device": device, "ip_hash": hashed_ip,
              "ip_truncated": ip_truncate(ip) if any(event.type == CONSENT for event in accepted) else "",
              "user_agent": user_agent}
    try:
        retry_after = _limited_or_stored(limits=limits, cost=cost, events=accepted, sender=sender)
    except EventsStoreBusy as busy:
        return _error(503, ERROR_BUSY, str(busy),
                      headers={**headers, "Retry-After": str(BUSY_RETRY_AFTER_SECONDS)})
    if retry_after is not None:
        return refused(429, ERROR_RATE_LIMITED, reason=REFUSED_RATE_LIMITED, count=cost,
                       extra_headers={"Retry-After": str(retry_after)})
    if rejected:
        try:
            rejected_events_count(
                site_id=ingest.site_id, day=now.date(), reasons=Counter(r["reason"] for r in rejected)
            )
        except DATABASE_ERRORS:
            # The accepted events are stored already: the answer stays 202, only the refusals' count is lost.
            logger.warning("collect: refused events of site %s went uncounted", ingest.site_id, exc_info=True)
    return _accepted_response(accepted_ids, rejected, headers=headers)


def _limited_or_stored(*, limits: list[Limit], cost: int, events: list[EventIn], sender: dict) -> int | None:
    """Count the request against its rate limits and, within them, store its events: the seconds to wait when
    over a limit, else None once the events are stored.

    The collect writer does both for the requests of a whole group at once (widget/writer.py); without it, or
    when it cannot answer, the request does them itself.
    """
    if settings.COLLECT_WRITER_SOCKET:
        batch = events_batch_json(events=events, **sender) if events else b""
        answer = writer_submit(limits=limits, cost=cost, batch=batch)
        if answer is not None and answer.status == UNAVAILABLE:
            # The writer could not reach the database or Redis; doing its work here would meet the same outage.
            raise Unavailable("the collect writer could not store")
        if answer is not None and answer.status != FAILED:
            return answer.retry_after if answer.status == LIMITED else None
    retry_after = rate_limit_hit(limits=limits, cost=cost)
    if retry_after is None:
        events_record(events=events, **sender)
    return retry_after


def _accepted_response(accepted_ids: list[str], rejected: list[dict], *, headers: dict) -> Reply:
    return Reply(202, {"Content-Type": JSON, **headers},
                 msgspec.json.encode({"accepted": accepted_ids, "rejected": rejected}))
