"""Collect endpoint and tally benchmark: prints figures and the budgets they meet, asserts nothing (exit 0).

Phases (each at least --seconds, default 10), all in one run, so the ratios compare like with like:
1. requests/s of a trivial Django view and of POST /api/w/<key>/events (batches of 20 fresh events in the
   widget's mix, see MIX), both served by the same gunicorn (retarget/gunicorn.conf.py: sync workers, 6 x cores
   by default, and the collect writer, as in production), both loaded by the same wrk command (same threads,
   connections and CPU pinning; a Lua script builds each collect body with new ids), and the CPU each request
   costs the web, PostgreSQL and Redis; and, in the same rounds, the same load on the floor of any collect
   endpoint on this stack (bench/wsgi.py: the batch only read, decoded, rate-limited and stored, none of the checks);
2. the tally draining a backlog in that mix, then a worst-case backlog (every event a new visitor's first
   impression), each against a plain COPY of the stored rows into a table without indexes;
3. lag from the 202 to counted, for probe events sent 20 times a second while wrk keeps loading the
   collect endpoint and a real Celery worker (woken by the endpoint's nudges; no beat) counts everything;
4. resident memory of the web (gunicorn master + workers + collect writer) and of the Celery worker, before and
   after. The baseline is taken after warm-up (wrk on both endpoints for every web worker, one drain for the Celery
   worker), so imports, connections and lazily loaded parsers are not counted as growth.
Needs PostgreSQL at 127.0.0.1:5432 (user postgres), Redis at 127.0.0.1:6379 and wrk.
Creates and drops the database `retarget_bench` (or $COLLECT_BENCH_DB). Usage:
python bench/collect_bench.py [--seconds 10] [--collect-only | --drain-only]
"""

import argparse
import io
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# Overridable so that two runs at once (say, a drain-only run beside a full one) use their own database and cache.
DB_NAME = os.environ.get("COLLECT_BENCH_DB", "retarget_bench")
REDIS_URL = os.environ.get("COLLECT_BENCH_REDIS", "redis://127.0.0.1:6379/13")
PG = "postgres://postgres@127.0.0.1:5432"
ORIGIN = "https://bench.example"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
PORT = 8765
LUA = BASE_DIR / "bench" / "collect_bench.lua"
BATCH = 20

# The budgets the figures are printed against: collect vs the trivial view, events/s, drain vs COPY, lag, memory.
COLLECT_VS_TRIVIAL = 0.45
EVENTS_PER_SECOND = 30_000
DRAIN_VS_COPY = 0.20
LAG_P99_SECONDS = 5.0
RSS_GROWTH = 0.10


def environment(queue: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": "rt-bench",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DEBUG": "0",
        "BENCH_QUEUE": queue,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BASE_DIR), os.environ.get("PYTHONPATH")])),
    }


