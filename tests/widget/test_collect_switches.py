"""Each switch of the collect path's speed machinery (docs/ingest.md) really turns its piece off, and on by default."""

import importlib.util
from pathlib import Path
from unittest import mock

import pytest
from django.core.signals import request_started

import retarget
from campaigns.ingest import collect
from campaigns.models import Event
from tests.campaigns.events_kit import event, events_url, post_events
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


@pytest.mark.parametrize("shortcut", [True, False])
def test_the_public_shortcut_switch_decides_whether_collect_takes_the_whole_middleware_chain(
    client, site, settings, shortcut
):
    settings.PUBLIC_SHORTCUT = shortcut
    response = post_events(client, site, [event("pageview")])
    assert response.status_code == 202
    # AuthenticationMiddleware, skipped by the short-circuit, is what gives a request its user.
    assert hasattr(response.wsgi_request, "user") is not shortcut


@pytest.mark.parametrize("typed", [True, False])
def test_the_typed_decode_switch_decides_whether_event_check_checks_a_widget_batch(client, site, settings, typed):
    settings.COLLECT_TYPED_DECODE = typed
    batch_sent = [event("pageview"), event("pageview", visitor="v_2")]
    with mock.patch.object(collect, "event_check", wraps=collect.event_check) as event_check:
        response = post_events(client, site, batch_sent)
    assert response.status_code == 202
    assert response.json() == {"accepted": [e["id"] for e in batch_sent], "rejected": []}
    assert event_check.call_count == (0 if typed else len(batch_sent))


def test_every_piece_is_on_when_its_variable_is_unset():
    from retarget import settings as product_settings

    assert product_settings.COLLECT_FAST_PATH is True
    assert product_settings.PUBLIC_SHORTCUT is True
    assert product_settings.COLLECT_TYPED_DECODE is True
