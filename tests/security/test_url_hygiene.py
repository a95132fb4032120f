"""Stored page URLs keep only the query parameters a site allows: on both collect paths, in the migration that
cleans older rows, and in validation, which refuses rules on a parameter that is never stored."""

import importlib
import json
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from campaigns.ingest.url_hygiene import BAD_PARAM_NAME, url_clean
from campaigns.models import Event
from campaigns.targeting.validation import PARAM_NOT_KEPT
from tests.campaigns.events_kit import event, post_events
from tests.conftest import popup_campaign_create

LEAKY = "https://shop.example/p?email=a@b.c&utm_source=x&token=y#frag"
DEFAULT_KEPT = "utm_campaign, utm_content, utm_medium, utm_source, utm_term"


def _widget_form(url: str, **extra) -> dict:
    return event("pageview", url=url, **extra)


def _any_json_form(url: str, **extra) -> dict:
    # A float time is not the widget's own form: the batch is read as any JSON and checked event by event.
    body = event("pageview", url=url, **extra)
    body["ts"] = float(body["ts"])
    return body


@pytest.mark.parametrize("form", [_widget_form, _any_json_form], ids=["widget-form", "any-json"])
def test_a_page_view_keeps_only_the_utm_parameters_and_no_fragment(client, site, form):
    response = post_events(client, site, [form(LEAKY)])
    assert response.status_code == 202, response.content
    assert list(Event.objects.values_list("url", flat=True)) == ["https://shop.example/p?utm_source=x"]


@pytest.mark.parametrize("form", [_widget_form, _any_json_form], ids=["widget-form", "any-json"])
def test_a_referrer_in_the_event_data_is_cleaned_too(client, site, form):
    referrer = "https://mail.example/open?token=secret&utm_medium=email#inbox"
    response = post_events(client, site, [form("https://shop.example/", data={"referrer": referrer, "n": 1})])
    assert response.status_code == 202, response.content
    assert Event.objects.get().payload == {"referrer": "https://mail.example/open?utm_medium=email", "n": 1}


@pytest.mark.parametrize("form", [_widget_form, _any_json_form], ids=["widget-form", "any-json"])
def test_a_site_that_keeps_ref_stores_it(client, site, form):
    site.kept_query_params = ["ref"]
    site.save()
    response = post_events(client, site, [form("https://shop.example/?ref=partner&utm_source=x&email=a%40b.c")])
    assert response.status_code == 202, response.content
    assert Event.objects.get().url == "https://shop.example/?ref=partner"


def test_a_url_without_any_kept_parameter_loses_its_question_mark():
    kept = frozenset({"utm_source"})
    assert url_clean("/a?email=x", kept=kept) == "/a"
    assert url_clean("/a?", kept=kept) == "/a"
    assert url_clean("/a#x?utm_source=1", kept=kept) == "/a"
    assert url_clean("/a?utm%5Fsource=1&&utm_source=2", kept=kept) == "/a?utm%5Fsource=1&utm_source=2"
    assert url_clean("/plain", kept=kept) == "/plain"


def test_the_migration_cleans_the_rows_already_stored(site, outsider_site, monkeypatch):
    migration = importlib.import_module("campaigns.migrations.0014_urls_kept_query_params")
    monkeypatch.setattr(migration, "CHUNK", 2)  # several chunks from a handful of rows
    outsider_site.kept_query_params = ["ref"]
    outsider_site.save()
    at = datetime(2026, 11, 30, tzinfo=UTC)
    stored = {
        "leaky": (site, LEAKY, {}),
        "clean": (site, "https://shop.example/a", {}),
        "referrer": (site, "https://shop.example/b", {"referrer": "https://x.example/?session=1&utm_term=t"}),
        "other site": (outsider_site, "https://other.example/?ref=a&utm_source=x&email=e", {}),
        "fragment": (site, "https://shop.example/c#top", {}),
    }
    ids = {}
    for name, (owner_site, url, payload) in stored.items():
        ids[name] = Event.objects.create(site=owner_site, event_id=uuid.uuid4(), type="pageview", ts=at,
                                         received_at=at, visitor_id="v", url=url, payload=payload).id
    migration.events_clean(apps, SimpleNamespace(connection=connection))
    rows = {name: Event.objects.values_list("url", "payload").get(id=row_id) for name, row_id in ids.items()}
    assert rows == {
        "leaky": ("https://shop.example/p?utm_source=x", {}),
        "clean": ("https://shop.example/a", {}),
        "referrer": ("https://shop.example/b", {"referrer": "https://x.example/?utm_term=t"}),
        "other site": ("https://other.example/?ref=a", {}),
        "fragment": ("https://shop.example/c", {}),
    }


def test_validation_refuses_a_rule_on_a_query_parameter_the_site_does_not_keep(site):
    targeting = {"all": [{"attr": "query.email", "op": "exists"}, {"attr": "query.utm_source", "op": "exists"}]}
    with pytest.raises(ValidationError) as refused:
        popup_campaign_create(site=site, targeting=targeting)
    assert refused.value.message_dict["targeting"] == [
        PARAM_NOT_KEPT.format(path="targeting.all[0].attr", name="email", kept=DEFAULT_KEPT)
    ]
    goal = {"type": "url", "url": {"op": "contains", "value": "/thanks?order=1"}}
    with pytest.raises(ValidationError) as refused:
        popup_campaign_create(site=site, goal=goal)
    assert refused.value.message_dict["goal"] == [
        PARAM_NOT_KEPT.format(path="goal.url.value", name="order", kept=DEFAULT_KEPT)
    ]
    site.kept_query_params = ["email", "order", "utm_source"]
    site.save()
    assert popup_campaign_create(site=site, targeting=targeting, goal=goal).id


def test_the_api_refuses_a_rule_on_a_parameter_not_kept_with_a_clear_message(client, owner, site):
    client.force_login(owner)
    body = {
        "site": site.id, "name": "Leaky", "message_type": "popup", "triggers": [{"type": "page_load"}],
        "goal": {"type": "cta_click"},
        "targeting": {"attr": "url", "op": "contains", "value": "?token=abc"},
        "variants": [{"name": "A", "weight": 50, "content": {"headline": "Hi"}}],
    }
    response = client.post(reverse("campaigns:campaign-list"), data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        PARAM_NOT_KEPT.format(path="targeting.value", name="token", kept=DEFAULT_KEPT)
    ]


def test_a_site_names_its_kept_parameters_in_the_api_and_a_malformed_name_is_refused(client, owner, site):
    client.force_login(owner)
    url = reverse("campaigns:site-detail", args=[site.id])
    response = client.patch(url, data=json.dumps({"kept_query_params": ["ref", "bad name!"]}),
                            content_type="application/json")
    assert response.status_code == 400
    assert response.json()["kept_query_params"] == [BAD_PARAM_NAME.format(name="bad name!")]
    response = client.patch(url, data=json.dumps({"kept_query_params": ["ref", "gclid"]}),
                            content_type="application/json")
    assert response.status_code == 200
    site.refresh_from_db()
    assert site.kept_query_params == ["ref", "gclid"]
