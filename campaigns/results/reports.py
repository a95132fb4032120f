"""Reads: NPS, feedback, leads and consent reports, from Response and ConsentRecord rows.

Every report is a fixed number of queries (aggregates with values().annotate()); the lists are
querysets the caller paginates. Days are the site's days (its time zone). docs/results.md
explains each figure.
"""

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import NormalDist

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncDate, TruncWeek

from campaigns.models import Campaign, ConsentRecord, Response, Site, Variant
from campaigns.rules import zone

PROMOTER_MIN, PASSIVE_MIN = 9, 7
DAILY_MAX_DAYS = 62  # a longer or open range is split by week
NPS_ALPHA = 0.05


@dataclass(frozen=True)
class ReportFilter:
    since: date | None = None
    until: date | None = None
    search: str = ""


def moment_range(*, site: Site, since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """The site's days as aware datetimes: [since 00:00, the day after until 00:00)."""
    tz = zone(site.time_zone)
    start = datetime.combine(since, time.min, tzinfo=tz) if since else None
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz) if until else None
    return start, end


def _in_range(queryset: QuerySet, *, field: str, site: Site, filters: ReportFilter) -> QuerySet:
    start, end = moment_range(site=site, since=filters.since, until=filters.until)
    if start is not None:
        queryset = queryset.filter(**{f"{field}__gte": start})
    if end is not None:
        queryset = queryset.filter(**{f"{field}__lt": end})
    return queryset


def responses(*, campaign: Campaign, form: str, filters: ReportFilter) -> QuerySet:
    return _in_range(
        Response.objects.filter(campaign_id=campaign.id, form=form), field="created_at", site=campaign.site,
        filters=filters,
    )


def _period(filters: ReportFilter) -> str:
    if filters.since and filters.until and (filters.until - filters.since).days < DAILY_MAX_DAYS:
        return "day"
    return "week"


def _truncate(period: str, zone):
    return TruncDate("created_at", tzinfo=zone) if period == "day" else TruncWeek("created_at", tzinfo=zone)


def nps_score(*, promoters: int, passives: int, detractors: int, alpha: float = NPS_ALPHA) -> dict:
    """NPS = 100 (P − D) / n, with a normal interval on the mean of +1 / 0 / −1 answers, within −100…100."""
    n = promoters + passives + detractors
    if n == 0:
        return {"score": None, "interval": None, "responses": 0}
    mean = (promoters - detractors) / n
    variance = (promoters + detractors) / n - mean * mean
    half = NormalDist().inv_cdf(1 - alpha / 2) * math.sqrt(max(variance, 0.0) / n)
    return {
        "score": 100 * mean,
        "interval": (max(-100.0, 100 * (mean - half)), min(100.0, 100 * (mean + half))),
        "responses": n,
    }


def nps_category(score: int) -> str:
    return "promoters" if score >= PROMOTER_MIN else "passives" if score >= PASSIVE_MIN else "detractors"


