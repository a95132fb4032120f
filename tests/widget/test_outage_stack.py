"""The app as deployed (gunicorn with its collect writer, a Celery worker and beat) on a PostgreSQL cluster and a Redis
server of the test's own, each stopped and started again under it: only 503s with Retry-After while one is out, every
retry stored once within 30 s of its return, counters equal to the distinct accepted events, no process exited."""

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.app_process import app_environment
from tests.campaigns.events_kit import BROWSER_UA, ORIGIN, event
from tests.servers import Postgres, Redis, spare_port, wait_port

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(connection.vendor != "postgresql" or not settings.REDIS_URL
                       or not Path("/usr/lib/postgresql/15/bin/initdb").exists(),
                       reason="needs PostgreSQL 15's server binaries and Redis"),
]
BASE_DIR = Path(settings.BASE_DIR)
RECOVERY_SECONDS = 30
SEED = """
import json
from django.contrib.auth import get_user_model
from campaigns import services
owner = get_user_model().objects.create_user("owner", password="pw-owner")
site = services.site_create(owner=owner, name="Shop", allowed_origins=["https://shop.example"])
campaign = services.campaign_create(site=site, name="Popup", message_type="popup", status="active",
    triggers=[{"type": "page_load", "delay": 0}],
    variants=[{"name": "A", "weight": 100, "content": {"headline": "Hi"}}])
print(json.dumps({"key": site.public_key, "campaign": campaign.id, "variant": campaign.variants.get().id}))
"""


class Stack:
    """The processes of a deployment, each with its log in `root`."""

    def __init__(self, *, root: Path, env: dict) -> None:
        self.root, self.env = root, env
        self.processes: dict[str, subprocess.Popen] = {}
        self.port = spare_port()

    def start(self, name: str, *args: str) -> None:
        with open(self.root / f"{name}.log", "w") as log:
            self.processes[name] = subprocess.Popen([sys.executable, *args], cwd=BASE_DIR, env=self.env, stdout=log,
                                                    stderr=subprocess.STDOUT, start_new_session=True)

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text()

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, dict, bytes]:
        client = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            client.request(method, path, body=body, headers={"Content-Type": "text/plain", "Origin": ORIGIN,
                                                             "User-Agent": BROWSER_UA, "Host": "127.0.0.1"})
            response = client.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            client.close()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def services(tmp_path):
    cluster, redis = Postgres(), Redis(root=tmp_path)
    cluster.create()
    redis.start()
    yield cluster, redis
    redis.stop()
    cluster.destroy()


@pytest.fixture
def stack(services, tmp_path):
    cluster, redis = services
    env = app_environment(DATABASE_URL=cluster.url, REDIS_URL=redis.url, CELERY_BROKER_URL=redis.url,
                          ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="0", WEB_CONCURRENCY="1",
                          COLLECT_WRITER_SOCKET=str(tmp_path / "collect.sock"))
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=BASE_DIR, env=env, check=True)
    seeded = subprocess.run([sys.executable, "manage.py", "shell", "-c", SEED], cwd=BASE_DIR, env=env, check=True,
                            capture_output=True, text=True)
    stack = Stack(root=tmp_path, env=env)
    stack.seed = json.loads(seeded.stdout.strip().splitlines()[-1])
    stack.start("web", "-m", "gunicorn", "-c", "retarget/gunicorn.conf.py", "retarget.wsgi",
                "--bind", f"127.0.0.1:{stack.port}")
    stack.start("worker", "-m", "celery", "-A", "retarget", "worker", "-P", "solo", "-l", "info")
    stack.start("beat", "-m", "celery", "-A", "retarget", "beat", "-l", "info", "-s", str(tmp_path / "beat-schedule"))
    try:
        wait_port(port=stack.port, what="gunicorn")
        wait_until(lambda: os.path.exists(tmp_path / "collect.sock"), what="the collect writer")
        wait_until(lambda: " ready." in stack.log("worker"), what="the worker")
        yield stack
    finally:
        stack.stop()


def wait_until(condition, *, timeout: float = 30, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def sql(cluster: Postgres, query: str) -> str:
    return subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "-d", "retarget",
                           "-Atc", query], check=True, capture_output=True, text=True).stdout.strip()


def test_outages_of_postgres_and_redis_are_503s_then_every_retry_is_stored_once_and_counted(services, stack):
    cluster, redis = services
    seed = stack.seed
    events_path, config_path = f"/api/w/{seed['key']}/events", f"/api/w/{seed['key']}/config"
    accepted: dict[str, dict] = {}

    def new_batch() -> list[dict]:
        return [event("impression", campaign=seed["campaign"], variant=seed["variant"], visitor=f"v{len(accepted)}-{i}")
                for i in range(2)] + [event("pageview")]

    def send(batch: list[dict]) -> tuple[int, dict]:
        status, headers, body = stack.request("POST", events_path, json.dumps({"events": batch}).encode())
        assert status in (202, 503), (status, body)
        if status == 202:
            accepted.update({e["id"]: e for e in batch})
        else:
            assert int(headers["Retry-After"]) > 0
            assert json.loads(body)["error"] == "service unavailable"
        return status, headers

    def outage(stop, start) -> float:
        """Batches while the service is out: all 503; after its return, their retries: 202, within 30 s."""
        stop()
        waiting = [new_batch() for _ in range(3)]
        assert [send(batch)[0] for batch in waiting] == [503, 503, 503]
        status, headers, body = stack.request("GET", config_path)
        assert (status, headers["ETag"], body) == (200, etag, config)  # this process's last good config
        assert stack.request("GET", "/healthz")[0] == 200
        assert stack.request("GET", "/readyz")[0] == 503
        start()
        returned = time.monotonic()
        for batch in waiting:  # as the widget does: the same batch again until it is stored
            wait_until(lambda b=batch: send(b)[0] == 202, timeout=RECOVERY_SECONDS, what="collect to store again")
        assert stack.request("GET", "/readyz")[0] == 200
        return time.monotonic() - returned

    assert send(new_batch())[0] == 202
    status, headers, config = stack.request("GET", config_path)
    etag = headers["ETag"]
    assert (status, stack.request("GET", "/readyz")[0]) == (200, 200)

    assert outage(cluster.stop, cluster.start) < RECOVERY_SECONDS
    assert send(new_batch())[0] == 202  # a drain queued with a countdown is held by the worker when Redis goes
    assert outage(redis.stop, redis.start) < RECOVERY_SECONDS
    sent = stack.log("beat").count("Sending due task")
    assert send(new_batch())[0] == 202
    wait_until(lambda: stack.log("beat").count("Sending due task") > sent, timeout=RECOVERY_SECONDS,
               what="beat to queue its periodic tasks again")

    impressions = sum(1 for e in accepted.values() if e["type"] == "impression")
    assert sql(cluster, "SELECT count(*) FROM campaigns_event") == str(len(accepted))  # each stored once
    wait_until(lambda: sql(cluster, "SELECT coalesce(sum(impressions), 0) FROM campaigns_variantdailystats")
               == str(impressions), timeout=RECOVERY_SECONDS, what="the worker to count every accepted event")
    readiness = json.loads(stack.request("GET", "/readyz")[2])
    assert readiness["tally"]["lag_seconds"] == 0
    assert readiness["worker"]["last_seen_seconds_ago"] is not None
    assert {name: process.poll() for name, process in stack.processes.items()} == {
        "web": None, "worker": None, "beat": None}
    assert "collect writer (pid" not in stack.log("web")  # never exited, never restarted
    assert "Internal Server Error" not in stack.log("web")
