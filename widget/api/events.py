"""POST /api/w/<public_key>/events — being written (Ingestion issue)."""

from widget.api.responses import error_response


def events_collect_api(request, public_key: str):
    return error_response(501, "not implemented yet")
