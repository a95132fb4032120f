"""The collect writer as a real process on the test database: group commits, rate limits, crashes, gunicorn."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from campaigns.ingest import writer
from campaigns.ingest.rate_limits import Limit
from campaigns.models import Event
from tests.app_process import app_environment
from tests.campaigns.events_kit import (
    BROWSER_UA,
    ORIGIN,
    batch_of,
    event,
    events_url,
    post_events,
    stored_rows,
)

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql" or not settings.REDIS_URL,
                                reason="the writer stores into PostgreSQL and counts rate limits in Redis")
BASE_DIR = Path(settings.BASE_DIR)


def wait_for(condition, *, timeout: float = 20, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def writer_process(transactional_db, tmp_path, settings):
    """`manage.py collect_writer` on the test database; the test's collect requests go through it."""
    path = str(tmp_path / "collect.sock")
    log = open(tmp_path / "writer.log", "w")  # noqa: SIM115
    process = subprocess.Popen([sys.executable, "manage.py", "collect_writer", "--socket", path], cwd=BASE_DIR,
                               env=app_environment(), stdout=log, stderr=subprocess.STDOUT)
    wait_for(lambda: os.path.exists(path), what="the writer's socket")
    settings.COLLECT_WRITER_SOCKET = path
    writer._client.quiet_until = 0.0
    yield process
    if writer._client.sock is not None:
        writer._client.sock.close()
        writer._client.sock = None
    if process.poll() is None:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        process.wait(timeout=10)
    log.close()


LIMITS = [Limit(key="s:test", limit=10**9)]


