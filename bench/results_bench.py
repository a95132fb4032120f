"""Results bench: server time of the results page and API on a big campaign, and the calculator on 10 arms.

Seeds, in a throw-away test database, a campaign with 3 variants and a holdout whose daily counters
stand for about 10 million events over 90 days (plus other campaigns' counters, so the table is not
tiny), then times the admin results page and the results API in-process (middleware, queries,
statistics, template) and `calculator.calculate` on 10 arms. Prints figures; asserts nothing.
Budget: under 100 ms for the page and for the API.

    .venv/bin/python bench/results_bench.py [--runs 30]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retarget.test_settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402

BUDGET_MS = 100
DAYS = 90
DAILY_VISITORS = 36_000  # about 10 million events' worth over 90 days, 3 variants and a 10 % holdout
OTHER_CAMPAIGNS = 300


def timed(fn, runs: int) -> tuple[float, float]:
    """(median, worst) in milliseconds, after two warm-up calls."""
    fn()
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def seed():
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from campaigns import services
    from campaigns.management.commands.results_seed import counters_seed, demo_campaign_create
    from campaigns.models import VariantDailyStats

    owner = get_user_model().objects.create_user(username="bench", password="bench", is_staff=True)
    site = services.site_create(owner=owner, name="Bench shop", allowed_origins=["https://bench.example"])
    campaign = demo_campaign_create(site=site)
    start = time.perf_counter()
    events = counters_seed(campaign=campaign, days=DAYS, daily_visitors=DAILY_VISITORS)
    # Other campaigns' rows: the results query must find its own among many.
    today = timezone.localdate()
    noise = [
        VariantDailyStats(campaign_id=10_000_000 + c, variant_id=v, day=today - timedelta(days=d), exposed=100,
                          converters=3)
        for c in range(OTHER_CAMPAIGNS) for v in (1, 2, 3, None) for d in range(DAYS)
    ]
    VariantDailyStats.objects.bulk_create(noise, batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {VariantDailyStats._meta.db_table}")
    rows = VariantDailyStats.objects.count()
    print(f"seeded: {events:,} events' worth of counters for campaign {campaign.id} "
          f"({VariantDailyStats.objects.filter(campaign_id=campaign.id).count()} rows; {rows:,} rows in the table) "
          f"in {time.perf_counter() - start:.1f} s")
    return owner, campaign


def bench_http(owner, campaign, runs: int) -> None:
    from django.test import Client

    client = Client()
    client.force_login(owner)
    try:
        page = reverse("admin:campaigns_campaign_results", args=[campaign.id])
    except NoReverseMatch:
        page = None
        print("results page: not wired (CampaignResultsAdminMixin missing from CampaignAdmin)")
    api = f"/api/campaigns/{campaign.id}/results/"
    for label, url in (("results page", page), ("results API", api)):
        if url is None:
            continue
        status = client.get(url).status_code
        if status != 200:
            print(f"{label}: HTTP {status} at {url} (urls_results not included?)")
            continue
        median, worst = timed(lambda url=url: client.get(url), runs)
        verdict = "within" if median < BUDGET_MS else "OVER"
        print(f"{label:<14} {url:<45} median {median:6.1f} ms  worst {worst:6.1f} ms  ({verdict} {BUDGET_MS} ms)")
    from campaigns.models import Campaign
    from campaigns.results.campaign import campaign_results

    fresh = Campaign.objects.get(pk=campaign.pk)
    median, worst = timed(lambda: campaign_results(campaign=fresh), runs)
    print(f"{'selector only':<14} {'campaign_results()':<45} median {median:6.1f} ms  worst {worst:6.1f} ms")


def bench_calculator(runs: int) -> None:
    from campaigns.results.calculator import calculate

    arms = [{"name": f"arm {i}", "visitors": 100_000 + 137 * i, "conversions": 3_000 + 11 * i} for i in range(10)]
    for engine, extra in (("frequentist", {}), ("frequentist", {"sequential_tuning": 5000, "correction": "holm"}),
                          ("bayesian", {}), ("bayesian", {"mde": 0.05})):
        spec = {"engine": engine, "arms": arms, **extra}
        median, worst = timed(lambda spec=spec: calculate(spec), runs)
        label = engine + (" " + ", ".join(f"{k}={v}" for k, v in extra.items()) if extra else "")
        print(f"calculator, 10 arms, {label:<45} median {median:6.2f} ms  worst {worst:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    setup_test_environment()
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = (
        "test_retarget_results_bench" if connection.vendor == "postgresql"
        else str(Path(settings.BASE_DIR) / "bench-results.sqlite3")
    )
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        print(f"database: {connection.vendor}")
        owner, campaign = seed()
        bench_http(owner, campaign, args.runs)
        bench_calculator(args.runs)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
