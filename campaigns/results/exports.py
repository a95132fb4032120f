"""CSV exports, streamed row by row (a lead list may be long), safe to open in a spreadsheet.

A cell that starts with = + - @ (or a tab or carriage return) would be read as a formula by
Excel, LibreOffice or Google Sheets: such text gets a leading apostrophe (OWASP's advice), so a
visitor cannot plant `=HYPERLINK(...)` in a marketer's spreadsheet. Spreadsheets look past
leading spaces and quotes and read full-width forms (＝) as their ASCII letters, and in locales
that split on `;` (fr, de, it, es, nl) a cell's text after a `;` or a line break starts a cell of
its own: each such piece is escaped too. Every cell is quoted. Numbers stay numbers.
"""

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

from django.http import StreamingHttpResponse

from campaigns.models import Campaign, Variant, VariantDailyStats
from campaigns.results import reports
from campaigns.results.campaign import counters_daily

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 2000
# Where a spreadsheet may start a new cell inside our cell's text: any list separator or line break.
CELL_BREAKS = re.compile(r"([;,\t\r\n])")
# What a spreadsheet skips before it reads a cell's first letter.
LEADING_BLANKS = re.compile(r'^[\s"]+')


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
    return "".join(_piece_escape(piece) for piece in CELL_BREAKS.split(str(value)))


def _piece_escape(piece: str) -> str:
    if piece.startswith(FORMULA_PREFIXES):
        return "'" + piece
    shown = LEADING_BLANKS.sub("", unicodedata.normalize("NFKC", piece))
    return "'" + piece if shown.startswith(FORMULA_PREFIXES) else piece


def csv_lines(*, header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
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


def consent_export(*, records) -> StreamingHttpResponse:
    """Consent records as proof for an audit: one row per decision, oldest first."""
    fields = ["decided_at", "received_at", "site_id", "consent_id", "decision", "categories", "policy_version",
              "url", "ip_truncated", "user_agent", "tc_string"]
    rows = ([row[f] for f in fields] for row in records.order_by("decided_at", "id").values(*fields)
            .iterator(chunk_size=CHUNK_SIZE))
    return csv_response(filename="consent-records.csv", header=fields, rows=rows)


EXPORTS = {
    "nps": nps_export,
    "feedback": feedback_export,
    "leads": leads_export,
}
