"""Building and sending widget events in tests (shared by tests/widget and tests/campaigns)."""

import json
import time
import uuid
from datetime import UTC, datetime

from django.urls import reverse

from campaigns.ingest.store import EventRow, events_batch_json

ORIGIN = "https://shop.example"
BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
)


def now_ms() -> int:
    return int(time.time() * 1000)


def event(kind: str, *, visitor: str = "v_1", campaign=None, variant=None, ts: int | None = None, **extra) -> dict:
    body = {
        "id": extra.pop("id", None) or str(uuid.uuid4()),
        "type": kind,
        "ts": now_ms() if ts is None else ts,
        "visitor": visitor,
        "session": "s_1",
        "url": extra.pop("url", "https://shop.example/"),
        "data": extra.pop("data", {}),
    }
    if campaign is not None:
        body["campaign"] = getattr(campaign, "id", campaign)
    if variant is not None or kind in ("exposure", "impression", "close", "click", "submit"):
        body["variant"] = getattr(variant, "id", variant)
    body.update(extra)
    return body


def events_url(site) -> str:
    return reverse("widget:events", kwargs={"public_key": site.public_key})


def post_events(client, site, events, *, origin: str = ORIGIN, content_type: str = "text/plain", body=None, **headers):
    data = body if body is not None else json.dumps({"events": events})
    extra = {"HTTP_USER_AGENT": BROWSER_UA}
    if origin:
        extra["HTTP_ORIGIN"] = origin
    extra.update(headers)
    return client.post(events_url(site), data=data, content_type=content_type, **extra)


def stored_rows(count: int) -> list[EventRow]:
    """`count` new page views as the collect endpoint hands them to the store (EventRow)."""
    return [EventRow(str(uuid.uuid4()), "pageview", now_ms(), f"v{i}", "s", None, None, "https://shop.example/", "{}")
            for i in range(count)]


def batch_of(site, events: list[EventRow]) -> bytes:
    """One request's rows as events_record_batches and the collect writer take them."""
    return events_batch_json(site_id=site.id, events=events, received_at=datetime.now(UTC), device="desktop",
                             ip_hash="h", ip_truncated="", user_agent=BROWSER_UA)
