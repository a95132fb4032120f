"""Collect endpoint and tally benchmark: prints figures, asserts nothing.

- accepted events/s at POST /api/w/<key>/events (batches of 20) vs a trivial Django view, same server, same run;
- tally drain rate vs a plain COPY of the same rows;
- lag from the 202 to the event being counted by a real Celery worker, p50/p99;
- RSS of the web and worker processes before and after.
Needs PostgreSQL at 127.0.0.1:5432 (user postgres) and Redis at 127.0.0.1:6379. Creates and drops `retarget_bench`.
Usage: python bench/collect_bench.py [--seconds 8] [--web-workers 4] [--clients 8]
"""

import argparse
import http.client
import io
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DB_NAME = "retarget_bench"
PG = "postgres://postgres@127.0.0.1:5432"
ORIGIN = "https://bench.example"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
PORT = 8765


def environment(queue: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "REDIS_URL": "redis://127.0.0.1:6379/13",
        "CACHE_KEY_PREFIX": "rt-bench",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "BENCH_QUEUE": queue,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BASE_DIR), os.environ.get("PYTHONPATH")])),
    }


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def tree_rss(pid: int) -> float:
    return rss_mb(pid) + sum(rss_mb(child) for child in children(pid))


def batch_body(campaign_id: int, variant_id: int, size: int = 20) -> bytes:
    now = int(time.time() * 1000)
    events = []
    for _ in range(size):
        visitor = uuid.uuid4().hex[:12]
        events.append({"id": str(uuid.uuid4()), "type": "impression", "ts": now, "visitor": visitor,
                       "session": "s", "campaign": campaign_id, "variant": variant_id,
                       "url": "https://bench.example/", "data": {}})
    return json.dumps({"events": events}).encode()


def _client(args) -> tuple[int, int]:
    """One load process: as many requests as it can until the deadline; returns (ok, failed)."""
    path, deadline, campaign_id, variant_id = args
    ok = failed = 0
    while time.time() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        try:
            if path.endswith("/events"):
                connection.request("POST", path, body=batch_body(campaign_id, variant_id),
                                   headers={"Content-Type": "text/plain", "Origin": ORIGIN, "User-Agent": UA})
            else:
                connection.request("GET", path, headers={"User-Agent": UA})
            response = connection.getresponse()
            response.read()
            if response.status in (200, 202):
                ok += 1
            else:
                failed += 1
        except OSError:
            failed += 1
        finally:
            connection.close()
    return ok, failed


def load(path: str, *, seconds: float, clients: int, campaign_id: int, variant_id: int) -> tuple[float, int]:
    deadline = time.time() + seconds
    with multiprocessing.Pool(clients) as pool:
        results = pool.map(_client, [(path, deadline, campaign_id, variant_id)] * clients)
    ok = sum(r[0] for r in results)
    return ok / seconds, sum(r[1] for r in results)


