"""CSV exports, streamed row by row (a lead list may be long), safe to open in a spreadsheet.

A cell that starts with = + - @ (or a tab or carriage return) would be read as a formula by
Excel, LibreOffice or Google Sheets: such text cells get a leading apostrophe (OWASP's advice),
so a visitor cannot plant `=HYPERLINK(...)` in a marketer's spreadsheet. Numbers stay numbers.
"""

import csv
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

from django.http import StreamingHttpResponse

from campaigns import reports
from campaigns.models import Campaign, Variant, VariantDailyStats
from campaigns.results import counters_daily

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 2000


class _Echo:
    """A file-like object whose write() returns the line, for csv.writer inside a generator."""

    def write(self, value: str) -> str:
        return value


def cell(value) -> str | int | float:
    """A value as a CSV cell: text that a spreadsheet would run as a formula is escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal) and value.as_tuple().exponent > -2:
        return value.quantize(Decimal("0.01"))  # money keeps its cents, whatever the database's SUM returned
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        value = "; ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_lines(*, header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([cell(h) for h in header])  # the BOM makes Excel read UTF-8
    for row in rows:
        yield writer.writerow([cell(v) for v in row])


def csv_response(*, filename: str, header: list[str], rows: Iterable[Iterable]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(header=header, rows=rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _variant_names(campaign: Campaign) -> dict:
    return dict(Variant.objects.filter(campaign_id=campaign.id).values_list("id", "name"))


def _name(names: dict, variant_id) -> str:
    return "Holdout" if variant_id is None else names.get(variant_id, f"Deleted variant #{variant_id}")


def results_export(
    *, campaign: Campaign, since: date | None, until: date | None, segment: dict | None = None
) -> StreamingHttpResponse:
    """The daily counters behind the results page, one row per arm, day and segment (of `segment` only, if given)."""
    names = _variant_names(campaign)
    columns = (*VariantDailyStats.COUNTERS, *VariantDailyStats.SEGMENTS)  # segments last: older columns keep places
    header = ["day", "variant_id", "variant", *columns]
    rows = (
        [row["day"], row["variant_id"], _name(names, row["variant_id"]), *(row[c] for c in columns)]
        for row in counters_daily(campaign_id=campaign.id, since=since, until=until, segment=segment, by_segment=True)
    )
    return csv_response(filename=f"campaign-{campaign.id}-results.csv", header=header, rows=rows)


def _responses_export(*, campaign: Campaign, queryset, kind: str, fields: list[str]) -> StreamingHttpResponse:
    names = _variant_names(campaign)
    rows = (
        [row["created_at"], _name(names, row["variant_id"]), *(row[f] for f in fields)]
        for row in queryset.values("created_at", "variant_id", *fields).iterator(chunk_size=CHUNK_SIZE)
    )
    return csv_response(
        filename=f"campaign-{campaign.id}-{kind}.csv", header=["created_at", "variant", *fields], rows=rows
    )


def nps_export(*, campaign: Campaign, filters: reports.ReportFilter) -> StreamingHttpResponse:
    return _responses_export(
        campaign=campaign, queryset=reports.nps_answers(campaign=campaign, filters=filters), kind="nps",
        fields=["score", "followup", "visitor_id"],
    )


def feedback_export(*, campaign: Campaign, filters: reports.ReportFilter) -> StreamingHttpResponse:
    return _responses_export(
        campaign=campaign, queryset=reports.feedback_answers(campaign=campaign, filters=filters), kind="feedback",
        fields=["choices", "text", "visitor_id"],
    )


def leads_export(*, campaign: Campaign, filters: reports.ReportFilter) -> StreamingHttpResponse:
    return _responses_export(
        campaign=campaign, queryset=reports.leads(campaign=campaign, filters=filters), kind="leads",
        fields=["email", "name", "marketing_consent", "visitor_id"],
    )


EXPORTS = {
    "nps": nps_export,
    "feedback": feedback_export,
    "leads": leads_export,
}
