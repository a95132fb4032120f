import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retarget.settings")
django_application = get_wsgi_application()

from django.conf import settings  # noqa: E402

# Collect requests take a short way past Django's request machinery (widget/api/fast_path.py); the rest go to Django.
from widget.api.fast_path import collect_fast_path  # noqa: E402

# Off (RETARGET_FAST_PATH=0), collect requests go through Django's handler like any other.
application = collect_fast_path(django_application) if settings.COLLECT_FAST_PATH else django_application

# ua-parser compiles its rules on first use (about 0.3 s): at start-up, not in a visitor's first collect request.
from campaigns.ingest.sender import device_of  # noqa: E402

device_of("Mozilla/5.0 (warm-up)")

# Without a Celery worker (tasks in-process, the demo) the process counts in a thread of its own: events stored but
# not counted when the server last stopped are counted now, not when the next request nudges it.
if settings.TALLY_IN_THREAD:
    from campaigns.tally.background import tally_soon

    tally_soon()
