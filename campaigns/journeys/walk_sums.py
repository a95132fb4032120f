"""The walk steps of a day's sessions summed per segment and per "any" segment (what the session rollups keep), with
numpy: a day of a large site has some hundred thousand label sequences by segment, millions of steps once walked,
and each step counts in 8 segments (each of device, source and new/returning kept or "any").

`walk_rows` gives the same steps as walks.walk_steps_by_anchor on each segment's sessions summed into its "any"
segments, in the same order (by column, label, next label, end: code point order), as the JSON text of the rows.
Every step is packed into one integer key (labels numbered in code point order, so that the keys sort as the steps
do), so that summing is one sort of integers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np

from campaigns.journeys.flow import EXIT, START, UNKNOWN, SessionPaths

# How a walk ends, in code point order, "" (it went on) first: a step's end is its index here.
_ENDS = sorted(("", EXIT, UNKNOWN, START))
# Keys above this would overflow int64: walk_rows then answers None and the caller walks in Python.
_KEY_LIMIT = 2**62


@dataclass(frozen=True)
class WalkRow:
    """The walks from `anchor` (backwards when `backward`) in `segment` (None for "any"): `sessions` reached the
    anchor; `steps` is the JSON text of their [column, label, next label or "", end or "", sessions] lists."""

    anchor: str
    backward: bool
    segment: tuple
    sessions: int
    steps: str


def walk_rows(*, by_segment: Mapping[tuple, Sequence[SessionPaths]], columns: int) -> list[WalkRow] | None:
    """The rows of every (anchor, direction, segment with None for "any") of sessions already labelled, each at most
    `columns` long; None when there are too many labels or segments for the integer keys."""
    fine = list(by_segment)
    rows = [(index, session) for index, segment in enumerate(fine) for session in by_segment[segment]
            if session.sessions > 0 and session.paths]
    names = sorted({name for _index, session in rows for name in session.paths})
    labels, ends = len(names), len(_ENDS)
    # The "any" segments of each fine one, numbered: targets[mask][fine index] -> target index.
    masks = list(product((True, False), repeat=len(fine[0]) if fine else 0))
    numbered: dict[tuple, int] = {}
    targets = [np.array([numbered.setdefault(tuple(value if keep else None for value, keep in zip(segment, mask,
                                                                                                   strict=True)),
                                             len(numbered)) for segment in fine] or [0], dtype=np.int64)
               for mask in masks]
    step_keys = labels * 2 * columns * labels * (labels + 1) * ends
    if not rows or step_keys * max(len(numbered), len(fine)) >= _KEY_LIMIT:
        return [] if not rows else None
    number = {name: position for position, name in enumerate(names)}
    padding = [(-1,) * size for size in range(columns + 1)]
    seq = np.array([(*(number[name] for name in session.paths), *padding[columns - len(session.paths)])
                    for _index, session in rows], dtype=np.int64)
    length = (seq >= 0).sum(axis=1)
    segment = np.array([index for index, _session in rows], dtype=np.int64)
    weight = np.array([session.sessions for _index, session in rows], dtype=np.int64)
    went_on = np.array([session.steps > len(session.paths) for _index, session in rows])
    last_end = np.where(went_on, _ENDS.index(UNKNOWN), _ENDS.index(EXIT))

    def key(anchor, backward, column, label, to, end):
        return ((((anchor * 2 + backward) * columns + column) * labels + label) * (labels + 1) + to) * ends + end

    keys, segments, weights = [], [], []
    for position in range(columns):
        # A walk starts at the first visit to its anchor.
        first = length > position
        for earlier in range(position):
            first &= seq[:, earlier] != seq[:, position]
        for backward, span in ((0, columns - position), (1, position + 1)):
            for column in range(span):
                at = position - column if backward else position + column
                chosen = first & (length > at) if not backward else first
                if not chosen.any():
                    continue
                rows_at = seq[chosen]
                after = at - 1 if backward else at + 1
                following = rows_at[:, after] if 0 <= after < columns else np.full(len(rows_at), -1)
                went = following >= 0
                end = np.where(went, 0, _ENDS.index(START) if backward else last_end[chosen])
                keys.append(key(rows_at[:, position], backward, column, rows_at[:, at],
                                np.where(went, following + 1, 0), end))
                segments.append(segment[chosen])
                weights.append(weight[chosen])
    step, fine_segment, count = _summed(np.concatenate(segments) * step_keys + np.concatenate(keys),
                                        np.concatenate(weights), step_keys)
    # Each fine segment's steps counted in each of its "any" segments.
    step, target, count = _summed(np.concatenate([mask_targets[fine_segment] * step_keys + step
                                                  for mask_targets in targets]), np.tile(count, len(targets)),
                                  step_keys)
    return _rows(target=target, step=step, count=count, names=names, segments=list(numbered), columns=columns)


def _summed(keys: np.ndarray, weights: np.ndarray, step_keys: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(step key, segment, count) of the keys summed, sorted by segment then step key."""
    unique, inverse = np.unique(keys, return_inverse=True)
    # Float sums are exact below 2**53 sessions.
    count = np.bincount(inverse, weights=weights, minlength=len(unique)).astype(np.int64)
    return unique % step_keys, unique // step_keys, count


def _rows(*, target, step, count, names, segments, columns) -> list[WalkRow]:
    labels, ends = len(names), len(_ENDS)
    step, end = np.divmod(step, ends)
    step, to = np.divmod(step, labels + 1)
    step, label = np.divmod(step, labels)
    step, column = np.divmod(step, columns)
    anchor, backward = np.divmod(step, 2)
    texts = [json.dumps(name) for name in names]
    to_texts = ['""', *texts]
    end_texts = [json.dumps(name) for name in _ENDS]
    elements = [f"[{c},{texts[lb]},{to_texts[t]},{end_texts[e]},{n}]" for c, lb, t, e, n in zip(
        column.tolist(), label.tolist(), to.tolist(), end.tolist(), count.tolist(), strict=True)]
    # A row is a run of the same segment, anchor and direction.
    row_key = (target * labels + anchor) * 2 + backward
    starts = np.flatnonzero(np.diff(row_key, prepend=-1))
    bounds = [*starts.tolist(), len(row_key)]
    reached = np.add.reduceat(np.where(column == 0, count, 0), starts) if len(starts) else []
    return [WalkRow(anchor=names[anchor[first]], backward=bool(backward[first]), segment=segments[target[first]],
                    sessions=int(reached[number]), steps="[" + ",".join(elements[first:last]) + "]")
            for number, (first, last) in enumerate(zip(bounds, bounds[1:], strict=False))]
