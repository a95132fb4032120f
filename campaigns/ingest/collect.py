"""The collect service: a batch of widget events, on plain inputs, checked and stored before it is answered.

Order of checks (cheapest first, and nothing read that a check can refuse): site key, origin, declared size, body
read up to the limit, UTF-8 and JSON, rate limits, then each event. A bad event is refused alone; the good ones of
the batch are kept. The HTTP face (widget/api/collect.py: the Django view and the WSGI fast path) turns what this
answers into a response; nothing here knows a request.
"""

import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from typing import NamedTuple

from django.conf import settings
from django.utils import timezone

from campaigns.ingest.body import (
    CONTENT_TYPES,
    ERROR_CONTENT_TYPE,
    ERROR_TOO_LARGE,
    MAX_BATCH_EVENTS,
    MAX_BODY_BYTES,
    MAX_USER_AGENT_READ_CHARS,
    MAX_WIDGET_VERSION_CHARS,
    body_read,
    json_parse,
)
from campaigns.ingest.checks import (
    REASON_BOT,
    REASON_CAMPAIGN,
    REASON_VARIANT,
    EventIn,
    Rejected,
    event_check,
)
from campaigns.ingest.magnets import Delivery, magnet_deliveries
from campaigns.ingest.origins import origin_allowed, origin_of_url
from campaigns.ingest.rate_limits import Limit, rate_limit_hit
from campaigns.ingest.refusals import (
    REFUSED_CONTENT_TYPE,
    REFUSED_MALFORMED,
    REFUSED_ORIGIN,
    REFUSED_RATE_LIMITED,
    REFUSED_TOO_LARGE,
    REFUSED_TOO_MANY,
    refusals_note,
    rejected_events_count,
)
from campaigns.ingest.sender import BOT, device_of, ip_hash, ip_truncate, user_agent_clean
from campaigns.ingest.site_keys import site_key_known
from campaigns.ingest.site_map import SiteIngest, site_ingest_get, site_ingest_refresh_due
from campaigns.ingest.store import CONSENT, events_batch_json, events_record
from campaigns.ingest.write_turn import EventsStoreBusy
from campaigns.ingest.writer import FAILED, LIMITED, UNAVAILABLE, writer_submit
from campaigns.outages import DATABASE_ERRORS, Unavailable

ERROR_ORIGIN = "origin not allowed"
ERROR_TOO_MANY = "too many events in one batch"
ERROR_SHAPE = 'body must be {"events": [...]}'
ERROR_RATE_LIMITED = "too many events, slow down"
ERROR_BUSY = "busy, try again shortly"
# The widget keeps a batch answered 503 and sends it again; the stored ids make the retry safe.
BUSY_RETRY_AFTER_SECONDS = 2

# What the batch's `v` may be: a build's version ("0.1.0", "dev", "1.2.0-rc.1"), kept short.
_WIDGET_VERSION = re.compile(rf"[0-9A-Za-z][0-9A-Za-z.+_-]{{0,{MAX_WIDGET_VERSION_CHARS - 1}}}")

logger = logging.getLogger(__name__)


class Collected(NamedTuple):
    """The batch stored: the ids of its accepted events (in the order sent), its refused events' reasons and the
    lead magnet links its stored submits earned (campaigns/ingest/magnets.py)."""

    accepted: list[str]
    rejected: list[dict]
    deliver: Sequence[Delivery] = ()


class Refusal(NamedTuple):
    """The whole request refused: its status, error and detail as the public endpoints answer them."""

    status: int
    error: str
    detail: object = None
    retry_after: int | None = None


def collect_site_get(*, public_key: str) -> SiteIngest | None:
    """The site map of a key, None for a key no site has (from the process's key set: no query)."""
    if not site_key_known(public_key=public_key):
        return None
    return site_ingest_get(public_key=public_key)


def request_origin(origin: str | None, referer: str | None) -> str | None:
    """Origin, or for a beacon that sent none, the origin of its Referer."""
    if origin and origin != "null":
        return origin
    return origin_of_url(referer) if referer else None


def widget_version_of(document: dict) -> str:
    """The batch's `v` (the widget's version), or "" when it names none or something else: a bad version is
    never a reason to refuse the events."""
    version = document.get("v")
    return version if type(version) is str and _WIDGET_VERSION.fullmatch(version) else ""


