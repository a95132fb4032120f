"""Retarget settings, read from the environment.

With nothing set the project runs on its own: a SQLite file in the project folder, a
local-memory cache and Celery tasks run in-process. A deployment sets DATABASE_URL,
REDIS_URL, SECRET_KEY, DEBUG=0 and ALLOWED_HOSTS (see README.md).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from widget.embed import static_headers_add

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "django-insecure-dev-only-key-never-use-in-production"
# The key of the hashes that find a visitor's e-mail and consent proof (campaigns/pseudonyms.py). Set it to
# keep those look-ups working when SECRET_KEY is rotated; empty: derived from SECRET_KEY.
PRIVACY_HASH_KEY = env_str("PRIVACY_HASH_KEY")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # runserver leaves static files to WhiteNoise, so they get the same headers and fallbacks as in production.
    "whitenoise.runserver_nostatic",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "axes",
    "csp",
    "campaigns",
    "widget",
    # The demo shop's pages, templates, static files and `demo_seed` (mounted only with DEMO).
    "widget.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "retarget.hardening.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The admin speaks the browser's language when it has it (Accept-Language): LANGUAGES below.
    "retarget.admin_locale.AdminLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires: turns a lockout into its 429 answer
]

ROOT_URLCONF = "retarget.urls"
WSGI_APPLICATION = "retarget.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Health checks cost a `SELECT 1` round trip before the first query of every request (a tenth of a collect
# request's database work). On by default, the safe choice: without them a persistent connection that died (a
# database restart) fails one request per worker with a 500 before Django drops it (the widget would retry).
# DB_CONN_HEALTH_CHECKS=0 trades that for speed where the database is not restarted under the app.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True),
    )
}
# The collect insert runs as a server-side prepared statement (planned once per connection). Turn off behind
# a pooler in transaction mode that cannot keep prepared statements (PgBouncer before 1.21).
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)
if DB_PREPARED_STATEMENTS and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django opens psycopg connections with prepare_threshold None: prepared statements off, and psycopg then
    # ignores prepare=True as well. A threshold no query reaches turns them on for the statements that ask (the
    # collect insert) and leaves every other query as Django runs it.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 2**62)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database host that drops packets (rather than refusing) would otherwise hold each request for the kernel's
    # TCP timeout (minutes) before the outage could be answered 503.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default under concurrent requests. WAL lets readers run beside the one writer. A transaction
    # takes the write lock when it begins (IMMEDIATE), where a busy database is waited for, up to the timeout
    # (seconds; then collect answers 503); a deferred one that read first and then writes fails at once when
    # another writer got in between.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 10),
        "init_command": "PRAGMA journal_mode=WAL",
    })
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "rt"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: Redis as broker when configured; otherwise tasks run in-process (the demo needs no service).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# Without a worker, each process counts in a background thread of its own after its commits, so that no
# request waits for the tally (campaigns/tally/background.py).
TALLY_IN_THREAD = CELERY_TASK_ALWAYS_EAGER
# With a worker on beat it keeps the journey effects of the campaigns with a holdout
# (campaigns/results/journey_effect.py); without one, a page counts every campaign itself.
JOURNEY_EFFECTS_KEPT = not CELERY_TASK_ALWAYS_EAGER
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "retarget"
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # kombu's Redis transport with one fix: a worker survives a Redis restart (see retarget/celery.py).
    CELERY_BROKER_TRANSPORT = "retarget.celery:RedisTransport"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULE = {
    "tally-drain": {"task": "campaigns.tally_drain", "schedule": timedelta(seconds=5)},
    "allocation-update": {"task": "campaigns.allocation_update", "schedule": timedelta(minutes=15)},
    "events-expire": {"task": "campaigns.events_expire", "schedule": timedelta(hours=1)},
    "refusals-flush": {"task": "campaigns.refusals_flush", "schedule": timedelta(minutes=1)},
    "journey-rollups-refresh": {"task": "campaigns.journey_rollups_refresh", "schedule": timedelta(minutes=1)},
    # The session rollups: recent days (and days built with older groups) often; late rows of any day once a day.
    "journey-walks-update": {"task": "campaigns.journey_walks_update", "schedule": timedelta(minutes=5)},
    "journey-walks-sweep": {"task": "campaigns.journey_walks_update", "schedule": timedelta(days=1),
                            "kwargs": {"full": True}},
    # The journey effect of every campaign with a holdout, which pages read past the share they count themselves
    # (campaigns/results/journey_effect.py).
    "journey-effects-refresh": {"task": "campaigns.journey_effects_refresh", "schedule": timedelta(minutes=5)},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The admin's languages (Django's own strings are translated by Django; ours are in campaigns/locale/).
LANGUAGES = [("en", "English"), ("pl", "Polski")]
LOCALE_PATHS = [BASE_DIR / "campaigns" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Lead magnet files (campaigns/models/assets.py). MEDIA_URL is deliberately not served by any URL pattern: a file
# leaves only through a signed link (widget/api/magnet.py), valid for MAGNET_LINK_SECONDS after the lead is stored.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MAGNET_LINK_SECONDS = env_int("MAGNET_LINK_SECONDS", 15 * 60)
# Static files without a hash in their name (the admin's, the demo's): an hour. The widget's files have their own
# policy (widget/embed.py): the stable core URL minutes, the content-hashed lazy files a year, immutable.
WHITENOISE_MAX_AGE = 60 * 60 if not DEBUG else 0
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_ADD_HEADERS_FUNCTION = static_headers_add
# Browser max-age of the widget's stable script URL: how long a release takes to reach a returning visitor.
WIDGET_CORE_MAX_AGE = env_int("WIDGET_CORE_MAX_AGE", 300)

# Security: safe by default when DEBUG is off; a TLS-terminating proxy sets SECURE_PROXY_SSL_HEADER.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Admin login throttle (django-axes): after AXES_FAILURE_LIMIT failures an account is locked whatever the address,
# and an address whatever the account, for AXES_COOLOFF_TIME after the last failure counted. Attempts are kept in
# the database, not the cache: a Redis restart or flush forgets no lockout, and admin lists them ("Access
# attempts", where a lockout can be lifted early). Failures during a lockout do not extend it, so an attacker cannot
# keep an owner out of their account for longer than that.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "retarget.hardening.login_client_ip"

# Content-Security-Policy on every page Django renders (django-csp): no inline script or style anywhere in the
# admin and the results pages. Not on the demo shop (it embeds the snippet as a customer's page would, inline queue
# stub included) nor on the API docs page (Swagger UI from its CDN); the widget's endpoints skip the middleware.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/demo/", "/api/docs/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Retarget API",
    "DESCRIPTION": "Sites, campaigns, results and the public widget endpoints.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "campaigns.api.schema.error_responses_add",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Product settings.
# Seconds a site's widget config may be served from our cache (it is also invalidated on every change).
CONFIG_CACHE_SECONDS = env_int("CONFIG_CACHE_SECONDS", 300)
# max-age sent to browsers and CDNs for the config.
CONFIG_MAX_AGE = env_int("CONFIG_MAX_AGE", 60)
# While the database or Redis cannot be reached, each process serves a site's last good config for this long.
CONFIG_STALE_SECONDS = env_int("CONFIG_STALE_SECONDS", 3600)
# Public endpoint rate limits, per minute.
RATE_LIMIT_SITE_PER_MINUTE = env_int("RATE_LIMIT_SITE_PER_MINUTE", 60000)
RATE_LIMIT_CLIENT_PER_MINUTE = env_int("RATE_LIMIT_CLIENT_PER_MINUTE", 600)
# The widget's endpoints refuse unknown keys from a per-process set of every site's key, loaded again when a site
# is saved or deleted and at least this often.
KNOWN_KEYS_REFRESH_SECONDS = env_int("KNOWN_KEYS_REFRESH_SECONDS", 60)
# Reverse proxies in front of the app that append the client's address to X-Forwarded-For (1 behind the proxy of
# docker-compose.yml); 0 reads the address of the connection and ignores the header, which any client can send.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured(f"TRUSTED_PROXY_COUNT={TRUSTED_PROXY_COUNT} must be 0 or more")
# Unix socket of the collect writer (campaigns/ingest/writer.py), which stores the batches of concurrent collect
# requests in one commit. retarget/gunicorn.conf.py starts one and sets this; empty: each web worker stores on its own.
COLLECT_WRITER_SOCKET = env_str("COLLECT_WRITER_SOCKET")
# The collect path's other speed machinery, each piece on unless its variable is 0 (docs/ingest.md; measured off
# and on by `python bench/run.py ablation`).
# RETARGET_FAST_PATH=0: collect requests go through Django's handler like any other (retarget/wsgi.py).
COLLECT_FAST_PATH = env_bool("RETARGET_FAST_PATH", True)
# Where the widget and the demo shop find the API when they are not on the same origin.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "")
# The installation check's "Check now" fetches only public addresses; tests turn this on to serve a page from
# 127.0.0.1 (loopback only: private and link-local addresses stay refused).
INSTALLATION_CHECK_ALLOW_LOOPBACK = env_bool("INSTALLATION_CHECK_ALLOW_LOOPBACK", False)
# The demo shop (/demo/) and the / redirect to it: on in development, off in production unless asked for.
DEMO = env_bool("DEMO", DEBUG)
