"""The admin's structured editors: the vocabulary they are built from, the widgets that carry it, the summary
endpoint, and the script, which must spell no word of the rule registry."""

import json
import re
from pathlib import Path

import pytest
from django.forms import modelform_factory
from django.urls import reverse

from campaigns import rules
from campaigns.admin.campaigns import CampaignForm
from campaigns.admin.editors import KINDS, JsonEditorWidget
from campaigns.models import Campaign
from campaigns.targeting.editor import ATTRIBUTE_GROUPS, editor_vocabulary
from campaigns.targeting.validation import validate_goal, validate_leaf, validate_triggers
from campaigns.targeting.vocabulary import OPERATORS, TRIGGERS
from tests.campaigns.test_admin_tenancy import _campaign_form

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "campaigns" / "static" / "campaigns" / "admin" / "editors.js"
# Words of the registry that the script uses for another vocabulary, with the reason.
SCRIPT_OTHER_VOCABULARIES = {"click": "a DOM event type"}
DATA_BLOCK = re.compile(r'<script id="([^"]+)" type="application/json">(.*?)</script>', re.S)


def _data_block(html: str) -> dict:
    [(_, text)] = DATA_BLOCK.findall(html)
    return json.loads(text)


# ---------------------------------------------------------------- the vocabulary export


def test_the_export_holds_every_trigger_with_its_parameters_defaults_and_bounds():
    exported = {t["name"]: t for t in editor_vocabulary()["triggers"]}
    assert list(exported) == list(TRIGGERS)
    for name, trigger in TRIGGERS.items():
        params = exported[name]["params"]
        assert [p["name"] for p in params] == [p.name for p in trigger.params]
        for param, spec in zip(params, trigger.params, strict=True):
            assert (param["default"], param["low"], param["high"], param["required"], param["unit"]) == (
                spec.default, spec.low, spec.high, spec.required, spec.unit
            )


def test_a_trigger_built_from_the_export_defaults_is_valid_once_its_required_parameters_are_given():
    """What the editor writes when an owner adds a trigger (its defaults) passes validation."""
    for trigger in editor_vocabulary()["triggers"]:
        written = {"type": trigger["name"]}
        for param in trigger["params"]:
            if param["default"] is not None:
                written[param["name"]] = param["default"]
            elif param["required"]:
                written[param["name"]] = "x" if param["kind"] == "str" else param["low"]
        assert validate_triggers(triggers=[written]) == [], trigger["name"]


def test_every_attribute_is_offered_in_exactly_one_group():
    grouped = [name for _, names in ATTRIBUTE_GROUPS for name in names]
    assert sorted(grouped) == sorted([*rules.ATTRS, *rules.PREFIXED])
    exported = editor_vocabulary()["attributes"]
    assert [a["name"] for a in exported] == grouped
    assert {a["group"] for a in exported} == {
        "Page", "Source", "Visitor", "Journey", "Cart", "Custom attributes", "Time"}
    assert all(a["label"] for a in exported)  # each shown by a name owners use


def test_a_leaf_option_is_offered_with_validations_bounds_and_holds_them():
    [visited] = [a for a in editor_vocabulary()["attributes"] if a["name"] == "visited"]
    [option] = visited["options"]
    assert (option["name"], option["kind"], option["low"], option["high"]) == ("min_count", "int", 1, 1000)
    rule = {"attr": "visited", "op": "starts_with", "value": "/blog/"}
    assert validate_leaf(path="t", rule={**rule, "min_count": option["high"]}) == []
    assert validate_leaf(path="t", rule={**rule, "min_count": option["high"] + 1}) == [
        "t.min_count: 1001 is out of range (1..1000)"
    ]
    assert not any("options" in a for a in editor_vocabulary()["attributes"] if a["name"] != "visited")


def test_labelled_values_are_the_numbers_validation_takes():
    [weekday] = [a for a in editor_vocabulary()["attributes"] if a["name"] == "weekday"]
    assert len(weekday["value_labels"]) == weekday["high"] - weekday["low"] + 1 == 7
    assert weekday["value_labels"][0] == "Monday"  # 0 = Monday, as the rules count


