import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retarget.settings")
application = get_wsgi_application()

# ua-parser compiles its rules on first use (about 0.3 s): at start-up, not in a visitor's first collect request.
from widget.api.client import device_of  # noqa: E402

device_of("Mozilla/5.0 (warm-up)")