def submit_together(process, batches: list[bytes]) -> list[writer.Answer]:
    """Each batch from its own thread (its own connection) while the writer is stopped, so that it finds them all
    waiting when it resumes: one group."""
    answers: dict[int, writer.Answer] = {}

    def send(index: int, batch: bytes) -> None:
        answers[index] = writer.writer_submit(limits=LIMITS, cost=1, batch=batch)

    process.send_signal(signal.SIGSTOP)
    threads = [threading.Thread(target=send, args=(i, batch)) for i, batch in enumerate(batches)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # every thread has sent its frame and waits for the answer
    process.send_signal(signal.SIGCONT)
    for thread in threads:
        thread.join(timeout=10)
    return [answers[i] for i in range(len(batches))]


def test_a_batch_sent_through_the_writer_is_stored_before_the_202(client, site, campaign, writer_process,
                                                                  django_assert_max_num_queries):
    post_events(client, site, [event("pageview")])  # warms the site map
    variant = campaign.variants.first()
    batch = [event("impression", campaign=campaign, variant=variant), event("pageview"),
             event("close", campaign=campaign, variant=variant)]
    with django_assert_max_num_queries(0):  # the web process itself writes nothing
        response = post_events(client, site, batch)
    assert response.status_code == 202
    assert response.json() == {"accepted": [e["id"] for e in batch], "rejected": []}
    assert set(Event.objects.values_list("event_id", flat=True)) >= {uuid.UUID(e["id"]) for e in batch}


def test_requests_waiting_together_share_one_commit_and_keep_their_events(site, writer_process):
    batches = [stored_rows(20) for _ in range(6)]
    answers = submit_together(writer_process, [batch_of(site, b) for b in batches])
    assert answers == [writer.Answer(writer.STORED, 0)] * 6
    stored = Event.objects.filter(site=site)
    assert stored.count() == 120
    assert stored.values("tx").distinct().count() == 1


def test_a_request_the_database_refuses_does_not_fail_the_others_of_its_group(site, writer_process):
    good, bad = stored_rows(3), stored_rows(2)
    bad[1] = bad[1]._replace(event_id="not-a-uuid")  # past the endpoint's checks only in a forged frame
    answers = submit_together(writer_process, [batch_of(site, good), batch_of(site, bad)])
    assert answers == [writer.Answer(writer.STORED, 0), writer.Answer(writer.FAILED, 0)]
    assert set(Event.objects.values_list("event_id", flat=True)) == {uuid.UUID(r.event_id) for r in good}


def test_the_writer_counts_rate_limits_and_refuses_over_them(client, site, writer_process, settings):
    settings.RATE_LIMIT_CLIENT_PER_MINUTE = 5
    within = post_events(client, site, [event("pageview") for _ in range(5)])
    over = post_events(client, site, [event("pageview") for _ in range(2)])
    assert within.status_code == 202
    assert over.status_code == 429
    assert 1 <= int(over["Retry-After"]) <= 60
    assert Event.objects.count() == 5


def test_a_killed_writer_loses_no_batch_the_web_worker_stores_it(client, site, writer_process):
    first = [event("pageview") for _ in range(3)]
    assert post_events(client, site, first).status_code == 202
    writer_process.kill()
    writer_process.wait()
    second = [event("pageview") for _ in range(3)]
    response = post_events(client, site, second)
    assert response.status_code == 202
    retry = post_events(client, site, second)  # the widget's retry: stored once
    assert retry.status_code == 202
    assert Event.objects.count() == 6


def test_a_writer_that_never_answers_holds_a_request_only_until_the_time_limit(client, site, transactional_db,
                                                                              tmp_path, settings, monkeypatch):
    path = str(tmp_path / "silent.sock")
    events = [event("pageview") for _ in range(3)]
    responses = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:  # listens, never reads nor answers
        silent.bind(path)
        silent.listen(8)
        settings.COLLECT_WRITER_SOCKET = path
        monkeypatch.setattr(writer, "ANSWER_TIMEOUT_SECONDS", 0.3)
        monkeypatch.setattr(writer, "_client", writer._Client())

        def send() -> None:
            try:
                responses.append(post_events(client, site, events))
            finally:
                connection.close()  # this thread's own

        # In a thread, so that a request waiting for ever fails the test instead of hanging it.
        request = threading.Thread(target=send, daemon=True)
        started = time.monotonic()
        request.start()
        request.join(timeout=10)
        waited = time.monotonic() - started
    assert not request.is_alive(), "the request still waits for the writer"
    assert responses[0].status_code == 202
    assert waited >= 0.3
    assert set(Event.objects.values_list("event_id", flat=True)) == {uuid.UUID(e["id"]) for e in events}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def writer_pids(path: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"collect_writer" in command and path.encode() in command:
                found.append(int(entry.name))
    return found


def post_over_http(port: int, site, events) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{events_url(site)}", data=json.dumps({"events": events}).encode(), method="POST",
        headers={"Content-Type": "text/plain", "Origin": ORIGIN, "User-Agent": BROWSER_UA},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def listening(port: int) -> bool:
    """Whether gunicorn has bound its port yet (its master starts the writer first, so a writer is no sign)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def test_the_writer_ends_when_the_process_that_started_it_dies(transactional_db, tmp_path):
    path = str(tmp_path / "orphan.sock")
    command = f'"{sys.executable}" manage.py collect_writer --socket "{path}" --parent $$ & wait'
    parent = subprocess.Popen(["sh", "-c", command], cwd=BASE_DIR, env=app_environment())
    try:
        wait_for(lambda: writer_pids(path), what="the writer")  # started, not listening yet: the parent dies first
    finally:
        parent.kill()
        parent.wait()
    wait_for(lambda: not writer_pids(path), timeout=10, what="the orphaned writer to end")


def test_gunicorn_runs_the_writer_and_starts_it_again_when_it_dies(site, transactional_db, tmp_path):
    port, path = free_port(), str(tmp_path / "gunicorn-collect.sock")
    env = app_environment(COLLECT_WRITER_SOCKET=path, ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="0")
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "retarget/gunicorn.conf.py", "retarget.wsgi",
         "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        first_writer = wait_for(lambda: writer_pids(path), what="gunicorn's writer")[0]
        wait_for(lambda: listening(port) and post_over_http(port, site, [event("pageview")]) == 202, timeout=30,
                 what="gunicorn")
        os.kill(first_writer, signal.SIGKILL)
        assert post_over_http(port, site, [event("pageview") for _ in range(4)]) == 202  # stored by the worker
        second_writer = wait_for(lambda: [p for p in writer_pids(path) if p != first_writer], what="a new writer")[0]
        wait_for(lambda: os.path.exists(path), what="the new writer's socket")
        assert post_over_http(port, site, [event("pageview") for _ in range(5)]) == 202
        assert Event.objects.filter(site=site).count() == 10
        assert second_writer in writer_pids(path)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        log.close()
    assert not writer_pids(path), "gunicorn stops its writer when it stops"


def test_a_lead_stored_through_the_writer_gets_its_magnets_link_in_the_202(client, site, writer_process,
                                                                           django_assert_max_num_queries):
    from campaigns.services.assets import asset_create
    from tests.widget.test_magnet import magnet_campaign_create

    asset_create(site=site, name="guide", title="Guide", url="https://files.example/guide.pdf")
    magnet = magnet_campaign_create(site, {"fields": [{"name": "email"}],
                                           "magnet": {"title": "The guide", "asset": "asset:guide"}})
    post_events(client, site, [event("pageview")])  # warms the site map, which knows the magnet
    submit = event("submit", campaign=magnet, variant=magnet.variants.get(), data={"form": "lead", "email": "a@b.c"})
    with django_assert_max_num_queries(0):  # the link costs no query: the writer stored, the map knew
        response = post_events(client, site, [submit])
    assert response.status_code == 202
    [delivery] = response.json()["deliver"]
    assert (delivery["event_id"], delivery["title"]) == (submit["id"], "The guide")
    assert Event.objects.filter(event_id=submit["id"]).exists()
    assert client.get(delivery["url"])["Location"] == "https://files.example/guide.pdf"