def verdict(ok: bool) -> str:
    return "budget met" if ok else "over budget"


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def tree_rss(pid: int) -> float:
    return rss_mb(pid) + sum(rss_mb(child) for child in children(pid))


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of one process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pids_named(fragment: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if fragment in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


class CpuMeter:
    """CPU time spent by the web server (gunicorn's master and workers), its collect writer, the benchmark
    database's PostgreSQL backends and Redis during a phase.

    Unlike requests/s, CPU per request hardly moves when something else shares the machine: it tells where a
    request's cost goes (and stays readable on a busy machine).
    """

    def __init__(self, web_pid: int) -> None:
        self.web_pid = web_pid

    def sample(self) -> dict[str, float]:
        web = [self.web_pid, *children(self.web_pid)]
        writer = set(pids_named("collect_writer")) & set(web)
        return {
            "web": sum(cpu_seconds(pid) for pid in web if pid not in writer),
            "writer": sum(cpu_seconds(pid) for pid in writer),
            "postgres": sum(cpu_seconds(pid) for pid in pids_named(f": postgres {DB_NAME} ")),
            "redis": sum(cpu_seconds(pid) for pid in pids_named("redis-server")),
            # Not part of a request's cost; printed beside it: CPU left idle, and taken by the host (steal).
            **machine_seconds(),
        }

    @staticmethod
    def add(total: dict | None, before: dict, after: dict) -> dict:
        """`total` plus what was spent between the samples `before` and `after`."""
        return {name: (total or {}).get(name, 0.0) + after[name] - before[name] for name in before}

    @staticmethod
    def per_request(spent: dict, requests: int) -> str:
        parts = {name: seconds * 1000 / max(1, requests) for name, seconds in spent.items()}
        machine = {name: parts.pop(name) for name in ("idle", "steal")}
        total = sum(parts.values())
        return (f"{total:.2f} ms CPU/request (" + ", ".join(f"{name} {ms:.2f}" for name, ms in parts.items())
                + "); machine: " + ", ".join(f"{name} {ms:.2f}" for name, ms in machine.items()))


def machine_seconds() -> dict[str, float]:
    """CPU seconds, all CPUs together, the machine has been idle and has lost to the host (steal), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    tick = os.sysconf("SC_CLK_TCK")
    return {"idle": int(fields[4]) / tick, "steal": int(fields[8]) / tick}


def wrk_total(runs: list[dict]) -> dict:
    """Several wrk runs of one phase as one: requests/s over their summed time."""
    seconds = sum(run["seconds"] for run in runs)
    good = sum(run["good"] for run in runs)
    return {"rps": good / seconds if seconds else 0.0, "failed": sum(run["failed"] for run in runs),
            "requests": sum(run["requests"] for run in runs), "good": good, "seconds": seconds,
            "raw": "\n".join(run["raw"] for run in runs)}


class Wrk:
    """One wrk command line for every load phase: the same threads, connections and CPU pinning."""

    def __init__(self, *, threads: int, connections: int, cpu: str | None, port: int = PORT) -> None:
        self.port = port
        self.prefix = (["taskset", "-c", cpu] if cpu and shutil.which("taskset") else []) + [
            "wrk", f"-t{threads}", f"-c{connections}", "--latency", "--timeout", "10s",
        ]

    def run(self, path: str, *, seconds: float, env: dict | None = None, lua: bool = False) -> dict:
        args = [*self.prefix, f"-d{max(1, round(seconds))}s"]
        if lua:
            args += ["-s", str(LUA)]
        args.append(f"http://127.0.0.1:{self.port}{path}")
        output = subprocess.run(args, capture_output=True, text=True, env=env, check=True).stdout
        return parse_wrk(output)

    def start(self, path: str, *, seconds: float, env: dict) -> subprocess.Popen:
        args = [*self.prefix, f"-d{max(1, round(seconds))}s", "-s", str(LUA), f"http://127.0.0.1:{self.port}{path}"]
        return subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)


def parse_wrk(output: str) -> dict:
    def number(pattern: str, default: float = 0.0) -> float:
        match = re.search(pattern, output)
        return float(match.group(1)) if match else default

    requests = number(r"(\d+) requests in")
    bad = number(r"Non-2xx or 3xx responses: (\d+)")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    seconds = number(r"requests in ([\d.]+)s")
    good = requests - bad
    return {"rps": good / seconds if seconds else 0.0, "failed": int(bad + errors), "requests": int(requests),
            "good": int(good), "seconds": seconds, "raw": output}


def wait_http(path: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def bench_site_fresh(*, db_name: str, env: dict):
    """A fresh database `db_name`, migrated, Django set up on it, and one site with one active campaign:
    (site, campaign, its variant). Shared by this bench and bench/collect_ablation.py."""
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"], check=True,
                   capture_output=True)
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {db_name}"], check=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=BASE_DIR, env=env, check=True)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.cache import cache

    from campaigns import services

    cache.clear()
    owner = get_user_model().objects.create_user("bench", password="x")
    site = services.site_create(owner=owner, name="Bench", allowed_origins=[ORIGIN])
    campaign = services.campaign_create(
        site=site, name="Bench", message_type="popup", status="active",
        variants=[{"name": "A", "content": {"headline": "Hi"}}],
    )
    return site, campaign, campaign.variants.get()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--web-workers", type=int, default=6 * (os.cpu_count() or 1),
                        help="gunicorn sync workers; default as retarget/gunicorn.conf.py (6 per core)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="the trivial and collect phases alternate this many times, --seconds in all for each")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--wrk-connections", type=int, default=16)
    parser.add_argument("--wrk-cpu", default=str((os.cpu_count() or 1) - 1),
                        help="pin wrk to these CPUs (taskset list), the same for every phase; '' for none")
    parser.add_argument("--drain-events", type=int, default=1_000_000,
                        help="top the backlog up to this many events so the drain phase lasts long enough")
    parser.add_argument("--collect-only", action="store_true",
                        help="only the trivial view and collect phase (no drain, lag or memory phases)")
    parser.add_argument("--drain-only", action="store_true",
                        help="only the drain phases (no collect, lag or memory phases): the backlog is all generated")
    options = parser.parse_args()
    queue = f"bench-{os.getpid()}"
    env = environment(queue)
    os.environ.update(env)
    sys.path.insert(0, str(BASE_DIR))
    site, campaign, variant = bench_site_fresh(db_name=DB_NAME, env=env)
    from django.core.cache import cache
    from django.db import connection

    journey_bench_setup(site=site)
    events_path = f"/api/w/{site.public_key}/events"
    lua_env = {**env, "BENCH_PATH": events_path, "BENCH_ORIGIN": ORIGIN, "BENCH_CAMPAIGN": str(campaign.id),
               "BENCH_VARIANT": str(variant.id), "BENCH_BATCH": str(BATCH), "BENCH_TS": str(int(time.time() * 1000)),
               "BENCH_UA": UA}
    if options.drain_only:
        try:
            drain_phase(target=options.drain_events, site_id=site.id, campaign_id=campaign.id, variant_id=variant.id)
        finally:
            connection.close()
            cache.clear()
            subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"],
                           check=False)
        return
    connection.close()
    wrk = Wrk(threads=options.wrk_threads, connections=options.wrk_connections, cpu=options.wrk_cpu or None)

    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "retarget/gunicorn.conf.py", "bench.wsgi",
         "-w", str(options.web_workers), "-k", "sync",
         "-b", f"127.0.0.1:{PORT}", "--backlog", "2048", "--log-level", "warning"],
        cwd=BASE_DIR, env=env, start_new_session=True,
    )
    worker = wrk_background = None
    try:
        wait_http("/bench/trivial")
        # Warm-up: hundreds of requests on each endpoint, so every worker has imported, connected and parsed once.
        wrk.run("/bench/trivial", seconds=2)
        wrk.run(events_path, seconds=2, env=lua_env, lua=True)
        web_rss_before = tree_rss(web.pid)
        meter = CpuMeter(web.pid)
        # The phases alternate in short rounds, so that a change of the machine's speed during the run (a shared
        # host's CPUs vary by tens of percent from one minute to the next) weighs on all alike.
        runs: dict[str, list[dict]] = {"trivial": [], "collect": [], "store-only": []}
        cpu: dict[str, dict | None] = dict.fromkeys(runs)
        round_seconds = max(1, round(options.seconds / options.rounds))
        floor_env = {**lua_env, "BENCH_PATH": f"/bench/store-only/{site.id}"}
        phases = [("trivial", {"path": "/bench/trivial"}),
                  ("collect", {"path": events_path, "env": lua_env, "lua": True}),
                  ("store-only", {"path": floor_env["BENCH_PATH"], "env": floor_env, "lua": True})]
        for _round in range(options.rounds):
            for name, phase in phases:
                before = meter.sample()
                runs[name].append(wrk.run(phase["path"], seconds=round_seconds, env=phase.get("env"),
                                          lua=phase.get("lua", False)))
                cpu[name] = CpuMeter.add(cpu[name], before, meter.sample())
        trivial, collect, floor = (wrk_total(runs[name]) for name in ("trivial", "collect", "store-only"))
        cpu_trivial, cpu_collect = cpu["trivial"], cpu["collect"]
        web_rss_mid = tree_rss(web.pid)
        ratio = collect["rps"] / trivial["rps"] if trivial["rps"] else 0.0
        events_rate = collect["rps"] * BATCH
        print(f"web: gunicorn sync x{options.web_workers}; load: {' '.join(wrk.prefix)} -d{round_seconds}s, "
              f"{options.rounds} rounds of each, alternating (the same for all), {os.cpu_count()} CPUs")
        print(f"trivial view:      {trivial['rps']:8.0f} req/s (failed {trivial['failed']}); rounds: "
              + " ".join(f"{run['rps']:.0f}" for run in runs["trivial"]))
        print(f"collect, batch {BATCH}: {collect['rps']:8.0f} req/s = {events_rate:8.0f} events/s "
              f"(failed {collect['failed']}); {verdict(events_rate >= EVENTS_PER_SECOND)} "
              f"(>= {EVENTS_PER_SECOND} events/s); rounds: " + " ".join(f"{run['rps']:.0f}" for run in runs["collect"]))
        print(f"ratio collect/trivial (requests): {ratio:.2f}; {verdict(ratio >= COLLECT_VS_TRIVIAL)} "
              f"(>= {COLLECT_VS_TRIVIAL})")
        print(f"CPU, trivial view: {meter.per_request(cpu_trivial, trivial['requests'])}")
        print(f"CPU, collect:      {meter.per_request(cpu_collect, collect['requests'])}")
        floor_ratio = floor["rps"] / trivial["rps"] if trivial["rps"] else 0.0
        print(f"store only (the floor, bench/wsgi.py: read, decode, rate-limit, store; no checks): "
              f"{floor['rps']:.0f} req/s (failed {floor['failed']}), ratio to the trivial view {floor_ratio:.2f}, "
              f"collect / store only {collect['rps'] / floor['rps'] if floor['rps'] else 0.0:.2f}; rounds: "
              + " ".join(f"{run['rps']:.0f}" for run in runs["store-only"]))
        print(f"CPU, store only:   {meter.per_request(cpu['store-only'], floor['requests'])}")
        sys.stdout.flush()
        if options.collect_only:
            return

        drain_phase(target=options.drain_events, site_id=site.id, campaign_id=campaign.id, variant_id=variant.id)

        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "retarget", "worker", "-Q", queue, "-P", "solo",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning"],
            cwd=BASE_DIR, env=env, start_new_session=True,
        )
        worker_warm_up(site_id=site.id, campaign_id=campaign.id, variant_id=variant.id)
        worker_rss_before = rss_mb(worker.pid)
        lua_env["BENCH_TS"] = str(int(time.time() * 1000))
        wrk_background = wrk.start(events_path, seconds=options.seconds, env=lua_env)
        lags = measure_lag(events_path, campaign.id, variant.id, seconds=options.seconds)
        background = parse_wrk(wrk_background.communicate()[0])
        wrk_background = None
        web_rss_after = tree_rss(web.pid)
        worker_rss_after = rss_mb(worker.pid)
        if lags:
            lags.sort()
            p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
            print(f"lag 202 -> counted, {len(lags)} probes at 20/s while wrk loads collect "
                  f"({background['rps'] * BATCH:.0f} events/s): p50 {statistics.median(lags) * 1000:.0f} ms, "
                  f"p99 {p99 * 1000:.0f} ms; {verdict(p99 <= LAG_P99_SECONDS)} (p99 <= {LAG_P99_SECONDS:g} s)")
        else:
            print("lag: no probe was counted; over budget")
        web_growth = (web_rss_after - web_rss_before) / web_rss_before
        worker_growth = (worker_rss_after - worker_rss_before) / worker_rss_before
        print(f"RSS web (master + {options.web_workers} workers; baseline after warm-up requests on every worker): "
              f"{web_rss_before:.0f} MB -> {web_rss_mid:.0f} MB after the load phases -> {web_rss_after:.0f} MB "
              f"after the lag phase, {web_growth:+.1%}; {verdict(web_growth <= RSS_GROWTH)} (<= {RSS_GROWTH:.0%})")
        print(f"RSS Celery worker (baseline after a warm-up drain): {worker_rss_before:.0f} MB -> "
              f"{worker_rss_after:.0f} MB, {worker_growth:+.1%}; {verdict(worker_growth <= RSS_GROWTH)} "
              f"(<= {RSS_GROWTH:.0%})")
    finally:
        if wrk_background is not None and wrk_background.poll() is None:
            wrk_background.kill()
        for process in (web, worker):
            if process is not None and process.poll() is None:
                # The master only: gunicorn stops its workers, then its collect writer (a signal to the whole group
                # would stop the writer under requests still in flight).
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=20)
        from django.db import connections

        connections.close_all()
        cache.clear()
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"],
                       check=False)


# The drain's event mix, as the widget sends it: per visitor four page views, then an impression of the
# campaign and a close. The worst case follows: every event the first impression of a new visitor (each one
# writes an assignment and a funnel step).
MIX = ("pageview", "pageview", "pageview", "pageview", "impression", "close")
# The mix's page views carry their journey (data.journey, data.segment) over this many distinct paths, a third of
# them in page groups with a stage (journey_bench_setup), so the journey fold cleans, groups and counts them.
JOURNEY_PATHS = 1000


def drain_phase(*, target: int, site_id: int, campaign_id: int, variant_id: int) -> None:
    """Drain a backlog in-process, mixed then worst case; then COPY the same rows into a table without indexes."""
    from django.db import connection

    from campaigns.models import Event

    mixed = drain_timed(connection, target=target, site_id=site_id, **mix_select(campaign_id, variant_id))
    worst = drain_timed(connection, target=target // 4, site_id=site_id,
                        select="'impression', 'new' || n, %s, %s, 'https://bench.example/', '{}'",
                        params=[campaign_id, variant_id])
    stored = Event.objects.count()
    with connection.cursor() as cursor:
        buffer = io.BytesIO()
        raw = cursor.cursor
        with raw.copy(f"COPY (SELECT * FROM {Event._meta.db_table}) TO STDOUT") as copy:
            for chunk in copy:
                buffer.write(chunk)
        cursor.execute(f"CREATE TABLE bench_copy_target (LIKE {Event._meta.db_table})")
        started, cpu = time.perf_counter(), cpu_spent()
        with raw.copy("COPY bench_copy_target FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        copy_seconds, copy_cpu = time.perf_counter() - started, cpu_spent() - cpu
        cursor.execute("DROP TABLE bench_copy_target")
    copy_rate = stored / copy_seconds
    print(f"plain COPY of the {stored} stored rows into a table without indexes: {copy_rate:8.0f} rows/s "
          f"({stored / copy_cpu:.0f} rows per CPU second)")
    for label, (counted, seconds, cpu) in (("mixed (per visitor 4 page views, an impression, a close)", mixed),
                                           ("worst case (every event a new visitor's first impression)", worst)):
        rate = counted / seconds
        ratio = rate / copy_rate
        print(f"tally drain, {label}: {counted} in {seconds:.1f}s = {rate:8.0f} events/s; ratio drain/COPY "
              f"{ratio:.3f}; {verdict(ratio >= DRAIN_VS_COPY)} (>= {DRAIN_VS_COPY}); by CPU time "
              f"{counted / cpu:.0f} events per CPU second, ratio {counted / cpu / (stored / copy_cpu):.3f}")
    print(f"load average (1, 5, 15 min): {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    sys.stdout.flush()


def cpu_spent() -> float:
    """CPU seconds used so far by this process and the benchmark database's PostgreSQL backends: on a shared
    machine, the time a phase took is what others left it; its CPU time is much less moved by them."""
    return time.process_time() + sum(cpu_seconds(pid) for pid in pids_named(f": postgres {DB_NAME} "))


def mix_select(campaign_id: int, variant_id: int) -> dict:
    """The columns type, visitor, campaign, variant, url and payload of event n in the mix (for backlog_store):
    visitor n / 6 visits four pages of a session (each page view with its step and the previous page's path)."""
    kinds = "(ARRAY[" + ", ".join(f"'{kind}'" for kind in MIX) + "])"
    size = len(MIX)
    path = f"'/section-' || ((n / {size} * 7 + n %% {size}) %% {JOURNEY_PATHS})"
    prev = f"'/section-' || ((n / {size} * 7 + n %% {size} - 1) %% {JOURNEY_PATHS})"
    return {
        "select": f"""{kinds}[n %% {size} + 1], 'mix' || (n / {size}),
            CASE WHEN n %% {size} >= 4 THEN %s END, CASE WHEN n %% {size} >= 4 THEN %s END,
            CASE WHEN n %% {size} < 4 THEN 'https://bench.example' || {path} ELSE 'https://bench.example/' END,
            CASE WHEN n %% {size} < 4 THEN jsonb_build_object(
                'journey', jsonb_build_object('prev', CASE WHEN n %% {size} > 0 THEN {prev} END,
                                              'step', n %% {size} + 1),
                'segment', jsonb_build_object('source', 'google/cpc', 'returning', false))
            ELSE '{{}}' END""",
        "params": [campaign_id, variant_id],
    }


def journey_bench_setup(*, site) -> None:
    """Page groups with stages over a third of the mix's paths (those starting /section-1, -2 and -3)."""
    from campaigns.journeys.paths import Group
    from campaigns.journeys.services import journey_setup_replace

    stages = ("awareness", "consideration", "decision")
    journey_setup_replace(site=site, cleanups=[], groups=[
        Group(name=f"Section {i}", rule={"op": "starts_with", "value": f"/section-{i}"}, stage=stage, order=i)
        for i, stage in enumerate(stages, 1)])


def backlog_store(connection, *, count: int, site_id: int, select: str, params: list) -> None:
    """`count` events stored as the endpoint stores them, their type, visitor, campaign and variant from `select`."""
    from campaigns.models import Event

    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {Event._meta.db_table} (site_id, event_id, type, visitor_id, campaign_id, variant_id,
                    url, payload, ts, received_at, session_id, device, ip_hash, ip_truncated, user_agent)
                SELECT %s, gen_random_uuid(), {select}, now(), now(), 's', 'desktop', '', '', ''
                FROM generate_series(1, %s) AS n""",
            [site_id, *params, count],
        )
        cursor.execute("ANALYZE")


def drain_timed(connection, *, target: int, site_id: int, select: str, params: list) -> tuple[int, float, float]:
    """Top the backlog up to `target` events (see backlog_store), then drain it in-process."""
    from campaigns.tally.drain import tally_drain, tally_pending

    pending = tally_pending()
    if pending < target:
        backlog_store(connection, count=target - pending, site_id=site_id, select=select, params=params)
    started, cpu = time.perf_counter(), cpu_spent()
    counted = tally_drain(time_budget=3600)
    # A transaction open elsewhere on the server holds the tally back (it returns 0 until that one ends): keep
    # draining, the wait counted against the tally, rather than report a drain that stopped early.
    while tally_pending():
        time.sleep(0.01)
        counted += tally_drain(time_budget=3600)
    return counted, time.perf_counter() - started, cpu_spent() - cpu


def worker_warm_up(*, site_id: int, campaign_id: int, variant_id: int) -> None:
    """Through the worker: a first backlog in the mix (imports, connection, full-size batches), counted to the end."""
    from django.db import connection

    from campaigns.tally.drain import tally_pending
    from campaigns.tasks import tally_drain

    backlog_store(connection, count=20_000, site_id=site_id, **mix_select(campaign_id, variant_id))
    deadline = time.monotonic() + 120
    tally_drain.delay()
    time.sleep(1)
    while tally_pending() and time.monotonic() < deadline:
        tally_drain.delay()
        time.sleep(0.5)
    time.sleep(1)


def measure_lag(events_path: str, campaign_id: int, variant_id: int, *, seconds: float) -> list[float]:
    """20 probe batches/s of one event; a poller sees when the tally's cursor has passed each probe."""
    from django.db import connection

    from campaigns.models import Event, TallyCursor

    sent: dict[str, float] = {}  # event id -> time of the 202
    lags: list[float] = []
    done = threading.Event()
    lock = threading.Lock()
    finished = [0.0]

    def poll() -> None:
        from django.db import connection as poll_connection

        while not done.is_set() or sent:
            with lock:
                waiting = dict(sent)
            if waiting:
                with poll_connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT e.event_id FROM {Event._meta.db_table} AS e, {TallyCursor._meta.db_table} AS c"
                        " WHERE c.id = 1 AND e.event_id = ANY(%s::uuid[]) AND (e.tx, e.id) <= (c.last_tx, c.last_id)",
                        [list(waiting)],
                    )
                    counted = {str(row[0]) for row in cursor.fetchall()}
                now = time.perf_counter()
                with lock:
                    for event_id in counted:
                        lags.append(now - sent.pop(event_id))
            time.sleep(0.01)
            if done.is_set() and time.perf_counter() - finished[0] > 60:
                break
        poll_connection.close()

    poller = threading.Thread(target=poll)
    poller.start()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        event_id = str(uuid.uuid4())
        body = json.dumps({"events": [{
            "id": event_id, "type": "impression", "ts": int(time.time() * 1000), "visitor": uuid.uuid4().hex[:12],
            "session": "s", "campaign": campaign_id, "variant": variant_id, "url": "https://bench.example/",
            "data": {},
        }]}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{PORT}{events_path}", data=body, method="POST",
            headers={"Content-Type": "text/plain", "Origin": ORIGIN, "User-Agent": UA},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
        except OSError:
            status = 0
        if status == 202:
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