def nps_report(*, campaign: Campaign, filters: ReportFilter) -> dict:
    """Score, interval, 0–10 distribution, split per variant and over time: three queries."""
    scored = responses(campaign=campaign, form=Response.Form.NPS, filters=filters).filter(score__isnull=False)
    distribution = [0] * 11
    per_variant: dict = defaultdict(Counter)
    for row in scored.values("variant_id", "score").annotate(n=Count("id")).order_by():
        distribution[row["score"]] += row["n"]
        per_variant[row["variant_id"]][nps_category(row["score"])] += row["n"]
    split = Counter()
    for counts in per_variant.values():
        split.update(counts)
    names = dict(Variant.objects.filter(campaign_id=campaign.id).values_list("id", "name"))
    period = _period(filters)
    promoter, passive = Q(score__gte=PROMOTER_MIN), Q(score__gte=PASSIVE_MIN, score__lt=PROMOTER_MIN)
    over_time = []
    for row in (
        scored.annotate(period=_truncate(period, zone(campaign.site.time_zone)))
        .values("period")
        .annotate(
            promoters=Count("id", filter=promoter),
            passives=Count("id", filter=passive),
            detractors=Count("id", filter=Q(score__lt=PASSIVE_MIN)),
        )
        .order_by("period")
    ):
        total = row["promoters"] + row["passives"] + row["detractors"]
        period_start = row["period"].date() if isinstance(row["period"], datetime) else row["period"]
        over_time.append({
            "period": period_start,
            "responses": total,
            **{k: row[k] for k in ("promoters", "passives", "detractors")},
            **{f"{k}_share": row[k] / total for k in ("promoters", "passives", "detractors")},
            "score": nps_score(promoters=row["promoters"], passives=row["passives"],
                               detractors=row["detractors"])["score"],
        })
    return {
        **nps_score(**{k: split[k] for k in ("promoters", "passives", "detractors")}),
        "promoters": split["promoters"],
        "passives": split["passives"],
        "detractors": split["detractors"],
        "distribution": distribution,
        "variants": [
            {"id": key, "name": names.get(key, "Holdout" if key is None else f"Deleted variant #{key}"),
             **nps_score(**{k: counts[k] for k in ("promoters", "passives", "detractors")})}
            for key, counts in sorted(per_variant.items(), key=lambda item: (item[0] is None, item[0] or 0))
        ],
        "period": period,
        "over_time": over_time,
    }


def nps_followups(*, campaign: Campaign, filters: ReportFilter) -> QuerySet:
    """Answers with a follow-up text, newest first; `search` looks inside the text."""
    return nps_answers(campaign=campaign, filters=filters).exclude(followup="")


def nps_answers(*, campaign: Campaign, filters: ReportFilter) -> QuerySet:
    """Every NPS answer, newest first; `search` looks inside the follow-up."""
    rows = responses(campaign=campaign, form=Response.Form.NPS, filters=filters)
    if filters.search:
        rows = rows.filter(followup__icontains=filters.search)
    return rows.order_by("-created_at", "-id")


def feedback_options(*, campaign: Campaign) -> list[str]:
    """The options the campaign offers (feedback forms, and the cart-recovery survey), in their order."""
    options: list[str] = []
    for content in Variant.objects.filter(campaign_id=campaign.id).order_by("id").values_list("content", flat=True):
        content = content if isinstance(content, dict) else {}
        nested = content.get("feedback") if isinstance(content.get("feedback"), dict) else {}
        for option in (content.get("options") or []) + (nested.get("options") or []):
            if isinstance(option, str) and option not in options:
                options.append(option)
    return options


def choice_counts(queryset: QuerySet, *, field: str, group: str | None = None) -> dict:
    """How many rows hold each string of a JSON list field ({(group, value): n}), counted by the database.

    PostgreSQL unnests the lists; elsewhere (SQLite, the demo) the lists are read and counted here.
    """
    if connection.vendor != "postgresql":
        counts: Counter = Counter()
        for key, values in queryset.values_list(group or "id", field):
            for value in set(values) if isinstance(values, list) else ():
                if isinstance(value, str):
                    counts[(key if group else None, value)] += 1
        return dict(counts)
    table = queryset.model._meta.db_table
    sub_sql, params = queryset.values("id").query.sql_with_params()
    group_sql = f"t.{connection.ops.quote_name(group)}" if group else "NULL"
    column = f"t.{connection.ops.quote_name(field)}"
    sql = (
        f"SELECT {group_sql}, v.value, COUNT(DISTINCT t.id) FROM {table} AS t CROSS JOIN LATERAL "
        f"jsonb_array_elements_text(CASE WHEN jsonb_typeof({column}) = 'array' THEN {column} ELSE '[]'::jsonb END)"
        f" AS v(value) WHERE t.id IN ({sub_sql}) GROUP BY 1, 2"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(key, value): n for key, value, n in cursor.fetchall()}


