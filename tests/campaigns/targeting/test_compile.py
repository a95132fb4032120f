"""campaigns/targeting/compile.py: the compiled config the widget evaluates (docs/contracts.md, "Compiled fields")."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from campaigns.rules import decide, rule_matches
from campaigns.targeting.compile import config_compile, display_of, leaf_compile, rule_compile, tz_offsets
from campaigns.targeting.triggers import triggers_compile
from tests.conformance.compiled import COMPILED_FILE, compiled_text

PARIS_SPRING_CHANGE = 1774746000000  # 2026-03-29T01:00:00Z
NOW = 1767225600000  # 2026-01-01T00:00:00Z


def test_the_compiled_conformance_file_is_current():
    # node runs widget/src/core/rules.js on this file: it must be what the compiler makes of rules.json now.
    assert COMPILED_FILE.read_text("utf-8") == compiled_text(), "run: .venv/bin/python -m tests.conformance.compiled"


def test_offsets_name_each_change_to_the_second():
    offsets = tz_offsets(tz="Europe/Paris", now=PARIS_SPRING_CHANGE - 86_400_000)
    assert offsets[:3] == [60, PARIS_SPRING_CHANGE, 120]
    assert len(offsets) == 7  # the autumn change and the next spring change, within 400 days


def test_offsets_match_zoneinfo_over_a_year():
    now, zone = NOW, ZoneInfo("America/New_York")
    offsets = tz_offsets(tz="America/New_York", now=now)
    for hour in range(0, 365 * 24, 7):
        t = now + hour * 3_600_000
        expected = dt.datetime.fromtimestamp(t / 1000, zone).utcoffset().total_seconds() / 60
        in_force = offsets[0]
        for i in range(1, len(offsets), 2):
            if t >= offsets[i]:
                in_force = offsets[i + 1]
        assert in_force == expected, t


def test_an_unknown_time_zone_is_utc():
    assert tz_offsets(tz="Not/AZone", now=NOW) == [0]


@pytest.mark.parametrize(
    ("campaign_type", "content", "display"),
    [
        ("popup", {}, "overlay"),
        ("popup", None, "overlay"),
        ("nps", {"position": "center"}, "overlay"),
        ("nps", {"position": "bottom_right"}, "slide_in"),
        ("lead", {"position": "top"}, "bar"),
        ("feedback", {"position": "bottom"}, "bar"),
        ("fullscreen", {}, "fullscreen"),
        ("fullscreen", {"position": "top_left"}, "slide_in"),
        ("bar", {"position": "top"}, "bar"),
        ("slide_in", {"position": "center"}, "slide_in"),
        ("consent", {}, "bar"),
        ("consent", {"position": "bottom_left"}, "slide_in"),
    ],
)
def test_display_follows_the_type_and_the_position(campaign_type, content, display):
    assert display_of(campaign_type=campaign_type, content=content) == display


def test_variants_carry_their_display_and_whether_they_are_overlays():
    config = {
        "site": {"tz": "UTC"},
        "campaigns": [
            {"id": 1, "type": "nps", "variants": [{"id": 1, "weight": 1, "content": {"position": "bottom"}}]},
            {"id": 2, "type": "bar", "variants": [{"id": 2, "weight": 1, "content": {}}]},
            {"id": 3, "type": "lead", "variants": [{"id": 3, "weight": 1, "content": {}}]},
        ],
    }
    campaigns = config_compile(config=config, now=NOW)["campaigns"]
    assert [(c["ov"], c["variants"][0]["ov"], c["variants"][0]["display"]) for c in campaigns] == [
        (True, False, "bar"),
        (False, False, "bar"),
        (True, True, "overlay"),
    ]


@pytest.mark.parametrize("campaign_type", ["popup", "fullscreen", "nps", "feedback", "lead", "cart_recovery"])
def test_overlay_types_are_overlays_unless_their_position_makes_them_a_corner_or_a_bar(campaign_type):
    def ov(content):
        config = {"campaigns": [{"id": 1, "type": campaign_type, "variants": [{"id": 1, "content": content}]}]}
        return config_compile(config=config, now=NOW)["campaigns"][0]["variants"][0]["ov"]

    assert [ov({}), ov({"position": "center"}), ov({"position": "bottom_left"}), ov({"position": "bottom"})] == [
        True,
        True,
        False,
        False,
    ]


@pytest.mark.parametrize("campaign_type", ["bar", "slide_in", "consent"])
def test_bars_slide_ins_and_the_consent_banner_are_never_overlays(campaign_type):
    config = {
        "campaigns": [{"id": 1, "type": campaign_type, "variants": [{"id": 1, "content": {"position": "center"}}]}]
    }
    compiled = config_compile(config=config, now=NOW)["campaigns"][0]
    assert (compiled["ov"], compiled["variants"][0]["ov"]) == (False, False)


def test_rule_values_arrive_normalized():
    assert leaf_compile({"attr": "path", "op": "in", "value": ["/Pricing/", 5, None, True]}) == [
        1,
        0,
        1,
        ["/pricing", 5, "true"],
        4,
    ]
    assert leaf_compile({"attr": "host", "op": "not_contains", "value": "Shop", "case_sensitive": True}) == [
        2,
        0,
        2,
        "Shop",
        3,
    ]
    assert leaf_compile({"attr": "cart.value", "op": "between", "value": [10, "x"]}) == [
        5,
        ["visitor", "cart", "value"],
        6,
        None,
        0,
    ]


def test_rules_the_widget_could_not_run_compile_to_false():
    assert leaf_compile({"attr": "path", "op": "regex", "value": "(?<=a)b"}) is False
    assert leaf_compile({"attr": "utm.term", "op": "exists"}) is False
    assert rule_compile({"any": "x"}) is False
    assert rule_compile({"not": {"attr": "nope", "op": "exists"}}) == {"not": False}
    assert rule_matches(rule={"not": {"attr": "nope", "op": "exists"}}, context={}) is True


def test_a_compiled_config_still_decides_the_same_in_python():
    config = {
        "site": {"tz": "Europe/Paris"},
        "campaigns": [
            {
                "id": 2,
                "type": "popup",
                "priority": 1,
                "targeting": {"attr": "device", "op": "equals", "value": "mobile"},
                "variants": [{"id": 21, "weight": 1, "content": {}}],
            },
            {"id": 1, "type": "bar", "priority": 5, "variants": [{"id": 11, "weight": 1, "content": {}}]},
        ],
    }
    context = {"now": NOW, "device": "mobile", "visitor": {"id": "v_1"}}
    compiled = config_compile(config=config, now=NOW)
    assert [c["id"] for c in compiled["campaigns"]] == [1, 2]
    assert decide(config=compiled, context=context) == decide(config=config, context=context)


def test_no_trigger_means_page_load():
    assert triggers_compile([]) == [["page_load", 0]]
    assert triggers_compile(None) == [["page_load", 0]]


def test_trigger_params_may_be_flat_or_nested_and_get_their_defaults():
    assert triggers_compile([{"type": "page_load", "params": {"delay": 1}}]) == [["page_load", 1000]]
    assert triggers_compile([{"type": "exit_intent", "min_time": 3}]) == [["exit_intent", 20, 3000, 0]]
    assert triggers_compile([{"type": "mobile_exit", "back_button": True}]) == [["mobile_exit", True, True, True, 0]]
    assert triggers_compile(
        [{"type": "cart_abandonment"}, {"type": "cart_abandonment", "via": "inactivity", "seconds": 5}]
    ) == [
        ["cart_abandonment", False, 30000],
        ["cart_abandonment", True, 5000],
    ]
    assert triggers_compile([{"type": "inactivity"}, {"type": "js", "name": "promo"}]) == [
        ["inactivity", 30000],
        ["js", "promo"],
    ]


def test_an_unknown_trigger_is_kept_and_never_names_a_javascript_property():
    assert triggers_compile([{"type": "teleport"}, {"type": "toString"}, "x"]) == [[None], [None], [None]]
