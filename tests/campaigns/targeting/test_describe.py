"""campaigns/targeting/describe.py: frequency and targeting in plain English."""

import pytest

from campaigns.targeting.describe import (
    EVERY_TIME,
    EVERYONE,
    campaign_describe,
    describe_frequency,
    describe_targeting,
    describe_triggers,
    duration,
)


def test_an_exit_intent_popup_with_its_rules_reads_as_one_sentence():
    sentence = campaign_describe(
        message_type="popup",
        triggers=[{"type": "exit_intent"}],
        frequency={"once_per_session": True, "stop_after_conversion": True},
        targeting={
            "all": [
                {"attr": "path", "op": "starts_with", "value": "/blog/"},
                {"attr": "utm.source", "op": "equals", "value": "google"},
                {"attr": "utm.medium", "op": "equals", "value": "cpc"},
            ]
        },
    )
    assert sentence == (
        "Popup, on exit intent, shown at most once per session, never again after a conversion, "
        "only on pages under /blog/, to visitors from google/cpc."
    )


@pytest.mark.parametrize(
    ("frequency", "text"),
    [
        (None, EVERY_TIME),
        ({}, EVERY_TIME),
        ({"max_impressions": 1}, "shown at most once"),
        ({"max_impressions": 3, "min_gap_seconds": 5400}, "shown at most 3 times, at least 90 minutes apart"),
        ({"min_gap_seconds": 86400}, "shown at most once every day"),
        ({"min_gap_seconds": 172800}, "shown at most once every 2 days"),
        ({"once_per_session": True, "max_impressions": 2}, "shown at most once per session and twice in all"),
        ({"stop_after_close": True}, "never again after being closed"),
        ({"cancel_on": ["purchase", "signup"]}, "never after purchase or signup"),
    ],
)
def test_frequency_in_plain_english(frequency, text):
    assert describe_frequency(frequency=frequency) == text


@pytest.mark.parametrize(
    ("targeting", "text"),
    [
        (None, EVERYONE),
        ({"attr": "path", "op": "equals", "value": "/pricing"}, "only on /pricing"),
        ({"attr": "path", "op": "not_contains", "value": "checkout"}, "not on pages whose address contains checkout"),
        ({"attr": "utm.source", "op": "equals", "value": "google"}, "to visitors from google"),
        ({"attr": "referrer", "op": "not_exists"}, "to visitors who came directly"),
        ({"attr": "device", "op": "in", "value": ["mobile", "tablet"]}, "on mobile or tablet"),
        ({"attr": "returning", "op": "is_false"}, "to new visitors"),
        (
            {"attr": "visited", "op": "starts_with", "value": "/blog/seo/", "min_count": 2},
            "to visitors who viewed at least 2 pages under /blog/seo/",
        ),
        ({"attr": "cart.products", "op": "includes", "value": "sku-1"}, "with sku-1 in the cart"),
        ({"attr": "cart.value", "op": "gt", "value": 50}, "when cart value is more than 50"),
        ({"attr": "hour", "op": "between", "value": [9, 17]}, "when hour is between 9 and 17"),
        (
            {
                "any": [
                    {"attr": "device", "op": "equals", "value": "mobile"},
                    {"not": {"attr": "path", "op": "starts_with", "value": "/checkout"}},
                ]
            },
            "either on mobile or not on pages under /checkout",
        ),
        ({"not": {"attr": "returning", "op": "is_true"}}, "except to returning visitors"),
    ],
)
def test_targeting_in_plain_english(targeting, text):
    assert describe_targeting(targeting=targeting) == text


def test_triggers_in_plain_english():
    assert describe_triggers(triggers=[]) == "on page load"
    assert describe_triggers(
        triggers=[{"type": "page_load", "params": {"delay": 5}}, {"type": "scroll", "percent": 50}]
    ) == ("5 seconds after the page loads or after scrolling 50% of the page")


def test_durations_use_the_largest_exact_unit():
    assert [duration(seconds=s) for s in (1, 60, 90, 3600, 604800)] == [
        "1 second",
        "1 minute",
        "90 seconds",
        "1 hour",
        "1 week",
    ]


def test_unknown_shapes_never_raise():
    assert describe_targeting(targeting={"attr": "x", "op": "y", "value": [1]}) == "when x y 1"
    assert describe_triggers(triggers=[{"type": "nope"}]) == "on an unknown trigger"
