"""A visit's traffic source, as the collect endpoint makes it for a page view (campaigns/tally/segments.py
visit_source), against tests/conformance/source.json (shared with widget/tests/segment.test.js, which holds
src/lazy/segment.js, the segment of exposures and impressions, to the same cases)."""

import json
from pathlib import Path

import pytest

from campaigns.tally.segments import visit_segment, visit_source

CASES = json.loads((Path(__file__).parents[1] / "conformance" / "source.json").read_text("utf-8"))["cases"]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_source_case(case):
    assert visit_source(utm=case["utm"], referrer=case["referrer"]) == case["source"]


@pytest.mark.parametrize(("sessions", "returning"), [(1, False), (2, True), (9, True), (0, False), ("2", False),
                                                      (True, False), (None, False)])
def test_a_visitor_returns_from_their_second_session_on(sessions, returning):
    assert visit_segment(sessions=sessions, utm={}, referrer="")["returning"] is returning
