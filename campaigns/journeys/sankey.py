"""A behaviour flow as a Sankey diagram in SVG, rendered on the server and readable without JavaScript.

One column per step; a node's height and a link's width are proportional to their sessions, on one scale for the
whole diagram; links are cubic curves drawn as strokes. Every label is escaped, cut to LABEL_MAX_CHARACTERS (the
whole label in the node's <title>, which browsers show on hover) and isolated with Unicode bidi isolates, so a
right-to-left label keeps its count beside it and a hostile one is only text.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from dataclasses import dataclass

from campaigns.journeys.flow import EXIT, FOLDED, PAGE, START, UNKNOWN, Flow, FlowNode

LABEL_MAX_CHARACTERS = 32
NODE_WIDTH = 12
NODE_GAP = 10
MIN_NODE_HEIGHT = 1.0
HEADER = 28
MARGIN = 8
# Room for a label (LABEL_MAX_CHARACTERS at 12 px) right of its node: columns are at least this far apart, and
# the last column has it too, so no label runs into the next column's.
LABEL_SPACE = 220
DEFAULT_WIDTH = 960
COLORS = {PAGE: "#2f6fb0", FOLDED: "#8a8f98", EXIT: "#c0504d", START: "#4f8f5a", UNKNOWN: "#b7b7b7"}
# First strong isolate and pop directional isolate: the label's direction stays inside them.
FSI, PDI = "\u2068", "\u2069"
# What XML 1.0 cannot carry (a stray control character or a lone surrogate would make the whole page unreadable).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    height: float


def _text(value: object) -> str:
    return html.escape(_NOT_XML.sub("", str(value)), quote=True)


def _short(label: str) -> str:
    label = _NOT_XML.sub("", label)
    return label if len(label) <= LABEL_MAX_CHARACTERS else label[: LABEL_MAX_CHARACTERS - 1].rstrip() + "…"


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _percent(share: float) -> str:
    return f"{share * 100:.1f} %" if share < 0.1 else f"{share * 100:.0f} %"


def column_titles(flow: Flow) -> list[str]:
    if flow.direction == "backward":
        return [*(f"{flow.columns - 1 - column} before" for column in range(flow.columns - 1)), "Goal"]
    return [f"Step {column + 1}" for column in range(flow.columns)]


def default_width(flow: Flow) -> int:
    """Wide enough for every column's labels (a page shows it scaled down or scrolled: the SVG has a viewBox)."""
    return max(DEFAULT_WIDTH, 2 * MARGIN + NODE_WIDTH + LABEL_SPACE * flow.columns)


def _column_step(*, flow: Flow, width: int) -> float:
    return (width - 2 * MARGIN - NODE_WIDTH - LABEL_SPACE) / max(flow.columns - 1, 1)


def layout(*, flow: Flow, width: int, height: int) -> tuple[dict[str, _Box], float]:
    """Each node's box and the scale (pixels per session) shared by nodes and links."""
    by_column: dict[int, list[FlowNode]] = defaultdict(list)
    for node in flow.nodes:
        by_column[node.column].append(node)
    usable = height - HEADER - 2 * MARGIN
    scale = min(
        ((usable - NODE_GAP * (len(nodes) - 1)) / sum(node.count for node in nodes)
         for nodes in by_column.values() if sum(node.count for node in nodes)),
        default=0.0,
    )
    scale = max(scale, 0.0)
    step = _column_step(flow=flow, width=width)
    boxes = {}
    for column, nodes in by_column.items():
        y = HEADER + MARGIN
        for node in nodes:  # the flow lists pages by count, then OTHER and the ends of sessions
            box_height = max(node.count * scale, MIN_NODE_HEIGHT)
            boxes[node.id] = _Box(x=MARGIN + column * step, y=y, height=box_height)
            y += box_height + NODE_GAP
    return boxes, scale


