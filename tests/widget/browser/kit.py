"""What the browser tests share: a visitor's gestures, the widget's DOM contract, and short DB polls."""

import json
import time

from django.core.cache import cache

from campaigns import services
from campaigns.models import Event
from campaigns.tally.drain import tally_drain

ROOT = "#retarget-root"
STORAGE_KEYS = ("_rt_v", "_rt_o", "_rt_c")


def wait_until(check, *, timeout: float = 6.0, interval: float = 0.1, message: str = ""):
    """Poll check() until it returns something truthy; fail with its last answer after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s: {message or check} (last: {value!r})")
        time.sleep(interval)


def message(page, message_type: str):
    """The outer element of a message, inside the open shadow root (Playwright's CSS pierces it)."""
    return page.locator(f"{ROOT} [data-rt-type={message_type}]")


def fixture_url(live_server, site, page_name: str = "plain.html", query: str = "") -> str:
    return f"{live_server.url}/fixtures/{page_name}?site={site.public_key}{query}"


def campaign_add(*, site, message_type: str, content: dict | None = None, name: str | None = None, **fields):
    """An active campaign with one variant; triggers default to page load. The site's cached config is dropped."""
    campaign = services.campaign_create(
        site=site,
        name=name or f"{message_type} campaign",
        message_type=message_type,
        status="active",
        triggers=fields.pop("triggers", [{"type": "page_load", "delay": 0}]),
        variants=[{"name": "Only", "weight": 100, "content": content or {"headline": f"Hello from {message_type}"}}],
        **fields,
    )
    cache.clear()
    return campaign


def leave_through_top(page) -> None:
    """ouibounce's gesture: the pointer moves in the page, then out through the top edge."""
    page.mouse.move(640, 300)
    page.mouse.move(640, -5, steps=4)  # Chromium sends a trusted mouseleave with clientY < 0


def accept_consent(page) -> None:
    banner = message(page, "consent")
    banner.get_by_role("button", name="Accept all").click()
    banner.wait_for(state="detached")


def storage(page) -> dict:
    return page.evaluate("() => Object.fromEntries(Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)]))")


def stored(page, key: str):
    raw = page.evaluate("(k) => localStorage.getItem(k)", key)
    return json.loads(raw) if raw else None


def visitor_id(page) -> str:
    return stored(page, "_rt_v")["id"]


def events(site, *types: str, **filters):
    rows = Event.objects.filter(site=site, **filters)
    if types:
        rows = rows.filter(type__in=types)
    return list(rows.order_by("id"))


def wait_for_events(site, event_type: str, *, count: int = 1, timeout: float = 6.0, **filters):
    """At least `count` events of that type reached the server; returns them."""
    return wait_until(
        lambda: (found := events(site, event_type, **filters)) and len(found) >= count and found,
        timeout=timeout, message=f"{count} {event_type} event(s) {filters or ''}",
    )


def read(page, site) -> None:
    """The visitor stays on the page until the widget has counted its view: the view is in the widget's outbox, or
    already stored. A page left sooner (before the widget's config or its audiences file has arrived) is not
    counted, as on any site; the visitors these tests play are people, who read for longer than that."""
    visitor = visitor_id(page)
    in_outbox = """() => (JSON.parse(localStorage.getItem('_rt_o')) || {q: []}).q
        .some((e) => e.type == 'pageview' && e.url == location.href)"""
    wait_until(lambda: page.evaluate(in_outbox) or events(site, "pageview", visitor_id=visitor, url=page.url),
               timeout=20, message=f"the view of {page.url} counted")


def tally() -> int:
    """Fold waiting events into responses, consent records and counters (the worker's job), here and now."""
    return tally_drain(time_budget=5)


def settle(page, ms: int = 600) -> None:
    """A short pause before asserting that something did NOT happen (never used to wait for a positive)."""
    page.wait_for_timeout(ms)
