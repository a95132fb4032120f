"""One page and its neighbours, from the daily counters."""

import pytest
from hypothesis import given, settings

from campaigns.journeys.flow import BAD_TOP, ENTERED, LEFT, OTHER
from campaigns.journeys.transitions import page_transitions
from tests.campaigns.journeys.journey_kit import fold
from tests.campaigns.journeys.test_flow import GROUPS, SESSIONS, sessions_strategy


def rows(side):
    return [(row.label, row.count) for row in side]


def test_a_page_shows_where_its_visitors_came_from_and_went():
    pages, transitions, _rows = fold(SESSIONS)
    found = page_transitions(label="Product", pages=pages, transitions=transitions, groups=GROUPS)
    assert found.pageviews == 3
    assert rows(found.before) == [("Blog", 2), (ENTERED, 1)]
    assert rows(found.after) == [("Cart", 2), (LEFT, 1)]
    assert found.after[0].share == pytest.approx(2 / 3)


def test_neighbours_past_the_top_are_folded_into_other():
    pages, transitions, _rows = fold([["/a", "/x"], ["/b", "/x"], ["/b", "/x"], ["/c", "/x"], ["/x", "/x"]])
    found = page_transitions(label="/x", pages=pages, transitions=transitions, top=1)
    assert found.pageviews == 6
    assert rows(found.before) == [("/b", 2), (OTHER, 3), (ENTERED, 1)]  # /a, /c and the reload of /x
    assert rows(found.after) == [("/x", 1), (LEFT, 5)]


def test_top_out_of_range_is_refused():
    with pytest.raises(ValueError, match=BAD_TOP):
        page_transitions(label="/x", pages=[], transitions=[], top=0)


@settings(max_examples=100, deadline=None)
@given(sessions=sessions_strategy)
def test_both_sides_add_up_to_the_page_views(sessions):
    pages, transitions, _rows = fold(sessions)
    for label in ("Blog", "Product", "Cart", "/", "/about"):
        found = page_transitions(label=label, pages=pages, transitions=transitions, groups=GROUPS, top=2)
        assert sum(row.count for row in found.before) == found.pageviews
        assert sum(row.count for row in found.after) == found.pageviews
