"""An upgrade of the widget as a deployment does it: a new build into the served static folder, the server
restarted. Pages that embed the stable URL, or the hashed core URL of an earlier snippet, run the new build; a page
that loaded the earlier core before the upgrade still opens its message with the renderer it knows."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from campaigns import services
from tests.app_process import app_environment
from tests.widget.browser.kit import campaign_add, message, wait_until
from widget.snippet import embed_snippet

pytestmark = pytest.mark.browser

WIDGET = Path(settings.BASE_DIR) / "widget"
NEXT_VERSION = "0.1.0-next"
OLD_SNIPPET_CORE = "/static/widget/retarget.2857cef47e.js"  # pasted before the stable URL existed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn on production settings (DEBUG off, collected static files served by WhiteNoise)."""

    def __init__(self, *, static_root: Path, port: int, log: Path):
        self.port, self.log = port, log
        self.env = app_environment(
            STATIC_ROOT=str(static_root), ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="0",
            CELERY_TASK_ALWAYS_EAGER="1", COLLECT_WRITER_SOCKET="",
        )
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=self.env, check=True,
                       capture_output=True, timeout=120)

    def start(self) -> None:
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                # Threads: the browser's idle preconnections must not hold the only worker.
                [sys.executable, "-m", "gunicorn", "retarget.wsgi", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", "1", "--threads", "8"],
                cwd=settings.BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        wait_until(self.ready, timeout=30, message="gunicorn answers")

    def ready(self) -> bool:
        try:
            return urllib.request.urlopen(f"{self.url}/healthz", timeout=2).status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGINT)  # at once: an idle keep-alive connection would delay SIGTERM
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            self.process = None


def build_next_release(*, into: Path, work: Path) -> dict:
    """Builds a changed copy of the widget's sources (another version, another renderer file) into `into`, the
    folder the server serves, as `npm run build` would write it before collectstatic compresses it again. The change
    is a reworded English string, as a release may bring: the renderer file names its language files by the tables'
    hash, so it changes too, and nothing weighs more (the widget sits close to its size budget, which the build
    enforces)."""
    source = work / "widget"
    source.mkdir()
    shutil.copytree(WIDGET / "src", source / "src")
    shutil.copy(WIDGET / "build.mjs", source / "build.mjs")
    (source / "node_modules").symlink_to((WIDGET / "node_modules").resolve())
    package = json.loads((WIDGET / "package.json").read_text())
    (source / "package.json").write_text(json.dumps({**package, "version": NEXT_VERSION}))
    english = source / "src" / "lang" / "en.js"
    words = english.read_text()
    assert "copied: 'Copied!'" in words
    english.write_text(words.replace("copied: 'Copied!'", "copied: 'Copied.'"))
    subprocess.run(["node", "build.mjs", "--out", str(into)], cwd=source, check=True, capture_output=True,
                   timeout=120)
    for stale in [*into.glob("*.gz"), *into.glob("*.br")]:
        stale.unlink()
    subprocess.run([sys.executable, "-m", "whitenoise.compress", "--quiet", str(into)], check=True, timeout=120)
    return json.loads((into / "manifest.json").read_text())


@pytest.fixture
def shop():
    """The customer's site, on another origin than Retarget's: /<name> answers the page registered as `name`.

    A real loopback server, as Chromium refuses a page it cannot place (a routed one) any request to loopback."""
    pages = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = pages.get(self.path.strip("/"), "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{httpd.server_port}", pages=pages)
    httpd.shutdown()
    httpd.server_close()


def page_with(snippet: str) -> str:
    return f"<!doctype html><html><head><title>Shop</title>{snippet}</head><body><h1>Shop</h1></body></html>"


def legacy_snippet(*, public_key: str, server: str) -> str:
    """The snippet as the admin printed it before the stable URL: the core named by its content hash."""
    return embed_snippet(public_key=public_key, base_url=server).replace(
        f'src="{server}/static/widget/retarget.js"', f'src="{server}{OLD_SNIPPET_CORE}"')


def renderer_requests(page) -> list:
    seen = []
    page.on("response", lambda response: "/render-" in response.url and seen.append((response.url, response.status)))
    return seen


@pytest.fixture
def server(transactional_db, tmp_path):
    server = Server(static_root=tmp_path / "static", port=free_port(), log=tmp_path / "gunicorn.log")
    server.manage("collectstatic", "--noinput", "-v0")
    server.start()
    yield server
    server.stop()


def test_an_upgrade_reaches_old_snippets_and_a_page_on_the_earlier_core_still_opens_its_message(
    chromium, page, server, shop, tmp_path
):
    owner = get_user_model().objects.create_user(username="upgrade-owner", password="pw")
    site = services.site_create(owner=owner, name="Upgraded shop", allowed_origins=[shop.url],
                                max_overlays_per_session=None, min_overlay_gap_seconds=0)
    campaign_add(site=site, message_type="popup", triggers=[{"type": "js", "name": "promo"}],
                 content={"headline": "Still here"})
    static = tmp_path / "static" / "widget"
    before = json.loads((static / "manifest.json").read_text())
    shop.pages["stable"] = page_with(embed_snippet(public_key=site.public_key, base_url=server.url))
    shop.pages["legacy"] = page_with(legacy_snippet(public_key=site.public_key, server=server.url))

    # A visitor's page runs the current core; its renderer file is requested once a campaign is armed, and held
    # until the upgrade is done, so that the earlier core loads its renderer from the upgraded server.
    held, upgraded = [], []
    page.route("**/render-*.js", lambda route: route.continue_() if upgraded else held.append(route))
    loaded = renderer_requests(page)
    page.goto(f"{shop.url}/stable")
    page.wait_for_function("window.retarget && window.retarget.version")
    assert page.evaluate("retarget.version") == before["version"]
    wait_until(lambda: held or page.wait_for_timeout(50), message="the renderer file requested by the armed core")
    assert held[0].request.url == f"{server.url}/static/widget/{before['renderers']['popup']}"

    server.stop()
    after = build_next_release(into=static, work=tmp_path)
    server.start()
    upgraded.append(True)
    assert after["renderers"]["popup"] != before["renderers"]["popup"]
    assert before["renderers"]["popup"] in after["superseded"]
    held[0].continue_()

    page.evaluate("retarget('trigger', 'promo')")
    expect(message(page, "popup")).to_be_visible()
    expect(message(page, "popup").get_by_role("heading")).to_have_text("Still here")
    assert page.evaluate("retarget.version") == before["version"], "this page keeps the core it loaded"
    assert loaded == [(f"{server.url}/static/widget/{before['renderers']['popup']}", 200)]

    # New visits: the stable snippet and the snippet of an earlier release both run the new build.
    for name in ("stable", "legacy"):
        context = chromium.new_context()
        try:
            visit = context.new_page()
            loaded = renderer_requests(visit)
            visit.goto(f"{shop.url}/{name}")
            visit.wait_for_function("window.retarget && window.retarget.version")
            assert visit.evaluate("retarget.version") == NEXT_VERSION
            visit.evaluate("retarget('trigger', 'promo')")
            expect(message(visit, "popup")).to_be_visible()
            assert loaded == [(f"{server.url}/static/widget/{after['renderers']['popup']}", 200)]
            visit.context.set_offline(True)
        finally:
            context.close()
