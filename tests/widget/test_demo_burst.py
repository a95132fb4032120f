"""The embedded default as `make demo` runs it (runserver, SQLite, tasks in-process) under a burst of collect requests.

Each test talks to a real `manage.py runserver` on a SQLite file of its module, migrated and seeded as `make demo`
does it, and reads that file the way the results pages do (their tables), never through the server.
"""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

from campaigns.ingest.collect import ERROR_BUSY
from tests.campaigns.events_kit import BROWSER_UA, now_ms

BASE_DIR = Path(settings.BASE_DIR)
DEMO_ORIGIN = "http://127.0.0.1:8000"  # an origin the demo site allows (demo_seed)
DEMO_URL = DEMO_ORIGIN + "/demo/"
THREADS = 8
BATCHES_PER_THREAD = 50
# The test's own environment (pytest's settings, the shared PostgreSQL and Redis) never reaches the demo server.
LEFT_OUT = ("DATABASE_URL", "REDIS_URL", "CACHE_KEY_PREFIX", "CELERY_", "TEST_CELERY_BROKER_URL", "DJANGO_",
            "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_", "DEBUG", "COLLECT_WRITER_SOCKET", "_RETARGET_")


def demo_environment(database: Path, **extra: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(LEFT_OUT)}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "retarget.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{database}",
        # Every request of the burst comes from 127.0.0.1: one client, far over a visitor's rate limit.
        "RATE_LIMIT_CLIENT_PER_MINUTE": str(10**9),
        "RATE_LIMIT_SITE_PER_MINUTE": str(10**9),
        **extra,
    }


def manage(*args: str, env: dict) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True, capture_output=True,
                   timeout=120)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Demo:
    """The demo's SQLite file: its site key, the campaigns the burst reports on, and what the tally has written."""

    def __init__(self, database: Path) -> None:
        self.database = database
        with self.read() as db:
            self.public_key = db.execute("SELECT public_key FROM campaigns_site").fetchone()[0]
            self.arms = db.execute(
                "SELECT c.id, v.id FROM campaigns_campaign AS c JOIN campaigns_variant AS v ON v.campaign_id = c.id"
                " WHERE c.status = 'active' AND c.message_type <> 'consent' ORDER BY c.id, v.id"
            ).fetchall()
            self.lead_arm = db.execute(
                "SELECT c.id, v.id FROM campaigns_campaign AS c JOIN campaigns_variant AS v ON v.campaign_id = c.id"
                " WHERE c.message_type = 'lead' ORDER BY v.id"
            ).fetchone()

    @contextmanager
    def read(self):
        db = sqlite3.connect(self.database)
        try:
            yield db
        finally:
            db.close()

    def pending(self) -> int:
        """Events stored and not counted yet (past the tally's cursor)."""
        with self.read() as db:
            return db.execute(
                "SELECT count(*) FROM campaigns_event AS e WHERE (e.tx, e.id) > (SELECT coalesce(max(last_tx), 0),"
                " coalesce(max(last_id), 0) FROM campaigns_tallycursor WHERE id = 1)"
            ).fetchone()[0]

    def counted(self) -> Counter:
        """Stored events by type, and what the tally made of them: counters and consent proof."""
        with self.read() as db:
            totals = Counter(dict(db.execute("SELECT type, count(*) FROM campaigns_event GROUP BY type")))
            impressions, closes = db.execute(
                "SELECT coalesce(sum(impressions), 0), coalesce(sum(closes), 0) FROM campaigns_variantdailystats"
            ).fetchone()
            consents = db.execute("SELECT count(*) FROM campaigns_consentrecord").fetchone()[0]
        return Counter({f"stored {kind}": count for kind, count in totals.items()}) + Counter(
            {"counted impression": impressions, "counted close": closes, "counted consent": consents})

    def settled(self, *, timeout: float) -> Counter:
        """The counts once the tally has caught up, with no request sent meanwhile."""
        wait_for(lambda: self.pending() == 0, timeout=timeout, what="the in-process tally to count every event")
        return self.counted()

    def leads(self, email: str) -> int:
        """Rows of the campaign's leads report (Response rows of the lead form) with this email."""
        with self.read() as db:
            return db.execute(
                "SELECT count(*) FROM campaigns_response WHERE form = 'lead' AND campaign_id = ? AND email = ?",
                [self.lead_arm[0], email],
            ).fetchone()[0]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Demo:
    """A SQLite file migrated and seeded as `make demo` does it."""
    database = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    env = demo_environment(database)
    manage("migrate", "--noinput", env=env)
    manage("demo_seed", env=env)
    return Demo(database)


