"""The Sankey diagram's structure: one shape per node and link, widths by count, labels that are only text."""

import xml.etree.ElementTree as ET

import pytest

from campaigns.journeys.flow import flow_from_counts, flow_from_sessions
from campaigns.journeys.paths import Group
from campaigns.journeys.sankey import (
    FSI,
    LABEL_MAX_CHARACTERS,
    LABEL_SPACE,
    PDI,
    column_titles,
    default_width,
    layout,
    sankey_svg,
)
from tests.campaigns.journeys.journey_kit import fold

SVG = "{http://www.w3.org/2000/svg}"
SESSIONS = [["/blog/a", "/product/x", "/cart"]] * 6 + [["/product/x"]] * 3 + [["/blog/b", "/cart", "/checkout"]]
GROUPS = [
    Group(name="Blog", rule={"op": "starts_with", "value": "/blog/"}),
    Group(name="Product", rule={"op": "starts_with", "value": "/product/"}),
]


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on anything that is not well-formed XML


def flow_of(sessions=SESSIONS, groups=GROUPS, **options):
    pages, transitions, _rows = fold(sessions)
    return flow_from_counts(pages=pages, transitions=transitions, groups=groups, **options)


def test_one_node_and_one_link_shape_each():
    flow = flow_of(steps=3)
    root = parsed(sankey_svg(flow=flow))
    assert root.tag == SVG + "svg" and root.get("role") == "img"
    assert len(root.findall(f".//{SVG}g[@class='rt-node']")) == len(flow.nodes)
    assert len(root.findall(f".//{SVG}path[@class='rt-link']")) == len(flow.links)
    assert [text.text for text in root.findall(f".//{SVG}text[@class='rt-column']")] == ["Step 1", "Step 2", "Step 3"]
    assert "10 sessions over 3 steps" in root.find(f"{SVG}desc").text


def test_widths_and_heights_are_proportional_to_counts():
    flow = flow_of(steps=3)
    root = parsed(sankey_svg(flow=flow))
    _boxes, scale = layout(flow=flow, width=default_width(flow), height=520)
    links = root.findall(f".//{SVG}path[@class='rt-link']")
    for link in links:
        assert float(link.get("stroke-width")) == pytest.approx(int(link.get("data-count")) * scale, abs=0.01)
    for node in root.findall(f".//{SVG}g[@class='rt-node']"):
        height = float(node.find(f"{SVG}rect").get("height"))
        assert height == pytest.approx(max(int(node.get("data-count")) * scale, 1.0), abs=0.01)
    widths = sorted((int(link.get("data-count")), float(link.get("stroke-width"))) for link in links)
    assert widths[-1][1] / widths[0][1] == pytest.approx(widths[-1][0] / widths[0][0], rel=0.01)


@pytest.mark.parametrize("steps", [1, 3, 10])
def test_every_column_and_its_labels_fit_in_the_drawing(steps):
    flow = flow_of(steps=steps)
    width = default_width(flow)
    boxes, _scale = layout(flow=flow, width=width, height=300)
    assert all(box.y + box.height <= 300 for box in boxes.values())
    assert all(0 <= box.x and box.x + LABEL_SPACE <= width for box in boxes.values())
    columns = sorted({box.x for box in boxes.values()})
    assert all(right - left >= LABEL_SPACE for left, right in zip(columns, columns[1:], strict=False))


def test_links_leave_and_enter_nodes_within_their_edges():
    flow = flow_of(steps=3)
    root = parsed(sankey_svg(flow=flow))
    boxes, _scale = layout(flow=flow, width=default_width(flow), height=520)
    tops = sorted(box.y for box in boxes.values())
    for link in root.findall(f".//{SVG}path[@class='rt-link']"):
        start = link.get("d").split(" ")[0]
        y0 = float(start.split(",")[1])
        assert tops[0] <= y0 <= max(box.y + box.height for box in boxes.values())


HOSTILE = '<script>alert("x")</script> & \'quoted\' \x00\x1b\ud800 ]]>'


def test_hostile_labels_are_only_text():
    flow = flow_of(sessions=[["/" + HOSTILE, "/next"]], groups=[], steps=2)
    svg = sankey_svg(flow=flow, title=HOSTILE)
    root = parsed(svg)
    assert "<script" not in svg and root.find(f".//{SVG}script") is None
    labels = [text for text in root.itertext() if "alert" in text]
    assert labels and all("\x00" not in text and "\ud800" not in text for text in labels)
    assert svg.encode("utf-8")  # no lone surrogate left to break the page's encoding


def test_a_group_name_is_escaped_too():
    flow = flow_of(groups=[Group(name='Blog "<b>"', rule={"op": "starts_with", "value": "/blog/"})], steps=2)
    root = parsed(sankey_svg(flow=flow))
    assert any('Blog "<b>"' in text for text in root.itertext())


RTL = "בלוג: מאמרים על ריצה"  # "Blog: articles on running"
LONG = "Product pages of the autumn collection, every colour and size"


def test_right_to_left_and_long_labels_stay_readable():
    groups = [Group(name=RTL, rule={"op": "starts_with", "value": "/blog/"}),
              Group(name=LONG, rule={"op": "starts_with", "value": "/product/"})]
    flow = flow_of(groups=groups, steps=3)
    root = parsed(sankey_svg(flow=flow))
    names = [text.text for text in root.findall(f".//{SVG}tspan[@class='rt-name']")]
    assert FSI + RTL + PDI in names  # isolated: the direction of the text around it stays its own
    long_label = next(name for name in names if name.startswith(FSI + "Product pages"))
    assert long_label.endswith(PDI)
    shown = long_label[1:-1]
    assert len(shown) == LABEL_MAX_CHARACTERS and shown.endswith("…")
    titles = [title.text for title in root.findall(f".//{SVG}g[@class='rt-node']/{SVG}title")]
    assert any(LONG in title for title in titles)  # the whole label on hover


def test_a_backward_flow_is_titled_from_its_goal():
    _pages, _transitions, rows = fold(SESSIONS)
    flow = flow_from_sessions(sessions=rows, groups=GROUPS, goal="/cart", steps=3)
    assert column_titles(flow) == ["2 before", "1 before", "Goal"]
    root = parsed(sankey_svg(flow=flow))
    assert len(root.findall(f".//{SVG}path[@class='rt-link']")) == len(flow.links)


@pytest.mark.parametrize("options", [{}, {"goal": "/nowhere"}, {"start": "/nowhere"}])
def test_an_empty_flow_still_draws(options):
    flow = flow_from_sessions(sessions=[], steps=3, **options)
    assert flow.columns >= 1 and flow.total == 0
    root = parsed(sankey_svg(flow=flow))
    assert root.findall(f".//{SVG}g[@class='rt-node']") == []
