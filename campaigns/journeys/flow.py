"""Behaviour flows and the entry and exit tables, from the journey counters as plain data.

Two sources, as the tally keeps them (campaigns/models/journeys.py):

- the daily counters (`PageCount` and `TransitionCount`, summed over the days and segments a reader filters on):
  `flow_from_counts` follows every session from its entry page, step by step, and `entry_exit_tables` lists entry
  pages and exit pages with their exit rates (exits = page views - transitions out);
- the session rows (`SessionPaths`: a session's first ten cleaned paths): `flow_from_sessions` follows sessions from
  their entry page, from a chosen page (its first visit in the session), or backwards from a goal (the steps that
  led to its first visit).

Each of them reads a path only through its label (`labeller`), so counts summed by label beforehand give the same
answers with `groups=()`: `LabelCounts` (`counts_labelled` here, the same sums in SQL in selectors.py) and
`sessions_labelled` are what the map reads, so that it never holds a row per path.

At each step the `top` labels (groups, or paths in no group) are nodes and the rest is folded into OTHER; the
sessions whose last page was a node move on to a LEFT node in the next column. On data as the fold writes it,
every node's sessions are conserved: in = out (to the next pages and to LEFT); on counts still arriving out of
order a node may show more out than in for a while, and its exits are then 0, never negative.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from campaigns.journeys.paths import Group, labeller

OTHER = "Other pages"
LEFT = "Left the site"
ENTERED = "Entered the site"
NOT_KEPT = "Later steps (not kept)"
MAX_COLUMNS = 10
DEFAULT_COLUMNS = 5
DEFAULT_TOP = 5
MAX_TOP = 50

# Node kinds: a page (a group, or a path in no group), OTHER, and the ends of a session.
PAGE, FOLDED, EXIT, START, UNKNOWN = "page", "other", "left", "entered", "not_kept"
_END_LABELS = {EXIT: LEFT, START: ENTERED, UNKNOWN: NOT_KEPT}

BAD_COLUMNS = f"steps: from 1 to {MAX_COLUMNS}"
BAD_TOP = f"top: from 1 to {MAX_TOP}"
START_AND_GOAL = "a flow starts from a page or ends at a goal, not both"


@dataclass(frozen=True)
class PageCount:
    """Page views of a cleaned path at a step (JourneyPageDaily rows summed); `entries`: those without a previous
    page."""

    step: int
    path: str
    pageviews: int
    entries: int = 0


@dataclass(frozen=True)
class TransitionCount:
    """Moves from `from_path` to `path`, `step` being the step moved to (JourneyTransitionDaily rows summed)."""

    step: int
    from_path: str
    path: str
    count: int


@dataclass(frozen=True)
class SessionPaths:
    """Sessions with the same kept paths (JourneySession rows): `paths` up to the first empty position, `steps`
    the highest step seen (more than len(paths): the session went on past what is kept)."""

    paths: tuple[str, ...]
    steps: int
    sessions: int = 1


@dataclass(frozen=True)
class FlowNode:
    id: str
    column: int
    label: str
    kind: str
    count: int
    share: float
    # Sessions whose last page this node was; None when the counters cannot tell (past the last counted step).
    exits: int | None = 0


@dataclass(frozen=True)
class FlowLink:
    source: str
    target: str
    count: int
    share: float


@dataclass(frozen=True)
class Flow:
    """Columns left to right (column 0 is the first step, or the earliest step before a goal); `total` is the
    number of sessions followed, and shares are of `base` (all sessions of the period when the reader gives it,
    else `total`)."""

    direction: str
    columns: int
    total: int
    base: int
    nodes: tuple[FlowNode, ...]
    links: tuple[FlowLink, ...]

    def node(self, node_id: str) -> FlowNode:
        return next(node for node in self.nodes if node.id == node_id)

    def links_out(self, node_id: str) -> list[FlowLink]:
        return [link for link in self.links if link.source == node_id]

    def links_in(self, node_id: str) -> list[FlowLink]:
        return [link for link in self.links if link.target == node_id]


@dataclass(frozen=True)
class PageRow:
    """A label's line of the entry and exit tables: its page views, entries, exits and exit rate (exits per page
    view)."""

    label: str
    pageviews: int
    entries: int
    exits: int
    exit_rate: float


@dataclass(frozen=True)
class LabelCounts:
    """The daily counters summed by label (a group's name, or a path in no group), for reading with `groups=()`:
    `pages` by step and label (every step), `moves` by step, label moved from and label moved to (steps 2 to
    `steps` + 1, what a flow of `steps` columns reads), `out` the moves out of each label over every step (as
    TransitionCount with step 0 and path ""; what the exit table reads)."""

    pages: tuple[PageCount, ...]
    moves: tuple[TransitionCount, ...]
    out: tuple[TransitionCount, ...]

    @property
    def sessions(self) -> int:
        return sum(page.entries for page in self.pages)

    @property
    def pageviews(self) -> int:
        return sum(page.pageviews for page in self.pages)


def counts_labelled(
    *, pages: Iterable[PageCount], transitions: Iterable[TransitionCount], groups: Sequence[Group] = (),
    steps: int = MAX_COLUMNS,
) -> LabelCounts:
    """Counters by path summed by label, as LabelCounts: flow_from_counts and entry_exit_tables read them with
    `groups=()` and answer as they do on the counters by path with `groups`."""
    label = labeller(groups=groups)
    views: Counter = Counter()
    entries: Counter = Counter()
    moves: Counter = Counter()
    out: Counter = Counter()
    for page in pages:
        views[page.step, label(page.path)] += page.pageviews
        entries[page.step, label(page.path)] += page.entries
    for move in transitions:
        source = label(move.from_path)
        out[source] += move.count
        if 2 <= move.step <= steps + 1:
            moves[move.step, source, label(move.path)] += move.count
    return LabelCounts(
        pages=tuple(PageCount(step=step, path=name, pageviews=count, entries=entries[step, name])
                    for (step, name), count in sorted(views.items())),
        moves=tuple(TransitionCount(step=step, from_path=source, path=target, count=count)
                    for (step, source, target), count in sorted(moves.items())),
        out=tuple(TransitionCount(step=0, from_path=source, path="", count=count)
                  for source, count in sorted(out.items())),
    )


def sessions_labelled(*, sessions: Iterable[SessionPaths], groups: Sequence[Group] = ()) -> list[SessionPaths]:
    """Session rows summed by the labels of their kept paths: flow_from_sessions reads them with `groups=()` and
    answers as it does on the rows by path with `groups` (it reads of `steps` only whether the session went on past
    its kept paths)."""
    label = labeller(groups=groups)
    summed: Counter = Counter()
    for session in sessions:
        if session.sessions <= 0:  # as flow_from_sessions skips them
            continue
        went_on = session.steps > len(session.paths)
        summed[tuple(label(path) for path in session.paths), went_on] += session.sessions
    return [SessionPaths(paths=names, steps=len(names) + went_on, sessions=count)
            for (names, went_on), count in sorted(summed.items())]


def _check(columns: int, top: int) -> None:
    if isinstance(columns, bool) or not isinstance(columns, int) or not 1 <= columns <= MAX_COLUMNS:
        raise ValueError(BAD_COLUMNS)
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_TOP:
        raise ValueError(BAD_TOP)


def _node_id(column: int, kind: str, label: str) -> str:
    return f"{column}:{kind}:{label}"


def _kept(counts: Counter, top: int) -> set[str]:
    """The `top` labels by count (ties by label, so the choice never depends on the input's order)."""
    return {label for label, _count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]}


class _Builder:
    """Nodes and links of a flow, added to by (column, kind, label) and summed."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = defaultdict(int)
        self.meta: dict[str, tuple[int, str, str]] = {}
        self.exits: dict[str, int | None] = {}
        self.links: dict[tuple[str, str], int] = defaultdict(int)

    def node(self, column: int, kind: str, label: str, count: int) -> str:
        node_id = _node_id(column, kind, label)
        self.meta[node_id] = (column, kind, label)
        self.counts[node_id] += count
        return node_id

    def link(self, source: str, target: str, count: int) -> None:
        if count > 0:
            self.links[source, target] += count

    def flow(self, *, direction: str, columns: int, total: int, base: int | None) -> Flow:
        base = base if base else total
        share = (lambda n: n / base) if base else (lambda n: 0.0)
        # A node holds what came in; on counts still arriving out of order, more may have moved on from it.
        out: dict[str, int] = defaultdict(int)
        for (source, _target), count in self.links.items():
            out[source] += count
        counts = {node_id: max(self.counts[node_id], out[node_id]) for node_id in self.meta}
        nodes = [
            FlowNode(id=node_id, column=column, label=label, kind=kind, count=counts[node_id],
                     share=share(counts[node_id]), exits=self.exits.get(node_id, 0))
            for node_id, (column, kind, label) in self.meta.items()
            if counts[node_id] > 0
        ]
        nodes.sort(key=lambda node: (node.column, node.kind != PAGE, node.kind, -node.count, node.label))
        links = [
            FlowLink(source=source, target=target, count=count, share=share(count))
            for (source, target), count in sorted(self.links.items())
        ]
        return Flow(direction=direction, columns=columns, total=total, base=base, nodes=tuple(nodes),
                    links=tuple(links))


# ---------------------------------------------------------------- from the daily counters


def flow_from_counts(
    *,
    pages: Iterable[PageCount],
    transitions: Iterable[TransitionCount],
    groups: Sequence[Group] = (),
    steps: int = DEFAULT_COLUMNS,
    top: int = DEFAULT_TOP,
    base: int | None = None,
) -> Flow:
    """Every session from its entry page, for `steps` steps: column c holds the pages seen at step c + 1."""
    _check(steps, top)
    label = labeller(groups=groups)
    pages, transitions = list(pages), list(transitions)
    # Per step: label -> sessions there (step 1 from page views, later steps from the moves into them).
    at: dict[int, Counter] = defaultdict(Counter)
    for page in pages:
        if page.step == 1:
            at[1][label(page.path)] += page.pageviews
    moves: dict[int, Counter] = defaultdict(Counter)  # step moved to -> (from label, to label) -> count
    for move in transitions:
        if 2 <= move.step <= steps + 1:
            moves[move.step][label(move.from_path), label(move.path)] += move.count
    for step in range(2, steps + 1):
        for (_source, target), count in moves[step].items():
            at[step][target] += count
    kept = {step: _kept(at[step], top) for step in range(1, steps + 1)}

    def folded(step: int, name: str) -> tuple[str, str]:
        return (PAGE, name) if name in kept[step] else (FOLDED, OTHER)

    built = _Builder()
    for name, count in at[1].items():
        built.node(0, *folded(1, name), count)
    for step in range(2, steps + 1):
        for (source, target), count in moves[step].items():
            source_id = built.node(step - 2, *folded(step - 1, source), 0)
            target_id = built.node(step - 1, *folded(step, target), count)
            built.link(source_id, target_id, count)
    # Exits: what a node held minus what moved on from it; the last column's only when the next step is counted
    # on its own (the counters keep steps past MAX_COLUMNS together).
    out: dict[str, int] = defaultdict(int)
    for step in range(2, steps + 2):
        for (source, _target), count in moves[step].items():
            out[_node_id(step - 2, *folded(step - 1, source))] += count
    for node_id, (column, _kind, _label) in list(built.meta.items()):
        if column == steps - 1 and steps >= MAX_COLUMNS:
            built.exits[node_id] = None
            continue
        exits = max(0, built.counts[node_id] - out[node_id])
        built.exits[node_id] = exits
        if column < steps - 1 and exits:
            built.link(node_id, built.node(column + 1, EXIT, LEFT, exits), exits)
    return built.flow(direction="forward", columns=steps, total=sum(at[1].values()), base=base)


def entry_exit_tables(
    *, pages: Iterable[PageCount], transitions: Iterable[TransitionCount], groups: Sequence[Group] = ()
) -> tuple[list[PageRow], list[PageRow]]:
    """(entry pages by entries, exit pages by exits), each label with its page views, entries, exits and exit rate.

    Exits are page views minus the moves out of the label, over all steps: a move between two pages of the same
    group is a page view of it and a move out of it, so it leaves the group's exits as they are.
    """
    label = labeller(groups=groups)
    views: Counter = Counter()
    entries: Counter = Counter()
    out: Counter = Counter()
    for page in pages:
        views[label(page.path)] += page.pageviews
        entries[label(page.path)] += page.entries
    for move in transitions:
        out[label(move.from_path)] += move.count
    rows = []
    for name, count in views.items():
        exits = max(0, count - out[name])
        rows.append(PageRow(label=name, pageviews=count, entries=entries[name], exits=exits,
                            exit_rate=exits / count if count else 0.0))
    by_entries = sorted((row for row in rows if row.entries), key=lambda row: (-row.entries, row.label))
    by_exits = sorted((row for row in rows if row.exits), key=lambda row: (-row.exits, row.label))
    return by_entries, by_exits


# ---------------------------------------------------------------- from the session rows


def flow_from_sessions(
    *,
    sessions: Iterable[SessionPaths],
    groups: Sequence[Group] = (),
    steps: int = DEFAULT_COLUMNS,
    top: int = DEFAULT_TOP,
    start: str | None = None,
    goal: str | None = None,
    base: int | None = None,
) -> Flow:
    """Sessions from their entry page; or from their first visit to `start` (a label: a group's name or a path in
    no group); or backwards from their first visit to `goal`, the goal in the last column and the steps that led
    there before it (ENTERED where a session began). Sessions that never reach `start` or `goal` are left out."""
    _check(steps, top)
    if start is not None and goal is not None:
        raise ValueError(START_AND_GOAL)
    label = labeller(groups=groups)
    # Each followed session as the labels of its columns, in the order they are walked, and how it ends there.
    walks: list[tuple[tuple[str, ...], str | None, int]] = []
    anchor = goal if goal is not None else start
    for session in sessions:
        if session.sessions <= 0:
            continue
        names = tuple(label(path) for path in session.paths)
        if anchor is None:
            position = 0
        elif anchor in names:
            position = names.index(anchor)
        else:
            continue
        if goal is not None:  # walked from the goal back to where the session began
            walked = names[position::-1][:steps]
            end = START if position < steps else None
        else:
            walked = names[position:][:steps]
            reached_last = position + len(walked) == len(names)
            end = (EXIT if session.steps <= len(session.paths) else UNKNOWN) if reached_last else None
        walks.append((walked, end, session.sessions))
    at: dict[int, Counter] = defaultdict(Counter)
    for walked, _end, weight in walks:
        for column, name in enumerate(walked):
            at[column][name] += weight
    kept = {column: _kept(at[column], top) for column in range(steps)}

    def folded(column: int, name: str) -> tuple[str, str]:
        return (PAGE, name) if name in kept[column] else (FOLDED, OTHER)

    built = _Builder()
    total = 0
    for walked, end, weight in walks:
        total += weight
        previous = None
        for column, name in enumerate(walked):
            node_id = built.node(column, *folded(column, name), weight)
            if previous is not None:
                built.link(previous, node_id, weight)
            previous = node_id
        if end == EXIT:
            built.exits[previous] = built.exits.get(previous, 0) + weight
        if end is not None and len(walked) < steps:
            built.link(previous, built.node(len(walked), end, _END_LABELS[end], weight), weight)
    if goal is None:
        return built.flow(direction="forward", columns=steps, total=total, base=base)
    return _mirrored(built.flow(direction="backward", columns=steps, total=total, base=base))


def _mirrored(flow: Flow) -> Flow:
    """A flow walked backwards from its goal, laid out left to right: columns reversed, links turned around.

    The columns are those the walks reached, so a goal reached at the second step has two columns, not `steps`."""
    used = max((node.column for node in flow.nodes), default=0) + 1
    renamed = {node.id: _node_id(used - 1 - node.column, node.kind, node.label) for node in flow.nodes}
    nodes = tuple(
        FlowNode(id=renamed[node.id], column=used - 1 - node.column, label=node.label, kind=node.kind,
                 count=node.count, share=node.share, exits=0)
        for node in sorted(flow.nodes, key=lambda node: (-node.column, node.kind != PAGE, -node.count, node.label))
    )
    links = tuple(
        FlowLink(source=renamed[link.target], target=renamed[link.source], count=link.count, share=link.share)
        for link in flow.links
    )
    return Flow(direction=flow.direction, columns=used, total=flow.total, base=flow.base, nodes=nodes, links=links)
