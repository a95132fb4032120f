"""Collect ablation: what each piece of the collect path's speed machinery buys, one piece off at a time.

For each piece, two gunicorn servers run side by side on the same database (bench/wsgi.py, as bench/collect_bench.py
serves it): one with everything on, one with only that piece off. Short wrk rounds on POST /api/w/<key>/events
(batches of 20 fresh events, bench/collect_bench.lua) alternate between the two, the order swapped every round,
so that a change of the machine's speed weighs on both alike. A round's paired gain is on/off - 1; printed per
piece: the median gain, its bootstrap 95 % interval and the verdict ("keep" when the median is at least 5 % and the
interval excludes 0). Every other round also loads the floor endpoint (/bench/store-only/<site id>) on the all-on
server: the endpoint's ratio to it is printed too.

The pieces and their switches (environment variables read at start-up; docs/ingest.md):
- fast path: RETARGET_FAST_PATH=0 (retarget/wsgi.py);
- collect writer: COLLECT_WRITER_SOCKET="" (retarget/gunicorn.conf.py, campaigns/ingest/writer.py);
- prepared insert: DB_PREPARED_STATEMENTS=0 (retarget/settings.py, campaigns/ingest/store.py).

Prints figures, asserts nothing. Needs PostgreSQL at 127.0.0.1:5432 (user postgres), Redis and wrk. Creates and drops
the database `retarget_ablation` (or $COLLECT_ABLATION_DB). Usage:
python bench/collect_ablation.py [--rounds 10] [--seconds 4] [--pieces fast-path,writer,...]
"""

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.collect_bench import BATCH, ORIGIN, PG, UA, Wrk, bench_site_fresh, environment  # noqa: E402
from bench.common import STATIC_ROOT  # noqa: E402

DB_NAME = os.environ.get("COLLECT_ABLATION_DB", "retarget_ablation")
REDIS_URL = os.environ.get("COLLECT_ABLATION_REDIS", "redis://127.0.0.1:6379/14")
PORT_ON, PORT_OFF = 8775, 8776
KEEP_GAIN = 0.05
BOOTSTRAP_SAMPLES = 10_000

# (name, what the piece-off server sets, what both servers set): every piece's switch, off. A row whose third
# element is not empty is context (measured with something else off on both servers), not a verdict.
PIECES = [
    ("fast-path", {"RETARGET_FAST_PATH": "0"}, {}),
    ("writer", {"COLLECT_WRITER_SOCKET": ""}, {}),
    ("prepared-insert", {"DB_PREPARED_STATEMENTS": "0"}, {}),
]


def gain_interval(gains: list[float], *, seed: int = 1) -> tuple[float, float]:
    """Bootstrap 95 % interval of the median of `gains` (resampled with replacement)."""
    rng = random.Random(seed)
    medians = sorted(statistics.median(rng.choices(gains, k=len(gains))) for _ in range(BOOTSTRAP_SAMPLES))
    return medians[int(0.025 * BOOTSTRAP_SAMPLES)], medians[int(0.975 * BOOTSTRAP_SAMPLES) - 1]


def verdict(*, median: float, low: float, high: float) -> str:
    excludes_zero = low > 0 or high < 0
    return "keep" if median >= KEEP_GAIN and excludes_zero else "candidate for deletion"


def serve(*, env: dict, port: int, workers: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "retarget/gunicorn.conf.py", "bench.wsgi",
         "-w", str(workers), "-k", "sync", "-b", f"127.0.0.1:{port}", "--backlog", "2048", "--log-level", "warning"],
        cwd=BASE_DIR, env=env, start_new_session=True,
    )
    # retarget/gunicorn.conf.py's default path for the writer's socket: until it is there, workers store on their own.
    writer = Path(tempfile.gettempdir()) / f"retarget-collect-{process.pid}.sock"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/trivial", timeout=2).read()
            if env.get("COLLECT_WRITER_SOCKET") == "" or writer.exists():
                return process
        except OSError:
            pass
        time.sleep(0.2)
    stop(process)
    raise SystemExit(f"gunicorn on port {port} did not start")


