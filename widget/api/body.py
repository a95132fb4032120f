"""Reading a JSON body from a public endpoint: bounded size, UTF-8, bounded depth, plain errors."""

import json

ERROR_TOO_LARGE = "body too large"
ERROR_NOT_UTF8 = "body is not UTF-8"
ERROR_BAD_JSON = "body is not valid JSON"
ERROR_TOO_DEEP = "JSON nested too deeply"
ERROR_CONTENT_TYPE = "content type must be application/json or text/plain"

ACCEPTED_CONTENT_TYPES = ("application/json", "text/plain", "")


class BodyError(Exception):
    def __init__(self, status: int, error: str, detail: str | None = None):
        super().__init__(error)
        self.status = status
        self.error = error
        self.detail = detail


def _depth_ok(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return True


def json_body_read(request, *, max_bytes: int, max_depth: int = 12):
    """The parsed body, or BodyError. Never reads more than max_bytes + 1 bytes of the stream."""
    content_type = request.content_type.split(";")[0].strip().lower() if request.content_type else ""
    if content_type not in ACCEPTED_CONTENT_TYPES:
        raise BodyError(415, ERROR_CONTENT_TYPE)
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyError(413, ERROR_TOO_LARGE, f"at most {max_bytes} bytes")
    raw = request.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise BodyError(413, ERROR_TOO_LARGE, f"at most {max_bytes} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError(400, ERROR_NOT_UTF8) from None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise BodyError(400, ERROR_BAD_JSON, str(error)[:200]) from None
    if not _depth_ok(value, max_depth):
        raise BodyError(400, ERROR_TOO_DEEP, f"at most {max_depth} levels")
    return value