@contextmanager
def demo_server(demo: Demo, log_path: Path, **extra: str):
    """`manage.py runserver` on the demo's file, as `make demo` starts it (without the reloader); its base URL."""
    port = free_port()
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=BASE_DIR,
            env=demo_environment(demo.database, **extra), stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: server.poll() is None and listening(port), timeout=30, what="runserver")
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(timeout=20)


@pytest.fixture(scope="module")
def server(demo, tmp_path_factory):
    with demo_server(demo, tmp_path_factory.mktemp("runserver") / "runserver.log") as url:
        yield url


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def widget_event(kind: str, *, visitor: str, arm: tuple[int, int] | None = None, data: dict | None = None) -> dict:
    body = {"id": str(uuid.uuid4()), "type": kind, "ts": now_ms(), "visitor": visitor, "session": f"s_{visitor}",
            "url": DEMO_URL, "data": data or {}}
    if arm is not None:
        body["campaign"], body["variant"] = arm
    return body


def visitor_batch(demo: Demo) -> list[dict]:
    """One new visitor's 20 events, as the widget sends them: page views, a consent decision, impressions, closes."""
    visitor = f"v_{uuid.uuid4().hex[:16]}"
    consent = {"decision": "granted", "categories": ["necessary", "analytics"], "policy_version": "1",
               "consent_id": visitor}
    return [
        *(widget_event("pageview", visitor=visitor) for _ in range(8)),
        widget_event("consent", visitor=visitor, data=consent),
        *(widget_event("impression", visitor=visitor, arm=demo.arms[i % len(demo.arms)]) for i in range(6)),
        *(widget_event("close", visitor=visitor, arm=demo.arms[i % len(demo.arms)]) for i in range(5)),
    ]


def post(server: str, demo: Demo, events: list[dict], *, origin: str = DEMO_ORIGIN) -> tuple[int, dict, dict]:
    """POST a batch as the widget does (text/plain, the shop's origin): status, headers and JSON body."""
    request = urllib.request.Request(
        f"{server}/api/w/{demo.public_key}/events", data=json.dumps({"events": events}).encode(), method="POST",
        headers={"Content-Type": "text/plain", "Origin": origin, "User-Agent": BROWSER_UA},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"null")


def accepted_of(events: list[dict], body: dict) -> Counter:
    accepted = set(body["accepted"])
    return Counter(f"stored {e['type']}" for e in events if e["id"] in accepted)