def _refused(status: int, error: str, detail=None, *, site_id: int, reason: str, count: int = 1,
             retry_after: int | None = None, origin: str | None = None) -> Refusal:
    """A whole request refused, and counted for the site's owner (events when they could be read, else the
    request once; a refused origin, named)."""
    refusals_note(site_id=site_id, day=timezone.now().date(), reason=reason, count=count, origin=origin)
    return Refusal(status, error, detail, retry_after)


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


def events_collect(*, ingest: SiteIngest, public_key: str, origin: str | None, content_type: str,
                   content_length: str | None, read: Callable[[int], bytes], ip: str,
                   user_agent: str) -> Collected | Refusal:
    """A POSTed batch of the site `ingest` maps: `origin` the request's (request_origin), `content_type` without
    its parameters, `read(n)` the body's next n bytes (called only once the checks before it passed), `ip` the
    client's address (sender.client_ip).

    An outage of the database or Redis goes up as its error: it can only happen before the events are stored (what
    follows the commit catches its own failures), so an outage never hides stored events.
    """
    refused = partial(_refused, site_id=ingest.site_id)
    if not origin_allowed(origin=origin, allowed=ingest.allowed_origins):
        return refused(403, ERROR_ORIGIN, reason=REFUSED_ORIGIN, origin=origin)
    if content_type not in CONTENT_TYPES:
        return refused(415, ERROR_CONTENT_TYPE, reason=REFUSED_CONTENT_TYPE)
    body = body_read(read, content_length=content_length, max_bytes=MAX_BODY_BYTES)
    if body is None:
        return refused(413, ERROR_TOO_LARGE, {"max_bytes": MAX_BODY_BYTES}, reason=REFUSED_TOO_LARGE)
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
    device = device_of(user_agent[:MAX_USER_AGENT_READ_CHARS])
    now_ms = int(now.timestamp() * 1000)
    if device == BOT:
        accepted, accepted_ids = [], []
        rejected = [{"index": index, "reason": REASON_BOT} for index in range(len(raw_events))]
    else:
        accepted, accepted_ids, rejected = _check_all(raw_events, now_ms=now_ms, ingest=ingest)
        if any(r["reason"] in (REASON_CAMPAIGN, REASON_VARIANT) for r in rejected) and site_ingest_refresh_due(
            ingest=ingest
        ):
            # Perhaps a campaign or variant created since the map was cached: look once more.
            ingest = site_ingest_get(public_key=public_key, refresh=True) or ingest
            accepted, accepted_ids, rejected = _check_all(raw_events, now_ms=now_ms, ingest=ingest)
    sender = {"site_id": ingest.site_id, "received_at": now, "device": device, "ip_hash": hashed_ip,
              "ip_truncated": ip_truncate(ip) if any(event.type == CONSENT for event in accepted) else "",
              "user_agent": user_agent, "widget_version": widget_version_of(document)}
    try:
        retry_after = _limited_or_stored(limits=limits, cost=cost, events=accepted, sender=sender)
    except EventsStoreBusy as busy:
        return Refusal(503, ERROR_BUSY, str(busy), BUSY_RETRY_AFTER_SECONDS)
    if retry_after is not None:
        return refused(429, ERROR_RATE_LIMITED, reason=REFUSED_RATE_LIMITED, count=cost, retry_after=retry_after)
    if rejected:
        try:
            rejected_events_count(
                site_id=ingest.site_id, day=now.date(), reasons=Counter(r["reason"] for r in rejected)
            )
        except DATABASE_ERRORS:
            # The accepted events are stored already: the answer stays 202, only the refusals' count is lost.
            logger.warning("collect: refused events of site %s went uncounted", ingest.site_id, exc_info=True)
    return Collected(accepted_ids, rejected, magnet_deliveries(ingest=ingest, events=accepted))


def _limited_or_stored(*, limits: list[Limit], cost: int, events: list[EventIn], sender: dict) -> int | None:
    """Count the request against its rate limits and, within them, store its events: the seconds to wait when
    over a limit, else None once the events are stored.

    The collect writer does both for the requests of a whole group at once (campaigns/ingest/writer.py); without
    it, or when it cannot answer, the request does them itself.
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
