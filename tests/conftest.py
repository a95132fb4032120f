"""The small cast shared by the suite: an owner and their site, an outsider and theirs."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import handlers as static_handlers
from django.core.cache import cache

from campaigns import services


class StaticFilesWithCors(static_handlers.StaticFilesHandler):
    """The test server's static files with WhiteNoise's `Access-Control-Allow-Origin: *`, as production serves them:
    the admin's sandboxed preview frame (an opaque origin) loads the widget's modules only with that header."""

    def serve(self, request):
        response = super().serve(request)
        response["Access-Control-Allow-Origin"] = "*"
        return response


# pytest-django's live_server takes its static handler from this module when it starts.
static_handlers.StaticFilesHandler = StaticFilesWithCors


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def user_create(username: str, *, superuser: bool = False):
    return get_user_model().objects.create_user(
        username=username, password="pw-" + username, is_staff=True, is_superuser=superuser
    )


def popup_campaign_create(*, site, name: str = "Welcome popup", status: str = "active", **fields):
    return services.campaign_create(
        site=site,
        name=name,
        message_type=fields.pop("message_type", "popup"),
        status=status,
        triggers=fields.pop("triggers", [{"type": "page_load", "delay": 0}]),
        variants=fields.pop(
            "variants",
            [
                {"name": "A", "weight": 50, "content": {"headline": "Hello A"}},
                {"name": "B", "weight": 50, "content": {"headline": "Hello B"}},
            ],
        ),
        **fields,
    )


@pytest.fixture
def owner(db):
    return user_create("owner")


@pytest.fixture
def outsider(db):
    return user_create("outsider")


@pytest.fixture
def superuser(db):
    return user_create("root", superuser=True)


@pytest.fixture
def site(owner):
    site = services.site_create(owner=owner, name="Owner shop", allowed_origins=["https://shop.example"])
    # Tests send an impression and its form's answer in one request: no minimum fill time, except in the tests
    # of that defence (tests/campaigns/test_form_bots.py), which set it.
    site.form_min_fill_seconds = 0
    site.save(update_fields=["form_min_fill_seconds"])
    return site


@pytest.fixture
def outsider_site(outsider):
    return services.site_create(owner=outsider, name="Outsider shop", allowed_origins=["https://other.example"])


@pytest.fixture
def campaign(site):
    return popup_campaign_create(site=site)


@pytest.fixture
def outsider_campaign(outsider_site):
    return popup_campaign_create(site=outsider_site, name="Outsider popup")


pytest_plugins = ["tests.browser"]
