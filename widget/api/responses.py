"""JSON answers of the public endpoints: `{"error": "...", "detail": ...}` with the right status."""

from django.http import JsonResponse

from campaigns.origins import origin_allowed


def error_response(status: int, error: str, detail=None, headers: dict | None = None) -> JsonResponse:
    body = {"error": error}
    if detail is not None:
        body["detail"] = detail
    return JsonResponse(body, status=status, headers=headers)


def cors_headers(*, origin: str | None, allowed_origins, methods: str = "GET") -> dict:
    """Access-Control headers for an allowed origin; none for any other (the browser then refuses)."""
    headers = {"Vary": "Origin"}
    if origin and origin_allowed(origin=origin, allowed=allowed_origins):
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Allow-Methods"] = f"{methods}, OPTIONS"
        headers["Access-Control-Allow-Headers"] = "Content-Type"
        headers["Access-Control-Max-Age"] = "86400"
    return headers
