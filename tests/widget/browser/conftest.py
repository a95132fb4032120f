"""Browser tests of the widget: real headless Chromium (tests/browser.py) against `live_server`.

Each test gets a fresh database (live_server implies transactional_db: the server runs in another
thread and must see committed rows), the demo shop seeded with `demo_seed`, or a dedicated site
whose fixture pages (widget/fixtures/) embed its snippet through tests/widget/browser/urls.py.
"""

import time
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.urls import clear_url_caches

from campaigns import services
from campaigns.models import Site
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from widget.demo import DEMO_SITE_NAME

BROWSER_URLS = "tests.widget.browser.urls"



@pytest.fixture(autouse=True)
def _fixture_pages_served(settings):
    """The app's URLs plus /fixtures/<page>; the live server thread reads the same settings."""
    settings.ROOT_URLCONF = BROWSER_URLS
    clear_url_caches()
    yield
    clear_url_caches()


@pytest.fixture(autouse=True)
def _database_outlives_the_browser(transactional_db, live_server):
    """Set up before `page`, so torn down after it, once the live server has finished its last request.

    The flush that empties the database after each test TRUNCATEs every table; a collect request still
    inserting events at that moment (its foreign-key check on the site) deadlocks with it in PostgreSQL.
    """
    yield
    server_idle()


def server_idle(timeout: float = 3.0) -> None:
    """No other connection to the test database is running a statement or holding a transaction open."""
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state <> 'idle'"
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.05)


def _go_offline(page) -> None:
    """Before the context closes: the closing page's pagehide beacons must not race the database flush."""
    page.context.set_offline(True)


@pytest.fixture
def page(page):
    yield page
    _go_offline(page)


@pytest.fixture
def mobile_page(mobile_page):
    yield mobile_page
    _go_offline(mobile_page)


def site_settle(site: Site) -> None:
    """Cached configs and ingestion maps are dropped, as the admin does after a change."""
    cache.clear()


@pytest.fixture
def demo_site(live_server) -> Site:
    """The demo shop of `demo_seed` (consent required, one campaign of every type), on the live server's origin."""
    call_command("demo_seed", password="x", stdout=StringIO())
    Site.objects.filter(name=DEMO_SITE_NAME).update(allowed_origins=[live_server.url])
    site = Site.objects.get(name=DEMO_SITE_NAME)
    site_settle(site)
    return site


@pytest.fixture
def shop(live_server) -> Site:
    """A site without consent gating and without the overlay cap: one campaign's behaviour at a time."""
    owner = get_user_model().objects.create_user(username="shop-owner", password="pw")
    site = services.site_create(
        owner=owner, name="Fixture shop", allowed_origins=[live_server.url],
        max_overlays_per_session=None, min_overlay_gap_seconds=0,
    )
    site_settle(site)
    return site


def static_with_cors(route) -> None:
    """The frame (an opaque origin) loads modules with CORS: WhiteNoise answers every static file with
    `Access-Control-Allow-Origin: *` in production; the test server's static handler does not, so the files are
    answered here, with that header."""
    found = finders.find(urlsplit(route.request.url).path.removeprefix(settings.STATIC_URL))
    if found is None:
        return route.fulfill(status=404)
    kind = "text/css" if found.endswith(".css") else "text/javascript"
    return route.fulfill(path=found, content_type=kind, headers={"Access-Control-Allow-Origin": "*"})


@pytest.fixture(scope="module")
def frames_in_process(chromium):
    """Chromium with sandboxed frames in their page's process: Playwright's routes then reach the frame's first
    requests (in a process of its own, the frame may load before Playwright has attached to it)."""
    browser = chromium.browser_type.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--disable-features=IsolateSandboxedIframes"], headless=True,
    )
    yield browser
    browser.close()


@pytest.fixture
def admin_page(frames_in_process):
    context = frames_in_process.new_context(viewport={"width": 1600, "height": 900})
    context.set_default_timeout(10_000)
    context.route("**/static/campaigns/**", static_with_cors)
    context.route("**/static/widget/**", static_with_cors)
    yield context.new_page()
    context.close()
