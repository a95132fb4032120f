"""REST API for sites and campaigns: the same validation as admin, scoped to the caller's sites."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from campaigns.models import Campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(owner):
    client = APIClient()
    token = Token.objects.create(user=owner)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def campaign_payload(site, **overrides):
    payload = {
        "site": site.id,
        "name": "API popup",
        "message_type": "popup",
        "status": "active",
        "triggers": [{"type": "exit_intent", "sensitivity": 20}],
        "targeting": {"all": [{"attr": "path", "op": "starts_with", "value": "/blog/"}]},
        "frequency": {"once_per_session": True},
        "goal": {"type": "cta_click"},
        "variants": [{"name": "A", "weight": 100, "content": {"headline": "Hi", "body": "<p>x<script>1</script></p>"}}],
    }
    payload.update(overrides)
    return payload


def test_anonymous_requests_are_refused():
    assert APIClient().get("/api/sites/").status_code in (401, 403)


def test_sites_list_only_the_callers_sites(api, site, outsider_site):
    names = [item["name"] for item in api.get("/api/sites/").json()["results"]]
    assert names == [site.name]


def test_another_owners_site_and_campaign_answer_404(api, outsider_site, outsider_campaign):
    assert api.get(f"/api/sites/{outsider_site.id}/").status_code == 404
    assert api.get(f"/api/campaigns/{outsider_campaign.id}/").status_code == 404
    assert api.patch(f"/api/campaigns/{outsider_campaign.id}/", {"name": "x"}, format="json").status_code == 404
    assert api.delete(f"/api/campaigns/{outsider_campaign.id}/").status_code == 404


def test_campaign_is_created_with_sanitized_variants(api, site):
    response = api.post("/api/campaigns/", campaign_payload(site), format="json")
    assert response.status_code == 201, response.json()
    campaign = Campaign.objects.get(name="API popup")
    assert campaign.variants.get().content["body"] == "<p>x</p>"


def test_campaign_on_another_owners_site_is_refused(api, outsider_site):
    response = api.post("/api/campaigns/", campaign_payload(outsider_site), format="json")
    assert response.status_code == 400
    assert "site" in response.json()
    assert not Campaign.objects.filter(name="API popup").exists()


def test_misspelt_operator_is_refused_with_the_field_named(api, site):
    payload = campaign_payload(site, targeting={"all": [{"attr": "path", "op": "contain", "value": "/b"}]})
    response = api.post("/api/campaigns/", payload, format="json")
    assert response.status_code == 400
    [message] = response.json()["errors"]
    assert message.startswith("targeting.all[0].op: 'contain' is not one of")


def test_unknown_trigger_is_refused_with_the_field_named(api, site):
    response = api.post("/api/campaigns/", campaign_payload(site, triggers=[{"type": "exit"}]), format="json")
    assert response.status_code == 400
    assert any(message.startswith("triggers[0].type") for message in response.json()["errors"])


def test_patching_a_variant_keeps_validation(api, campaign):
    variant = campaign.variants.first()
    response = api.patch(
        f"/api/campaigns/{campaign.id}/",
        {"variants": [{"id": variant.id, "name": "A", "weight": 10, "content": {"colors": {"text": "red"}}}]},
        format="json",
    )
    assert response.status_code == 400
    assert any("content.colors.text" in message for message in response.json()["errors"])


def test_site_with_a_bad_origin_is_refused(api):
    response = api.post("/api/sites/", {"name": "x", "allowed_origins": ["https://a.example/path"]}, format="json")
    assert response.status_code == 400
    assert "allowed_origins" in response.json()


def test_schema_is_served(client, owner):
    client.force_login(owner)
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/campaigns/" in response.content
