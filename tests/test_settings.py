"""Settings come from the environment and run with nothing set; production settings pass check --deploy."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRINT_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], "
    "s.CELERY_TASK_ALWAYS_EAGER, s.DEBUG]))"
)


ENV_UNDER_TEST = ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CI", "CACHE_KEY_PREFIX")


def run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in ENV_UNDER_TEST and not key.startswith(("SECURE_", "DJANGO_"))
    }
    clean.pop("_RETARGET_SETTINGS_ANNOUNCED", None)
    clean["DJANGO_SETTINGS_MODULE"] = "retarget.settings"
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def test_nothing_set_but_debug_gives_sqlite_local_memory_cache_and_in_process_tasks():
    result = run(["-c", PRINT_SETTINGS], {"DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        '["django.db.backends.sqlite3", "django.core.cache.backends.locmem.LocMemCache", true, true]'
    )


def test_redis_url_switches_cache_and_broker_and_database_url_the_database():
    result = run(
        ["-c", PRINT_SETTINGS],
        {"DEBUG": "1", "REDIS_URL": "redis://127.0.0.1:6379/3", "DATABASE_URL": "postgres://u@127.0.0.1:5432/x"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        '["django.db.backends.postgresql", "django.core.cache.backends.redis.RedisCache", false, true]'
    )


def test_debug_off_without_a_secret_key_refuses_to_start():
    result = run(["-c", PRINT_SETTINGS], {})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_pass_check_deploy_without_warnings():
    result = run(
        ["manage.py", "check", "--deploy"],
        {
            "DEBUG": "0",
            "SECRET_KEY": "k" * 20 + "Zq8!x2Vw_9rT4mLp0sYc3HbN7uJe1GdF5aKo6iQ",
            "ALLOWED_HOSTS": "retarget.example",
        },
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_a_malformed_boolean_is_a_clear_error():
    result = run(["-c", PRINT_SETTINGS], {"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_ci_refuses_to_run_the_suite_without_postgresql_and_redis():
    result = run(["-c", "import retarget.test_settings"],
                 {"CI": "true", "DATABASE_URL": "postgres://postgres@127.0.0.1:9/nowhere", "DEBUG": "0"})
    assert result.returncode != 0
    assert "CI=true but PostgreSQL (down)" in result.stderr


SILENT_DATABASE = """
import os, socket, time, django
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(8)  # the kernel completes the handshake; nothing ever answers, like a host that drops packets
os.environ["DATABASE_URL"] = "postgres://nobody@127.0.0.1:%d/db" % listener.getsockname()[1]
django.setup()
from django.db import OperationalError, connection
started = time.monotonic()
try:
    connection.ensure_connection()
except OperationalError:
    print(round(time.monotonic() - started))
"""


def test_a_database_that_never_answers_is_given_up_after_db_connect_timeout():
    result = run(["-c", SILENT_DATABASE], {"DEBUG": "1", "DB_CONNECT_TIMEOUT": "2"})

    # Without a connect timeout the attempt never ends and run() gives up after 60 s with TimeoutExpired.
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1].isdigit(), "the attempt ended with OperationalError, then a 503"
