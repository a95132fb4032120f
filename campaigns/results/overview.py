"""Reads: the admin's front page. Per site a user may see: each active campaign's last 7 and 30 days with a daily
series, the running A/B tests with today's verdict, NPS and consent over the last 30 days.

A fixed number of queries whatever the number of sites and campaigns: sites, active campaigns, their variants, the
last 30 days of counters, the running tests' counters, NPS answers, consent decisions (the tests' counters and the
NPS answers only when there are such campaigns). It reads what the tally keeps (the daily counters, the answers
and the consent proof), never raw events; everything else is computed here in Python. docs/results.md explains
each figure.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from campaigns.models import Campaign, ConsentRecord, Response, Site, Variant, VariantDailyStats
from campaigns.results.campaign import campaign_results_from
from campaigns.results.reports import nps_category, nps_score
from campaigns.rules import zone
from campaigns.selectors.access import sites_for_user

WINDOWS = (7, 30)
SERIES_DAYS = max(WINDOWS)
RECORDS_DAYS = 30  # NPS "now" and the consent rate: answers and decisions received in the last 30 days,
RECORDS_LATEST = 10_000  # at most this many, the newest (an NPS within about ±2 points, a rate within ±1 %)
TIME_FIELDS = {Response: "created_at", ConsentRecord: "received_at"}
WINDOW_FIGURES = ("impressions", "converters", "exposed")
# What a test's verdict reads of its counters (the calculator's binomial arms, the multiple-exposure warning): the
# revenue sums, the costliest columns to read, are left out.
VERDICT_FIGURES = ("exposed", "converters", "mixed_visitors")


@dataclass
class Window:
    """One campaign's shown arms (the holdout left out) over the last `days` days of its site."""

    days: int
    impressions: int = 0  # times the message was shown
    converters: int = 0  # visitors who reached the goal, each on the day they first did
    exposed: int = 0  # visitors first shown the message

    @property
    def conversion_rate(self) -> float | None:
        """Converters per exposed visitor, as the results page computes it (never above 1: a visitor exposed
        before the window may convert inside it)."""
        return min(self.converters, self.exposed) / self.exposed if self.exposed else None


@dataclass
class CampaignOverview:
    campaign: Campaign
    windows: dict[int, Window]
    daily_impressions: list[tuple[date, int]]  # oldest first, SERIES_DAYS days, zeros included


@dataclass
class TestOverview:
    campaign: Campaign
    arms: list[str]
    verdict: str
    srm_mismatch: bool


@dataclass
class NpsOverview:
    campaign: Campaign
    score: float | None
    interval: tuple[float, float] | None
    responses: int


@dataclass
class ConsentOverview:
    decisions: int
    granted: int
    custom: int
    denied: int

    @property
    def accept_rate(self) -> float | None:
        """Decisions that accepted every category."""
        return self.granted / self.decisions if self.decisions else None

    @property
    def custom_rate(self) -> float | None:
        return self.custom / self.decisions if self.decisions else None

    @property
    def reject_rate(self) -> float | None:
        return self.denied / self.decisions if self.decisions else None


@dataclass
class SiteOverview:
    site: Site
    today: date
    campaigns: list[CampaignOverview] = field(default_factory=list)
    tests: list[TestOverview] = field(default_factory=list)
    nps: list[NpsOverview] = field(default_factory=list)
    consent: ConsentOverview | None = None


def is_ab_test(*, campaign: Campaign, variants: list[Variant]) -> bool:
    """Running: two variants or more, or one against a holdout, and no winner declared yet."""
    return campaign.winner_id is None and (len(variants) >= 2 or (len(variants) == 1 and campaign.control_share > 0))


def overview_get(*, user, now: datetime | None = None) -> list[SiteOverview]:
    """The front page's figures for every site `user` may see, by site name."""
    now = now or timezone.now()
    sites = list(sites_for_user(user=user).order_by("name", "id"))
    if not sites:
        return []
    overviews = {site.id: SiteOverview(site=site, today=timezone.localtime(now, zone(site.time_zone)).date())
                 for site in sites}
    campaigns = list(
        Campaign.objects.filter(site_id__in=overviews, status=Campaign.Status.ACTIVE).order_by("name", "id")
    )
    variants: dict[int, list[Variant]] = defaultdict(list)
    if campaigns:
        for variant in Variant.objects.filter(campaign_id__in=[c.id for c in campaigns]).order_by("id"):
            variants[variant.campaign_id].append(variant)

    first_day = min(o.today for o in overviews.values()) - timedelta(days=SERIES_DAYS - 1)
    daily = _recent_counters(campaign_ids=[c.id for c in campaigns], since=first_day)
    tests = [c for c in campaigns if is_ab_test(campaign=c, variants=variants[c.id])]
    test_rows = _test_counters(campaign_ids=[c.id for c in tests])
    for campaign in campaigns:
        site = overviews[campaign.site_id]
        site.campaigns.append(_campaign_overview(campaign=campaign, today=site.today, daily=daily[campaign.id]))
    for campaign in tests:
        results = campaign_results_from(campaign=campaign, variants=variants[campaign.id],
                                        rows=test_rows[campaign.id], verdict_only=True)
        overviews[campaign.site_id].tests.append(TestOverview(
            campaign=campaign, arms=[arm["name"] for arm in results["arms"] if not arm["deleted"]],
            verdict=results["verdict"], srm_mismatch=results["srm"]["mismatch"],
        ))

    since = now - timedelta(days=RECORDS_DAYS)
    nps_campaigns = [c for c in campaigns if c.message_type == Campaign.MessageType.NPS]
    answers = _nps_counts(campaign_ids=[c.id for c in nps_campaigns], since=since)
    for campaign in nps_campaigns:
        score = nps_score(**answers.get(campaign.id, {"promoters": 0, "passives": 0, "detractors": 0}))
        overviews[campaign.site_id].nps.append(NpsOverview(campaign=campaign, **score))
    for site_id, counts in _consent_counts(site_ids=list(overviews), since=since).items():
        overviews[site_id].consent = ConsentOverview(
            decisions=sum(counts.values()), **{d: counts.get(d, 0) for d in ConsentRecord.Decision.values}
        )
    return list(overviews.values())


