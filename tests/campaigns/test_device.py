"""campaigns/targeting/device.py against tests/conformance/device.json (shared with widget/tests/device.test.js), and
the collect endpoint's reading of a User-Agent (campaigns/ingest/sender.py), which has no touch points."""

import json
from pathlib import Path

import pytest

from campaigns.ingest import sender
from campaigns.targeting.device import DEVICES, device_of

CASES = json.loads((Path(__file__).parents[1] / "conformance" / "device.json").read_text("utf-8"))["cases"]
NAMES = [case["name"] for case in CASES]


def test_the_cases_cover_every_device():
    assert {case["device"] for case in CASES} == set(DEVICES)


@pytest.mark.parametrize("case", CASES, ids=NAMES)
def test_device_case(case):
    assert device_of(user_agent=case["ua"], touch_points=case["touch_points"]) == case["device"]


@pytest.mark.parametrize("case", [case for case in CASES if case["touch_points"] <= 1], ids=lambda case: case["name"])
def test_the_collect_endpoint_reads_the_same_device_from_the_user_agent(case):
    assert sender.device_of(case["ua"]) == case["device"]


def test_without_touch_points_an_ipad_in_desktop_mode_reads_as_the_mac_it_claims_to_be():
    ipad = next(case for case in CASES if case["name"].startswith("iPad in desktop mode"))
    assert ipad["device"] == "tablet"
    assert device_of(user_agent=ipad["ua"]) == sender.device_of(ipad["ua"]) == "desktop"


@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "",
    ],
)
def test_a_crawler_or_a_missing_user_agent_is_a_bot_for_the_collect_endpoint(user_agent):
    assert sender.device_of(user_agent) == sender.BOT