def wait_http(path: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            connection.request("GET", path)
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=8)
    options = parser.parse_args()
    queue = f"bench-{os.getpid()}"
    env = environment(queue)
    os.environ.update(env)
    sys.path.insert(0, str(BASE_DIR))
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {DB_NAME}"], check=True)
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {DB_NAME}"], check=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=BASE_DIR, env=env, check=True)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from campaigns import services
    from campaigns.models import Event, EventInbox
    from campaigns.services.tally import tally_drain

    owner = get_user_model().objects.create_user("bench", password="x")
    site = services.site_create(owner=owner, name="Bench", allowed_origins=[ORIGIN])
    campaign = services.campaign_create(
        site=site, name="Bench", message_type="popup", status="active",
        variants=[{"name": "A", "content": {"headline": "Hi"}}],
    )
    variant = campaign.variants.get()
    events_path = f"/api/w/{site.public_key}/events"
    connection.close()

    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "retarget.wsgi", "-w", str(options.web_workers), "-k", "sync",
         "-b", f"127.0.0.1:{PORT}", "--log-level", "warning"],
        cwd=BASE_DIR, env=env, start_new_session=True,
    )
    worker = None
    try:
        wait_http("/bench/trivial")
        load("/bench/trivial", seconds=1, clients=options.clients, campaign_id=campaign.id, variant_id=variant.id)
        web_rss_before = tree_rss(web.pid)
        trivial_rps, trivial_failed = load("/bench/trivial", seconds=options.seconds, clients=options.clients,
                                           campaign_id=campaign.id, variant_id=variant.id)
        collect_rps, collect_failed = load(events_path, seconds=options.seconds, clients=options.clients,
                                           campaign_id=campaign.id, variant_id=variant.id)
        web_rss_after = tree_rss(web.pid)
        stored = Event.objects.count()
        print(f"web: gunicorn sync x{options.web_workers}, {options.clients} load processes, {options.seconds:g}s each")
        print(f"trivial view:      {trivial_rps:9.0f} req/s   (failed {trivial_failed})")
        print(f"collect, batch 20: {collect_rps:9.0f} req/s = {collect_rps * 20:9.0f} accepted events/s "
              f"(failed {collect_failed}; {stored} events stored)")
        print(f"ratio collect/trivial (requests): {collect_rps / trivial_rps:.2f}")

        # Tally drain rate vs a plain COPY of the same rows.
        pending = EventInbox.objects.count()
        started = time.perf_counter()
        counted = tally_drain(batch_size=500, time_budget=600)
        drain_seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            buffer = io.BytesIO()
            raw = cursor.cursor
            with raw.copy(f"COPY (SELECT * FROM {Event._meta.db_table}) TO STDOUT") as copy:
                for chunk in copy:
                    buffer.write(chunk)
            cursor.execute(f"CREATE TEMP TABLE copy_target (LIKE {Event._meta.db_table})")
            started = time.perf_counter()
            with raw.copy("COPY copy_target FROM STDIN") as copy:
                copy.write(buffer.getvalue())
            copy_seconds = time.perf_counter() - started
        drain_rate, copy_rate = counted / drain_seconds, stored / copy_seconds
        print(f"tally drain: {counted} of {pending} pending in {drain_seconds:.2f}s = {drain_rate:9.0f} events/s")
        print(f"plain COPY of the same {stored} rows: {copy_rate:9.0f} rows/s; "
              f"ratio drain/COPY {drain_rate / copy_rate:.3f}")

        # Lag from 202 to counted, with a real worker and paced traffic (nudges + debounce, no beat).
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "retarget", "worker", "-Q", queue, "-P", "solo",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning"],
            cwd=BASE_DIR, env=env, start_new_session=True,
        )
        time.sleep(4)
        worker_rss_before = rss_mb(worker.pid)
        lags = measure_lag(events_path, campaign.id, variant.id, seconds=options.seconds)
        worker_rss_after = rss_mb(worker.pid)
        if lags:
            lags.sort()
            p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
            print(f"lag 202 -> counted over {len(lags)} batches: p50 {statistics.median(lags) * 1000:.0f} ms, "
                  f"p99 {p99 * 1000:.0f} ms")
        print(f"RSS web (master + workers): {web_rss_before:.0f} MB before, {web_rss_after:.0f} MB after")
        print(f"RSS worker: {worker_rss_before:.0f} MB before, {worker_rss_after:.0f} MB after")
    finally:
        for process in (web, worker):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
        from django.db import connections

        connections.close_all()
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {DB_NAME}"], check=False)


def measure_lag(events_path: str, campaign_id: int, variant_id: int, *, seconds: float) -> list[float]:
    """20 batches/s; a poller sees when each batch's events have left the inbox."""
    from django.db import connection

    from campaigns.models import Event, EventInbox

    sent: dict[str, float] = {}  # event id -> time of the 202
    lags: list[float] = []
    done = threading.Event()
    lock = threading.Lock()

    def poll() -> None:
        from django.db import connection as poll_connection

        while not done.is_set() or sent:
            with lock:
                waiting = dict(sent)
            if waiting:
                counted = set(
                    str(u) for u in Event.objects.filter(event_id__in=list(waiting))
                    .exclude(id__in=EventInbox.objects.values("event_id")).values_list("event_id", flat=True)
                )
                now = time.perf_counter()
                with lock:
                    for event_id in counted:
                        lags.append(now - sent.pop(event_id))
            time.sleep(0.01)
            if done.is_set() and time.perf_counter() - finished[0] > 30:
                break
        poll_connection.close()

    finished = [0.0]
    poller = threading.Thread(target=poll)
    poller.start()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        body = batch_body(campaign_id, variant_id, size=1)
        event_id = json.loads(body)["events"][0]["id"]
        http_connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        http_connection.request("POST", events_path, body=body,
                                headers={"Content-Type": "text/plain", "Origin": ORIGIN, "User-Agent": UA})
        response = http_connection.getresponse()
        response.read()
        http_connection.close()
        if response.status == 202:
            with lock:
                sent[event_id] = time.perf_counter()
        time.sleep(0.05)
    finished[0] = time.perf_counter()
    done.set()
    poller.join()
    connection.close()
    return lags


if __name__ == "__main__":
    main()
