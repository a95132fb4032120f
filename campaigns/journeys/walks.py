"""Flows from a chosen page or back from a goal, from the steps of the sessions' walks summed (plain data).

flow_from_sessions follows each session from its first visit to an anchor (forwards from a start, backwards from a
goal), and what it draws depends only on the steps of those walks: at each column, a label and what came next (the
next label, or how the walk ended). So the steps of the full walks (MAX_COLUMNS columns) summed over any set of
sessions (`walk_steps_by_anchor`, what the session rollups keep per day) give, for any number of columns and nodes, the
same flow (`flow_from_walks`), without a row per session or per distinct path sequence.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from campaigns.journeys.flow import (
    _END_LABELS,
    DEFAULT_COLUMNS,
    DEFAULT_TOP,
    EXIT,
    FOLDED,
    OTHER,
    PAGE,
    START,
    UNKNOWN,
    Flow,
    SessionPaths,
    _Builder,
    _check,
    _kept,
    _mirrored,
)

# How a walk ends at its last column (forwards: the session's last kept page, then it left or went on past what is
# kept; backwards: the session's first page).
ENDS = (EXIT, UNKNOWN, START)


@dataclass(frozen=True)
class WalkStep:
    """Walks at `column` on `label` that went on to `to` (a label), or ended there (`to` is "" and `end` one of
    ENDS); `sessions` of them."""

    column: int
    label: str
    to: str
    end: str
    sessions: int


def walk_steps_by_anchor(
    *, sessions: Iterable[SessionPaths], anchors: Collection[str] | None = None
) -> dict[tuple[str, bool], list[WalkStep]]:
    """The steps of the walks from each label (or each of `anchors`) of sessions already labelled
    (flow.sessions_labelled), forwards and backwards: {(anchor, backward): steps}. Walks are kept whole: a session
    keeps at most MAX_COLUMNS paths, so a walk never has more columns than a flow may ask for."""
    summed: dict[tuple[str, bool], Counter] = defaultdict(Counter)
    for session in sessions:
        if session.sessions <= 0:
            continue
        names = session.paths
        end = EXIT if session.steps <= len(names) else UNKNOWN
        for position, anchor in enumerate(names):
            if (anchors is not None and anchor not in anchors) or anchor in names[:position]:
                continue  # a walk starts at the anchor's first visit
            for backward, walked, last in ((False, names[position:], end), (True, names[position::-1], START)):
                counter = summed[anchor, backward]
                for column in range(len(walked) - 1):
                    counter[column, walked[column], walked[column + 1], ""] += session.sessions
                counter[len(walked) - 1, walked[-1], "", last] += session.sessions
    return {key: _steps(counter) for key, counter in summed.items()}


def _steps(counter: Counter) -> list[WalkStep]:
    return [WalkStep(column=column, label=label, to=to, end=end, sessions=count)
            for (column, label, to, end), count in sorted(counter.items())]


def walk_steps_summed(steps: Iterable[WalkStep]) -> list[WalkStep]:
    """Steps of several days (or sources) summed by column, label and what came next."""
    summed: Counter = Counter()
    for step in steps:
        summed[step.column, step.label, step.to, step.end] += step.sessions
    return _steps(summed)


def flow_from_walks(
    *,
    steps: Iterable[WalkStep],
    backward: bool,
    columns: int = DEFAULT_COLUMNS,
    top: int = DEFAULT_TOP,
    base: int | None = None,
) -> Flow:
    """flow_from_sessions(start=anchor) (or goal=anchor when `backward`) from the steps of its walks: the same
    flow, for `columns` columns and `top` nodes per column."""
    _check(columns, top)
    steps = [step for step in steps if step.column < columns and step.sessions > 0]
    at: dict[int, Counter] = defaultdict(Counter)
    for step in steps:
        at[step.column][step.label] += step.sessions
    kept = {column: _kept(at[column], top) for column in range(columns)}

    def folded(column: int, name: str) -> tuple[str, str]:
        return (PAGE, name) if name in kept[column] else (FOLDED, OTHER)

    built = _Builder()
    total = 0
    for step in steps:
        weight = step.sessions
        total += weight if step.column == 0 else 0
        node_id = built.node(step.column, *folded(step.column, step.label), weight)
        last = step.column + 1 == columns
        if step.to:
            if not last:  # the next column's node counts its own walks
                built.link(node_id, built.node(step.column + 1, *folded(step.column + 1, step.to), 0), weight)
            continue
        if step.end == EXIT:
            built.exits[node_id] = built.exits.get(node_id, 0) + weight
        if not last:
            built.link(node_id, built.node(step.column + 1, step.end, _END_LABELS[step.end], weight), weight)
    if not backward:
        return built.flow(direction="forward", columns=columns, total=total, base=base)
    return _mirrored(built.flow(direction="backward", columns=columns, total=total, base=base))