def sankey_svg(*, flow: Flow, width: int | None = None, height: int = 520, title: str = "Behaviour flow") -> str:
    """The flow as one <svg> element (a string to put in a page as it is); `width` by default default_width."""
    width = width or default_width(flow)
    boxes, scale = layout(flow=flow, width=width, height=height)
    nodes = {node.id: node for node in flow.nodes}
    # Links leave a node top to bottom in the order of their targets, and enter one in the order of their sources.
    offset_out: dict[str, float] = defaultdict(float)
    offset_in: dict[str, float] = defaultdict(float)
    links = sorted(flow.links, key=lambda link: (boxes[link.source].y, boxes[link.target].y))
    bands = [link.count * scale for link in links]
    starts, ends = [0.0] * len(links), [0.0] * len(links)
    for index, link in enumerate(links):
        starts[index] = boxes[link.source].y + offset_out[link.source] + bands[index] / 2
        offset_out[link.source] += bands[index]
    for index in sorted(range(len(links)), key=lambda i: (boxes[links[i].target].y, starts[i])):
        link = links[index]
        ends[index] = boxes[link.target].y + offset_in[link.target] + bands[index] / 2
        offset_in[link.target] += bands[index]
    drawn = list(zip(links, bands, starts, ends, strict=True))
    description = (
        f"{flow.total} sessions over {flow.columns} steps"
        + (", walked backwards from the goal" if flow.direction == "backward" else "")
        + f"; shares are of {flow.base} sessions."
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="rt-sankey" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="rt-sankey-title rt-sankey-desc" '
        f'font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="rt-sankey-title">{_text(title)}</title>',
        f'<desc id="rt-sankey-desc">{_text(description)}</desc>',
    ]
    step = _column_step(flow=flow, width=width)
    for column, heading in enumerate(column_titles(flow)):
        x = MARGIN + column * step
        parts.append(f'<text class="rt-column" x="{_number(x)}" y="16" font-weight="600">{_text(heading)}</text>')
    parts.append('<g class="rt-links" fill="none" stroke-opacity="0.35">')
    for link, band, y0, y1 in drawn:
        x0 = boxes[link.source].x + NODE_WIDTH
        x1 = boxes[link.target].x
        middle = (x0 + x1) / 2
        source, target = nodes[link.source], nodes[link.target]
        parts.append(
            f'<path class="rt-link" data-count="{link.count}" stroke="{COLORS.get(target.kind, COLORS[PAGE])}" '
            f'stroke-width="{_number(band)}" d="M{_number(x0)},{_number(y0)} C{_number(middle)},{_number(y0)} '
            f'{_number(middle)},{_number(y1)} {_number(x1)},{_number(y1)}">'
            f"<title>{_text(FSI + source.label + PDI)} → {_text(FSI + target.label + PDI)}: {link.count} "
            f"({_percent(link.share)})</title></path>"
        )
    parts.append("</g>")
    parts.append('<g class="rt-nodes">')
    for node in flow.nodes:
        box = boxes[node.id]
        text_x = _number(box.x + NODE_WIDTH + 4)
        middle = box.y + box.height / 2
        exits = f", {node.exits} left the site here" if node.kind in (PAGE, FOLDED) and node.exits else ""
        parts.append(
            f'<g class="rt-node" data-kind="{node.kind}" data-count="{node.count}">'
            f"<title>{_text(FSI + node.label + PDI)}: {node.count} sessions ({_percent(node.share)}){exits}</title>"
            f'<rect x="{_number(box.x)}" y="{_number(box.y)}" width="{NODE_WIDTH}" height="{_number(box.height)}" '
            f'fill="{COLORS.get(node.kind, COLORS[PAGE])}"/>'
            f'<text class="rt-label" x="{text_x}" y="{_number(middle - 2)}">'
            f'<tspan class="rt-name">{_text(FSI + _short(node.label) + PDI)}</tspan>'
            f'<tspan class="rt-count" x="{text_x}" dy="13" fill="#555">{node.count} ({_percent(node.share)})</tspan>'
            "</text></g>"
        )
    parts.append("</g></svg>")
    return "".join(parts)
