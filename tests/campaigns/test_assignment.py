"""campaigns/assignment.py against tests/conformance/bucketing.json (shared with widget/tests/assignment.test.js)."""

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.assignment import assign, bucket, fnv1a32

CASES = json.loads((Path(__file__).parents[1] / "conformance" / "bucketing.json").read_text("utf-8"))


@pytest.mark.parametrize("case", CASES["fnv1a32"], ids=[repr(c["input"]) for c in CASES["fnv1a32"]])
def test_fnv1a32_case(case):
    assert fnv1a32(case["input"]) == case["expected"]


@pytest.mark.parametrize("case", CASES["assign"], ids=[c["name"] for c in CASES["assign"]])
def test_assign_case(case):
    assert fnv1a32(f"{case['campaign_id']}:{case['visitor_id']}") == case["hash"]
    got = assign(
        campaign_id=case["campaign_id"],
        visitor_id=case["visitor_id"],
        control_share=case["control_share"],
        weights=case["weights"],
    )
    assert got == case["expected"]


def test_the_hash_is_over_utf8_bytes():
    assert fnv1a32("é") == fnv1a32("é".encode())
    assert fnv1a32("é") != fnv1a32("é".encode("latin-1"))


@given(
    campaign=st.integers(1, 10**9),
    visitor=st.text(max_size=40),
    share=st.floats(0, 0.9),
    weights=st.lists(st.integers(0, 100), max_size=5),
)
def test_assignment_is_deterministic_and_in_range(campaign, visitor, share, weights):
    first = assign(campaign_id=campaign, visitor_id=visitor, control_share=share, weights=weights)
    assert first == assign(campaign_id=campaign, visitor_id=visitor, control_share=share, weights=weights)
    if first["holdout"]:
        assert first["index"] is None and bucket(campaign_id=campaign, visitor_id=visitor) < share
    elif any(w > 0 for w in weights):
        assert weights[first["index"]] > 0
    else:
        assert first["index"] is None


def test_the_split_follows_the_weights_and_the_control_share():
    counts = {None: 0, 0: 0, 1: 0}
    n = 20_000
    for i in range(n):
        got = assign(campaign_id=42, visitor_id=f"v_{i}", control_share=0.2, weights=[25, 75])
        counts[got["index"]] += 1
    assert abs(counts[None] / n - 0.2) < 0.02
    assert abs(counts[0] / n - 0.2) < 0.02
    assert abs(counts[1] / n - 0.6) < 0.02
