"""Benchmark settings: the real app on PostgreSQL and Redis, plus a trivial view to compare against."""

import os

os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-" + "x" * 20)
os.environ.setdefault("ALLOWED_HOSTS", "*")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DEMO", "1")  # the widget benches load the demo shop

from retarget.settings import *  # noqa: E402,F403

ROOT_URLCONF = "bench.urls"
RATE_LIMIT_SITE_PER_MINUTE = 10**9
RATE_LIMIT_CLIENT_PER_MINUTE = 10**9
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("BENCH_QUEUE", "bench")
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
