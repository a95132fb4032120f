"""Behaviour flows and the entry and exit tables, on counts and session rows as the fold writes them."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.journeys.flow import (
    BAD_COLUMNS,
    BAD_TOP,
    ENTERED,
    LEFT,
    MAX_COLUMNS,
    NOT_KEPT,
    OTHER,
    START_AND_GOAL,
    PageCount,
    SessionPaths,
    TransitionCount,
    entry_exit_tables,
    flow_from_counts,
    flow_from_sessions,
)
from campaigns.journeys.paths import Group
from tests.campaigns.journeys.journey_kit import conservation_problems, fold

GROUPS = [
    Group(name="Blog", rule={"op": "starts_with", "value": "/blog/"}, stage="awareness"),
    Group(name="Product", rule={"op": "starts_with", "value": "/product/"}, stage="consideration"),
    Group(name="Cart", rule={"op": "equals", "value": "/cart"}, stage="decision"),
    Group(name="Checkout", rule={"op": "equals", "value": "/checkout"}, stage="decision"),
    Group(name="Thanks", rule={"op": "equals", "value": "/thanks"}, stage="retention"),
]
SESSIONS = [
    ["/blog/a", "/product/x", "/cart"],  # a reader who leaves at the cart
    ["/product/x?utm_source=ad"],  # a searcher who lands on a product and leaves
    ["/blog/b", "/product/y", "/cart", "/checkout", "/thanks"],  # a buyer
]


def shape(flow):
    """Nodes as (column, label, count, exits) and links as (source label@column, target label@column, count)."""
    nodes = {node.id: node for node in flow.nodes}
    return (
        sorted((node.column, node.label, node.count, node.exits) for node in flow.nodes),
        sorted(
            (f"{nodes[link.source].label}@{nodes[link.source].column}",
             f"{nodes[link.target].label}@{nodes[link.target].column}", link.count)
            for link in flow.links
        ),
    )


def test_flow_from_counts_follows_every_session_from_its_entry_page():
    pages, transitions, _rows = fold(SESSIONS)
    flow = flow_from_counts(pages=pages, transitions=transitions, groups=GROUPS, steps=3)
    assert flow.total == 3 and flow.columns == 3
    assert shape(flow) == (
        [
            (0, "Blog", 2, 0), (0, "Product", 1, 1),
            (1, LEFT, 1, 0), (1, "Product", 2, 0),
            (2, "Cart", 2, 1),  # the buyer goes on past the last column, the other left here
        ],
        [
            ("Blog@0", "Product@1", 2), ("Product@0", f"{LEFT}@1", 1), ("Product@1", "Cart@2", 2),
        ],
    )
    assert flow.node("0:page:Blog").share == pytest.approx(2 / 3)
    assert conservation_problems(flow) == []


def test_a_reader_gives_the_share_of_all_sessions_of_the_period():
    pages, transitions, _rows = fold(SESSIONS)
    flow = flow_from_counts(pages=pages, transitions=transitions, groups=GROUPS, steps=2, base=12)
    assert flow.base == 12
    assert flow.node("0:page:Blog").share == pytest.approx(2 / 12)


def test_pages_past_the_top_of_their_step_are_folded_into_other():
    sessions = [["/a", "/x"]] * 4 + [["/b", "/x"]] * 3 + [["/c", "/y"]] * 2 + [["/d"]]
    pages, transitions, rows = fold(sessions)
    for flow in (
        flow_from_counts(pages=pages, transitions=transitions, steps=3, top=2),
        flow_from_sessions(sessions=rows, steps=3, top=2),
    ):
        nodes, links = shape(flow)
        assert nodes == [
            (0, "/a", 4, 0), (0, "/b", 3, 0), (0, OTHER, 3, 1),
            (1, "/x", 7, 7), (1, "/y", 2, 2), (1, LEFT, 1, 0),
            (2, LEFT, 9, 0),
        ]
        assert ("Other pages@0", "/y@1", 2) in links and ("Other pages@0", f"{LEFT}@1", 1) in links
        assert conservation_problems(flow) == []


def test_entry_and_exit_tables_count_exits_as_page_views_minus_moves_out():
    pages, transitions, _rows = fold(SESSIONS)
    entries, exits = entry_exit_tables(pages=pages, transitions=transitions, groups=GROUPS)
    assert [(row.label, row.entries) for row in entries] == [("Blog", 2), ("Product", 1)]
    assert [(row.label, row.pageviews, row.exits, row.exit_rate) for row in exits] == [
        ("Cart", 2, 1, 0.5), ("Product", 3, 1, pytest.approx(1 / 3)), ("Thanks", 1, 1, 1.0),
    ]


def test_a_reload_is_a_step_and_one_exit():
    pages, transitions, rows = fold([["/a", "/a"]])
    _entries, exits = entry_exit_tables(pages=pages, transitions=transitions)
    assert [(row.label, row.pageviews, row.exits) for row in exits] == [("/a", 2, 1)]
    flow = flow_from_counts(pages=pages, transitions=transitions, steps=3)
    assert shape(flow)[1] == [("/a@0", "/a@1", 1), ("/a@1", f"{LEFT}@2", 1)]


def test_moves_within_a_group_do_not_count_as_its_exits():
    pages, transitions, _rows = fold([["/blog/a", "/blog/b", "/blog/c"]])
    _entries, exits = entry_exit_tables(pages=pages, transitions=transitions, groups=GROUPS)
    assert [(row.label, row.pageviews, row.exits) for row in exits] == [("Blog", 3, 1)]


def test_counts_still_arriving_never_give_negative_exits():
    # The third page views arrived, the second ones not yet.
    pages = [PageCount(step=1, path="/a", pageviews=2, entries=2), PageCount(step=3, path="/c", pageviews=5)]
    transitions = [TransitionCount(step=3, from_path="/b", path="/c", count=5)]
    flow = flow_from_counts(pages=pages, transitions=transitions, steps=3)
    assert all(node.exits is None or node.exits >= 0 for node in flow.nodes)
    _entries, exits = entry_exit_tables(pages=pages, transitions=transitions)
    assert all(row.exits >= 0 for row in exits)


def test_the_last_counted_step_has_no_exits_when_later_steps_are_counted_together():
    pages, transitions, _rows = fold([[f"/p{i}" for i in range(12)]])
    flow = flow_from_counts(pages=pages, transitions=transitions, steps=MAX_COLUMNS)
    assert [node.exits for node in flow.nodes if node.column == MAX_COLUMNS - 1] == [None]


def test_flow_from_a_chosen_page_starts_at_its_first_visit():
    _pages, _transitions, rows = fold(SESSIONS)
    flow = flow_from_sessions(sessions=rows, groups=GROUPS, start="Product", steps=3)
    assert flow.total == 3
    assert shape(flow) == (
        [
            (0, "Product", 3, 1),
            (1, "Cart", 2, 1), (1, LEFT, 1, 0),
            (2, "Checkout", 1, 0), (2, LEFT, 1, 0),
        ],
        [("Cart@1", "Checkout@2", 1), ("Cart@1", f"{LEFT}@2", 1), ("Product@0", "Cart@1", 2),
         ("Product@0", f"{LEFT}@1", 1)],
    )
    assert conservation_problems(flow) == []


def test_flow_backwards_from_a_goal_shows_the_steps_that_led_there():
    _pages, _transitions, rows = fold([*SESSIONS, ["/cart"]])
    flow = flow_from_sessions(sessions=rows, groups=GROUPS, goal="Cart", steps=4)
    assert flow.direction == "backward" and flow.total == 3 and flow.columns == 4
    assert shape(flow) == (
        [
            (0, ENTERED, 2, 0),
            (1, "Blog", 2, 0),
            (2, ENTERED, 1, 0), (2, "Product", 2, 0),
            (3, "Cart", 3, 0),
        ],
        [("Blog@1", "Product@2", 2), (f"{ENTERED}@0", "Blog@1", 2), (f"{ENTERED}@2", "Cart@3", 1),
         ("Product@2", "Cart@3", 2)],
    )
    assert conservation_problems(flow) == []


def test_a_goal_far_from_the_entry_is_cut_at_the_steps_asked():
    _pages, _transitions, rows = fold(SESSIONS)
    flow = flow_from_sessions(sessions=rows, groups=GROUPS, goal="Thanks", steps=3)
    assert shape(flow)[0] == [(0, "Cart", 1, 0), (1, "Checkout", 1, 0), (2, "Thanks", 1, 0)]


def test_a_session_with_a_position_not_counted_yet_ends_in_not_kept():
    rows = [SessionPaths(paths=("/a",), steps=3)]  # page views 2 and 3 counted, the second's row not filled yet
    flow = flow_from_sessions(sessions=rows, steps=3)
    assert shape(flow)[0] == [(0, "/a", 1, 0), (1, NOT_KEPT, 1, 0)]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"steps": 0}, BAD_COLUMNS),
        ({"steps": MAX_COLUMNS + 1}, BAD_COLUMNS),
        ({"steps": True}, BAD_COLUMNS),
        ({"top": 0}, BAD_TOP),
        ({"start": "/a", "goal": "/b"}, START_AND_GOAL),
    ],
)
def test_flow_arguments_out_of_range_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        flow_from_sessions(sessions=[], **arguments)


URLS = ["/", "/blog/a", "/blog/b", "/product/1", "/product/2", "/cart", "/checkout", "/thanks", "/about", "/a?x=1"]
sessions_strategy = st.lists(st.lists(st.sampled_from(URLS), min_size=1, max_size=13), min_size=1, max_size=30)


@settings(max_examples=150, deadline=None)
@given(sessions=sessions_strategy, steps=st.integers(1, MAX_COLUMNS - 1), top=st.integers(1, 4),
       grouped=st.booleans())
def test_counts_and_session_rows_give_the_same_flow_from_entry_pages(sessions, steps, top, grouped):
    pages, transitions, rows = fold(sessions)
    groups = GROUPS if grouped else []
    from_counts = flow_from_counts(pages=pages, transitions=transitions, groups=groups, steps=steps, top=top)
    from_rows = flow_from_sessions(sessions=rows, groups=groups, steps=steps, top=top)
    assert shape(from_counts) == shape(from_rows)
    assert conservation_problems(from_counts) == []
    assert from_counts.total == len(sessions)


@settings(max_examples=150, deadline=None)
@given(sessions=sessions_strategy, steps=st.integers(1, MAX_COLUMNS), top=st.integers(1, 4),
       anchor=st.sampled_from(["Blog", "Product", "Cart", "Thanks", "/about"]), backwards=st.booleans())
def test_every_flow_conserves_its_sessions(sessions, steps, top, anchor, backwards):
    _pages, _transitions, rows = fold(sessions)
    options = {"goal": anchor} if backwards else {"start": anchor}
    flow = flow_from_sessions(sessions=rows, groups=GROUPS, steps=steps, top=top, **options)
    assert conservation_problems(flow) == []
    reaching = sum(1 for row in rows if any(
        (path.startswith("/blog/") and anchor == "Blog") or (path.startswith("/product/") and anchor == "Product")
        or path == {"Cart": "/cart", "Thanks": "/thanks", "/about": "/about"}.get(anchor) for path in row.paths))
    assert flow.total == reaching
    anchored = [node for node in flow.nodes if node.column == (flow.columns - 1 if backwards else 0)]
    assert sum(node.count for node in anchored if node.kind == "page") == reaching


@settings(max_examples=100, deadline=None)
@given(sessions=sessions_strategy)
def test_exits_are_page_views_minus_moves_out(sessions):
    pages, transitions, _rows = fold(sessions)
    _entries, exits = entry_exit_tables(pages=pages, transitions=transitions, groups=GROUPS)
    # Every session leaves once, from its last page.
    assert sum(row.exits for row in exits) == len(sessions)
