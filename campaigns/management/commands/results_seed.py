"""Seed the daily counters of an A/B campaign, for the demo and for bench/results_bench.py.

`manage.py results_seed` creates (or refills) the campaign "A/B results demo" on a site with three
variants and a 10 % holdout, and writes plausible counters for the last N days: deterministic
(seeded random numbers), written with bulk_create, as the tally would have left them.
"""

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign, Site, VariantDailyStats

DEMO_NAME = "A/B results demo (simulated counters)"
CENT, TEN_THOUSANDTH = Decimal("0.01"), Decimal("0.0001")
DEMO_VARIANTS = [
    {"name": "A", "weight": 34, "content": {"headline": "10% off your first order"}},
    {"name": "B", "weight": 33, "content": {"headline": "Free shipping today"}},
    {"name": "C", "weight": 33, "content": {"headline": "Join 20,000 happy runners"}},
]


# (device, source, returning, share of the traffic): the segments the demo's filters can pick.
DEMO_SEGMENTS = [
    ("desktop", "google/cpc", False, 0.25),
    ("desktop", "direct", True, 0.2),
    ("mobile", "google/cpc", False, 0.2),
    ("mobile", "facebook.com", False, 0.15),
    ("mobile", "direct", True, 0.12),
    ("tablet", "newsletter/email", True, 0.08),
]


@dataclass(frozen=True)
class ArmPlan:
    variant_id: int | None
    share: float
    conversion_rate: float


def demo_campaign_create(*, site: Site, name: str = DEMO_NAME) -> Campaign:
    return services.campaign_create(
        # Paused: its counters are simulated, and it must not show on the demo shop beside the real campaigns.
        site=site, name=name, message_type=Campaign.MessageType.POPUP, status=Campaign.Status.PAUSED,
        triggers=[{"type": "exit_intent"}], goal={"type": "purchase", "attribution_days": 7},
        control_share=0.1, variants=DEMO_VARIANTS,
    )


def arm_plans(*, campaign: Campaign, base_rate: float = 0.03, lifts: tuple[float, ...] = (0.0, 0.08, -0.03),
              holdout_rate: float = 0.025) -> list[ArmPlan]:
    """The holdout gets control_share; the variants split the rest by weight, each converting at base × (1 + lift)."""
    variants = list(campaign.variants.order_by("id"))
    total = sum(v.weight for v in variants) or 1
    plans = [
        ArmPlan(v.id, (1 - campaign.control_share) * v.weight / total, base_rate * (1 + lifts[i % len(lifts)]))
        for i, v in enumerate(variants)
    ]
    if campaign.control_share:
        plans.append(ArmPlan(None, campaign.control_share, holdout_rate))
    return plans


def counters_seed(*, campaign: Campaign, days: int, daily_visitors: int, end: date | None = None,
                  seed: int = 7, plans: list[ArmPlan] | None = None) -> int:
    """Replace the campaign's counters with `days` days of traffic; returns the number of events they stand for."""
    rng = np.random.default_rng(seed)
    end = end or timezone.localdate()
    plans = plans or arm_plans(campaign=campaign)
    rows, events = [], 0
    for offset in range(days):
        day = end - timedelta(days=days - 1 - offset)
        weekly = 1.0 + 0.15 * np.sin(offset / 7 * 2 * np.pi)  # a weekly rhythm, so the curves look real
        for plan, (device, source, returning, segment_share) in itertools.product(plans, DEMO_SEGMENTS):
            exposed = int(rng.poisson(daily_visitors * plan.share * segment_share * weekly))
            holdout = plan.variant_id is None
            seen = 0 if holdout else int(rng.binomial(exposed, 0.97))
            engaged = 0 if holdout else int(rng.binomial(seen, 0.22))
            submitted = 0 if holdout else int(rng.binomial(engaged, 0.45))
            converters = int(rng.binomial(exposed, plan.conversion_rate))
            revenue = rng.lognormal(mean=3.9, sigma=0.6, size=converters)  # about 60 per converting visitor
            row = VariantDailyStats(
                campaign_id=campaign.id, variant_id=plan.variant_id, day=day,
                device=device, source=source, returning=returning,
                exposed=exposed, impression_visitors=seen, engaged_visitors=engaged, submit_visitors=submitted,
                converters=converters,
                impressions=0 if holdout else int(seen * 1.4), closes=0 if holdout else int(seen * 0.6),
                clicks=0 if holdout else int(engaged * 1.2), submits=submitted,
                conversions=int(converters * 1.1),
                revenue_sum=Decimal(str(float(revenue.sum()))).quantize(CENT),
                revenue_sum_squares=Decimal(str(float((revenue * revenue).sum()))).quantize(TEN_THOUSANDTH),
            )
            rows.append(row)
            events += exposed + row.impressions + row.closes + row.clicks + row.submits + row.conversions
    with transaction.atomic():
        VariantDailyStats.objects.filter(campaign_id=campaign.id).delete()
        VariantDailyStats.objects.bulk_create(rows, batch_size=2000)
    return events


class Command(BaseCommand):
    help = "Create the 'A/B results demo' campaign on a site and fill its daily counters (replacing old ones)."

    def add_arguments(self, parser):
        parser.add_argument("--site", type=int, help="Site id (default: the first site).")
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--visitors", type=int, default=3000, help="Exposed visitors per day, all arms.")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, **options):
        sites = Site.objects.order_by("id")
        site = sites.filter(id=options["site"]).first() if options["site"] else sites.first()
        if site is None:
            raise CommandError("No such site: create one first (manage.py demo_seed does).")
        campaign = Campaign.objects.filter(site=site, name=DEMO_NAME).first() or demo_campaign_create(site=site)
        events = counters_seed(
            campaign=campaign, days=options["days"], daily_visitors=options["visitors"], seed=options["seed"]
        )
        self.stdout.write(
            f"Campaign {campaign.id} ({campaign.name}) on {site}: {options['days']} days, {events:,} events' worth "
            f"of counters. Results: /admin/campaigns/campaign/{campaign.id}/results/"
        )
