"""Reading a JSON body on a public endpoint: bounded size, UTF-8, bounded nesting, plain error messages.

One implementation for the collect and decide endpoints. Nesting is bounded by the decoder itself: a
body deep enough to exhaust it is refused as too deep, and nothing walks the document afterwards.
"""

import json

import msgspec

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
