"""Checks on one event of a batch: plain data in, a clean event or a reason out. No ORM, no request."""

import json
import math
import re
import uuid

from campaigns.assignment import is_finite_number
from campaigns.ingest.body import (
    MAX_DATA_DEPTH,
    MAX_EVENT_BYTES,
    MAX_ID_LENGTH,
    MAX_JOURNEY_PREV_LENGTH,
    MAX_JOURNEY_STEP,
    MAX_URL_LENGTH,
)
from campaigns.ingest.site_map import SiteIngest
from campaigns.ingest.store import EventRow
from campaigns.ingest.url_hygiene import url_clean
from campaigns.models import EventType
from campaigns.tally.segments import visit_segment

DAY_MS = 86_400_000
MAX_FUTURE_MS = DAY_MS
MAX_AGE_MS = 7 * DAY_MS

# Reasons, as stored in RejectedEventCount and answered in "rejected".
REASON_SCHEMA = "schema"
REASON_TYPE = "type"
REASON_ID = "id"
REASON_TOO_LARGE = "too_large"
REASON_TOO_DEEP = "too_deep"
REASON_ENCODING = "encoding"
REASON_CAMPAIGN = "campaign"
REASON_VARIANT = "variant"
REASON_FUTURE = "future"
REASON_TOO_OLD = "too_old"
REASON_BOT = "bot"
# A conversion's value that is not a finite number at least 0, or that exceeds the site's maximum order value.
REASON_VALUE = "value"
REASON_VALUE_OVER_MAX = "value_over_max"
# A form's hidden field (widget/src/render/kit.js honeypot()) that a person never sees and a bot fills in: the
# widget sends it in a submit's data under this key only when it is filled.
HONEYPOT_FIELD = "hp"
REASON_HONEYPOT = "form_honeypot"

TYPES = frozenset(EventType.values)
# The campaign is part of these events; a variant too, except an exposure of the holdout.
WITH_CAMPAIGN = frozenset({"exposure", "impression", "close", "click", "submit"})
# The server attributes these; a campaign sent with them is ignored (a consent banner may name its own).
CAMPAIGN_OPTIONAL = frozenset({"consent"})
VISITOR_OPTIONAL = frozenset({"pageview", "consent"})


# What a page view's journey carries for its segment (widget/src/core/state.js); not stored as sent.
JOURNEY_SEGMENT_KEYS = frozenset({"sessions", "utm", "referrer"})


# A checked event is stored as it is: the service's row type, so the two can never drift apart.
EventIn = EventRow


# The form the widget sends (a lower-case version 7 UUID; any version is accepted): taken as it is; any other form
# uuid.UUID accepts is normalized.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_canonical_uuid = _CANONICAL_UUID.fullmatch
# EventIn's fields in order, without the Python-level __new__ a NamedTuple adds (once per event on the hot path).
_event_new = tuple.__new__
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


class Rejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _int_or_none(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Rejected(REASON_SCHEMA)
    return value


def _short_str(value, *, required: bool) -> str:
    if value is None or value == "":
        if required:
            raise Rejected(REASON_SCHEMA)
        return ""
    if not isinstance(value, str) or len(value) > MAX_ID_LENGTH:
        raise Rejected(REASON_SCHEMA)
    return value


def depth_exceeds(value, limit: int) -> bool:
    """Iterative, so a hostile structure cannot exhaust the stack."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _text_storable(text: str) -> bool:
    """PostgreSQL refuses NUL in text and jsonb, and a lone surrogate is not UTF-8."""
    if "\x00" in text or "\\u0000" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _event_id(raw_id) -> str | None:
    if not isinstance(raw_id, str) or len(raw_id) > 40:
        return None
    if _CANONICAL_UUID.fullmatch(raw_id):
        return raw_id
    try:
        return str(uuid.UUID(raw_id))
    except ValueError:
        return None


def _payload_json(data) -> str:
    """`data` as stored: {} for none; refused when too deep, not JSON (NaN, Infinity) or not storable."""
    if data is None or data == {}:
        return "{}"
    if type(data) is not dict:
        raise Rejected(REASON_SCHEMA)
    if depth_exceeds(data, MAX_DATA_DEPTH):
        raise Rejected(REASON_TOO_DEEP)
    try:
        return _dumps(data)
    except ValueError:  # NaN or Infinity: Python reads them, PostgreSQL's jsonb does not
        raise Rejected(REASON_SCHEMA) from None


def _referrer_cleaned(data: dict, *, kept: frozenset[str]) -> str:
    """The payload as stored when it names a referrer: that URL keeps only the site's parameters too (the data
    was already checked as JSON, so encoding it again cannot fail)."""
    return _dumps({**data, "referrer": url_clean(data["referrer"], kept=kept)})


def journey_clean(journey) -> dict | None:
    """A page view's `data.journey` as stored, or None when it is not one: `{"prev": <a path or null>, "step": <a
    whole number from 1 to MAX_JOURNEY_STEP>}`, other keys dropped, the previous path without its query or
    fragment (as a referrer keeps none of the visitor's parameters). A bad journey is dropped, not the page view:
    it still counts for URL goals and only stays out of the journey map, as an older widget's page view does."""
    if type(journey) is not dict:
        return None
    step, prev = journey.get("step"), journey.get("prev")
    if type(step) is not int or not 1 <= step <= MAX_JOURNEY_STEP:
        return None
    if prev is not None:
        if type(prev) is not str or not prev.startswith("/"):
            return None
        prev = prev.split("#", 1)[0].split("?", 1)[0]
        if len(prev) > MAX_JOURNEY_PREV_LENGTH:
            return None
    return {"prev": prev, "step": step}


def _journey_cleaned(data: dict) -> dict:
    """`data` with its journey as journey_clean keeps it (the key gone when the journey is not one), and the page
    view's segment made from what the journey carries for it (`sessions`, `utm`, `referrer`), unless the page view
    brings a segment of its own: only the source and new or returning are stored, never the referrer."""
    raw = data["journey"]
    journey = journey_clean(raw)
    if journey is None:
        return {key: value for key, value in data.items() if key != "journey"}
    if "segment" not in data and not raw.keys().isdisjoint(JOURNEY_SEGMENT_KEYS):
        segment = visit_segment(sessions=raw.get("sessions"), utm=raw.get("utm"), referrer=raw.get("referrer"))
        return {**data, "journey": journey, "segment": segment}
    return {**data, "journey": journey}


def value_refusal(data, *, max_value: float) -> str | None:
    """The reason to refuse a conversion's `data` for its value, None when it may count: absent (or null), or a
    finite number from 0 to `max_value`. Anyone can send a conversion, so its value is the one number a forger
    would choose; the site's maximum order value bounds what one request can add to a campaign's revenue."""
    value = data.get("value") if type(data) is dict else None
    if value is None:
        return None
    if not is_finite_number(value) or value < 0:  # bool, str, list, NaN, infinities
        return REASON_VALUE
    return REASON_VALUE_OVER_MAX if value > max_value else None


def event_check(*, raw, now_ms: int, ingest: SiteIngest) -> EventIn:
    """The event, cleaned; raises Rejected with the reason. Campaign ids are checked against `ingest`.

    On the hot path (up to 50 per request): plain type checks, no intermediate objects.
    """
    if type(raw) is not dict:
        raise Rejected(REASON_SCHEMA)
    get = raw.get
    kind = get("type")
    if type(kind) is not str:
        raise Rejected(REASON_SCHEMA)
    if kind not in TYPES:
        raise Rejected(REASON_TYPE)
    event_id = get("id")
    if type(event_id) is not str or len(event_id) != 36 or not _canonical_uuid(event_id):
        event_id = _event_id(event_id)
        if event_id is None:
            raise Rejected(REASON_ID)
    ts = get("ts")
    if type(ts) is not int:
        if type(ts) is not float or not math.isfinite(ts):  # bool, str, None, NaN, Infinity
            raise Rejected(REASON_SCHEMA)
        ts = int(ts)
    if ts > now_ms + MAX_FUTURE_MS:
        raise Rejected(REASON_FUTURE)
    if ts < now_ms - MAX_AGE_MS:
        raise Rejected(REASON_TOO_OLD)
    # The common case inline (a short non-empty string, no data); the helpers decide everything else.
    visitor = get("visitor")
    if type(visitor) is not str or not visitor or len(visitor) > MAX_ID_LENGTH:
        visitor = _short_str(visitor, required=kind not in VISITOR_OPTIONAL)
    session = get("session")
    if type(session) is not str or not session or len(session) > MAX_ID_LENGTH:
        session = _short_str(session, required=False)
    url = get("url") or ""
    if type(url) is not str or len(url) > MAX_URL_LENGTH:
        raise Rejected(REASON_SCHEMA)
    data = get("data")
    payload_json = "{}" if data is None or (type(data) is dict and not data) else _payload_json(data)
    if len(payload_json) + len(url) > MAX_EVENT_BYTES:
        raise Rejected(REASON_TOO_LARGE)
    # All four in one pass; the newlines keep an escape from forming across two of them.
    if not _text_storable(f"{payload_json}\n{url}\n{visitor}\n{session}"):
        raise Rejected(REASON_ENCODING)
    if kind == "conversion" and data and (refusal := value_refusal(data, max_value=ingest.max_order_value)):
        raise Rejected(refusal)
    if kind == "submit" and data and data.get(HONEYPOT_FIELD) not in (None, ""):
        raise Rejected(REASON_HONEYPOT)

    campaign_id = variant_id = None
    if kind in WITH_CAMPAIGN or kind in CAMPAIGN_OPTIONAL:
        campaign_id = _int_or_none(get("campaign"))
        variant_id = _int_or_none(get("variant"))
        if campaign_id is None and kind in WITH_CAMPAIGN:
            raise Rejected(REASON_CAMPAIGN)
        if campaign_id is not None:
            variants = ingest.campaigns.get(campaign_id)
            if variants is None:
                raise Rejected(REASON_CAMPAIGN)
            if variant_id is None and kind not in ("exposure", "consent"):
                raise Rejected(REASON_VARIANT)
            if variant_id is not None and variant_id not in variants:
                raise Rejected(REASON_VARIANT)
        elif variant_id is not None:
            raise Rejected(REASON_VARIANT)
    if "?" in url or "#" in url:
        url = url_clean(url, kept=ingest.kept_params)
    if kind == "pageview" and type(data) is dict and "journey" in data:
        cleaned = _journey_cleaned(data)
        if cleaned != data:
            data = cleaned
            payload_json = _dumps(data)
    if type(data) is dict and type(data.get("referrer")) is str:
        payload_json = _referrer_cleaned(data, kept=ingest.kept_params)
    return _event_new(EventIn, (event_id, kind, ts, visitor, session, campaign_id, variant_id, url, payload_json))
