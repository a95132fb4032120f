"""Visitor segments of the A/B results: device, traffic source, new or returning. Plain data in, answers out.

The widget sends `data.segment = {"source": ..., "returning": bool, "device": ...}` on exposure and impression
events (docs/contracts.md); an event without a valid `device` takes the one the collect endpoint read from its
User-Agent (both with the rules of campaigns/targeting/device.py). The tally keeps the
segment of a visitor's first exposure on their assignment and books every later count of that visitor
under it, so the segments of the daily counters always add up to the campaign's totals.

A page view carries no segment from the widget (its core has no room for src/lazy/segment.js): it carries what
the segment is made of in its journey, and the collect endpoint makes the segment from that with `visit_segment`,
the same rule in Python, so each page view's segment is known from the page view alone.

The source is normalized here and, identically, in SQL for the PostgreSQL tally (SOURCE_SQL below):
trimmed, lowercased, at most 64 characters, "direct" when missing or empty. Anything but printable ASCII
becomes "other": a hostile client cannot mint look-alike values, and SQL and Python lowercase ASCII the same
way whatever the database's locale.
"""

import re
from urllib.parse import urlsplit

from campaigns.targeting.device import DEVICES

DIRECT = "direct"
OTHER = "other"
SOURCE_MAX_LENGTH = 64
WHITESPACE = " \t\n\v\f\r"
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")
# The segment's columns on assignments and counters ("returning" is a reserved word in SQL: always quoted).
SEGMENT = 'device, source, "returning"'

# An event's own traffic source: source_normalize in SQL, over an event aliased `e`. Only printable ASCII reaches
# lower(), and under the "C" collation it maps A-Z alone, whatever the database's locale (translate() would do the
# same at several times the cost, per event of the tally's claim).
_SEGMENT_SOURCE = "btrim(e.payload -> 'segment' ->> 'source', " + " || ".join(
    f"chr({ord(c)})" for c in WHITESPACE) + ")"
SOURCE_SQL = f"""CASE
    WHEN jsonb_typeof(e.payload -> 'segment' -> 'source') IS DISTINCT FROM 'string' OR {_SEGMENT_SOURCE} = ''
        THEN '{DIRECT}'
    WHEN {_SEGMENT_SOURCE} !~ '^[\\x20-\\x7e]+$' THEN '{OTHER}'
    ELSE left(lower({_SEGMENT_SOURCE} COLLATE "C"), {SOURCE_MAX_LENGTH})
END"""

# An event's device: segment_of in SQL, over an event aliased `e`: the widget's own when its segment names one of
# DEVICES, else the one collect read from the User-Agent.
DEVICE_SQL = "CASE WHEN e.payload -> 'segment' ->> 'device' IN (" + ", ".join(f"'{d}'" for d in DEVICES) + \
    ") THEN e.payload -> 'segment' ->> 'device' ELSE e.device END"


def source_normalize(raw) -> str:
    """The traffic source as counted: "google/cpc", "news.example", "direct" or "other"."""
    if not isinstance(raw, str):
        return DIRECT
    text = raw.strip(WHITESPACE)
    if not text:
        return DIRECT
    if not _PRINTABLE_ASCII.fullmatch(text):
        return OTHER
    return text.lower()[:SOURCE_MAX_LENGTH]


def segment_of(*, device: str, payload) -> tuple[str, str, bool]:
    """(device, source, returning) of an event: its `data.segment` normalized; the device the widget classified
    when the segment names one of DEVICES, else `device` (the server's reading of the User-Agent)."""
    segment = payload.get("segment") if isinstance(payload, dict) else None
    if not isinstance(segment, dict):
        return device, DIRECT, False
    sent = segment.get("device")
    return (
        sent if isinstance(sent, str) and sent in DEVICES else device,
        source_normalize(segment.get("source")),
        segment.get("returning") is True,
    )


def visit_source(*, utm, referrer) -> str:
    """The traffic source as src/lazy/segment.js makes it (tests/conformance/source.json holds both to the same
    cases): the session's `utm_source`, with "/<utm_medium>" when there is one; else the host of the visitor's first
    referrer, as the browser's URL parser writes it (lowercase, an international name in punycode); else "direct"."""
    if isinstance(utm, dict):
        source, medium = utm.get("source"), utm.get("medium")
        if isinstance(source, str) and source:
            return f"{source}/{medium}" if isinstance(medium, str) and medium else source
    if not isinstance(referrer, str) or not referrer:
        return DIRECT
    try:
        host = urlsplit(referrer).hostname
    except ValueError:  # a malformed IPv6 address: the browser's parser throws, and segment.js says "direct"
        return DIRECT
    if not host:
        return DIRECT
    if ":" in host:
        return f"[{host}]"
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def visit_segment(*, sessions, utm, referrer) -> dict:
    """A page view's `data.segment` from its journey's `sessions`, `utm` and `referrer` (docs/contracts.md): the
    source as visit_source makes it, and returning when the visitor is in their second session or later. The device
    is the one collect reads from the User-Agent, as for any event without the widget's."""
    return {
        "source": visit_source(utm=utm, referrer=referrer),
        "returning": type(sessions) is int and sessions > 1,
    }