# A value of each shape the editor asks for, as it writes it for an attribute of a given kind.
SAMPLES = {
    "none": {},
    "list": {"num": [1, 2], "count": [1], "str": ["/a"], "paths": ["/a"], "list": ["sku-1"], "dyn": ["x"]},
    "pair": {"any": [1, 5]},
    "pattern": {"any": "^/blog/"},
    "number": {"any": 3},
    "scalar": {"num": 3, "count": 1, "bool": True, "str": "/a", "paths": "/a", "dyn": "x"},
}


def test_each_operator_with_a_value_of_its_exported_shape_passes_validation_for_every_attribute_it_fits():
    vocabulary = editor_vocabulary()
    assert [o["name"] for o in vocabulary["operators"]] == list(OPERATORS)
    for attribute in vocabulary["attributes"]:
        name = attribute["name"] + (attribute.get("choices", ["x"])[0] if attribute["prefix"] else "")
        if name.startswith("campaign."):
            name = "campaign.12.seen"
        for op in vocabulary["operators"]:
            if attribute["kind"] not in op["kinds"]:
                continue
            rule = {"attr": name, "op": op["name"]}
            if op["value"] != "none":
                samples = SAMPLES[op["value"]]
                rule["value"] = samples.get("any", samples.get(attribute["kind"]))
                if "choices" in attribute and op["value"] == "scalar":
                    rule["value"] = attribute["choices"][0]
                if "low" in attribute and op["value"] in ("scalar", "number"):
                    rule["value"] = attribute["low"]
                if "choices" in attribute and op["value"] == "list":
                    rule["value"] = attribute["choices"][:1]
                if "low" in attribute and op["value"] in ("list", "pair"):
                    rule["value"] = [attribute["low"], attribute["high"]][: 1 if op["value"] == "list" else 2]
            assert validate_leaf(path="t", rule=rule) == [], rule


def test_every_goal_type_with_its_detail_as_the_editor_writes_it_is_valid():
    goal = editor_vocabulary()["goal"]
    for goal_type in goal["types"]:
        written = {"type": goal_type}
        detail = goal["details"].get(goal_type)
        if detail == "rule":
            written[goal_type] = {"op": goal["url_ops"][0]["name"], "value": "/thanks"}
        elif detail == "name":
            written[goal_type] = "signup"
        assert validate_goal(goal=written) == [], goal_type


def test_the_script_spells_no_trigger_and_no_operator():
    words = {*TRIGGERS, *OPERATORS}
    literals = re.findall(r"'([^'\n]*)'|\"([^\"\n]*)\"", SCRIPT.read_text())
    found = {single or double for single, double in literals} & words
    assert found - set(SCRIPT_OTHER_VOCABULARIES) == set()
    assert set(SCRIPT_OTHER_VOCABULARIES) <= found  # an allowance no longer needed is removed


# ---------------------------------------------------------------- the widgets


def test_a_widget_renders_its_textarea_and_its_vocabulary_as_data_never_as_script():
    html = JsonEditorWidget(kind="targeting").render("targeting", {"all": []}, attrs={"id": "id_targeting"})
    assert 'data-editor="targeting"' in html
    assert '<textarea name="targeting"' in html and 'id="id_targeting"' in html
    assert [block_id for block_id, _ in DATA_BLOCK.findall(html)] == ["id_targeting-editor-data"]
    assert re.findall(r"<script(?![^>]*application/json)", html) == []
    data = _data_block(html)
    assert set(data) == {"operators", "attributes", "patterns", "max_depth"}
    assert 'data-describe-url="/admin/campaigns/campaign/describe/"' in html


def test_every_kind_renders_and_an_unknown_one_is_refused():
    for kind in KINDS:
        assert f'data-editor="{kind}"' in JsonEditorWidget(kind=kind).render("f", None)
    with pytest.raises(ValueError):
        JsonEditorWidget(kind="colour")


