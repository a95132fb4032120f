"""Test settings: real PostgreSQL and Redis when reachable, SQLite and in-process tasks otherwise.

CI=true demands PostgreSQL and Redis and fails when they are unreachable. Prints one line saying which.
"""

import os
import socket
import sys
from urllib.parse import urlsplit

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-" + "x" * 20)
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("ALLOWED_HOSTS", "*")
os.environ.setdefault("DEMO", "1")  # the browser tests drive the demo shop

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/retarget"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_db_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
_redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
_pg = _db_url.startswith("postgres") and _reachable(_db_url, 5432)
_redis = _reachable(_redis_url, 6379)
if _ci and not (_pg and _redis):
    raise SystemExit(f"CI=true but PostgreSQL ({_pg and 'up' or 'down'}) or Redis ({_redis and 'up' or 'down'}) "
                     f"is unreachable: {_db_url} {_redis_url}")
if _pg:
    os.environ["DATABASE_URL"] = _db_url
else:
    os.environ.pop("DATABASE_URL", None)
if _redis:
    os.environ["REDIS_URL"] = _redis_url
    os.environ.setdefault("CACHE_KEY_PREFIX", "rt-test")
else:
    os.environ.pop("REDIS_URL", None)

from retarget.settings import *  # noqa: E402,F403

if _redis:
    # The unit tests run tasks in-process; tests marked `worker` start real Celery workers on this broker,
    # which lives in its own Redis database so that clearing the test cache never drops queued tasks.
    CELERY_TASK_ALWAYS_EAGER = True  # noqa: F405
    CELERY_BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL") or (
        _redis_url.rsplit("/", 1)[0] + "/14" if _redis_url.rsplit("/", 1)[-1].isdigit() else _redis_url)
if not _pg:
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}  # noqa: F405

# Tests count when they ask (or in the request that stored, with in-process tasks), never in a thread of their own.
TALLY_IN_THREAD = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

if "pytest" in sys.modules and not os.environ.get("_RETARGET_SETTINGS_ANNOUNCED"):
    os.environ["_RETARGET_SETTINGS_ANNOUNCED"] = "1"
    print(f"retarget tests: database={'PostgreSQL' if _pg else 'SQLite'} "
          f"cache/broker={'Redis' if _redis else 'local memory, tasks in-process'}", file=sys.stderr)
