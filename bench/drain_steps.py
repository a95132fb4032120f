"""Where the tally drain's time goes: each SQL statement of the fold timed, per step, on collect_bench's backlogs.

Stores the same backlogs as `bench/collect_bench.py --drain-only` (the mixed one, then optionally the worst case),
drains them in-process with a Django execute wrapper around every statement, and prints, per statement (named after
the constant of campaigns/tally/ that holds it), its total time, share and calls; the rest of the wall time is
Python (the time between statements). `--skip` drops fold steps (functions of campaigns.tally.sql called by
tally_batch, e.g. `journeys_fold,audiences_fold`) in this process only, to see what the drain costs without them:
an ablation knob of this bench, not of the tally (the counters it leaves are wrong on purpose).

Prints figures, asserts nothing. Needs PostgreSQL at 127.0.0.1:5432 (user postgres) and Redis. Creates and drops
the database `retarget_drain_steps` (or $DRAIN_STEPS_DB). Usage:
python bench/drain_steps.py [--events 200000] [--worst] [--skip journeys_fold,...] [--explain]
"""

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.collect_bench import (  # noqa: E402
    PG,
    backlog_store,
    bench_site_fresh,
    environment,
    journey_bench_setup,
    mix_select,
)

DB_NAME = os.environ.get("DRAIN_STEPS_DB", "retarget_drain_steps")
REDIS_URL = os.environ.get("DRAIN_STEPS_REDIS", "redis://127.0.0.1:6379/13")


def statement_names() -> dict[str, str]:
    """The fold's SQL texts -> the name of the module constant that holds each."""
    from campaigns.tally import audiences, drain, installation, journeys, sql

    names = {}
    for module in (sql, journeys, audiences, installation, drain):
        for name, value in vars(module).items():
            if isinstance(value, str) and "\n" in value:
                names[value] = f"{module.__name__.rsplit('.', 1)[1]}.{name}"
    return names


def backend_cpu(pid: int) -> float:
    """Seconds the PostgreSQL backend `pid` has run on a CPU (the scheduler's count, in ns): unlike wall time, hardly
    moved by other work on the machine."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


class Timer:
    """A Django execute wrapper: the wall time of every statement and the CPU time of its backend, by name."""

    def __init__(self, names: dict[str, str], backend: int) -> None:
        self.names = names
        self.backend = backend
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def __call__(self, execute, sql, params, many, context):
        name = self.names.get(sql) or " ".join(str(sql).split())[:60]
        started, cpu = time.perf_counter(), backend_cpu(self.backend)
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds[name] += time.perf_counter() - started
            self.cpu[name] += backend_cpu(self.backend) - cpu
            self.calls[name] += 1


def explain_on(connection, *, milliseconds: int) -> None:
    """auto_explain on this session, its plans sent to this client as notices and written to drain_plans.txt."""
    connection.ensure_connection()
    plans = open(BASE_DIR / "drain_plans.txt", "w")  # noqa: SIM115 (open until the process ends)
    connection.connection.add_notice_handler(lambda notice: plans.write(notice.message_primary + "\n\n"))
    with connection.cursor() as cursor:
        cursor.execute("LOAD 'auto_explain'")
        for name, value in (("log_min_duration", f"{milliseconds}ms"), ("log_analyze", "on"),
                            ("log_buffers", "on"), ("log_nested_statements", "on"), ("log_level", "notice")):
            cursor.execute(f"SET auto_explain.{name} = '{value}'")


def drain(*, timer: Timer, batch_size: int | None) -> tuple[int, float, float]:
    from django.db import connection

    from campaigns.tally.drain import BATCH_SIZE, tally_drain

    started, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(timer):
        counted = tally_drain(time_budget=3600, batch_size=batch_size or BATCH_SIZE)
    return counted, time.perf_counter() - started, time.process_time() - cpu


def report(label: str, timer: Timer, counted: int, wall: float, cpu: float) -> None:
    in_sql, in_backend = sum(timer.seconds.values()), sum(timer.cpu.values())
    print(f"\n{label}: {counted} events in {wall:.2f}s = {counted / wall:.0f} events/s; "
          f"statements {in_sql:.2f}s (backend CPU {in_backend:.2f}s), Python between them {wall - in_sql:.2f}s "
          f"(this process's CPU {cpu:.2f}s); load {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"  {'wall ms':>8} {'share':>6} {'CPU ms':>8} {'share':>6}  calls statement")
    for name, seconds in sorted(timer.cpu.items(), key=lambda item: -item[1])[:24]:
        print(f"  {timer.seconds[name] * 1000:8.0f} {timer.seconds[name] / wall:6.1%} {seconds * 1000:8.0f} "
              f"{seconds / in_backend:6.1%}  x{timer.calls[name]:<4} {name}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--worst", action="store_true", help="also the worst-case backlog (a quarter as many)")
    parser.add_argument("--explain", type=int, default=0, metavar="MS",
                        help="plans (EXPLAIN ANALYZE, BUFFERS) of statements slower than MS, to drain_plans.txt")
    parser.add_argument("--batch-size", type=int, default=None, help="instead of the drain's own")
    parser.add_argument("--skip", default="", help="comma-separated functions of campaigns.tally.sql to skip")
    options = parser.parse_args()
    env = {**environment(f"drain-steps-{os.getpid()}"), "DATABASE_URL": f"{PG}/{DB_NAME}", "REDIS_URL": REDIS_URL,
           "CACHE_KEY_PREFIX": "rt-drain-steps"}
    os.environ.update(env)
    site, campaign, variant = bench_site_fresh(db_name=DB_NAME, env=env)
    import subprocess

    from django.core.cache import cache
    from django.db import connection

    from campaigns.tally import sql

    for name in filter(None, options.skip.split(",")):
        setattr(sql, name, lambda *args, **kwargs: None)
    journey_bench_setup(site=site)
    if options.explain:
        explain_on(connection, milliseconds=options.explain)
    try:
        names = statement_names()
        backlog_store(connection, count=options.events, site_id=site.id,
                      **mix_select(campaign.id, variant.id))
        connection.ensure_connection()
        backend = connection.connection.info.backend_pid
        timer = Timer(names, backend)
        report("mixed", timer, *drain(timer=timer, batch_size=options.batch_size))
        if options.worst:
            backlog_store(connection, count=options.events // 4, site_id=site.id,
                          select="'impression', 'new' || n, %s, %s, 'https://bench.example/', '{}'",
                          params=[campaign.id, variant.id])
            timer = Timer(names, backend)
            report("worst case", timer, *drain(timer=timer, batch_size=options.batch_size))
    finally:
        connection.close()
        cache.clear()
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"],
                       check=False)


if __name__ == "__main__":
    main()
