"""retarget/gunicorn.conf.py: two instances under one user share nothing (gunicorn's control socket is off, or
at a path of each instance's own); a worker freezes what it loaded."""

import gc
import os
import runpy
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.servers import spare_port, wait_port

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def healthz(port: int, *, timeout: float = 30) -> int:
    """The status of GET /healthz once gunicorn listens."""
    wait_port(port=port, what="gunicorn", timeout=timeout)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def start_gunicorn(tmp_path):
    """gunicorn with our configuration, one worker, on SQLite (so without the collect writer), HOME in tmp_path."""
    started: list[subprocess.Popen] = []

    def start(**extra: str) -> int:
        port = spare_port()
        env = {key: value for key, value in os.environ.items()
               if key not in ("XDG_RUNTIME_DIR", "COLLECT_WRITER_SOCKET")}
        env.update({"HOME": str(tmp_path / "home"), "DJANGO_SETTINGS_MODULE": "retarget.settings", "DEBUG": "0",
                    "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "*", "SECURE_SSL_REDIRECT": "0",
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "REDIS_URL": "", "WEB_CONCURRENCY": "1",
                    **extra})
        started.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "retarget/gunicorn.conf.py", "retarget.wsgi",
             "--bind", f"127.0.0.1:{port}"], cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL))
        return port

    (tmp_path / "home").mkdir()
    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=30)


def test_two_instances_under_one_user_both_serve_and_leave_no_control_socket_in_home(start_gunicorn, tmp_path):
    first, second = start_gunicorn(), start_gunicorn()
    assert (healthz(first), healthz(second)) == (200, 200)
    assert list((tmp_path / "home").rglob("*")) == []


def test_a_control_socket_asked_for_is_each_instances_own(start_gunicorn, tmp_path):
    paths = [tmp_path / "first.ctl", tmp_path / "second.ctl"]
    ports = [start_gunicorn(GUNICORN_CONTROL_SOCKET=str(path)) for path in paths]
    assert [healthz(port) for port in ports] == [200, 200]
    assert all(path.is_socket() for path in paths)
    assert list((tmp_path / "home").rglob("*")) == []


def test_the_web_containers_health_check_passes_the_host_check_and_the_https_redirect(start_gunicorn):
    port = start_gunicorn(ALLOWED_HOSTS="retarget.example,.example.org", SECURE_SSL_REDIRECT="1",
                          BEHIND_TLS_PROXY="1")
    assert healthz(port) == 400  # asked plainly, by an address that is not an allowed host
    check = subprocess.run([sys.executable, "deploy/healthcheck.py", f"http://127.0.0.1:{port}/healthz"],
                           cwd=BASE_DIR, env={**os.environ, "ALLOWED_HOSTS": "retarget.example,.example.org"},
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_a_worker_freezes_what_it_loaded_so_that_full_collections_skip_it(monkeypatch):
    monkeypatch.setenv("COLLECT_WRITER_SOCKET", "")  # the configuration sets it when read
    hooks = runpy.run_path(str(BASE_DIR / "retarget" / "gunicorn.conf.py"))
    assert gc.get_freeze_count() == 0
    try:
        hooks["post_worker_init"](None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
