"""The per-process set of known public keys: an unknown key costs the widget's endpoints no query."""

import json
import secrets

import pytest
from django.core.cache import cache

from campaigns import services
from campaigns.ingest import site_keys
from campaigns.models import Site
from tests.campaigns.events_kit import BROWSER_UA, ORIGIN, event
from widget.api.config import ERROR_UNKNOWN_SITE

ENDPOINTS = ("config", "decide", "events")


def ask(client, endpoint: str, public_key: str):
    """The endpoint as the widget calls it, with a key in the path as it is (escapes decoded by the server)."""
    path = f"/api/w/{public_key}/{endpoint}"
    if endpoint == "config":
        return client.get(path, HTTP_ORIGIN=ORIGIN)
    body = {"context": {"url": "https://shop.example/"}} if endpoint == "decide" else {"events": [event("pageview")]}
    return client.post(path, data=json.dumps(body), content_type="text/plain", HTTP_ORIGIN=ORIGIN,
                       HTTP_USER_AGENT=BROWSER_UA)


def assert_unknown(response) -> None:
    assert response.status_code == 404
    assert response.json()["error"] == ERROR_UNKNOWN_SITE


def random_key() -> str:
    return "pk_" + secrets.token_urlsafe(16)


def needs_a_shared_cache() -> None:
    if site_keys._cache_is_local():
        pytest.skip("the version is read from a cache the processes share (Redis)")


def test_random_unknown_keys_cost_no_query_on_config_decide_and_collect(client, site, django_assert_num_queries):
    assert_unknown(ask(client, "config", random_key()))  # loads this process's keys
    with django_assert_num_queries(0):
        for endpoint in ENDPOINTS:
            for _ in range(20):
                assert_unknown(ask(client, endpoint, random_key()))


def test_the_same_unknown_key_again_and_again_costs_no_query(client, site, django_assert_num_queries):
    key = random_key()
    assert_unknown(ask(client, "events", key))
    with django_assert_num_queries(0):
        for _ in range(30):
            for endpoint in ENDPOINTS:
                assert_unknown(ask(client, endpoint, key))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("key", ["pk_%00", "%00", "pk_a%00b", "pk_%01", "pk_%1F", "pk_%7F", "pk_%0A", "pk_%C3%A9",
                                 "pk_%FF", "pk_ab%20cd", "pk_" + "a" * 41])
def test_nul_control_characters_and_other_forms_in_a_key_are_unknown_not_a_500(client, site, endpoint, key,
                                                                                django_assert_num_queries):
    assert_unknown(ask(client, endpoint, random_key()))
    with django_assert_num_queries(0):
        assert_unknown(ask(client, endpoint, key))


def test_a_new_sites_key_works_at_once_and_a_deleted_sites_key_is_refused(client, owner, django_assert_num_queries):
    assert_unknown(ask(client, "config", random_key()))
    new = services.site_create(owner=owner, name="New shop", allowed_origins=[ORIGIN])
    for endpoint in ENDPOINTS:
        assert ask(client, endpoint, new.public_key).status_code in (200, 202)
    key = new.public_key
    new.delete()
    assert_unknown(ask(client, "config", key))  # loads the keys again, without the deleted site's
    with django_assert_num_queries(0):
        for endpoint in ENDPOINTS:
            assert_unknown(ask(client, endpoint, key))


def test_a_site_created_by_another_process_is_known_as_soon_as_the_version_changes(client, site, owner,
                                                                                      django_assert_num_queries):
    needs_a_shared_cache()
    assert_unknown(ask(client, "config", random_key()))
    # Created as another process would: this process's signal does not run, only the version in the cache changes.
    other = Site.objects.bulk_create([Site(owner=owner, name="Elsewhere", allowed_origins=[ORIGIN])])[0]
    with django_assert_num_queries(0):  # the version is read from the cache, unchanged: no load
        assert_unknown(ask(client, "config", other.public_key))
    cache.set(site_keys.VERSION_KEY, 12345, None)
    assert ask(client, "config", other.public_key).status_code == 200


def test_a_site_deleted_by_another_process_is_refused_at_the_next_version_check(client, site, monkeypatch):
    needs_a_shared_cache()
    assert ask(client, "config", site.public_key).status_code == 200
    Site.objects.filter(id=site.id)._raw_delete(using="default")  # no signal here, as in another process
    cache.set(site_keys.VERSION_KEY, 67890, None)
    monkeypatch.setattr(site_keys, "CHECK_SECONDS", 0)
    assert_unknown(ask(client, "config", site.public_key))


def test_the_keys_are_loaded_again_after_the_refresh_period_without_any_signal(client, site, owner, settings,
                                                                              monkeypatch):
    assert_unknown(ask(client, "config", random_key()))
    other = Site.objects.bulk_create([Site(owner=owner, name="Elsewhere", allowed_origins=[ORIGIN])])[0]
    assert_unknown(ask(client, "config", other.public_key))
    monkeypatch.setattr(site_keys, "CHECK_SECONDS", 0)
    settings.KNOWN_KEYS_REFRESH_SECONDS = 0
    assert ask(client, "config", other.public_key).status_code == 200


def test_loading_the_keys_reads_one_column_in_one_query(site, outsider_site, django_assert_num_queries):
    site_keys.site_keys_changed()
    with django_assert_num_queries(1) as captured:
        assert site_keys.site_key_known(public_key=site.public_key)
    sql = captured.captured_queries[0]["sql"]
    assert "public_key" in sql and "allowed_origins" not in sql and "name" not in sql.split("FROM")[0]
    assert site_keys.site_key_known(public_key=outsider_site.public_key)
    assert not site_keys.site_key_known(public_key=random_key())



def test_with_the_cache_unreachable_the_loaded_keys_still_answer_without_a_query(client, site, settings,
                                                                                 django_assert_num_queries):
    needs_a_shared_cache()
    assert_unknown(ask(client, "events", random_key()))
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}}  # closed
    with django_assert_num_queries(0):
        for _ in range(3):
            assert_unknown(ask(client, "events", random_key()))
        assert site_keys.site_key_known(public_key=site.public_key)


def test_without_a_shared_cache_an_unknown_key_loads_the_keys_at_most_once_a_period(client, site, owner, settings,
                                                                                    monkeypatch,
                                                                                    django_assert_num_queries):
    settings.CACHES = {"default": {"BACKEND": site_keys.LOCAL_CACHE_BACKEND}}
    monkeypatch.setattr(site_keys, "CHECK_SECONDS", 3600)
    assert_unknown(ask(client, "config", random_key()))  # loads this process's keys
    # Created by another process, whose signal and local-memory cache this process never sees.
    other = Site.objects.bulk_create([Site(owner=owner, name="Elsewhere", allowed_origins=[ORIGIN])])[0]
    with django_assert_num_queries(0):
        for _ in range(20):
            assert_unknown(ask(client, "config", random_key()))
        assert_unknown(ask(client, "config", other.public_key))
    monkeypatch.setattr(site_keys, "CHECK_SECONDS", 0)  # the period is over
    assert ask(client, "config", other.public_key).status_code == 200
