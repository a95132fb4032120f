"""The demo shop and the / redirect exist only in development (DEBUG) or when DEMO=1 asks for them."""

import json
import os
import subprocess
import sys

from django.conf import settings

# Resolves the demo's paths under the settings the environment gives, as a deployment would load them.
PROBE = """
import json
import django
django.setup()
from django.urls import Resolver404, resolve

def mounted(path):
    try:
        resolve(path)
    except Resolver404:
        return False
    return True

print(json.dumps({path: mounted(path) for path in ("/", "/demo/", "/demo/cart/", "/admin/")}))
"""


def routes(**env: str) -> dict:
    environment = {key: value for key, value in os.environ.items() if key not in ("DEMO", "DEBUG")}
    environment.update(DJANGO_SETTINGS_MODULE="retarget.settings", SECRET_KEY="probe-" + "x" * 50, **env)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=settings.BASE_DIR, env=environment,
        capture_output=True, text=True, timeout=60, check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_mount_no_demo_and_no_root_redirect():
    assert routes(DEBUG="0") == {"/": False, "/demo/": False, "/demo/cart/": False, "/admin/": True}


def test_demo_setting_mounts_the_demo_in_production():
    assert routes(DEBUG="0", DEMO="1") == {"/": True, "/demo/": True, "/demo/cart/": True, "/admin/": True}


def test_debug_mounts_the_demo_unless_turned_off():
    assert routes(DEBUG="1")["/demo/"] is True
    assert routes(DEBUG="1", DEMO="0") == {"/": False, "/demo/": False, "/demo/cart/": False, "/admin/": True}
