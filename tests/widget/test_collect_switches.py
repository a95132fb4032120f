"""Each switch of the collect path's speed machinery (docs/ingest.md) really turns its piece off, and on by default."""

import importlib.util
from pathlib import Path

import pytest
from django.core.signals import request_started

import retarget
from campaigns.models import Event
from tests.campaigns.events_kit import event, events_url
from tests.widget.test_collect_fast_path import batch, call, environ_for

WSGI_PY = Path(retarget.__file__).parent / "wsgi.py"


def wsgi_module_loaded():
    """retarget/wsgi.py run afresh under the current settings, beside the imported one (left as it was)."""
    spec = importlib.util.spec_from_file_location("retarget_wsgi_under_test", WSGI_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("fast_path", [True, False])
def test_the_fast_path_switch_decides_whether_a_collect_request_reaches_djangos_handler(
    transactional_db, site, settings, fast_path
):
    settings.TALLY_IN_THREAD = False  # no counting thread started by the module under test
    settings.COLLECT_FAST_PATH = fast_path
    application = wsgi_module_loaded().application
    started = []

    def receiver(**kwargs):
        started.append(kwargs)

    request_started.connect(receiver)
    try:
        status, _headers, _body = call(application, environ_for("POST", events_url(site), batch(event("pageview"))))
    finally:
        request_started.disconnect(receiver)
    assert status == 202
    assert Event.objects.count() == 1
    # Django's handler announces every request; the fast path answers without it.
    assert bool(started) is not fast_path


def test_every_piece_is_on_when_its_variable_is_unset():
    from retarget import settings as product_settings

    assert product_settings.COLLECT_FAST_PATH is True
