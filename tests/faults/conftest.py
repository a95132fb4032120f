"""The stack under fault: scripts/prod.py's processes (nginx, gunicorn with its writer, a Celery worker, beat) on
spare loopback ports, against a PostgreSQL cluster and a Redis server of their own."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from scripts.prod import Stack
from tests.faults.kit import shops_seed
from tests.servers import Postgres, Redis, postgres_bin, spare_port

SCENARIOS = ["slow", "writer", "worker", "redis", "postgres"]
MISSING = "the fault tests need PostgreSQL's server binaries and redis-server"


def _tools_missing() -> bool:
    return postgres_bin() is None or shutil.which("redis-server") is None


@pytest.fixture(scope="module")
def postgres():
    if _tools_missing():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    server = Postgres()
    server.create()
    yield server
    server.destroy()


@pytest.fixture(scope="module")
def redis(postgres):
    root = Path(tempfile.mkdtemp(prefix="retarget-faults-redis-"))
    server = Redis(root=root)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def stack(postgres, redis, tmp_path_factory):
    logs = tmp_path_factory.mktemp("stack-logs")
    running = Stack(
        database_url=postgres.url, redis_url=redis.url, http_port=spare_port(), https_port=spare_port(),
        web_port=spare_port(), https_only=False, tls_dir=tmp_path_factory.mktemp("tls"), log_dir=logs,
        env={
            "WEB_CONCURRENCY": "4",
            # One pool process: the one that counts is the one the worker test kills.
            "WORKER_CONCURRENCY": "1",
            "CACHE_KEY_PREFIX": "rt-faults",
            "ALLOWED_HOSTS": "localhost,127.0.0.1",
            # The load comes from one address; the limits are not what is under test.
            "RATE_LIMIT_CLIENT_PER_MINUTE": "100000000",
            "RATE_LIMIT_SITE_PER_MINUTE": "100000000",
        },
    )
    running.start(collectstatic=False, timeout=180)
    yield running
    running.stop()
    shutil.rmtree(running.run_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def shops(stack):
    return shops_seed(stack=stack, names=SCENARIOS)
