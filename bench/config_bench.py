"""Config endpoint benchmark: requests/s and p50/p99 of GET /api/w/<key>/config under load (wrk), as a ratio
against a trivial Django view served by the same gunicorn in the same run. Budget: at least 75 %.

The site has 50 active campaigns with realistic rules, so the response is a real config (cached in Redis).
Needs PostgreSQL and Redis on 127.0.0.1 and wrk. Usage: python bench/config_bench.py [--seconds 10]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import budget, database_drop, database_fresh, django_shell, environment, gunicorn, wrk  # noqa: E402

DB_NAME = "retarget_bench_config"
PORT = 8766

SEED = """
from django.contrib.auth import get_user_model
from campaigns import services
owner = get_user_model().objects.create_user("bench", password="x", is_staff=True)
site = services.site_create(owner=owner, name="Bench", allowed_origins=["https://bench.example"])
for i in range(50):
    services.campaign_create(
        site=site, name=f"c{i}", message_type=["popup", "bar", "slide_in", "fullscreen"][i % 4], status="active",
        priority=i % 7,
        triggers=[{"type": "exit_intent", "sensitivity": 20}, {"type": "scroll", "percent": 40 + i % 50}],
        targeting={"all": [{"attr": "path", "op": "starts_with", "value": f"/section{i % 9}/"},
                           {"any": [{"attr": "utm.source", "op": "equals", "value": "google"},
                                    {"attr": "visited", "op": "contains", "value": "/blog/", "min_count": 2}]},
                           {"not": {"attr": "device", "op": "equals", "value": "tablet"}}]},
        frequency={"once_per_session": True, "max_impressions": 3, "stop_after_close": True},
        variants=[{"name": "A", "weight": 50, "content": {"headline": f"Offer {i} A", "body": "<p>Save now</p>"}},
                  {"name": "B", "weight": 50, "content": {"headline": f"Offer {i} B", "body": "<p>Save today</p>"}}],
    )
print(site.public_key)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    env = environment(db_name=DB_NAME)
    database_fresh(db_name=DB_NAME, env=env)
    try:
        key = django_shell(SEED, env=env).splitlines()[-1]
        base = f"http://127.0.0.1:{PORT}"
        with gunicorn(env=env, port=PORT, workers=args.workers):
            wrk(url=f"{base}/api/w/{key}/config", seconds=2)  # warm-up: every worker loads and caches
            wrk(url=f"{base}/bench/trivial", seconds=2)
            trivial = wrk(url=f"{base}/bench/trivial", seconds=args.seconds)
            config = wrk(
                url=f"{base}/api/w/{key}/config", seconds=args.seconds, headers={"Origin": "https://bench.example"}
            )
        ratio = config["rps"] / trivial["rps"]
        print(f"config endpoint (50 campaigns, gunicorn sync x{args.workers}, wrk 16 connections)")
        print(f"  trivial view : {trivial['rps']:8.0f} req/s  p50 {trivial['p50']:.2f} ms  p99 {trivial['p99']:.2f} ms")
        print(
            f"  config       : {config['rps']:8.0f} req/s  p50 {config['p50']:.2f} ms  p99 {config['p99']:.2f} ms"
            f"  non-2xx {config['errors']}"
        )
        print(f"  ratio config/trivial: {ratio:.2f}  (budget >= 0.75: {budget(ratio >= 0.75)})")
    finally:
        database_drop(db_name=DB_NAME)


if __name__ == "__main__":
    main()
