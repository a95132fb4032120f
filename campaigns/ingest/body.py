"""The size limits of what a client sends the public endpoints, and reading a JSON body within them: bounded size,
UTF-8, bounded nesting, plain error messages.

The one place each limit is set: the collect endpoint (its Django view and its WSGI fast path alike), the event
checks, the store, the collect writer and the decide endpoint read them from here. Nesting is bounded by the
decoder itself: a body deep enough to exhaust it is refused as too deep, and nothing walks the document afterwards.
"""

import json

import msgspec

# A request's body (collect's batch, decide's context); a bigger one is refused unread.
MAX_BODY_BYTES = 64 * 1024
MAX_BATCH_EVENTS = 50
# One event: its data as stored plus its URL.
MAX_EVENT_BYTES = 32 * 1024
MAX_DATA_DEPTH = 8
# Visitor and session ids.
MAX_ID_LENGTH = 64
MAX_URL_LENGTH = 4096
# A page view's journey (`data.journey`): the previous page's path, and its step in the session (a session row
# records at most this many: campaigns.models.journeys.STEPS_CAP).
MAX_JOURNEY_PREV_LENGTH = MAX_URL_LENGTH
MAX_JOURNEY_STEP = 1_000_000
# The User-Agent: read this far to tell the device, and stored this far (on consent events, as proof).
MAX_USER_AGENT_READ_CHARS = 1024
MAX_USER_AGENT_CHARS = 512
# A batch's widget version (`v`), stored on its page views (Event.widget_version).
MAX_WIDGET_VERSION_CHARS = 16
# A frame to the collect writer: one request's rate limits and accepted events, encoded again (each event's data as
# a JSON string, its quotes escaped once more): at most about twice the body it came from; sixteen times is ample.
MAX_WRITER_FRAME_BYTES = 16 * MAX_BODY_BYTES

ERROR_CONTENT_TYPE = "send application/json or text/plain"
ERROR_TOO_LARGE = "body too large"
ERROR_NOT_UTF8 = "body is not UTF-8"
ERROR_MALFORMED = "body is not valid JSON"
ERROR_TOO_DEEP = "body is nested too deeply"

# text/plain: what fetch keepalive and sendBeacon send without a CORS preflight.
CONTENT_TYPES = frozenset({"application/json", "text/plain"})


def body_read(read, *, content_length: str | None, max_bytes: int) -> bytes | None:
    """The body, by `read(n)` (a request's or a WSGI input's read), when its declared size is at most max_bytes;
    None when it is bigger (it is never read). Never more than declared is read (PEP 3333), and no declared size
    reads nothing, as Django's request does."""
    try:
        declared = int(content_length or 0)
    except ValueError:
        declared = 0
    if declared > max_bytes:
        return None
    return read(declared) if declared > 0 else b""


def json_parse(body: bytes):
    """(document, None) or (None, error message).

    msgspec reads well-formed JSON (all the widget sends) several times faster than the json module, into the
    same Python values. Anything it refuses takes the json module's path, which gives the error, or reads
    what only it accepts (NaN and Infinity, lone surrogates) so that the events' own checks refuse those
    one by one and the rest of the batch is kept.
    """
    try:
        return msgspec.json.decode(body), None
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        pass
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None, ERROR_NOT_UTF8
    try:
        return json.loads(text), None
    except RecursionError:
        return None, ERROR_TOO_DEEP
    except ValueError:  # JSONDecodeError, and lone surrogates the decoder refuses
        return None, ERROR_MALFORMED
