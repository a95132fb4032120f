"""The environment of an app process a test starts (a Celery worker, the collect writer, gunicorn): the test's
database and Redis, production settings, tasks really sent."""

import os

from django.conf import settings
from django.db import connection


def app_environment(**extra: str) -> dict:
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "retarget.settings",
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "0",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(settings.BASE_DIR), os.environ.get("PYTHONPATH")])),
        **extra,
    }
