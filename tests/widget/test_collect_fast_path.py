"""The collect endpoint's WSGI fast path (widget/api/fast_path.py): the same answers as the Django view, in-process
side by side with Django's handler, then through a real gunicorn with its collect writer."""

import http.client
import io
import json
import os
import signal
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

from campaigns.ingest import body as body_errors
from campaigns.ingest import collect
from campaigns.ingest.rate_limits import WINDOW_SECONDS
from campaigns.ingest.sender import ip_truncate
from campaigns.models import Event
from campaigns.services.assets import asset_create
from tests.app_process import app_environment
from tests.campaigns.events_kit import BROWSER_UA, ORIGIN, event, events_url
from widget.api import collect as collect_view
from widget.api.fast_path import collect_fast_path

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


class Spy:
    """Django's WSGI application, counting the requests it is given."""

    def __init__(self) -> None:
        self.django = WSGIHandler()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.django(environ, start_response)


@pytest.fixture
def apps(transactional_db):
    """(Django's application, the fast path in front of it). Both check and recycle the database connection around
    each request as in production: the test's data is committed (transactional_db), not in a transaction of its own."""
    spy = Spy()
    return spy, collect_fast_path(spy)


def environ_for(method: str, path: str, body: bytes = b"", **extra) -> dict:
    return {
        "REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1", "CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": str(len(body)),
        "HTTP_ORIGIN": ORIGIN, "HTTP_USER_AGENT": BROWSER_UA, "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body), "wsgi.errors": io.StringIO(), "wsgi.version": (1, 0),
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False, **extra,
    }


def call(app, environ) -> tuple[int, dict, bytes]:
    answer = {}

    def start_response(status, headers):
        answer["status"], answer["headers"] = int(status.split()[0]), headers

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    names = [name.lower() for name, _value in answer["headers"]]
    assert len(names) == len(set(names)), "no header twice"
    return answer["status"], dict(answer["headers"]), body


def batch(*events) -> bytes:
    return json.dumps({"events": list(events)}).encode()


# name -> (method, body builder, environ changes, status). Each request is built twice, with fresh event ids.
CASES = {
    "stored": ("POST", lambda c: batch(event("pageview"), event("impression", campaign=c, variant=c.variants.first())),
               {}, 202),
    "mixed batch": ("POST", lambda c: batch(event("pageview"), "not an object", event("pageview", id="nope")), {}, 202),
    "charset parameter": ("POST", lambda c: batch(event("pageview")),
                          {"CONTENT_TYPE": "text/plain;charset=UTF-8"}, 202),
    "https": ("POST", lambda c: batch(event("pageview")), {"wsgi.url_scheme": "https"}, 202),
    "beacon with referer": ("POST", lambda c: batch(event("pageview")),
                            {"HTTP_ORIGIN": None, "HTTP_REFERER": ORIGIN + "/cart"}, 202),
    "bot": ("POST", lambda c: batch(event("pageview")), {"HTTP_USER_AGENT": GOOGLEBOT}, 202),
    "no user agent": ("POST", lambda c: batch(event("pageview")), {"HTTP_USER_AGENT": None}, 202),
    "unknown key": ("POST", lambda c: batch(event("pageview")), {"PATH_INFO": "/api/w/pk_nope/events"}, 404),
    "other origin": ("POST", lambda c: batch(event("pageview")), {"HTTP_ORIGIN": "https://evil.example"}, 403),
    "preflight": ("OPTIONS", lambda c: b"", {}, 204),
    "preflight of another origin": ("OPTIONS", lambda c: b"", {"HTTP_ORIGIN": "https://evil.example"}, 403),
    "content type": ("POST", lambda c: batch(event("pageview")),
                     {"CONTENT_TYPE": "application/x-www-form-urlencoded"}, 415),
    "declared too large": ("POST", lambda c: b"{}", {"CONTENT_LENGTH": str(10 * 1024 * 1024)}, 413),
    "too many events": ("POST", lambda c: batch(*[event("pageview") for _ in range(51)]), {}, 413),
    "malformed": ("POST", lambda c: b'{"events": [', {}, 400),
    "not UTF-8": ("POST", lambda c: b'{"events": ["\xff\xfe"]}', {}, 400),
    "not a list": ("POST", lambda c: b'{"events": {"id": 1}}', {}, 400),
    "lowercase method": ("post", lambda c: batch(event("pageview")), {}, 202),
}


