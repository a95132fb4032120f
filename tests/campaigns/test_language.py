"""The visitor's language: Site.language and a campaign's own in the config, the variant's own words; the admin's
Polish translation."""

import re
from pathlib import Path

import pytest
from django.utils import translation

from campaigns import services
from campaigns.content import ERROR_NO_OTHER_FORM, STRING_KEYS, content_clean, content_strings
from campaigns.models import Language
from tests.conftest import popup_campaign_create

pytestmark = pytest.mark.django_db

WIDGET_LANG = Path(__file__).resolve().parents[2] / "widget" / "src" / "lang"


def config(client, site) -> dict:
    response = client.get(f"/api/w/{site.public_key}/config")
    assert response.status_code == 200
    return response.json()


def test_the_config_carries_the_site_language_english_by_default(client, site, campaign):
    body = config(client, site)
    assert body["site"]["language"] == "en"
    assert body["campaigns"][0]["language"] is None


def test_a_changed_site_language_reaches_the_config(client, site, campaign):
    services.site_update(site=site, language=Language.FA)
    assert config(client, site)["site"]["language"] == "fa"


def test_a_campaign_language_overrides_the_site_in_its_config_entry(client, site):
    popup_campaign_create(site=site, language=Language.PL)
    assert config(client, site)["campaigns"][0]["language"] == "pl"


def test_a_language_the_widget_does_not_speak_is_refused(site):
    with pytest.raises(Exception, match="language"):
        services.site_update(site=site, language="de")


def test_the_widget_has_a_table_for_every_language_a_site_may_choose():
    assert sorted(p.stem for p in WIDGET_LANG.glob("*.js")) == sorted(Language.values)


def test_the_words_a_variant_may_override_are_the_widget_tables_keys():
    english = (WIDGET_LANG / "en.js").read_text()
    table = english[english.index("export default {"):]
    assert set(re.findall(r"(?<![\w'])(\w+): ", table)) - {"one"} == set(STRING_KEYS)  # one: a plural form


def test_content_strings_are_checked_key_by_key():
    _, errors = content_clean(message_type="popup", content={"strings": {"send": "Go", "sned": "x", "close": 3}})
    assert any("unknown field 'sned'" in e for e in errors)
    assert any("content.strings.close: must be text" in e for e in errors)
    _, errors = content_clean(message_type="popup", content={"strings": {"items": {"one": "# thing"}}})
    assert errors == [ERROR_NO_OTHER_FORM.format(path="content.strings.items")]
    cleaned, errors = content_clean(message_type="popup", content={"strings": {"items": {"one": "#", "other": "#s"}}})
    assert errors == [] and cleaned["strings"]["items"] == {"one": "#", "other": "#s"}


def test_older_label_fields_become_the_variant_words_and_strings_win():
    content = {"close_label": "Shut", "question": "Score us?", "followup": {"passive": "Why a 7?"},
               "strings": {"close": "Close it"}}
    assert content_strings(message_type="nps", content=content) == {
        "done": "Shut", "close": "Close it", "nps_question": "Score us?", "passive": "Why a 7?"}
    assert content_strings(message_type="feedback", content={"question": "Which?"}) == {}


def test_the_compiled_config_gives_each_variant_its_words(client, site):
    popup_campaign_create(site=site, message_type="consent", variants=[{"name": "A", "weight": 1, "content": {
        "categories": [{"id": "necessary", "label": "Needed", "required": True}], "accept_label": "Yes to all",
        "strings": {"reject": "No thanks"}}}])
    [variant] = config(client, site)["campaigns"][0]["variants"]
    assert variant["content"]["strings"] == {"accept": "Yes to all", "reject": "No thanks"}
    assert variant["content"]["accept_label"] == "Yes to all"  # kept for the renderers of earlier releases


def test_the_polish_catalogue_loads():
    with translation.override("pl"):
        assert translation.gettext("Visitor experience") == "Doświadczenie odwiedzającego"
        assert translation.ngettext("%(count)d campaign paused.", "%(count)d campaigns paused.", 5) % {
            "count": 5} == "Wstrzymano 5 kampanii."


def test_a_polish_browser_reads_the_site_page_in_polish(client, owner, site):
    client.force_login(owner)
    page = client.get(f"/admin/campaigns/site/{site.id}/change/", headers={"accept-language": "pl"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Kod do osadzenia" in text  # ours
    assert "Doświadczenie odwiedzającego" in text
    assert "Zapisz" in text  # Django's own admin, in Polish too
    english = client.get(f"/admin/campaigns/site/{site.id}/change/").content.decode()
    assert "Embed snippet" in english and "Kod do osadzenia" not in english


def test_the_config_is_one_answer_whatever_the_browser_language(client, site, campaign):
    response = client.get(f"/api/w/{site.public_key}/config", headers={"accept-language": "pl"})
    assert "Accept-Language" not in response.get("Vary", "")
    assert "Content-Language" not in response
    assert response.json()["site"]["language"] == "en"