def feedback_report(*, campaign: Campaign, filters: ReportFilter) -> dict:
    """Answers per option (a respondent may pick several) and how many left a free text."""
    rows = responses(campaign=campaign, form=Response.Form.FEEDBACK, filters=filters)
    totals = rows.aggregate(respondents=Count("id"), with_text=Count("id", filter=~Q(text="")))
    counts = {value: n for (_, value), n in choice_counts(rows, field="choices").items()}
    options = feedback_options(campaign=campaign)
    options += sorted(value for value in counts if value not in options)  # answers to since-removed options
    respondents = totals["respondents"]
    return {
        "respondents": respondents,
        "with_text": totals["with_text"],
        "options": [
            {"option": option, "count": counts.get(option, 0),
             "share": counts.get(option, 0) / respondents if respondents else None}
            for option in options
        ],
    }


def feedback_texts(*, campaign: Campaign, filters: ReportFilter) -> QuerySet:
    """Answers with a free text, newest first; `search` looks inside the text."""
    return feedback_answers(campaign=campaign, filters=filters).exclude(text="")


def feedback_answers(*, campaign: Campaign, filters: ReportFilter) -> QuerySet:
    """Every feedback answer, newest first; `search` looks inside the free text."""
    rows = responses(campaign=campaign, form=Response.Form.FEEDBACK, filters=filters)
    if filters.search:
        rows = rows.filter(text__icontains=filters.search)
    return rows.order_by("-created_at", "-id")


def leads(*, campaign: Campaign, filters: ReportFilter) -> QuerySet:
    """Lead form answers, newest first; `search` looks in the email and the name."""
    rows = responses(campaign=campaign, form=Response.Form.LEAD, filters=filters)
    if filters.search:
        rows = rows.filter(Q(email__icontains=filters.search) | Q(name__icontains=filters.search))
    return rows.order_by("-created_at", "-id")


def leads_summary(*, campaign: Campaign, filters: ReportFilter) -> dict:
    return responses(campaign=campaign, form=Response.Form.LEAD, filters=filters).aggregate(
        leads=Count("id"),
        marketing_consent=Count("id", filter=Q(marketing_consent=True)),
        with_email=Count("id", filter=~Q(email="")),
    )


def consent_categories(*, site: Site) -> list[str]:
    """The category ids offered by the site's consent banners, in their order."""
    ids: list[str] = []
    contents = Variant.objects.filter(
        campaign__site=site, campaign__message_type=Campaign.MessageType.CONSENT
    ).order_by("id").values_list("content", flat=True)
    for content in contents:
        for category in (content or {}).get("categories") or []:
            if isinstance(category, dict) and isinstance(category.get("id"), str) and category["id"] not in ids:
                ids.append(category["id"])
    return ids


def consent_report(*, site: Site, filters: ReportFilter) -> list[dict]:
    """Per policy version, newest first: decisions, accept / reject / custom rates, and each category's rate."""
    records = _in_range(ConsentRecord.objects.filter(site=site), field="received_at", site=site, filters=filters)
    versions: dict[str, dict] = {}
    for row in records.values("policy_version", "decision").annotate(n=Count("id"), last=Max("received_at")).order_by():
        version = versions.setdefault(row["policy_version"], {
            "policy_version": row["policy_version"], "decisions": 0, "last_decision_at": row["last"],
            **{d: 0 for d in ConsentRecord.Decision.values},
        })
        version[row["decision"]] += row["n"]
        version["decisions"] += row["n"]
        version["last_decision_at"] = max(version["last_decision_at"], row["last"])
    categories = consent_categories(site=site)
    counts = choice_counts(records, field="categories", group="policy_version")
    found = sorted({value for (_, value) in counts if value not in categories})
    report = []
    for version in sorted(versions.values(), key=lambda v: v["last_decision_at"], reverse=True):
        total = version["decisions"]
        report.append({
            **version,
            "accept_rate": version["granted"] / total,
            "reject_rate": version["denied"] / total,
            "custom_rate": version["custom"] / total,
            "categories": [
                {"category": c, "count": counts.get((version["policy_version"], c), 0),
                 "rate": counts.get((version["policy_version"], c), 0) / total}
                for c in categories + found
            ],
        })
    return report