@pytest.mark.parametrize("name", CASES)
def test_the_fast_path_answers_as_the_django_view(apps, site, campaign, name):
    django_app, fast = apps
    method, build, changes, status = CASES[name]
    answers = []
    for app in (django_app, fast):
        environ = environ_for(method, events_url(site), build(campaign))
        environ.update(changes)
        environ = {key: value for key, value in environ.items() if value is not None}
        answers.append(call(app, environ))
    assert django_app.calls == 1, "the fast path answered its request itself"
    (django_status, django_headers, django_body), (fast_status, fast_headers, fast_body) = answers
    assert fast_status == django_status == status
    assert fast_headers == django_headers
    if status == 202:
        django_json, fast_json = json.loads(django_body), json.loads(fast_body)
        assert len(fast_json["accepted"]) == len(django_json["accepted"])
        assert fast_json["rejected"] == django_json["rejected"]
    else:
        assert fast_body == django_body


def test_the_fast_path_stores_the_good_events_and_adds_the_security_headers(apps, site, campaign):
    _django_app, fast = apps
    good = event("impression", campaign=campaign, variant=campaign.variants.first())
    status, headers, body = call(fast, environ_for("POST", events_url(site), batch(good, "not an object"),
                                                   **{"wsgi.url_scheme": "https"}))
    assert status == 202
    assert json.loads(body) == {"accepted": [good["id"]], "rejected": [{"index": 1, "reason": "schema"}]}
    assert list(Event.objects.values_list("event_id", flat=True)) == [uuid.UUID(good["id"])]
    assert headers["Content-Length"] == str(len(body))
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["Access-Control-Allow-Origin"] == ORIGIN



def test_a_database_outage_is_a_json_503_that_the_widget_retries_and_then_stored(apps, site, campaign):
    """PostgreSQL unreachable (its port closed) while a batch arrives: a JSON 503 with Retry-After, never a 500
    and never a 202; the widget keeps the batch and sends it again (5xx), and once the database is back it is
    stored once."""
    _django_app, fast = apps
    good = event("impression", campaign=campaign, variant=campaign.variants.first())
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"  # nothing listens there
    try:
        status, headers, body = call(fast, environ_for("POST", events_url(site), batch(good)))
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert status == 503
    assert headers["Content-Type"] == "application/json"
    assert int(headers["Retry-After"]) > 0
    assert json.loads(body)["error"] == "service unavailable"
    status, _headers, body = call(fast, environ_for("POST", events_url(site), batch(good)))
    assert status == 202
    assert Event.objects.filter(event_id=good["id"]).count() == 1


@pytest.mark.parametrize(
    ("method", "changes", "status"),
    [
        ("GET", {}, 405),
        ("POST", {"HTTP_HOST": "evil.example"}, 400),
        ("POST", {"PATH_INFO": "/api/w/pk_x/events/"}, 404),
        ("POST", {"PATH_INFO": "/api/w/pk_é/events"}, 404),
    ],
    ids=["other method", "host not allowed", "trailing slash", "key not in the form of public keys"],
)
def test_what_the_fast_path_does_not_answer_goes_to_django(apps, site, settings, method, changes, status):
    settings.ALLOWED_HOSTS = ["testserver"]
    django_app, fast = apps
    environ = environ_for(method, events_url(site), batch(event("pageview")))
    environ.update(changes)
    answer_status, _headers, _body = call(fast, environ)
    assert (answer_status, django_app.calls) == (status, 1)
    assert not Event.objects.exists()


def test_plain_http_is_redirected_by_django_when_ssl_redirect_is_on(apps, site, settings):
    settings.SECURE_SSL_REDIRECT = True
    django_app = Spy()  # Django's middleware read their settings when the handler is built
    fast = collect_fast_path(django_app)
    status, headers, _body = call(fast, environ_for("POST", events_url(site), batch(event("pageview"))))
    assert (status, django_app.calls) == (301, 1)
    assert headers["Location"].startswith("https://")
    behind_proxy = environ_for("POST", events_url(site), batch(event("pageview")), HTTP_X_FORWARDED_PROTO="https")
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert call(fast, behind_proxy)[0] == 202
    assert django_app.calls == 1


