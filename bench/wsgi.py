"""The benchmark server: the product's WSGI application, plus the floor of any collect endpoint on this stack.

POST /bench/store-only/<site id> takes a batch as the widget sends it and does only what no collect endpoint can
skip: read the body, decode it, count the request against its rate limits and store its events through the
collect writer, committed before the answer. None of the endpoint's checks (site key, origin, each event's
schema, ids, campaigns and time, bots), no client address hashed, no answer listing ids. bench/collect_bench.py
measures it beside the real endpoint and the trivial view: what the real endpoint costs above it is the price
of its checks, and its own ratio to the trivial view bounds what any endpoint could reach here.

Every other request goes to retarget.wsgi.application unchanged (one path comparison more each).
"""

# ruff: noqa: I001 (retarget.wsgi first: it sets Django up, which the app's modules need to be imported)
import re

from retarget.wsgi import application as product_application

from django.conf import settings
from django.utils import timezone

from campaigns.ingest.store import events_batch_json
from campaigns.ingest.body import json_parse
from campaigns.ingest.checks import EventIn
from campaigns.ingest.rate_limits import Limit
from campaigns.ingest.writer import STORED, writer_submit

STORE_ONLY = re.compile(r"/bench/store-only/(\d+)")
_ANSWER = b'{"stored":true}'


def _rows(events) -> list[EventIn]:
    """The decoded events as stored, unchecked: what the endpoint's checks produce for valid events."""
    return [EventIn(e["id"], e["type"], e["ts"], e.get("visitor", ""), e.get("session", ""), e.get("campaign"),
                    e.get("variant"), e.get("url", ""), "{}") for e in events]


def application(environ, start_response):
    match = STORE_ONLY.fullmatch(environ.get("PATH_INFO", ""))
    if match is None or environ.get("REQUEST_METHOD") != "POST":
        return product_application(environ, start_response)
    site_id = int(match[1])
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    document, error = json_parse(body)  # the endpoint's own decoder
    events = document.get("events") if error is None and isinstance(document, dict) else None
    if not isinstance(events, list):
        start_response("400 Bad Request", [("Content-Type", "text/plain"), ("Content-Length", "0")])
        return [b""]
    limits = [Limit(key=f"s:{site_id}", limit=settings.RATE_LIMIT_SITE_PER_MINUTE),
              Limit(key=f"c:{environ.get('REMOTE_ADDR', '')}", limit=settings.RATE_LIMIT_CLIENT_PER_MINUTE)]
    batch = events_batch_json(site_id=site_id, events=_rows(events), received_at=timezone.now(), device="desktop",
                              ip_hash="", ip_truncated="", user_agent="")
    answer = writer_submit(limits=limits, cost=max(1, len(events)), batch=batch)
    status = "202 Accepted" if answer is not None and answer.status == STORED else "503 Service Unavailable"
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(_ANSWER)))])
    return [_ANSWER]
