import logging
import time

from django.db import connection
from django.http import JsonResponse
from django.utils import timezone

from campaigns.outages import DATABASE_ERRORS, REDIS_ERRORS
from campaigns.process_cache import redis_raw
from campaigns.selectors.tally import tally_lag_seconds, worker_last_seen
from widget.api.responses import ERROR_NOT_FOUND, ERROR_SERVER, error_response, unavailable_headers

logger = logging.getLogger(__name__)


def healthz(request):
    """Liveness: 200 while this process serves requests. It asks nothing of the database or Redis, so an outage
    of theirs never gets a healthy web process restarted (/readyz says whether collect can store)."""
    return JsonResponse({"status": "ok"})


def readyz(request):
    """Readiness, in JSON: the database, Redis, the tally's lag and when a worker last ran; 503 when collect cannot
    store (the database or Redis unreachable), so a load balancer sends visitors elsewhere meanwhile."""
    database = _check(_database_ping, DATABASE_ERRORS)
    redis = _check(_redis_ping, REDIS_ERRORS) if redis_raw() is not None else {"ok": True, "detail": "not used"}
    ready = database["ok"] and redis["ok"]
    tally = {"lag_seconds": None}
    if database["ok"]:
        try:
            tally["lag_seconds"] = round(tally_lag_seconds(now=timezone.now()), 3)
        except DATABASE_ERRORS:
            pass  # the database went away meanwhile: its entry above already says it may
    worker = {"last_seen_seconds_ago": None}
    if redis["ok"]:
        try:
            seen = worker_last_seen()
        except REDIS_ERRORS:
            seen = None
        if seen is not None:
            worker["last_seen_seconds_ago"] = round(max(0.0, time.time() - seen), 3)
    body = {"status": "ready" if ready else "unavailable", "database": database, "redis": redis, "tally": tally,
            "worker": worker}
    return JsonResponse(body, status=200 if ready else 503, headers=None if ready else unavailable_headers())


def _database_ping() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis_ping() -> None:
    redis_raw().ping()


def _check(ping, errors: tuple) -> dict:
    """The error's class only: its message names internal hosts and ports, and /readyz is public (it is logged)."""
    try:
        ping()
    except errors as error:
        logger.warning("readyz: %s", error)
        return {"ok": False, "detail": error.__class__.__name__}
    return {"ok": True}


def not_found(request, exception=None):
    """API paths answer 404 in JSON, like every API view; other paths get Django's page."""
    if request.path.startswith("/api/"):
        return error_response(404, ERROR_NOT_FOUND, request.path)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return error_response(500, ERROR_SERVER)
    from django.views.defaults import server_error as default

    return default(request)
