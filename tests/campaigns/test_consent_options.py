"""The site's consent options: the Consent Mode mapping's validation, what the config carries, the snippet."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.models import Site
from campaigns.models.site import ERROR_MAP_NOT_OBJECT, consent_mode_map_default, validate_consent_mode_map
from campaigns.selectors.config import site_config_build
from widget.snippet import QUEUE_STUB, consent_mode_defaults, embed_snippet


def consent_of(site) -> dict:
    return site_config_build(site=site, now=timezone.now())["site"]["consent"]


def test_the_default_mapping_is_valid_and_names_googles_four_v2_types():
    validate_consent_mode_map(consent_mode_map_default())
    assert set(consent_mode_map_default()) == {"ad_storage", "analytics_storage", "ad_user_data", "ad_personalization"}


@pytest.mark.parametrize("value, fragment", [
    (["ad_storage"], ERROR_MAP_NOT_OBJECT),
    ({"ads": "marketing"}, "'ads' is not a Consent Mode type"),
    ({"ad_storage": ""}, "is not a category id"),
    ({"ad_storage": "<script>"}, "is not a category id"),
    ({"ad_storage": 1}, "is not a category id"),
])
def test_a_bad_mapping_is_refused_with_a_reason(value, fragment):
    with pytest.raises(ValidationError) as error:
        validate_consent_mode_map(value)
    assert fragment in str(error.value)


def test_the_config_names_only_the_consent_options_a_site_turned_on(site):
    assert set(consent_of(site)) == {"required", "policy_url", "policy_version", "show_before_consent"}

    site.consent_mode = True
    site.consent_erase_on_denial = True
    assert (consent_of(site)["gcm"], consent_of(site)["erase"]) == (consent_mode_map_default(), True)
    assert "source" not in consent_of(site)

    site.consent_mode, site.consent_source = False, "gcm"
    assert consent_of(site)["source"] == "gcm"
    assert consent_of(site)["gcm"] == consent_mode_map_default(), "the adapter reads updates through the mapping"

    site.consent_source, site.consent_erase_on_denial = "tcf", False
    assert consent_of(site)["source"] == "tcf"
    assert "gcm" not in consent_of(site) and "erase" not in consent_of(site)


def test_the_snippet_sets_the_consent_mode_default_before_anything_else_only_when_turned_on(site):
    assert consent_mode_defaults(site=site) is None
    plain = embed_snippet(public_key=site.public_key)
    assert "gtag" not in plain

    site.consent_mode = True
    site.consent_mode_map = {**consent_mode_map_default(), "security_storage": "necessary"}
    snippet = embed_snippet(public_key=site.public_key, consent_mode=consent_mode_defaults(site=site))
    default = ("gtag('consent','default',{\"ad_storage\":\"denied\",\"ad_user_data\":\"denied\","
               "\"ad_personalization\":\"denied\",\"analytics_storage\":\"denied\",\"security_storage\":\"granted\","
               "\"wait_for_update\":500});")
    assert default in snippet
    assert snippet.index(default) < snippet.index(QUEUE_STUB) < snippet.index("<script src=")
    assert snippet.startswith("<!-- Paste above your Google tag")


def admin_client(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_the_admin_shows_the_snippet_with_the_consent_mode_default_and_refuses_a_bad_mapping(owner, site):
    browser = admin_client(owner)
    change = reverse("admin:campaigns_site_change", args=[site.id])
    assert "consent&#x27;,&#x27;default" not in browser.get(change).content.decode()

    Site.objects.filter(pk=site.pk).update(consent_mode=True)
    body = browser.get(change).content.decode()
    assert "gtag(&#x27;consent&#x27;,&#x27;default&#x27;" in body
    assert "Paste above your Google tag" in body

    form = {
        "name": site.name, "allowed_origins": json.dumps(site.allowed_origins), "policy_version": "1",
        "consent_source": "tcf", "consent_mode": "on", "consent_mode_map": json.dumps({"ads": "marketing"}),
        "time_zone": "UTC", "language": "en", "event_retention_days": 90, "consent_retention_days": 365,
        "response_retention_days": 730, "max_overlays_per_session": 2, "min_overlay_gap_seconds": 60,
        "kept_query_params": json.dumps(site.kept_query_params), "form_min_fill_seconds": 2,
        "leads_per_mailbox_per_day": 5, "leads_per_ip_per_hour": 20, "max_order_value": 100000,
    }
    response = browser.post(change, form)
    assert response.status_code == 200
    assert "&#x27;ads&#x27; is not a Consent Mode type" in response.content.decode()
    site.refresh_from_db()
    assert site.consent_source == "ours"

    response = browser.post(change, {**form, "consent_mode_map": json.dumps({"ad_storage": "marketing"})})
    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.consent_source, site.consent_mode_map) == ("tcf", {"ad_storage": "marketing"})


def test_the_api_sets_the_consent_options_and_refuses_a_bad_mapping(owner, site):
    api = APIClient()
    api.force_authenticate(owner)
    url = f"/api/sites/{site.id}/"
    bad = api.patch(url, {"consent_mode_map": {"ad_storage": "no spaces"}}, format="json")
    assert bad.status_code == 400
    assert "is not a category id" in str(bad.json()["consent_mode_map"])

    good = api.patch(url, {"consent_mode": True, "consent_source": "gcm", "consent_erase_on_denial": True},
                     format="json")
    assert good.status_code == 200
    assert "gtag('consent','default'" in good.json()["snippet"]
    site.refresh_from_db()
    assert (site.consent_source, site.consent_mode, site.consent_erase_on_denial) == ("gcm", True, True)
