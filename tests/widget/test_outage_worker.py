"""A real Celery worker, its broker a Redis server of the test's own, restarted while the worker holds a `countdown`
task (the drain every commit queues): the worker stays up, reconnects and counts again."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from campaigns.ingest import store as event_store
from campaigns.tally import nudge
from campaigns.tally.drain import tally_pending
from retarget.celery import app as celery_app
from tests.app_process import app_environment
from tests.campaigns.events_kit import BROWSER_UA, stored_rows
from tests.servers import Redis

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(connection.vendor != "postgresql" or not settings.REDIS_URL, reason="needs PostgreSQL"),
]
BASE_DIR = Path(settings.BASE_DIR)
# Redis is back well within this; the worker's reconnection backs off by a few seconds at most.
RECOVERY_SECONDS = 30


def wait_for(condition, *, timeout: float, what: str, poke=None):
    deadline = time.monotonic() + timeout
    last_poke = 0.0
    while time.monotonic() < deadline:
        if result := condition():
            return result
        if poke is not None and time.monotonic() - last_poke > 1:
            poke()  # as beat does every few seconds
            last_poke = time.monotonic()
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def broker(tmp_path):
    server = Redis(root=tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def worker(transactional_db, tmp_path, broker):
    """`celery worker` as production runs it (gossip, mingle and heartbeats on), its broker and cache our Redis."""
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "retarget", "worker", "-P", "solo", "-l", "info"],
            cwd=BASE_DIR, stdout=log, stderr=subprocess.STDOUT,
            env=app_environment(REDIS_URL=broker.url, CELERY_BROKER_URL=broker.url))
    wait_for(lambda: " ready." in log_path.read_text(), timeout=30, what="the worker to be ready")
    yield process, log_path
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def drain_via(broker: Redis, **options) -> None:
    """Queue a tally_drain on the worker's broker (the test's own tasks run in-process)."""
    eager, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, False
    try:
        with celery_app.connection_for_write(broker.url) as connection_:
            celery_app.send_task("campaigns.tally_drain", connection=connection_, **options)
    finally:
        celery_app.conf.task_always_eager = eager


def store(site, count: int) -> None:
    """Stored without the nudge (it would run the tally in this process): only the worker may count them."""
    nudge._nudge_quiet_until = float("inf")
    try:
        event_store.events_record(site_id=site.id, events=stored_rows(count), received_at=timezone.now(),
                                     device="desktop", ip_hash="h", ip_truncated="", user_agent=BROWSER_UA)
    finally:
        nudge._nudge_quiet_until = 0.0


def test_the_worker_survives_a_redis_restart_with_a_countdown_task_held_and_counts_again(site, broker, worker):
    process, log_path = worker
    store(site, 5)
    drain_via(broker)
    wait_for(lambda: tally_pending() == 0, timeout=RECOVERY_SECONDS, what="the first events counted")

    drain_via(broker, countdown=60)  # held by the worker, unacknowledged, until its time comes
    wait_for(lambda: log_path.read_text().count("campaigns.tally_drain") >= 3, timeout=10,
             what="the worker to hold the countdown task")
    broker.stop()
    wait_for(lambda: "Restoring 1 unacknowledged message" in log_path.read_text(), timeout=10,
             what="the worker to notice the broker is gone")
    broker.start()  # empty, as after a crash without persistence

    store(site, 7)
    wait_for(lambda: tally_pending() == 0, timeout=RECOVERY_SECONDS, what="the events counted after the restart",
             poke=lambda: drain_via(broker))
    assert process.poll() is None
    assert "Unrecoverable error" not in log_path.read_text()
