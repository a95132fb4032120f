"""POST /api/w/<key>/decide and the admin's "why not shown?" preview: the Python evaluator on a real site."""

import json

import pytest
from django.urls import reverse

from tests.conftest import popup_campaign_create

pytestmark = pytest.mark.django_db


def decide(client, site, context, **headers):
    return client.post(
        f"/api/w/{site.public_key}/decide", json.dumps({"context": context}), content_type="text/plain", **headers
    )


@pytest.fixture
def blog_campaign(site):
    return popup_campaign_create(
        site=site, name="Blog only", targeting={"attr": "path", "op": "starts_with", "value": "/blog/"}
    )


def test_decide_arms_a_campaign_whose_rules_match(client, site, blog_campaign):
    response = decide(client, site, {"url": "https://shop.example/blog/a", "visitor": {"id": "v1"}})
    assert response.status_code == 200
    [entry] = response.json()["campaigns"]
    assert entry["armed"] is True
    assert entry["variant_name"] in ("A", "B")


def test_decide_names_the_rule_that_excluded_a_campaign(client, site, blog_campaign):
    [entry] = decide(client, site, {"url": "https://shop.example/shop/", "visitor": {"id": "v1"}}).json()["campaigns"]
    assert entry["armed"] is False
    assert entry["reason"] == "targeting"
    assert entry["path"] == "targeting"


def test_decide_refuses_a_body_without_context(client, site):
    response = client.post(f"/api/w/{site.public_key}/decide", "[]", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "context must be an object"


def test_decide_refuses_malformed_json(client, site):
    response = client.post(f"/api/w/{site.public_key}/decide", "{nope", content_type="text/plain")
    assert response.status_code == 400
    assert response.json()["error"] == "body is not valid JSON"


def test_decide_on_an_unknown_key_is_404(client):
    assert client.post("/api/w/pk_nope/decide", "{}", content_type="text/plain").status_code == 404


def test_preview_lists_every_campaign_with_why_it_is_not_shown(client, owner, site, blog_campaign):
    paused = popup_campaign_create(site=site, name="Paused one", status="paused")
    client.force_login(owner)
    response = client.post(
        reverse("admin:campaigns_site_preview", args=[site.id]), {"url": "/shop/", "context": ""}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert f'data-campaign="{blog_campaign.id}" data-armed="no"' in body
    assert "<code>targeting</code>" in body
    assert f'data-campaign="{paused.id}" data-armed="no"' in body
    assert "Not active (paused)" in body


def test_preview_accepts_a_pasted_visitor_context(client, owner, site):
    campaign = popup_campaign_create(site=site, name="Pros", targeting={"attr": "attrs.plan", "op": "equals",
                                                                         "value": "pro"})
    client.force_login(owner)
    context = json.dumps({"visitor": {"id": "v9", "attrs": {"plan": "pro"}}})
    body = client.post(reverse("admin:campaigns_site_preview", args=[site.id]),
                       {"url": "/", "context": context}).content.decode()
    assert f'data-campaign="{campaign.id}" data-armed="yes"' in body


def test_preview_of_another_owners_site_is_404(client, owner, outsider_site):
    client.force_login(owner)
    assert client.get(reverse("admin:campaigns_site_preview", args=[outsider_site.id])).status_code == 404
