"""Shared benchmark plumbing: a scratch PostgreSQL database, gunicorn serving the real app, wrk."""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"
PYTHON = sys.executable
STATIC_ROOT = Path(tempfile.gettempdir()) / "retarget-bench-static"


def environment(*, db_name: str, **extra: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": f"{PG}/{db_name}",
        "REDIS_URL": "redis://127.0.0.1:6379/12",
        "CACHE_KEY_PREFIX": f"rt-{db_name}",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "STATIC_ROOT": str(STATIC_ROOT),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BASE_DIR), os.environ.get("PYTHONPATH")])),
        **extra,
    }


def database_fresh(*, db_name: str, env: dict) -> None:
    subprocess.run(["psql", PG + "/postgres", "-qc", f"DROP DATABASE IF EXISTS {db_name}"], check=True,
                   capture_output=True)
    subprocess.run(["psql", PG + "/postgres", "-qc", f"CREATE DATABASE {db_name}"], check=True, capture_output=True)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=BASE_DIR, env=env, check=True)
    # Served as in production: collected, compressed and long-cached by WhiteNoise.
    subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0", "--clear"], cwd=BASE_DIR, env=env,
                   check=True)


def database_drop(*, db_name: str) -> None:
    subprocess.run(["psql", PG + "/postgres", "-qc", f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"],
                   capture_output=True)


def django_shell(code: str, *, env: dict) -> str:
    """Run code with Django set up in a child process; returns what it prints."""
    result = subprocess.run([PYTHON, "-c", "import django; django.setup()\n" + code], cwd=BASE_DIR, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"setup failed:\n{result.stderr}")
    return result.stdout.strip()


@contextmanager
def gunicorn(*, env: dict, port: int, workers: int):
    process = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "-c", "retarget/gunicorn.conf.py", "retarget.wsgi:application",
         "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--worker-class", "sync", "--log-level", "warning", "--backlog", "2048"],
        cwd=BASE_DIR, env=env, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/trivial", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)  # the master stops its workers, then its collect writer
        process.wait(timeout=20)


def wrk(*, url: str, seconds: int, connections: int = 16, threads: int = 2, script: str | None = None,
        headers: dict | None = None) -> dict:
    """Requests/s and latency percentiles (ms) from wrk --latency."""
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    if script:
        args += ["-s", script]
    output = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))

    def percentile(p: str) -> float:
        match = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return {"rps": rate, "p50": percentile("50"), "p99": percentile("99"),
            "errors": int(non_2xx.group(1)) if non_2xx else 0, "raw": output}


def budget(ok: bool) -> str:
    return "budget met" if ok else "OVER BUDGET"
