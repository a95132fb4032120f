"""Visitor segments of the A/B results: device, traffic source, new or returning. Plain data in, answers out.

The widget sends `data.segment = {"source": ..., "returning": bool}` on exposure and impression events
(docs/contracts.md); the collect endpoint derives the device from the User-Agent. The tally keeps the
segment of a visitor's first exposure on their assignment and books every later count of that visitor
under it, so the segments of the daily counters always add up to the campaign's totals.

The source is normalized here and, identically, in SQL for the PostgreSQL tally (SOURCE_SQL below):
trimmed, lowercased, at most 64 characters, "direct" when missing or empty. Anything but printable ASCII
becomes "other": a hostile client cannot mint look-alike values, and SQL and Python lowercase ASCII the same
way whatever the database's locale.
"""

import re

DEVICES = ("desktop", "mobile", "tablet")
DIRECT = "direct"
OTHER = "other"
SOURCE_MAX_LENGTH = 64
WHITESPACE = " \t\n\v\f\r"
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")
# The segment's columns on assignments and counters ("returning" is a reserved word in SQL: always quoted).
SEGMENT = 'device, source, "returning"'

# An event's own traffic source: source_normalize in SQL, over an event aliased `e` (ASCII-only lowercase,
# whatever the database's locale).
_SEGMENT_SOURCE = "btrim(e.payload -> 'segment' ->> 'source', " + " || ".join(
    f"chr({ord(c)})" for c in WHITESPACE) + ")"
SOURCE_SQL = f"""CASE
    WHEN jsonb_typeof(e.payload -> 'segment' -> 'source') IS DISTINCT FROM 'string' OR {_SEGMENT_SOURCE} = ''
        THEN '{DIRECT}'
    WHEN {_SEGMENT_SOURCE} !~ '^[\\x20-\\x7e]+$' THEN '{OTHER}'
    ELSE left(translate({_SEGMENT_SOURCE}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'),
              {SOURCE_MAX_LENGTH})
END"""


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
    """(device, source, returning) of an event: its device, and its `data.segment` normalized."""
    segment = payload.get("segment") if isinstance(payload, dict) else None
    if not isinstance(segment, dict):
        return device, DIRECT, False
    return device, source_normalize(segment.get("source")), segment.get("returning") is True