def test_the_fast_path_reads_the_client_address_behind_trusted_proxies(apps, site, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    _django_app, fast = apps
    consent = event("consent", data={"decision": "granted", "categories": ["necessary"], "policy_version": "1",
                                     "consent_id": "c-1"})
    environ = environ_for("POST", events_url(site), batch(consent), REMOTE_ADDR="10.0.0.2",
                          HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.77")
    assert call(fast, environ)[0] == 202
    assert Event.objects.get().ip_truncated == ip_truncate("203.0.113.77")


def test_the_fast_path_answers_429_with_retry_after_over_a_rate_limit(apps, site, settings):
    settings.RATE_LIMIT_CLIENT_PER_MINUTE = 5
    _django_app, fast = apps
    url = events_url(site)
    assert call(fast, environ_for("POST", url, batch(*[event("pageview") for _ in range(5)])))[0] == 202
    status, headers, body = call(fast, environ_for("POST", url, batch(event("pageview"))))
    assert status == 429
    assert 1 <= int(headers["Retry-After"]) <= WINDOW_SECONDS
    assert json.loads(body)["error"] == collect.ERROR_RATE_LIMITED
    assert Event.objects.count() == 5


def test_the_production_wsgi_application_takes_the_fast_path():
    from retarget import wsgi

    assert wsgi.application is not wsgi.django_application


# ---- through gunicorn, with its collect writer ----------------------------------------------------------------

needs_gunicorn = pytest.mark.skipif(
    connection.vendor != "postgresql" or not settings.REDIS_URL,
    reason="gunicorn runs the collect writer, which stores into PostgreSQL and counts rate limits in Redis",
)


@pytest.fixture(scope="module")
def gunicorn(django_db_setup, django_db_blocker, tmp_path_factory):
    """One gunicorn for the module, on the test database (the tests commit their data: transactional_db)."""
    from tests.campaigns.ingest.test_writer import free_port, wait_for

    tmp = tmp_path_factory.mktemp("gunicorn")
    port, path = free_port(), str(tmp / "collect.sock")
    with django_db_blocker.unblock():
        env = app_environment(COLLECT_WRITER_SOCKET=path, ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="0",
                              RATE_LIMIT_CLIENT_PER_MINUTE="40")
    log = open(tmp / "gunicorn.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "retarget/gunicorn.conf.py", "retarget.wsgi",
         "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        wait_for(lambda: os.path.exists(path), what="gunicorn's collect writer")
        wait_for(lambda: _reachable(port), timeout=30, what="gunicorn")
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        log.close()


def _reachable(port: int) -> bool:
    try:
        return over_http(port, "GET", "/healthz")[0] == 200
    except OSError:
        return False


def over_http(port: int, method: str, path: str, body: bytes = b"", **headers) -> tuple[int, dict, bytes]:
    sent = {"Host": "127.0.0.1", "Content-Type": "text/plain", "Origin": ORIGIN, "User-Agent": BROWSER_UA}
    sent.update({name.replace("_", "-"): value for name, value in headers.items()})
    length = sent.pop("Content-Length", str(len(body)))
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        client.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in sent.items():
            if value is not None:
                client.putheader(name, value)
        client.putheader("Content-Length", length)
        client.endheaders()
        client.send(body)
        response = client.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        client.close()


@needs_gunicorn
def test_through_gunicorn_a_batch_is_stored_before_the_202_with_the_security_headers(gunicorn, transactional_db,
                                                                                     site, campaign):
    good = [event("pageview"), event("impression", campaign=campaign, variant=campaign.variants.first())]
    status, headers, body = over_http(gunicorn, "POST", events_url(site), batch(*good, "not an object"))
    assert status == 202
    assert json.loads(body) == {"accepted": [e["id"] for e in good], "rejected": [{"index": 2, "reason": "schema"}]}
    assert set(Event.objects.values_list("event_id", flat=True)) == {uuid.UUID(e["id"]) for e in good}
    assert headers["Content-Length"] == str(len(body))
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert headers["Vary"] == "Origin"


@needs_gunicorn
@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "error"),
    [
        ("POST", "/api/w/pk_nope/events", b"{}", {}, 404, collect_view.ERROR_UNKNOWN_SITE),
        ("POST", None, b'{"events": []}', {"Origin": "https://evil.example"}, 403, collect.ERROR_ORIGIN),
        ("POST", None, b"{}", {"Content_Length": str(10 * 1024 * 1024)}, 413, body_errors.ERROR_TOO_LARGE),
        ("POST", None, b'{"events": [', {}, 400, body_errors.ERROR_MALFORMED),
        ("POST", None, b'{"events": ["\xff\xfe"]}', {}, 400, body_errors.ERROR_NOT_UTF8),
        ("POST", None, b'{"events": []}', {"Content-Type": "application/x-www-form-urlencoded"}, 415,
         body_errors.ERROR_CONTENT_TYPE),
    ],
    ids=["unknown key", "other origin", "too large", "malformed", "not UTF-8", "content type"],
)
def test_through_gunicorn_a_bad_request_gets_its_4xx(gunicorn, transactional_db, site, method, path, body, headers,
                                                     status, error):
    answer_status, answer_headers, answer_body = over_http(gunicorn, method, path or events_url(site), body,
                                                           **headers)
    assert answer_status == status
    assert json.loads(answer_body)["error"] == error
    assert answer_headers["X-Content-Type-Options"] == "nosniff"
    assert not Event.objects.exists()


@needs_gunicorn
def test_through_gunicorn_the_preflight_is_answered_for_an_allowed_origin_only(gunicorn, transactional_db, site):
    allowed = over_http(gunicorn, "OPTIONS", events_url(site), Access_Control_Request_Method="POST")
    refused = over_http(gunicorn, "OPTIONS", events_url(site), Origin="https://evil.example")
    assert allowed[0] == 204
    assert allowed[1]["Access-Control-Allow-Origin"] == ORIGIN
    assert refused[0] == 403
    assert "Access-Control-Allow-Origin" not in refused[1]


@needs_gunicorn
def test_through_gunicorn_a_host_not_allowed_is_refused(gunicorn, transactional_db, site):
    status, _headers, _body = over_http(gunicorn, "POST", events_url(site), batch(event("pageview")),
                                        Host="evil.example")
    assert status == 400
    assert not Event.objects.exists()


@needs_gunicorn
def test_through_gunicorn_a_client_over_its_rate_limit_gets_429(gunicorn, transactional_db, site):
    within = over_http(gunicorn, "POST", events_url(site), batch(*[event("pageview") for _ in range(40)]))
    over = over_http(gunicorn, "POST", events_url(site), batch(event("pageview")))
    assert within[0] == 202
    assert over[0] == 429
    assert 1 <= int(over[1]["Retry-After"]) <= WINDOW_SECONDS
    assert Event.objects.count() == 40


def test_the_fast_path_hands_out_a_lead_magnets_link_in_the_202(apps, site, settings, tmp_path):
    from tests.widget.test_magnet import magnet_campaign_create

    settings.MEDIA_ROOT = tmp_path
    asset_create(site=site, name="guide", title="Guide", file=ContentFile(b"the guide", name="guide.pdf"))
    magnet = magnet_campaign_create(site, {"fields": [{"name": "email"}],
                                           "magnet": {"title": "The guide", "asset": "asset:guide"}})
    _django_app, fast = apps
    submit = event("submit", campaign=magnet, variant=magnet.variants.get(), data={"form": "lead", "email": "a@b.c"})
    status, _headers, body = call(fast, environ_for("POST", events_url(site), batch(submit)))
    assert status == 202
    [delivery] = json.loads(body)["deliver"]
    assert (delivery["event_id"], delivery["title"]) == (submit["id"], "The guide")
    status, headers, served = call(fast, environ_for("GET", delivery["url"]))  # a GET goes on to Django
    assert (status, served) == (200, b"the guide")
    assert headers["Content-Disposition"].startswith("attachment;")


@needs_gunicorn
def test_through_gunicorn_a_lead_magnets_link_comes_in_the_202_and_leads_to_its_url(gunicorn, transactional_db,
                                                                                    site):
    from tests.widget.test_magnet import magnet_campaign_create

    asset_create(site=site, name="guide", title="Guide", url="https://files.example/guide.pdf")
    magnet = magnet_campaign_create(site, {"fields": [{"name": "email"}],
                                           "magnet": {"title": "The guide", "asset": "asset:guide"}})
    submit = event("submit", campaign=magnet, variant=magnet.variants.get(), data={"form": "lead", "email": "a@b.c"})
    status, _headers, body = over_http(gunicorn, "POST", events_url(site), batch(submit))
    assert status == 202
    [delivery] = json.loads(body)["deliver"]
    assert Event.objects.filter(event_id=submit["id"]).exists()
    status, headers, _body = over_http(gunicorn, "GET", delivery["url"])
    assert (status, headers["Location"]) == (302, "https://files.example/guide.pdf")
