"""Check now: the page fetch (allowed origins, public addresses, bounded) and the snippet found on the page, against
a page server of our own on 127.0.0.1 (loopback allowed by INSTALLATION_CHECK_ALLOW_LOOPBACK, as tests do)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from campaigns.installation import fetch
from campaigns.installation.fetch import FetchRefused, address_allowed, page_fetch
from campaigns.installation.page_check import FOUND, KEY_ELSEWHERE, MISSING, OTHER_KEY, REFUSED, page_check

KEY = "pk_this_site"
SNIPPET = f'<script src="https://rt.example/static/widget/retarget.js" data-site="{KEY}" async></script>'
PAGES = {
    "/page": f"<html><head>{SNIPPET}</head><body>shop</body></html>",
    "/other": '<html><head><script data-site="pk_someone_else" src="/r.js"></script></head></html>',
    "/none": "<html><head><title>no snippet</title></head></html>",
    "/gtm": f"<html><script>var key = '{KEY}';</script></html>",
}


class _Pages(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path in PAGES:
            body = PAGES[self.path].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/big":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<p>" + b"x" * 3000 + SNIPPET.encode())
        elif self.path.startswith("/to/"):
            self.send_response(302)
            target = self.path[len("/to/"):]  # /to/page -> /page; /to/http://... -> that URL
            self.send_header("Location", target if target.startswith("http") else "/" + target)
            self.end_headers()
        elif self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()


@pytest.fixture(scope="module")
def pages():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def loopback(settings):
    settings.INSTALLATION_CHECK_ALLOW_LOOPBACK = True


@pytest.mark.parametrize(("address", "allowed"), [
    ("93.184.215.14", True),
    ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
    ("127.0.0.1", False),
    ("10.1.2.3", False),
    ("172.16.0.1", False),
    ("192.168.1.1", False),
    ("169.254.169.254", False),  # cloud metadata: link-local
    ("100.64.0.1", False),  # carrier-grade NAT
    ("0.0.0.0", False),
    ("::1", False),
    ("fe80::1", False),
    ("fd00::1", False),
    ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
    ("224.0.0.1", False),
])
def test_only_public_addresses_are_fetched(address, allowed):
    assert address_allowed(address, loopback=False) is allowed


def test_loopback_is_allowed_only_by_the_test_setting_and_never_private_addresses():
    assert address_allowed("127.0.0.1", loopback=True)
    assert address_allowed("::1", loopback=True)
    assert not address_allowed("10.0.0.1", loopback=True)
    assert not address_allowed("169.254.169.254", loopback=True)


def test_a_loopback_page_is_refused_without_the_test_setting(pages, settings):
    settings.INSTALLATION_CHECK_ALLOW_LOOPBACK = False
    with pytest.raises(FetchRefused, match="is not a public address"):
        page_fetch(url=f"{pages}/page", allowed_origins=[pages])


def test_a_name_that_resolves_to_a_private_address_is_refused(monkeypatch, settings):
    settings.INSTALLATION_CHECK_ALLOW_LOOPBACK = True
    monkeypatch.setattr(fetch.socket, "getaddrinfo",
                        lambda *args, **kwargs: [(2, 1, 6, "", ("93.184.215.14", 80)), (2, 1, 6, "", ("10.0.0.5", 80))])
    with pytest.raises(FetchRefused, match="shop.example is not a public address"):
        page_fetch(url="http://shop.example/", allowed_origins=["http://shop.example"])


def test_a_page_outside_the_sites_origins_is_refused_before_any_request(pages, loopback):
    with pytest.raises(FetchRefused, match="is not one of this site's origins"):
        page_fetch(url=f"{pages}/page", allowed_origins=["https://shop.example"])
    with pytest.raises(FetchRefused, match="is not a web address"):
        page_fetch(url="file:///etc/passwd", allowed_origins=["https://shop.example"])


def test_a_redirect_within_the_origins_is_followed_and_one_outside_them_is_refused(pages, loopback):
    assert page_fetch(url=f"{pages}/to/page", allowed_origins=[pages]).url == f"{pages}/page"
    with pytest.raises(FetchRefused, match="which is not one of this site's origins"):
        page_fetch(url=f"{pages}/to/http://169.254.169.254/latest", allowed_origins=[pages])
    with pytest.raises(FetchRefused, match="redirects more than"):
        page_fetch(url=f"{pages}/loop", allowed_origins=[pages])


def test_the_body_is_read_up_to_the_limit_only(pages, loopback):
    page = page_fetch(url=f"{pages}/big", allowed_origins=[pages], max_bytes=1000)
    assert page.truncated and len(page.body) == 1000


def test_a_page_that_does_not_answer_in_time_is_reported(loopback):
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never answers
    origin = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        with pytest.raises(FetchRefused, match="did not answer within"):
            page_fetch(url=f"{origin}/", allowed_origins=[origin], seconds=0.3)
    finally:
        silent.close()


@pytest.mark.parametrize(("path", "state"), [
    ("/page", FOUND), ("/other", OTHER_KEY), ("/none", MISSING), ("/gtm", KEY_ELSEWHERE), ("/missing", REFUSED),
])
def test_check_now_says_whether_this_sites_snippet_is_on_the_page(pages, loopback, path, state):
    found = page_check(url=f"{pages}{path}", public_key=KEY, allowed_origins=[pages])
    assert found.state == state
    if state == OTHER_KEY:
        assert found.keys == ("pk_someone_else",)
    if state == REFUSED:
        assert "answered HTTP 404" in found.detail


def test_the_owner_checks_a_page_of_the_site_from_its_admin_page(client, owner, site, pages, loopback):
    site.allowed_origins = [pages]
    site.save()
    PAGES["/home"] = f'<html><head><script data-site="{site.public_key}" async></script></head></html>'
    client.force_login(owner)
    check = reverse("admin:campaigns_site_installation_check", args=[site.pk])
    found = client.post(check, {"url": f"{pages}/to/home"}, follow=True).content.decode()
    assert f"The snippet for this site is on {pages}/home." in found
    missing = client.post(check, {"url": f"{pages}/none"}, follow=True).content.decode()
    assert f"No Retarget snippet on {pages}/none" in missing
    assert client.get(check).status_code == 405
