"""The site's consent options: the Consent Mode mapping's validation, what the config carries, the snippet."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.models.site import ERROR_MAP_NOT_OBJECT, consent_mode_map_default, validate_consent_mode_map
from campaigns.selectors import site_config_build
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
