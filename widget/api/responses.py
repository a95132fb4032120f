"""JSON answers of the public endpoints: `{"error": "...", "detail": ...}` with the right status."""

from django.http import JsonResponse

from campaigns.origins import origin_allowed

# What a client is told to wait when the database or Redis cannot be reached: long enough for a restart to finish,
# short enough that the widget's events are stored soon after the service is back.
RETRY_AFTER_SECONDS = 5
ERROR_UNAVAILABLE = "service unavailable"
DETAIL_UNAVAILABLE = "the database or cache cannot be reached; nothing was stored, send again after Retry-After"


def error_response(status: int, error: str, detail=None, headers: dict | None = None) -> JsonResponse:
    body = {"error": error}
    if detail is not None:
        body["detail"] = detail
    return JsonResponse(body, status=status, headers=headers)


def unavailable_headers(headers: dict | None = None) -> dict:
    return {**(headers or {}), "Retry-After": str(RETRY_AFTER_SECONDS)}


def service_unavailable(*, headers: dict | None = None) -> JsonResponse:
    """503 with Retry-After: an outage, never an answer about the request itself."""
    return error_response(503, ERROR_UNAVAILABLE, DETAIL_UNAVAILABLE, headers=unavailable_headers(headers))


def cors_headers(*, origin: str | None, allowed_origins, methods: str = "GET") -> dict:
    """Access-Control headers for an allowed origin; none for any other (the browser then refuses)."""
    headers = {"Vary": "Origin"}
    if origin and origin_allowed(origin=origin, allowed=allowed_origins):
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Allow-Methods"] = f"{methods}, OPTIONS"
        headers["Access-Control-Allow-Headers"] = "Content-Type"
        headers["Access-Control-Max-Age"] = "86400"
    return headers
