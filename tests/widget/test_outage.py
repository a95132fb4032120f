"""Outages of PostgreSQL and Redis, for real: a Redis server of the test's own, stopped and started again, and the
database's port closed under the test's connection. Collect, config and decide answer 503 with Retry-After (never
500, never 202), config serves its last good copy for a while, and what a 202 answered is stored once."""

import io
import json
import math
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.utils import timezone

from campaigns import services
from campaigns.ingest import store as event_store
from campaigns.ingest import writer
from campaigns.ingest.rate_limits import Limit
from campaigns.models import Event
from campaigns.selectors import config as selectors_config
from campaigns.tally import nudge
from tests.app_process import app_environment
from tests.campaigns.events_kit import BROWSER_UA, ORIGIN, batch_of, event, events_url, post_events, stored_rows
from tests.servers import Redis
from widget.api.fast_path import collect_fast_path
from widget.api.responses import ERROR_UNAVAILABLE

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql" or not settings.REDIS_URL,
                                reason="outages of PostgreSQL and Redis")
BASE_DIR = Path(settings.BASE_DIR)


@pytest.fixture
def redis_server(tmp_path, settings):
    """A Redis server of this test's own as the cache (rate limits, site maps, config); stopped at will."""
    server = Redis(root=tmp_path)
    server.start()
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": server.url}}
    yield server
    server.stop()


@contextmanager
def database_unreachable():
    """The test's connection pointed at a closed port: every query fails as with PostgreSQL stopped."""
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port


def assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == ERROR_UNAVAILABLE


def fast_post(site, events: list[dict]) -> tuple[int, dict, bytes]:
    """The batch through the WSGI fast path, as gunicorn runs it."""
    body = json.dumps({"events": events}).encode()
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": events_url(site), "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "HTTP_HOST": "testserver", "wsgi.url_scheme": "http",
        "CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
        "HTTP_ORIGIN": ORIGIN, "HTTP_USER_AGENT": BROWSER_UA, "REMOTE_ADDR": "203.0.113.9",
    }
    answer = {}

    def start_response(status, headers):
        answer["status"], answer["headers"] = int(status.split()[0]), dict(headers)

    body = b"".join(collect_fast_path(WSGIHandler())(environ, start_response))
    return answer["status"], answer["headers"], body


def stored(ids: list[str]) -> int:
    return Event.objects.filter(event_id__in=[uuid.UUID(i) for i in ids]).count()


def test_collect_answers_503_on_both_paths_while_redis_is_down_and_stores_the_retry_once(transactional_db, client,
                                                                                         redis_server, site, campaign):
    variant = campaign.variants.first()
    view_batch = [event("impression", campaign=campaign, variant=variant), event("pageview")]
    fast_batch = [event("close", campaign=campaign, variant=variant)]
    redis_server.stop()
    assert_unavailable(post_events(client, site, view_batch))
    status, headers, body = fast_post(site, fast_batch)
    assert (status, json.loads(body)["error"]) == (503, ERROR_UNAVAILABLE)
    assert int(headers["Retry-After"]) > 0
    assert stored([e["id"] for e in view_batch + fast_batch]) == 0

    redis_server.start()  # back, empty
    assert post_events(client, site, view_batch).status_code == 202
    assert fast_post(site, fast_batch)[0] == 202
    assert post_events(client, site, view_batch).status_code == 202  # the widget's retry of a lost answer
    assert stored([e["id"] for e in view_batch + fast_batch]) == 3


def test_collect_through_django_answers_503_while_the_database_is_down_and_stores_the_retry_once(
        transactional_db, client, site, campaign, outsider_site):
    batch = [event("impression", campaign=campaign, variant=campaign.variants.first())]
    assert post_events(client, site, [event("pageview")]).status_code == 202  # the site map is cached now
    with database_unreachable():
        assert_unavailable(post_events(client, site, batch))  # the insert fails
        assert_unavailable(post_events(client, outsider_site, [event("pageview")]))  # its map cannot be read
    assert post_events(client, site, batch).status_code == 202
    assert stored([e["id"] for e in batch]) == 1


def test_events_are_stored_and_kept_when_redis_fails_after_the_commit(transactional_db, redis_server, site):
    """The nudge that asks a worker to count runs after the insert committed: Redis gone then is not an error."""
    nudge._nudge_quiet_until = 0.0
    redis_server.stop()
    rows = stored_rows(3)
    inserted = event_store.events_record(site_id=site.id, events=rows, received_at=timezone.now(),
                                            device="desktop", ip_hash="h", ip_truncated="", user_agent=BROWSER_UA)
    assert inserted == 3
    assert stored([r.event_id for r in rows]) == 3