def test_a_posted_value_that_is_not_json_is_rendered_back_as_typed():
    form_class = modelform_factory(Campaign, form=CampaignForm, fields=["triggers", "targeting"])
    form = form_class(data={"triggers": '[{"type": "scroll", "percent": 5', "targeting": "<b>x</b>"})
    html = str(form["triggers"])
    assert "[{&quot;type&quot;: &quot;scroll&quot;, &quot;percent&quot;: 5</textarea>" in html
    assert "&lt;b&gt;x&lt;/b&gt;</textarea>" in str(form["targeting"])


def test_the_content_editor_receives_each_message_types_fields():
    data = _data_block(JsonEditorWidget(kind="content").render("content", {}))
    assert set(data["fields"]) == set(Campaign.MessageType.values)
    assert {"question", "followup"} <= set(data["fields"]["nps"])
    assert "coupon" in data["fields"]["lead"] and "coupon" not in data["fields"]["popup"]
    assert "{{cart.value}}" in data["placeholders"]


# ---------------------------------------------------------------- the admin pages


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.mark.django_db
def test_the_change_page_has_an_editor_on_every_json_field_and_loads_the_script(owner_client, campaign):
    html = owner_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.id])).content.decode()
    for kind in ("triggers", "targeting", "frequency", "schedule", "goal", "content"):
        assert f'data-editor="{kind}"' in html
    assert "campaigns/admin/editors.js" in html and "campaigns/admin/editors.css" in html
    assert f'"time_zone": "{campaign.site.time_zone}"' in html  # the schedule's hours are the site's


@pytest.mark.django_db
def test_a_rule_error_renders_in_the_row_of_its_field_with_the_posted_json_kept(owner_client, site, campaign):
    bad = json.dumps([{"type": "scroll", "percent": 150}])
    response = owner_client.post(
        reverse("admin:campaigns_campaign_change", args=[campaign.id]),
        _campaign_form(site, triggers=bad, **{"variants-0-content": json.dumps({"headline": "Kept"})}),
    )
    assert response.status_code == 200
    html = response.content.decode()
    row = html[html.index('class="form-row errors field-triggers"'):]
    row = row[: row.index('class="form-row', 1)]
    assert "triggers[0].percent: 150 is out of range (1..100)" in row
    assert "&quot;percent&quot;: 150" in row
    assert "Kept" in html


@pytest.mark.django_db
def test_the_site_page_edits_allowed_origins_with_a_list_editor(owner_client, site):
    html = owner_client.get(reverse("admin:campaigns_site_change", args=[site.id])).content.decode()
    assert 'data-editor="origins"' in html


@pytest.mark.django_db
def test_the_summary_endpoint_describes_the_posted_rules(owner_client):
    url = reverse("admin:campaigns_campaign_describe")
    response = owner_client.post(url, {
        "message_type": "popup", "triggers": json.dumps([{"type": "scroll", "percent": 75}]),
        "targeting": "null", "frequency": json.dumps({"once_per_session": True}),
    })
    assert response.status_code == 200
    assert "after scrolling 75% of the page" in response.json()["summary"]


@pytest.mark.django_db
def test_the_summary_endpoint_answers_bad_input_with_a_4xx_and_needs_a_signed_in_owner(owner_client, client):
    url = reverse("admin:campaigns_campaign_describe")
    assert owner_client.get(url).status_code == 405
    bad = owner_client.post(url, {"message_type": "popup", "triggers": "[{"})
    assert (bad.status_code, bad.json()["error"]) == (400, "bad_json")
    assert owner_client.post(url, {"message_type": "nope"}).status_code == 400
    assert owner_client.post(url, {"message_type": "popup", "targeting": "5", "triggers": '"x"'}).status_code == 200
    owner_client.logout()
    assert client.post(url, {"message_type": "popup"}).status_code == 302  # to the login page


@pytest.mark.django_db
def test_a_variant_added_beside_saved_ones_starts_at_the_first_ones_weight(owner_client, campaign):
    campaign.variants.update(weight=100)
    html = owner_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.id])).content.decode()
    empty_form = re.search(r'id="variants-empty".*?</fieldset>', html, flags=re.S)
    assert empty_form is not None
    assert re.search(r'name="variants-__prefix__-weight" value="100"', empty_form.group(0))
