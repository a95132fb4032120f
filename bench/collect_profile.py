"""Profile collect requests in-process (Django test client, PostgreSQL, Redis): where does a request's time go?

Usage: python bench/collect_profile.py [--requests 2000] [--sort tottime] [--limit 40]
Creates and drops `retarget_profile`. Prints the mean time per request of the collect endpoint and of the
trivial view through the same middleware, then the cProfile table of the collect requests.
"""

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DB_NAME = "retarget_profile"
PG = "postgres://postgres@127.0.0.1:5432"
ORIGIN = "https://bench.example"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"


def body(campaign_id: int, variant_id: int, size: int = 20) -> str:
    now = int(time.time() * 1000)
    return json.dumps({"events": [
        {"id": str(uuid.uuid4()), "type": "impression", "ts": now, "visitor": uuid.uuid4().hex[:12], "session": "s",
         "campaign": campaign_id, "variant": variant_id, "url": "https://bench.example/", "data": {}}
        for _ in range(size)
    ]})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--limit", type=int, default=40)
    options = parser.parse_args()
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "REDIS_URL": "redis://127.0.0.1:6379/10",
        "CACHE_KEY_PREFIX": "rt-profile",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_BROKER_URL": "memory://",
    }
    os.environ.update(env)
    sys.path.insert(0, str(BASE_DIR))
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"], check=True)
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {DB_NAME}"], check=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=BASE_DIR, env={**os.environ}, check=True)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connections
    from django.test import Client

    from campaigns import services

    try:
        owner = get_user_model().objects.create_user("profile", password="x")
        site = services.site_create(owner=owner, name="Profile", allowed_origins=[ORIGIN])
        campaign = services.campaign_create(
            site=site, name="Profile", message_type="popup", status="active",
            variants=[{"name": "A", "content": {"headline": "Hi"}}],
        )
        variant = campaign.variants.get()
        client = Client(HTTP_ORIGIN=ORIGIN, HTTP_USER_AGENT=UA)
        path = f"/api/w/{site.public_key}/events"
        bodies = [body(campaign.id, variant.id) for _ in range(options.requests + 50)]
        for text in bodies[:50]:  # warm-up: imports, the site map, the User-Agent parser
            assert client.post(path, text, content_type="text/plain").status_code == 202
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(options.requests):
            client.get("/bench/trivial")
        trivial = (time.perf_counter() - started) / options.requests
        trivial_cpu = (time.process_time() - cpu) / options.requests
        profiler = cProfile.Profile(time.process_time)  # CPU, not waiting
        started = time.perf_counter()
        profiler.enable()
        for text in bodies[50:]:
            client.post(path, text, content_type="text/plain")
        profiler.disable()
        collect = (time.perf_counter() - started) / options.requests
        texts = [body(campaign.id, variant.id) for _ in range(options.requests)]
        started, cpu = time.perf_counter(), time.process_time()
        for text in texts:
            client.post(path, text, content_type="text/plain")
        unprofiled = (time.perf_counter() - started) / options.requests
        unprofiled_cpu = (time.process_time() - cpu) / options.requests
        print(f"trivial view: {trivial * 1e6:.0f} us/request ({trivial_cpu * 1e6:.0f} us CPU); collect (20 events): "
              f"{unprofiled * 1e6:.0f} us/request ({unprofiled_cpu * 1e6:.0f} us CPU) unprofiled, "
              f"{collect * 1e6:.0f} us profiled (test client, one process)")
        pstats.Stats(profiler).sort_stats(options.sort).print_stats(options.limit)
    finally:
        connections.close_all()
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"])


if __name__ == "__main__":
    main()
