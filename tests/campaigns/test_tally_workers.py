"""The tally with real Celery worker processes on the test database, Redis as broker, events over HTTP."""

import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Sum

from campaigns.ingest.store import EventRow, events_record
from campaigns.models import VariantDailyStats
from campaigns.tally.drain import tally_pending
from campaigns.tasks import tally_drain
from retarget.celery import app as celery_app
from tests.app_process import app_environment
from tests.campaigns.events_kit import BROWSER_UA, ORIGIN, event, events_url

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(connection.vendor != "postgresql" or not settings.REDIS_URL,
                       reason="needs PostgreSQL and Redis"),
]
BASE_DIR = Path(settings.BASE_DIR)
KINDS = ("impression", "click", "close")


@pytest.fixture
def queue():
    """A queue of our own, so no other worker on this Redis takes our tasks; tasks really sent, not eager."""
    name = f"test-tally-{uuid.uuid4().hex[:8]}"
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = name
    yield name
    celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = saved


class Workers:
    def __init__(self, queue: str, tmp_path: Path) -> None:
        self.queue = queue
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        env = app_environment()
        log = open(self.tmp_path / f"worker-{len(self.processes)}.log", "w")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "retarget", "worker", "-Q", self.queue, "-P", "solo",
             "-n", f"{self.queue}-{len(self.processes)}@%h", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-l", "info"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.processes.append(process)
        return process

    def wait_ready(self, *, timeout: float = 30) -> None:
        """Until every started worker says it is ready to consume (Celery logs 'ready.')."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            logs = [path.read_text() for path in sorted(self.tmp_path.glob("worker-*.log"))]
            if len(logs) == len(self.processes) and all(" ready." in log for log in logs):
                return
            time.sleep(0.1)
        raise AssertionError("workers did not become ready")

    def kill(self, process: subprocess.Popen) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def workers(queue, tmp_path, transactional_db):
    pool = Workers(queue, tmp_path)
    yield pool
    pool.stop_all()


def counted(campaign) -> dict:
    return VariantDailyStats.objects.filter(campaign_id=campaign.id).aggregate(
        impressions=Sum("impressions"), clicks=Sum("clicks"), closes=Sum("closes"),
        impression_visitors=Sum("impression_visitors"),
    )


def wait_until_drained(expected: dict, campaign, *, timeout: float = 60) -> dict:
    """Poll; nudge now and then as beat would (a nudge lost with a killed worker is not our concern)."""
    deadline = time.monotonic() + timeout
    last_kick = 0.0
    while time.monotonic() < deadline:
        if not tally_pending() and counted(campaign) == expected:
            return counted(campaign)
        if time.monotonic() - last_kick > 2:
            tally_drain.delay()
            last_kick = time.monotonic()
        time.sleep(0.2)
    return counted(campaign)


def expected_counts(events: list[dict]) -> dict:
    distinct = {e["id"]: e for e in events}.values()
    result = {name + "s": sum(1 for e in distinct if e["type"] == name) for name in KINDS}
    result["impression_visitors"] = len({e["visitor"] for e in distinct if e["type"] == "impression"})
    return result


def random_events(campaign, variant, n: int, *, visitors: int) -> list[dict]:
    return [
        event(random.choice(KINDS), campaign=campaign, variant=variant, visitor=f"v{random.randrange(visitors)}")
        for _ in range(n)
    ]


def store_directly(site, events: list[dict]) -> None:
    """A backlog, written by the same service the endpoint uses (faster than HTTP for thousands of events)."""
    for start in range(0, len(events), 50):
        rows = [
            EventRow(event_id=e["id"], type=e["type"], ts_ms=e["ts"], visitor_id=e["visitor"], session_id="",
                     campaign_id=e["campaign"], variant_id=e["variant"], url="", payload_json="{}")
            for e in events[start : start + 50]
        ]
        events_record(site_id=site.id, events=rows, received_at=datetime.now(UTC), device="desktop",
                      ip_hash="", ip_truncated="", user_agent="")


def purge(queue: str) -> None:
    """Drop the nudges queued while storing a backlog: one of them would count it all in one big batch."""
    with celery_app.connection_for_write() as broker:
        broker.default_channel.queue_purge(queue)


def http_post(url: str, events: list[dict]) -> int:
    request = urllib.request.Request(
        url, data=json.dumps({"events": events}).encode(), method="POST",
        headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": ORIGIN, "User-Agent": BROWSER_UA},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_events_over_http_with_duplicates_and_retries_are_counted_exactly(live_server, workers, site, campaign):
    variant = campaign.variants.order_by("id").first()
    workers.start()
    url = live_server.url + events_url(site)
    sent: list[dict] = []
    events = random_events(campaign, variant, 600, visitors=80)
    for start in range(0, len(events), 20):
        batch = events[start : start + 20]
        batch = batch + random.sample(batch, 3)  # the same event twice in one batch
        assert http_post(url, batch) == 202
        sent.extend(batch)
        if random.random() < 0.3:  # the answer was lost: the widget sends the batch again
            assert http_post(url, batch) == 202
    expected = expected_counts(sent)
    assert wait_until_drained(expected, campaign) == expected


def test_a_worker_killed_mid_tally_loses_and_doubles_nothing(workers, site, campaign):
    variant = campaign.variants.order_by("id").first()
    events = random_events(campaign, variant, 20_000, visitors=5000)
    store_directly(site, events)
    purge(workers.queue)
    total = tally_pending()
    first = workers.start()
    tally_drain.delay(batch_size=1000)  # twenty batches: the kill lands between two of them or inside one
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and tally_pending() > total * 0.7:
        time.sleep(0.05)
    workers.kill(first)
    left = tally_pending()
    assert 0 < left < total, "the kill should land while the backlog is being counted"
    workers.start()
    expected = expected_counts(events)
    assert wait_until_drained(expected, campaign) == expected


def test_two_workers_draining_at_once_count_exactly(workers, site, campaign):
    variant = campaign.variants.order_by("id").first()
    events = random_events(campaign, variant, 12_000, visitors=3000)
    store_directly(site, events)
    purge(workers.queue)
    workers.start()
    workers.start()
    workers.wait_ready()  # both consuming: each takes some of the nudges below
    for _ in range(4):
        tally_drain.delay(batch_size=200)  # small batches: the drain lasts long enough for both to take part
    expected = expected_counts(events)
    assert wait_until_drained(expected, campaign) == expected
    # A worker logs its share when its task ends, a moment after its last batch committed.
    deadline = time.monotonic() + 10
    while True:
        logs = [path.read_text() for path in sorted(workers.tmp_path.glob("worker-*.log"))]
        if all("tally_drain: counted" in log for log in logs) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert all("tally_drain: counted" in log for log in logs), "both workers should have counted a share"
