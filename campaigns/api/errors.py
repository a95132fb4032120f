"""The owner API's own error answers (those DRF does not write): `{"error": "...", "detail": ...}` with its
status, the shape the public endpoints answer too (widget/api/responses.py, error_reply)."""

from rest_framework.response import Response


def api_error(status: int, error: str, detail: str | None = None, *, headers: dict | None = None) -> Response:
    body = {"error": error} if detail is None else {"error": error, "detail": detail}
    return Response(body, status=status, headers=headers)