def stop(process: subprocess.Popen) -> None:
    # The master only: it stops its workers, then its collect writer.
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds per piece (each: off and on)")
    parser.add_argument("--seconds", type=int, default=4, help="seconds of wrk load per phase of a round")
    parser.add_argument("--web-workers", type=int, default=6 * (os.cpu_count() or 1),
                        help="gunicorn sync workers per server; default as retarget/gunicorn.conf.py (6 per core)")
    parser.add_argument("--wrk-connections", type=int, default=16)
    parser.add_argument("--wrk-cpu", default=str((os.cpu_count() or 1) - 1),
                        help="pin wrk to these CPUs (taskset list), the same for every phase; '' for none")
    parser.add_argument("--pieces", default=",".join(name for name, _off, _both in PIECES),
                        help="comma-separated names among: " + ", ".join(name for name, _off, _both in PIECES))
    options = parser.parse_args()
    chosen = [piece for piece in PIECES if piece[0] in options.pieces.split(",")]

    env = {**environment(f"ablation-{os.getpid()}"), "DATABASE_URL": f"{PG}/{DB_NAME}", "REDIS_URL": REDIS_URL,
           "CACHE_KEY_PREFIX": "rt-ablation", "STATIC_ROOT": str(STATIC_ROOT)}
    STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns in every worker about a missing one; collect serves none
    for name in ("RETARGET_FAST_PATH", "DB_PREPARED_STATEMENTS", "COLLECT_WRITER_SOCKET"):
        env.pop(name, None)  # everything on unless a piece says otherwise
    os.environ.update(env)
    site, campaign, variant = bench_site_fresh(db_name=DB_NAME, env=env)
    from django.core.cache import cache
    from django.db import connection

    connection.close()
    events_path = f"/api/w/{site.public_key}/events"
    lua_env = {**env, "BENCH_PATH": events_path, "BENCH_ORIGIN": ORIGIN, "BENCH_CAMPAIGN": str(campaign.id),
               "BENCH_VARIANT": str(variant.id), "BENCH_BATCH": str(BATCH), "BENCH_TS": str(int(time.time() * 1000)),
               "BENCH_UA": UA}
    floor_env = {**lua_env, "BENCH_PATH": f"/bench/store-only/{site.id}"}
    load = {"threads": 1, "connections": options.wrk_connections, "cpu": options.wrk_cpu or None}
    wrk_on, wrk_off = Wrk(port=PORT_ON, **load), Wrk(port=PORT_OFF, **load)

    def collect(wrk: Wrk) -> dict:
        return wrk.run(events_path, seconds=options.seconds, env=lua_env, lua=True)

    print(f"load average before (1, 5, 15 min): {load_average()}; {os.cpu_count()} CPUs; gunicorn sync "
          f"x{options.web_workers} per server; load: {' '.join(wrk_on.prefix)} -d{options.seconds}s, batches of "
          f"{BATCH} events; {options.rounds} rounds per piece, the order of off and on swapped every round", flush=True)
    results = []
    floors: list[float] = []
    on_rates: list[float] = []
    servers: dict[str, subprocess.Popen] = {}
    both_env: dict | None = None
    try:
        for name, off_extra, both_extra in chosen:
            if both_env != both_extra:  # the all-on server of this comparison
                if "on" in servers:
                    stop(servers.pop("on"))
                servers["on"] = serve(env={**env, **both_extra}, port=PORT_ON, workers=options.web_workers)
                both_env = both_extra
                collect(wrk_on)  # warm-up: every worker imported, connected and parsed once
            servers["off"] = serve(env={**env, **both_extra, **off_extra}, port=PORT_OFF, workers=options.web_workers)
            collect(wrk_off)
            off_runs, on_runs, failed = [], [], 0
            for round_ in range(options.rounds):
                order = [(wrk_off, off_runs), (wrk_on, on_runs)]
                for wrk, runs in order if round_ % 2 == 0 else order[::-1]:
                    run = collect(wrk)
                    runs.append(run["rps"])
                    failed += run["failed"]
                if round_ % 2 == 1 and not both_extra:
                    floors.append(wrk_on.run(floor_env["BENCH_PATH"], seconds=options.seconds, env=floor_env,
                                             lua=True)["rps"])
                    on_rates.append(on_runs[-1])
            stop(servers.pop("off"))
            gains = [on / off - 1 for on, off in zip(on_runs, off_runs, strict=True) if off]
            median = statistics.median(gains)
            low, high = gain_interval(gains)
            result = (name, statistics.median(off_runs), statistics.median(on_runs), median, low, high,
                      "context" if both_extra else verdict(median=median, low=low, high=high), failed)
            results.append(result)
            print(f"{name}: off " + " ".join(f"{rate:.0f}" for rate in off_runs) + " | on "
                  + " ".join(f"{rate:.0f}" for rate in on_runs) + f" req/s; failed {failed}", flush=True)
    finally:
        for process in servers.values():
            stop(process)
        from django.db import connections

        connections.close_all()
        cache.clear()
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"],
                       check=False)

    print(f"\n{'piece':36} {'off req/s':>9} {'on req/s':>9} {'median gain':>11} {'95 % interval':>17}  verdict")
    for name, off, on, median, low, high, result, failed in results:
        print(f"{name:36} {off:9.0f} {on:9.0f} {median:+11.1%} [{low:+7.1%}, {high:+7.1%}]  {result}"
              + (f" ({failed} failed requests)" if failed else ""))
    if floors:
        ratios = [on / floor for on, floor in zip(on_rates, floors, strict=True) if floor]
        print(f"floor (bench/wsgi.py store-only) on the all-on server: median {statistics.median(floors):.0f} req/s; "
              f"collect (all on) / floor, median of {len(ratios)} paired rounds: {statistics.median(ratios):.2f} "
              f"(target >= 0.85)")
    print(f"load average after (1, 5, 15 min): {load_average()}")


if __name__ == "__main__":
    main()
