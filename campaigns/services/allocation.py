"""Automatic allocation: Thompson sampling on the goal conversion rate of each variant.

Every variant keeps at least MIN_SHARE of the traffic shown a variant (so a loser's estimate keeps
improving), nothing moves before every variant has MIN_EXPOSED exposed visitors, and the holdout
share (`control_share`) is never touched: the uplift over showing nothing stays measurable.
"""

import logging

import numpy as np
from django.db import transaction
from django.utils import timezone

from campaigns.models import AllocationChange, Campaign, Variant
from campaigns.selectors.counters import variant_totals

logger = logging.getLogger(__name__)

MIN_SHARE = 0.10
MIN_EXPOSED = 100
DRAWS = 20_000
WEIGHT_TOTAL = 1000


def thompson_shares(*, exposed: list[int], converters: list[int], rng: np.random.Generator) -> list[float]:
    """Each arm's chance of being best under Beta(1 + converters, 1 + non-converters), floored at MIN_SHARE."""
    alpha = np.array(converters, dtype=float) + 1
    beta = np.maximum(np.array(exposed, dtype=float) - np.array(converters, dtype=float), 0) + 1
    samples = rng.beta(alpha, beta, size=(DRAWS, len(exposed)))
    p_best = np.bincount(samples.argmax(axis=1), minlength=len(exposed)) / DRAWS
    return shares_floored(p_best=list(p_best), floor=MIN_SHARE)


def shares_floored(*, p_best: list[float], floor: float) -> list[float]:
    """Every arm gets `floor`; what is left is split in proportion to p_best."""
    n = len(p_best)
    if n * floor >= 1:
        return [1 / n] * n
    rest = 1 - n * floor
    total = sum(p_best)
    return [floor + rest * (p / total if total > 0 else 1 / n) for p in p_best]


def allocation_update(*, campaign: Campaign, rng: np.random.Generator | None = None) -> AllocationChange | None:
    """Reweight an automatic campaign's variants; None when it is not time to (too few visitors, one variant)."""
    if campaign.allocation_mode != Campaign.Allocation.AUTO:
        return None
    variants = list(Variant.objects.filter(campaign=campaign).order_by("id"))
    if len(variants) < 2:
        return None
    totals = variant_totals(campaign_id=campaign.id)
    exposed = [int(totals.get(v.id, {}).get("exposed") or 0) for v in variants]
    converters = [int(totals.get(v.id, {}).get("converters") or 0) for v in variants]
    if min(exposed) < MIN_EXPOSED:
        return None
    rng = rng if rng is not None else np.random.default_rng()
    shares = thompson_shares(exposed=exposed, converters=converters, rng=rng)
    after = _integer_weights(shares)
    before = {str(v.id): v.weight for v in variants}
    weights_after = {str(v.id): w for v, w in zip(variants, after, strict=True)}
    if weights_after == before:
        return None
    with transaction.atomic():
        for variant, weight in zip(variants, after, strict=True):
            if variant.weight != weight:
                variant.weight = weight
                variant.save(update_fields=["weight"])  # the signal drops the site's cached config
        change = AllocationChange.objects.create(
            campaign_id=campaign.id,
            changed_at=timezone.now(),
            weights_before=before,
            weights_after=weights_after,
            evidence={
                str(v.id): {"exposed": e, "converters": c, "share": round(s, 4)}
                for v, e, c, s in zip(variants, exposed, converters, shares, strict=True)
            },
        )
    logger.info("allocation_update: campaign %s %s -> %s", campaign.id, before, weights_after)
    return change


def _integer_weights(shares: list[float]) -> list[int]:
    """Shares as integer weights summing to WEIGHT_TOTAL (largest remainder), each at least 1."""
    raw = [s * WEIGHT_TOTAL for s in shares]
    weights = [max(1, int(r)) for r in raw]
    left = WEIGHT_TOTAL - sum(weights)
    for index in sorted(range(len(raw)), key=lambda i: raw[i] - int(raw[i]), reverse=True)[: max(0, left)]:
        weights[index] += 1
    return weights
