"""GET /api/w/<key>/config: one cacheable config per site."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign
from tests.conftest import popup_campaign_create

pytestmark = pytest.mark.django_db


def config_url(site) -> str:
    return f"/api/w/{site.public_key}/config"


def campaign_ids(client, site) -> list[int]:
    response = client.get(config_url(site))
    assert response.status_code == 200
    return [c["id"] for c in response.json()["campaigns"]]


def test_unknown_key_is_a_json_404(client):
    response = client.get("/api/w/pk_nope/config")
    assert response.status_code == 404
    assert response.json() == {"error": "unknown site key"}


def test_config_lists_active_campaigns_with_variants_and_site_settings(client, site, campaign):
    body = client.get(config_url(site)).json()
    assert body["site"]["key"] == site.public_key
    assert body["site"]["consent"]["required"] is False
    assert body["site"]["endpoints"]["events"] == f"/api/w/{site.public_key}/events"
    [entry] = body["campaigns"]
    assert entry["id"] == campaign.id
    assert entry["type"] == "popup"
    assert [v["content"]["headline"] for v in entry["variants"]] == ["Hello A", "Hello B"]
    assert body["version"]


@pytest.mark.parametrize("status", ["draft", "paused", "archived"])
def test_campaigns_that_are_not_active_never_appear(client, site, status):
    popup_campaign_create(site=site, status=status)
    assert campaign_ids(client, site) == []


def test_campaign_outside_its_dates_never_appears(client, site):
    now = timezone.now()
    popup_campaign_create(site=site, name="future", starts_at=now + timedelta(days=1))
    popup_campaign_create(site=site, name="past", starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1))
    assert campaign_ids(client, site) == []


def test_a_campaign_whose_end_passes_disappears_without_a_save(client, site):
    campaign = popup_campaign_create(site=site, ends_at=timezone.now() + timedelta(seconds=1.5))
    assert campaign_ids(client, site) == [campaign.id]
    time.sleep(2)
    assert campaign_ids(client, site) == []


def test_a_campaign_whose_start_arrives_appears_without_a_save(client, site):
    campaign = popup_campaign_create(site=site, starts_at=timezone.now() + timedelta(seconds=1.5))
    assert campaign_ids(client, site) == []
    time.sleep(2)
    assert campaign_ids(client, site) == [campaign.id]


def test_saving_a_campaign_changes_the_next_config(client, site, campaign):
    first = client.get(config_url(site))
    campaign.priority = 99
    campaign.save()
    second = client.get(config_url(site))
    assert second["ETag"] != first["ETag"]
    assert second.json()["campaigns"][0]["priority"] == 99


def test_editing_a_variant_changes_the_next_config(client, site, campaign):
    client.get(config_url(site))
    variant = campaign.variants.get(name="A")
    variant.content = {"headline": "Changed"}
    variant.save()
    assert client.get(config_url(site)).json()["campaigns"][0]["variants"][0]["content"]["headline"] == "Changed"


def test_pausing_through_the_service_drops_the_campaign_from_the_config(client, site, campaign):
    assert campaign_ids(client, site) == [campaign.id]
    services.campaigns_set_status(campaigns=Campaign.objects.filter(id=campaign.id), status="paused")
    assert campaign_ids(client, site) == []


def test_matching_etag_gets_304(client, site, campaign):
    etag = client.get(config_url(site))["ETag"]
    response = client.get(config_url(site), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response["ETag"] == etag


def test_config_is_cacheable_for_a_short_time(client, site, campaign):
    response = client.get(config_url(site))
    assert response["Cache-Control"].startswith("public, max-age=")
    assert "Origin" in response["Vary"]


def test_cors_allows_only_the_sites_origins(client, site, campaign):
    allowed = client.get(config_url(site), HTTP_ORIGIN="https://shop.example")
    assert allowed["Access-Control-Allow-Origin"] == "https://shop.example"
    refused = client.get(config_url(site), HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in refused


def test_cached_config_is_served_without_a_database_query(client, site, campaign, django_assert_num_queries):
    client.get(config_url(site))
    with django_assert_num_queries(0):
        assert client.get(config_url(site)).status_code == 200


def test_unsanitized_html_written_around_the_admin_is_cleaned_in_the_config(client, site, campaign):
    from campaigns.models import Variant

    Variant.objects.filter(campaign=campaign).update(
        content={"headline": "x", "body": "<img src=x onerror=alert(1)>ok"}
    )
    body = client.get(config_url(site)).json()
    assert [v["content"]["body"] for v in body["campaigns"][0]["variants"]] == ["ok", "ok"]


def test_changing_the_sites_origins_changes_the_next_cors_answer(client, site, campaign):
    assert "Access-Control-Allow-Origin" not in client.get(config_url(site), HTTP_ORIGIN="https://new.example")
    site.allowed_origins = ["https://new.example"]
    site.save()
    response = client.get(config_url(site), HTTP_ORIGIN="https://new.example")
    assert response["Access-Control-Allow-Origin"] == "https://new.example"


def test_a_config_dropped_by_another_process_is_rebuilt_once_this_process_stops_trusting_its_copy(
    client, site, campaign, monkeypatch
):
    from django.core.cache import cache

    monkeypatch.setattr("campaigns.selectors.config.LOCAL_CONFIG_TRUST_SECONDS", 0)
    from campaigns.models import Campaign
    from campaigns.selectors.config import config_cache_key, config_version_key

    client.get(config_url(site))
    Campaign.objects.filter(id=campaign.id).update(priority=7)  # a write this process's signals do not see
    cache.delete_many([config_cache_key(site.public_key), config_version_key(site.public_key)])
    assert client.get(config_url(site)).json()["campaigns"][0]["priority"] == 7
