"""The visitor's language: Site.language and a campaign's own in the config, the variant's own words; the admin's
Polish translation."""

import json
import re
from pathlib import Path

import pytest
from django.utils import translation

from campaigns import services
from campaigns.content import ERROR_NO_OTHER_FORM, STRING_KEYS, content_clean, content_strings
from campaigns.models import Language
from campaigns.results.verdicts import SPACE, SRM_HEADLINE, arm_verdict
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


CATALOGUE = Path(__file__).resolve().parents[2] / "campaigns" / "locale" / "pl" / "LC_MESSAGES" / "django.po"


def po_entries(text: str) -> list[dict]:
    """The catalogue's entries as {"flags", "msgid", "msgid_plural", "msgstr": {"msgstr[0]": ...}}: enough of the .po
    format to check it (polib is not a dependency)."""
    entries = []
    for block in re.split(r"\n\s*\n", text.strip()):
        entry, key = {"flags": set(), "msgid": "", "msgstr": {}}, None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#~"):
                entry["obsolete"] = True
            elif match := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) (".*")$', line):
                key = match.group(1)
                target = entry["msgstr"] if key.startswith("msgstr") else entry
                target[key] = json.loads(match.group(2))
            elif line.startswith('"') and key:
                target = entry["msgstr"] if key.startswith("msgstr") else entry
                target[key] += json.loads(line)
        entries.append(entry)
    return entries


def test_every_entry_of_the_polish_catalogue_is_translated_and_none_is_fuzzy():
    text = CATALOGUE.read_text(encoding="utf-8")
    entries = [e for e in po_entries(text) if e["msgid"] and not e.get("obsolete")]
    assert len(entries) > 400
    assert [e["msgid"] for e in entries if "fuzzy" in e["flags"]] == []
    assert [e["msgid"] for e in entries if not all(e["msgstr"].values())] == []
    plural = [e for e in entries if "msgid_plural" in e]
    assert plural and all(sorted(e["msgstr"]) == ["msgstr[0]", "msgstr[1]", "msgstr[2]"] for e in plural)
    assert "nplurals=3;" in text
    # A placeholder left out or renamed would raise or show English words in a Polish sentence.
    for e in entries:
        names = set(re.findall(r"%\((\w+)\)", e["msgid"])) | set(re.findall(r"\{(\w+)", e["msgid"]))
        for form, value in e["msgstr"].items():
            found = set(re.findall(r"%\((\w+)\)", value)) | set(re.findall(r"\{(\w+)", value))
            assert found <= names | set(re.findall(r"%\((\w+)\)", e.get("msgid_plural", ""))), (e["msgid"], form)


def spaced(text: str) -> str:
    return text.replace(" %", f"{SPACE}%")


def test_the_verdicts_follow_the_admin_language():
    row = {"name": "B", "expected": 0.12, "ci": (0.02, 0.2), "chance_to_win": 0.97}
    settings = {"engine": "bayesian", "difference": "relative", "alpha": 0.05}
    english = arm_verdict(row=row, control="A", settings=settings, plan=None, power=0.8)
    assert english == spaced("B is 97 % likely to beat A; +12 % relative, 95 % interval +2 % … +20 %.")
    with translation.override("pl"):
        polish = arm_verdict(row=row, control="A", settings=settings, plan=None, power=0.8)
        assert polish == spaced(
            "B z prawdopodobieństwem 97 % wygrywa z A; +12 % względnie, przedział 95 %: +2 % … +20 %.")
        assert translation.ngettext("session", "sessions", 5) == "sesji"
        assert translation.ngettext("session", "sessions", 22) == "sesje"


def polish_page(client, owner, url: str) -> str:
    client.force_login(owner)
    page = client.get(url, headers={"accept-language": "pl"})
    assert page.status_code == 200
    return page.content.decode()


def test_a_polish_owner_reads_the_dashboard_in_polish(client, owner, site, campaign):
    text = polish_page(client, owner, "/admin/")
    assert "Aktywne kampanie" in text and "Wyświetlenia" in text and "Konwersje" in text
    assert "Active campaigns" not in text


def test_a_polish_owner_reads_the_installation_check_in_polish(client, owner, site):
    text = polish_page(client, owner, f"/admin/campaigns/site/{site.id}/change/")
    assert "Sprawdzenie instalacji" in text and "Sprawdź teraz" in text
    assert "Installation check" not in text


def test_a_polish_owner_reads_the_journey_map_in_polish(client, owner, site):
    text = polish_page(client, owner, f"/admin/campaigns/site/{site.id}/journeys/")
    assert "Punkty interwencji" in text and "Czy komunikat popycha ludzi dalej?" in text
    assert "Mapa ścieżek" in text and "Intervention points" not in text


def test_an_admin_page_in_polish_leaves_no_polish_behind_for_the_next_request(client, owner, site):
    polish_page(client, owner, f"/admin/campaigns/site/{site.id}/change/")
    assert translation.get_language() == "en-us"
    assert str(SRM_HEADLINE).startswith("Sample ratio mismatch")
