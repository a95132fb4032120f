"""What the journey fold writes for a list of sessions, computed the plain way: the reference the flows are tested on.

Each session is the list of the URLs its page views had, in order. The rows are those the models' docstring
(campaigns/models/journeys.py) says the fold writes, summed over days and segments.
"""

from collections import Counter

from campaigns.journeys.flow import EXIT, FOLDED, PAGE, START, UNKNOWN, Flow, PageCount, SessionPaths, TransitionCount
from campaigns.journeys.funnel import GAP_FINE, GAP_FINE_RATIO
from campaigns.journeys.paths import path_clean
from campaigns.models.journeys import SESSION_PATHS, STEP_LATER


def fold(sessions, *, rules=()) -> tuple[list[PageCount], list[TransitionCount], list[SessionPaths]]:
    views, entries, moves = Counter(), Counter(), Counter()
    rows = []
    for urls in sessions:
        paths = [path_clean(url=url, rules=rules) for url in urls]
        for index, path in enumerate(paths):
            step = min(index + 1, STEP_LATER)
            views[step, path] += 1
            if index == 0:
                entries[step, path] += 1
            else:
                moves[step, paths[index - 1], path] += 1
        rows.append(SessionPaths(paths=tuple(paths[:SESSION_PATHS]), steps=len(paths)))
    pages = [PageCount(step=step, path=path, pageviews=count, entries=entries[step, path])
             for (step, path), count in views.items()]
    transitions = [TransitionCount(step=step, from_path=source, path=target, count=count)
                   for (step, source, target), count in moves.items()]
    return pages, transitions, rows


def conservation_problems(flow: Flow) -> list[str]:
    """Where sessions are not conserved: each node's sessions come in from the column before (but in the first)
    and all go on to the next (but in the last, and at the ends of sessions)."""
    problems = []
    for node in flow.nodes:
        ins = sum(link.count for link in flow.links_in(node.id))
        outs = sum(link.count for link in flow.links_out(node.id))
        first, last = node.column == 0, node.column == flow.columns - 1
        if flow.direction == "forward":
            expect_in = 0 if first else node.count
            expect_out = 0 if last or node.kind in (EXIT, UNKNOWN) else node.count
        else:
            expect_in = 0 if first or node.kind == START else node.count
            expect_out = 0 if last else node.count
        if ins != expect_in:
            problems.append(f"{node.id}: {node.count} sessions, {ins} came in")
        if outs != expect_out:
            problems.append(f"{node.id}: {node.count} sessions, {outs} went on")
        if node.kind in (PAGE, FOLDED) and node.exits is not None and node.exits < 0:
            problems.append(f"{node.id}: negative exits")
    return problems


def funnels_close(got, expected) -> bool:
    """Two funnels (lists of funnel.FunnelStage) agree: counts, shares and conversions equal, and each median within
    half a fine bucket of the other (funnel.py: a median read from the rollups' histograms)."""
    if len(got) != len(expected):
        return False
    for mine, theirs in zip(got, expected, strict=True):
        if (mine.stage, mine.visitors, mine.share, mine.converted, mine.conversion) != (
                theirs.stage, theirs.visitors, theirs.share, theirs.converted, theirs.conversion):
            return False
        if (mine.median_to_next is None) != (theirs.median_to_next is None):
            return False
        if mine.median_to_next is not None:
            a, b = mine.median_to_next.total_seconds(), theirs.median_to_next.total_seconds()
            if abs(a - b) > (GAP_FINE_RATIO - 1) / 2 * b + 1 / GAP_FINE:
                return False
    return True