def _recent_counters(*, campaign_ids: list[int], since: date) -> dict[int, dict[date, dict]]:
    """Per campaign and day from `since`: the shown arms' figures, summed over variants and segments."""
    found: dict[int, dict[date, dict]] = defaultdict(dict)
    if not campaign_ids:
        return found
    rows = (
        VariantDailyStats.objects.filter(campaign_id__in=campaign_ids, day__gte=since, variant_id__isnull=False)
        .values("campaign_id", "day").annotate(**{name: Sum(name) for name in WINDOW_FIGURES}).order_by()
    )
    for row in rows:
        found[row.pop("campaign_id")][row.pop("day")] = row
    return found


def _campaign_overview(*, campaign: Campaign, today: date, daily: dict[date, dict]) -> CampaignOverview:
    windows = {days: Window(days=days) for days in WINDOWS}
    for day, figures in daily.items():
        age = (today - day).days
        for window in windows.values():
            if 0 <= age < window.days:
                for name in WINDOW_FIGURES:
                    setattr(window, name, getattr(window, name) + int(figures[name] or 0))
    series = [today - timedelta(days=SERIES_DAYS - 1 - offset) for offset in range(SERIES_DAYS)]
    return CampaignOverview(
        campaign=campaign, windows=windows,
        daily_impressions=[(day, int((daily.get(day) or {}).get("impressions") or 0)) for day in series],
    )


def _test_counters(*, campaign_ids: list[int]) -> dict[int, list[dict]]:
    """The running tests' counters per arm and day over the whole test, as counters_daily() gives one campaign's
    (those the verdict does not read are zeros)."""
    found: dict[int, list[dict]] = defaultdict(list)
    if not campaign_ids:
        return found
    rows = (
        VariantDailyStats.objects.filter(campaign_id__in=campaign_ids)
        .values("campaign_id", "variant_id", "day")
        .annotate(**{name: Sum(name) for name in VERDICT_FIGURES})
        .order_by("campaign_id", "day", "variant_id")
    )
    unread = dict.fromkeys(set(VariantDailyStats.COUNTERS) - set(VERDICT_FIGURES), 0)
    for row in rows:
        found[row.pop("campaign_id")].append({**unread, **row})
    return found


def _latest_counts(*, model, key: str, keys: list[int], value: str, since: datetime, where: str = "",
                   params: tuple = ()) -> dict[tuple[int, object], int]:
    """{(key, value): rows} over each key's RECORDS_LATEST newest rows since `since`: a bounded read (an index range
    per key, newest first, on PostgreSQL) however many answers or decisions a busy site keeps."""
    if not keys:
        return {}
    quote, table = connection.ops.quote_name, connection.ops.quote_name(model._meta.db_table)
    key_column = quote(model._meta.get_field(key).column)
    time_column = quote(model._meta.get_field(TIME_FIELDS[model]).column)
    start = connection.ops.adapt_datetimefield_value(since)
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT k.id, r.value, COUNT(*) FROM unnest(%s::bigint[]) AS k(id) CROSS JOIN LATERAL ("
            f"SELECT {quote(value)} AS value FROM {table} WHERE {key_column} = k.id AND {time_column} >= %s{where} "
            f"ORDER BY {time_column} DESC LIMIT %s) AS r GROUP BY 1, 2"
        )
        arguments = [list(keys), start, *params, RECORDS_LATEST]
    else:
        marks = ", ".join(["%s"] * len(keys))
        sql = (
            f"SELECT key, value, COUNT(*) FROM (SELECT {key_column} AS key, {quote(value)} AS value, ROW_NUMBER() "
            f"OVER (PARTITION BY {key_column} ORDER BY {time_column} DESC) AS n FROM {table} "
            f"WHERE {key_column} IN ({marks}) AND {time_column} >= %s{where}) AS r WHERE n <= %s GROUP BY 1, 2"
        )
        arguments = [*keys, start, *params, RECORDS_LATEST]
    with connection.cursor() as cursor:
        cursor.execute(sql, arguments)
        return {(found, found_value): n for found, found_value, n in cursor.fetchall()}


def _nps_counts(*, campaign_ids: list[int], since: datetime) -> dict[int, dict[str, int]]:
    counts = _latest_counts(
        model=Response, key="campaign_id", keys=campaign_ids, value="score", since=since,
        where=" AND form = %s AND score IS NOT NULL", params=(Response.Form.NPS,),
    )
    found: dict[int, dict[str, int]] = defaultdict(lambda: {"promoters": 0, "passives": 0, "detractors": 0})
    for (campaign_id, score), n in counts.items():
        found[campaign_id][nps_category(score)] += n
    return found


def _consent_counts(*, site_ids: list[int], since: datetime) -> dict[int, dict[str, int]]:
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for (site_id, decision), n in _latest_counts(model=ConsentRecord, key="site", keys=site_ids, value="decision",
                                                 since=since).items():
        found[site_id][decision] = n
    return found