def test_config_and_decide_serve_the_last_good_config_during_an_outage_then_503(transactional_db, client,
                                                                                redis_server, site, campaign,
                                                                                settings, monkeypatch):
    monkeypatch.setattr(selectors_config, "LOCAL_CONFIG_TRUST_SECONDS", 0.0)  # every request asks Redis, as after 1 s
    url = f"/api/w/{site.public_key}/config"
    never_served = services.site_create(owner=site.owner, name="Never served", allowed_origins=[])
    fresh = client.get(url)
    assert fresh.status_code == 200
    redis_server.stop()
    with database_unreachable():
        stale = client.get(url)
        assert (stale.status_code, stale["ETag"], stale.content) == (200, fresh["ETag"], fresh.content)
        assert client.get(url, HTTP_IF_NONE_MATCH=fresh["ETag"]).status_code == 304
        decided = client.post(f"/api/w/{site.public_key}/decide", data=json.dumps({"context": {}}),
                              content_type="application/json")
        assert decided.status_code == 200
        assert_unavailable(client.get(f"/api/w/{never_served.public_key}/config"))
        # A key the process's set of public keys does not hold is refused without the database or Redis.
        assert client.get("/api/w/pk_never_served_here/config").status_code == 404

        settings.CONFIG_STALE_SECONDS = 0
        assert_unavailable(client.get(url))
        assert_unavailable(client.post(f"/api/w/{site.public_key}/decide", data=json.dumps({"context": {}}),
                                       content_type="application/json"))
    redis_server.start()
    assert client.get(url)["ETag"] == fresh["ETag"]


def test_healthz_is_liveness_and_readyz_says_what_is_out(transactional_db, client, redis_server):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert (body["status"], body["database"]["ok"], body["redis"]["ok"]) == ("ready", True, True)
    assert body["tally"]["lag_seconds"] == 0
    assert "last_seen_seconds_ago" in body["worker"]

    redis_server.stop()
    down = client.get("/readyz")
    assert (down.status_code, down.json()["redis"]["ok"], down.json()["database"]["ok"]) == (503, False, True)
    assert int(down["Retry-After"]) > 0
    redis_server.start()

    with database_unreachable():
        assert client.get("/healthz").status_code == 200
        down = client.get("/readyz")
        assert (down.status_code, down.json()["database"]["ok"], down.json()["redis"]["ok"]) == (503, False, True)
    assert client.get("/readyz").status_code == 200


def test_readyz_reports_the_age_of_the_oldest_event_not_counted(transactional_db, client, site, monkeypatch):
    monkeypatch.setattr(nudge, "_nudge_quiet_until", math.inf)  # no drain: the events stay uncounted
    event_store.events_record(site_id=site.id, events=stored_rows(2), device="desktop", ip_hash="h",
                                 ip_truncated="", user_agent=BROWSER_UA,
                                 received_at=timezone.now() - timedelta(seconds=90))
    lag = client.get("/readyz").json()["tally"]["lag_seconds"]
    assert 90 <= lag < 600


@pytest.fixture
def writer_on_own_redis(transactional_db, tmp_path, settings, redis_server):
    """`manage.py collect_writer` on the test database, its cache and broker on this test's Redis."""
    path = str(tmp_path / "collect.sock")
    log_path = tmp_path / "writer.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "collect_writer", "--socket", path], cwd=BASE_DIR, stdout=log,
            stderr=subprocess.STDOUT,
            env=app_environment(REDIS_URL=redis_server.url, CELERY_BROKER_URL=redis_server.url))
    deadline = time.monotonic() + 20
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    settings.COLLECT_WRITER_SOCKET = path
    writer._client.quiet_until = 0.0
    yield process, log_path
    if writer._client.sock is not None:
        writer._client.sock.close()
        writer._client.sock = None
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def test_the_writer_survives_redis_going_away_and_answers_stored_only_for_what_it_committed(
        site, redis_server, writer_on_own_redis):
    process, log_path = writer_on_own_redis
    limits = [Limit(key=f"s:{site.id}", limit=10**6)]
    limited_rows, unlimited_rows = stored_rows(2), stored_rows(3)
    redis_server.stop()

    # Its rate limits cannot be counted: unavailable, nothing stored.
    answer = writer.writer_submit(limits=limits, cost=2, batch=batch_of(site, limited_rows))
    assert answer == writer.Answer(writer.UNAVAILABLE, 0)
    assert stored([r.event_id for r in limited_rows]) == 0
    # Nothing to count against Redis: committed, then the nudge to the workers fails; still "stored", still up.
    answer = writer.writer_submit(limits=[], cost=3, batch=batch_of(site, unlimited_rows))
    assert answer == writer.Answer(writer.STORED, 0)
    assert stored([r.event_id for r in unlimited_rows]) == 3
    assert "tally_nudge failed (ConnectionError" in log_path.read_text()

    redis_server.start()
    answer = writer.writer_submit(limits=limits, cost=2, batch=batch_of(site, limited_rows))
    assert answer == writer.Answer(writer.STORED, 0)
    assert stored([r.event_id for r in limited_rows]) == 2
    assert process.poll() is None
