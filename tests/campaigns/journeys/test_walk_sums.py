"""walk_sums.walk_rows gives, for every anchor, direction and segment (each of device, source and new/returning kept
or "any"), the steps walks.walk_steps_by_anchor gives on the sessions of that segment, in the same order."""

import json
import random
from collections import Counter, defaultdict
from itertools import product

from campaigns.journeys import walk_sums
from campaigns.journeys.flow import SessionPaths, sessions_labelled
from campaigns.journeys.walk_sums import walk_rows
from campaigns.journeys.walks import walk_steps_by_anchor

SEGMENTS = list(product(("desktop", "mobile"), ("google", "direct", "news"), (True, False)))


def _generated(rng: random.Random) -> dict[tuple, list[SessionPaths]]:
    # Labels whose code point order differs from other orders (case, accents, punctuation).
    names = ["A", "B", "é", "Z", "a", "/x", "Ä", "Blog: topic"][:rng.randint(1, 8)]
    by_segment = {}
    for segment in SEGMENTS:
        if rng.random() < 0.3:
            continue
        sessions = [SessionPaths(paths=tuple(rng.choice(names) for _ in range(length)),
                                 steps=length + rng.choice((0, 0, 2)), sessions=rng.randint(0, 3))
                    for length in (rng.randint(0, 10) for _ in range(rng.randint(0, 20)))]
        by_segment[segment] = sessions_labelled(sessions=sessions)
    return by_segment


def _expected(by_segment) -> dict[tuple, tuple[int, list]]:
    summed: dict[tuple, Counter] = defaultdict(Counter)
    for segment, sessions in by_segment.items():
        for (anchor, backward), steps in walk_steps_by_anchor(sessions=sessions).items():
            for mask in product((True, False), repeat=3):
                target = tuple(value if keep else None for value, keep in zip(segment, mask, strict=True))
                for step in steps:
                    summed[anchor, backward, target][step.column, step.label, step.to, step.end] += step.sessions
    return {key: (sum(count for (column, *_rest), count in counter.items() if column == 0),
                  [[*step, count] for step, count in sorted(counter.items())]) for key, counter in summed.items()}


def test_the_rows_are_the_walk_steps_of_each_segment_summed_into_its_any_segments():
    rng = random.Random(7)
    for _ in range(200):
        by_segment = _generated(rng)
        rows = walk_rows(by_segment=by_segment, columns=10)
        assert {(row.anchor, row.backward, row.segment): (row.sessions, json.loads(row.steps)) for row in rows} == (
            _expected(by_segment))
        assert len(rows) == len({(row.anchor, row.backward, row.segment) for row in rows})


def test_no_sessions_give_no_rows():
    assert walk_rows(by_segment={}, columns=10) == []
    assert walk_rows(by_segment={SEGMENTS[0]: [SessionPaths(paths=(), steps=1)]}, columns=10) == []


def test_keys_that_would_overflow_give_none(monkeypatch):
    monkeypatch.setattr(walk_sums, "_KEY_LIMIT", 100)
    assert walk_rows(by_segment=_generated(random.Random(1)), columns=10) is None
