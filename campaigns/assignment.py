"""Deterministic variant bucketing, the same algorithm as widget/src/core/assignment.js.

See docs/contracts.md, "Variant bucketing"; cases in tests/conformance/bucketing.json.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypedDict

FNV_OFFSET_BASIS = 2166136261
FNV_PRIME = 16777619
_NUMBER_TYPES = (int, float)


class Assignment(TypedDict):
    holdout: bool
    index: int | None


def fnv1a32(data: str | bytes) -> int:
    """FNV-1a, 32 bit, over the UTF-8 bytes of a string."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    h = FNV_OFFSET_BASIS
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & 0xFFFFFFFF
    return h


def bucket(*, campaign_id: int | str, visitor_id: str) -> float:
    """The visitor's position in [0, 1) for one campaign."""
    return fnv1a32(f"{campaign_id}:{visitor_id}") / 2**32


def assign(
    *,
    campaign_id: int | str,
    visitor_id: str,
    control_share: float,
    weights: Sequence[float],
) -> Assignment:
    """Holdout, or the index (in config order) of the visitor's variant, or no variant at all.

    The holdout test comes first, as in the contract: a visitor of a campaign without any
    positive weight can still be in its holdout; decide() refuses such a campaign earlier.
    """
    h = bucket(campaign_id=campaign_id, visitor_id=visitor_id)
    share = control_share if is_number(control_share) else 0
    if h < share:
        return {"holdout": True, "index": None}
    positive = [(i, w) for i, w in enumerate(weights) if is_number(w) and w > 0]
    if not positive:
        return {"holdout": False, "index": None}
    total = 0.0
    for _, w in positive:
        total += w
    u = (h - share) / (1 - share) if share > 0 else h
    cum = 0.0
    for i, w in positive:
        cum += w / total
        if u < cum:
            return {"holdout": False, "index": i}
    return {"holdout": False, "index": positive[-1][0]}


def is_number(x: object) -> bool:
    """A JSON number as both evaluators read one: not a boolean, not NaN (`x == x` is False only for NaN).

    The one definition of "is a number" for the rule language (campaigns.rules re-exports it): it lives here
    because this is the core module that imports nothing, so rules and everything above may use it.
    """
    return type(x) in _NUMBER_TYPES and x == x


def is_finite_number(x: object) -> bool:
    """A number that is not an infinity either: what counts as an amount, a weight or a figure to show."""
    return is_number(x) and math.isfinite(x)  # type: ignore[arg-type]