def test_a_burst_on_the_demo_server_gets_no_5xx_and_every_accepted_event_is_counted(demo, server):
    before = demo.settled(timeout=30)
    statuses: Counter = Counter()
    accepted: Counter = Counter()
    lock = threading.Lock()

    def visitor_after_visitor() -> None:
        for _ in range(BATCHES_PER_THREAD):
            events = visitor_batch(demo)
            status, _headers, body = post(server, demo, events)
            with lock:
                statuses[status] += 1
                if status == 202:
                    accepted.update(accepted_of(events, body))

    threads = [threading.Thread(target=visitor_after_visitor) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == {202: THREADS * BATCHES_PER_THREAD}
    after = demo.settled(timeout=30)
    added = after - before
    batches = THREADS * BATCHES_PER_THREAD
    assert accepted == {"stored pageview": 8 * batches, "stored consent": batches,
                        "stored impression": 6 * batches, "stored close": 5 * batches}
    assert added == accepted + Counter({"counted impression": accepted["stored impression"],
                                        "counted close": accepted["stored close"],
                                        "counted consent": accepted["stored consent"]})


def test_a_lead_submitted_right_after_another_request_reaches_the_leads_report_without_another_request(demo, server):
    visitor = f"v_{uuid.uuid4().hex[:16]}"
    email = f"{visitor}@example.com"
    lead = widget_event("submit", visitor=visitor, arm=demo.lead_arm,
                        data={"form": "lead", "email": email, "consent": True})
    # The form's impression starts a tally at once; the lead lands inside the debounce window that this tally opens
    # (sooner than a person fills a form: this test is about the tally, so the site's minimum fill time is off).
    with sqlite3.connect(demo.database) as db:
        db.execute("UPDATE campaigns_site SET form_min_fill_seconds = 0")
    try:
        assert post(server, demo, [widget_event("impression", visitor=visitor, arm=demo.lead_arm)])[0] == 202
        assert post(server, demo, [lead])[0] == 202

        wait_for(lambda: demo.leads(email) == 1, timeout=10, what="the lead in the leads report")
        demo.settled(timeout=10)
        assert demo.leads(email) == 1
    finally:
        with sqlite3.connect(demo.database) as db:
            db.execute("UPDATE campaigns_site SET form_min_fill_seconds = 2")


def test_a_write_lock_held_past_the_busy_timeout_is_answered_503_and_the_retried_batch_is_counted_once(
    demo, tmp_path
):
    events = visitor_batch(demo)
    with demo_server(demo, tmp_path / "runserver.log", SQLITE_BUSY_TIMEOUT="1") as server:
        before = demo.settled(timeout=30)
        holder = sqlite3.connect(demo.database, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # another writer, e.g. a second process, keeps the lock
            status, headers, body = post(server, demo, events)
            # A refused request is still answered; only its count for the site's owner is lost.
            refused = post(server, demo, events, origin="https://elsewhere.example")[0]
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert (status, body["error"]) == (503, ERROR_BUSY)
        assert int(headers["Retry-After"]) > 0
        assert refused == 403
        assert demo.counted() == before, "a 503 stores nothing"

        status, _headers, body = post(server, demo, events)  # the widget keeps the batch and sends it again
        assert status == 202
        added = demo.settled(timeout=10) - before

    assert added == accepted_of(events, body) + Counter(
        {"counted impression": 6, "counted close": 5, "counted consent": 1})


STORE_UNCOUNTED = """
import sys, time, uuid
from django.utils import timezone
from campaigns.models import Site
from campaigns.ingest import store as events
events.tally_nudge = lambda: None  # stored as by a server that stopped before its tally thread ran
site = Site.objects.get()
rows = [events.EventRow(str(uuid.uuid4()), "pageview", int(time.time() * 1000), "v_restart", "s_restart", None, None,
                        "http://127.0.0.1:8000/demo/", "{}") for _ in range(int(sys.argv[1]))]
print(events.events_record(site_id=site.id, events=rows, received_at=timezone.now(), device="desktop", ip_hash="",
                           ip_truncated="", user_agent=""))
"""


def test_events_left_uncounted_by_a_stopped_server_are_counted_when_it_starts_again(demo, tmp_path):
    stored = subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + STORE_UNCOUNTED, "7"],
                            cwd=BASE_DIR, env=demo_environment(demo.database), check=True, capture_output=True,
                            text=True, timeout=60)
    assert stored.stdout.split()[-1] == "7"
    assert demo.pending() >= 7

    with demo_server(demo, tmp_path / "runserver.log"):
        demo.settled(timeout=30)  # no request is sent to the server
