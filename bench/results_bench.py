"""Results bench: server time of the results page and API on a big campaign, the admin's front page (the overview
dashboard) of its site, and the calculator on 10 arms.

Seeds, in a throw-away test database, a campaign with 3 variants and a holdout whose daily counters stand for
about 10 million events over 90 days (plus other campaigns' counters, so the table is not tiny) and one assignment
per visitor they exposed (the worker's count of its journey effect timed), then times the admin results page and
the results API in-process (middleware, queries, statistics, template) and `calculator.calculate` on 10 arms. Then
the campaign goes live beside more active campaigns of the same site (two more A/B tests, an NPS survey with its
answers, a consent banner with its decisions), and the front page is timed. Prints figures; asserts nothing.
Budget: under 100 ms for the results page, the API and the front page.

    .venv/bin/python bench/results_bench.py [--runs 30]
"""

import argparse
import itertools
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
    if connection.vendor == "postgresql":
        assignments_seed(campaign)
    return owner, campaign


def assignments_seed(campaign) -> None:
    """One assignment per visitor the counters exposed (a tenth held out, 3 % converted), as the tally keeps them;
    then the worker's count of the campaign's journey effect, timed: the page reads that count, as it does for any
    campaign too big to count on a page (campaigns/results/journey_effect.py)."""
    from django.db.models import Sum

    from campaigns.models import Assignment, VariantDailyStats
    from campaigns.results.journey_effect import journey_effect_count

    visitors = VariantDailyStats.objects.filter(campaign_id=campaign.id).aggregate(n=Sum("exposed"))["n"] or 0
    variants = list(campaign.variants.values_list("id", flat=True))
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"""INSERT INTO {Assignment._meta.db_table} (site_id, campaign_id, variant_id, visitor_id,
                first_exposed_at, revenue, device, source, "returning", converted_on)
            SELECT %s, %s, CASE WHEN g %% 10 = 0 THEN NULL ELSE (%s::bigint[])[g %% %s + 1] END, 'v' || g,
                now() - (g %% {DAYS}) * interval '1 day', 0, '', '', false,
                CASE WHEN g %% 33 = 0 THEN current_date END
            FROM generate_series(1, %s) AS g""", [campaign.site_id, campaign.id, variants, len(variants), visitors])
        cursor.execute(f"ANALYZE {Assignment._meta.db_table}")
    print(f"seeded: {visitors:,} assignments in {time.perf_counter() - start:.1f} s", flush=True)
    start = time.perf_counter()
    journey_effect_count(campaign=campaign)
    print(f"journey effect of the {visitors:,} assigned visitors counted by the worker in "
          f"{time.perf_counter() - start:.1f} s (each running campaign every 10 minutes)", flush=True)


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


OVERVIEW_CAMPAIGNS = 2  # more A/B tests beside the big one, at a tenth of its traffic
NPS_DAILY_ANSWERS, CONSENT_DAILY_DECISIONS = 300, 3_000


def seed_overview(owner, campaign) -> None:
    """The big campaign goes live among the site's other active campaigns, answers and consent decisions."""
    import uuid
    from datetime import timedelta

    from django.utils import timezone

    from campaigns import services
    from campaigns.management.commands.results_seed import counters_seed, demo_campaign_create
    from campaigns.models import Campaign, ConsentRecord, Response

    start = time.perf_counter()
    site = campaign.site
    others = [demo_campaign_create(site=site, name=f"Bench test {n}") for n in range(OVERVIEW_CAMPAIGNS)]
    nps = services.campaign_create(
        site=site, name="Bench NPS", message_type=Campaign.MessageType.NPS, status=Campaign.Status.ACTIVE,
        triggers=[{"type": "page_load", "delay": 0}], goal={"type": "submit"},
        variants=[{"name": "NPS", "weight": 100, "content": {"question": "Would you recommend us?"}}],
    )
    banner = services.campaign_create(
        site=site, name="Bench consent", message_type=Campaign.MessageType.CONSENT, status=Campaign.Status.ACTIVE,
        triggers=[{"type": "page_load", "delay": 0}], goal={"type": "cta_click"},
        variants=[{"name": "Banner", "weight": 100, "content": {"headline": "Cookies?", "categories": [
            {"id": "necessary", "label": "Necessary", "required": True}, {"id": "analytics", "label": "Analytics"}]}}],
    )
    for n, other in enumerate([*others, nps, banner]):
        counters_seed(campaign=other, days=DAYS, daily_visitors=DAILY_VISITORS // 10, seed=11 + n)
    Campaign.objects.filter(site=site).update(status=Campaign.Status.ACTIVE)
    now, variant = timezone.now(), nps.variants.get()
    decisions = ConsentRecord.Decision.values
    answers = (
        Response(site=site, event_id=uuid.uuid4(), campaign_id=nps.id, variant_id=variant.id, visitor_id=f"v{d}-{i}",
                 form=Response.Form.NPS, score=(d * 7 + i) % 11, created_at=now - timedelta(days=d, minutes=i))
        for d in range(DAYS) for i in range(NPS_DAILY_ANSWERS)
    )
    consents = (
        ConsentRecord(site=site, event_id=uuid.uuid4(), consent_id=f"c{d}-{i}", decided_at=at, received_at=at,
                      policy_version="1", decision=decisions[i % 7 % 3], categories=["necessary"])
        for d in range(DAYS) for i in range(CONSENT_DAILY_DECISIONS)
        for at in (now - timedelta(days=d, seconds=i * 20),)
    )
    for model, rows in ((Response, answers), (ConsentRecord, consents)):
        while batch := list(itertools.islice(rows, 10_000)):
            model.objects.bulk_create(batch)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Response, ConsentRecord, Campaign):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    print(f"front page: {Campaign.objects.filter(site=site, status='active').count()} active campaigns, "
          f"{Response.objects.count():,} NPS answers and {ConsentRecord.objects.count():,} consent decisions over "
          f"{DAYS} days, seeded in {time.perf_counter() - start:.1f} s")


def bench_overview(owner, runs: int) -> None:
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from campaigns.results.overview import overview_get

    client = Client()
    client.force_login(owner)
    url = reverse("admin:index")
    status = client.get(url).status_code
    if status != 200:
        print(f"front page: HTTP {status} at {url}")
        return
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    queries = len(captured.captured_queries)
    median, worst = timed(lambda: client.get(url), runs)
    verdict = "within" if median < BUDGET_MS else "OVER"
    print(f"{'front page':<14} {url:<45} median {median:6.1f} ms  worst {worst:6.1f} ms  ({verdict} {BUDGET_MS} ms; "
          f"{queries} queries, budget 15)")
    # This process's CPU alone (the database's work left out): on a loaded machine, wall time also counts waits.
    cpu = []
    for _ in range(runs):
        start = time.process_time()
        client.get(url)
        cpu.append((time.process_time() - start) * 1000)
    print(f"{'front page':<14} {'CPU of the web process only':<45} median {statistics.median(cpu):6.1f} ms")
    median, worst = timed(lambda: overview_get(user=owner), runs)
    print(f"{'selector only':<14} {'overview_get()':<45} median {median:6.1f} ms  worst {worst:6.1f} ms")


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
        seed_overview(owner, campaign)
        bench_overview(owner, args.runs)
        bench_calculator(args.runs)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
