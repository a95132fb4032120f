"""One page and its neighbours, from the daily counters: where its visitors came from and where they went next.

Every page view of the chosen label (a group's name, or a path in no group), at any step: before it, the labels of
the previous pages and ENTERED for the page views that began a session; after it, the labels of the next pages and
LEFT for the exits. Both sides add up to its page views on counts as the fold writes them. Plain data in, answers out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from campaigns.journeys.flow import BAD_TOP, ENTERED, LEFT, MAX_TOP, OTHER, PageCount, TransitionCount
from campaigns.journeys.paths import Group, labeller


@dataclass(frozen=True)
class Neighbour:
    label: str
    count: int
    share: float  # of the page's page views


@dataclass(frozen=True)
class PageTransitions:
    label: str
    pageviews: int
    before: tuple[Neighbour, ...]
    after: tuple[Neighbour, ...]


def _side(counts: Counter, *, end: str, top: int, total: int) -> tuple[Neighbour, ...]:
    """The `top` labels by count, OTHER for the rest, and the end (ENTERED or LEFT) last."""
    ends = counts.pop(end, 0)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    rest = sum(count for _label, count in ranked[top:])
    rows = [*ranked[:top], *([(OTHER, rest)] if rest else []), *([(end, ends)] if ends else [])]
    return tuple(Neighbour(label=label, count=count, share=count / total if total else 0.0) for label, count in rows)


def page_transitions(
    *,
    label: str,
    pages: Iterable[PageCount],
    transitions: Iterable[TransitionCount],
    groups: Sequence[Group] = (),
    top: int = 5,
) -> PageTransitions:
    """The page views of `label`, the pages before them and the pages after them (moves within the label are
    neighbours on both sides, as a reload is)."""
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_TOP:
        raise ValueError(BAD_TOP)
    name = labeller(groups=groups)
    views = 0
    before: Counter = Counter()
    after: Counter = Counter()
    for page in pages:
        if name(page.path) == label:
            views += page.pageviews
            before[ENTERED] += page.entries
    for move in transitions:
        if name(move.path) == label:
            before[name(move.from_path)] += move.count
        if name(move.from_path) == label:
            after[name(move.path)] += move.count
    after[LEFT] = max(0, views - sum(after.values()))
    return PageTransitions(
        label=label,
        pageviews=views,
        before=_side(before, end=ENTERED, top=top, total=views),
        after=_side(after, end=LEFT, top=top, total=views),
    )
