"""CSV exports: streamed, opened safely by a spreadsheet (no formula injection), scoped to the owner."""

import csv
import io
import unicodedata
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.http import StreamingHttpResponse
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from campaigns.models import ConsentRecord, Response, VariantDailyStats
from campaigns.results.exports import cell, csv_lines
from tests.conftest import popup_campaign_create

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def lead_create(site):
    return popup_campaign_create(
        site=site, name="Newsletter", message_type="lead", goal={"type": "submit"},
        variants=[{"name": "Form", "weight": 100, "content": {
            "fields": [{"name": "email", "label": "Email", "required": True}]}}],
    )


def lead(campaign, *, visitor_id: str = "v_1", **fields):
    return Response.objects.create(
        site=campaign.site, event_id=uuid.uuid4(), campaign_id=campaign.id,
        variant_id=campaign.variants.first().id, visitor_id=visitor_id, form="lead", created_at=NOON, **fields,
    )


def text_of(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return text[1:]


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text_of(response), newline="")))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Planted by a visitor in any text a marketer exports.
PAYLOADS = [
    "=HYPERLINK(\"https://evil.example\",\"Click\")", "ok;=HYPERLINK(\"https://evil.example\")", " =1+1",
    "\n=1+1", "\uff1dcmd|' /C calc'!A0", "x\r\n@SUM(A1)", "a,+1", "\"=1\"", "ok; \"-2+3\"", "\u3000=1",
]


def formula_cells(text: str) -> list[str]:
    """Cells that a spreadsheet splitting on `,` or on `;` would read as a formula."""
    cells = [c for delimiter in ",;"
             for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) for c in row]
    return [c for c in cells
            if unicodedata.normalize("NFKC", c).strip().startswith(FORMULA_STARTS)
            or unicodedata.normalize("NFKC", c.strip()).startswith(FORMULA_STARTS)]


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.mark.parametrize(("value", "expected"), [
    ("=HYPERLINK(\"https://evil.example\",\"Click\")", "'=HYPERLINK(\"https://evil.example\",\"Click\")"),
    ("+1 555 0100", "'+1 555 0100"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\tcmd", "'\tcmd"),
    ("\rcmd", "'\rcmd"),
    ("ann@example.com", "ann@example.com"),
    ("Plain text", "Plain text"),
    ("", ""),
    (None, ""),
    (-3, -3),
    (Decimal("-1.50"), Decimal("-1.50")),
    (True, "yes"),
    (["Price", "=1+1"], "Price;' =1+1"),
    ("ok;=HYPERLINK(\"https://evil.example\")", "ok;'=HYPERLINK(\"https://evil.example\")"),
    ("  =1+1", "'  =1+1"),
    ("\"=1+1", "'\"=1+1"),
    ("\uff1d1+1", "'\uff1d1+1"),
    ("first line\n=1+1", "first line\n'=1+1"),
    ("a,@b", "a,'@b"),
    ("semi; colon", "semi; colon"),
    (["=1+1", "Price"], "'=1+1; Price"),
    (date(2026, 3, 2), "2026-03-02"),
])
def test_cells_that_a_spreadsheet_would_run_as_formulas_are_escaped(value, expected):
    assert cell(value) == expected


def test_a_lead_planting_a_formula_is_exported_as_text(owner_client, site):
    campaign = lead_create(site)
    lead(campaign, email="ann@example.com", name="=cmd|' /C calc'!A0", marketing_consent=True)
    lead(campaign, email="bob@example.com", name="@evil", marketing_consent=None)

    response = owner_client.get(reverse("admin:campaigns_campaign_export", args=[campaign.id, "leads"]))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="campaign-' in response["Content-Disposition"]
    header, *rows = rows_of(response)
    assert header == ["created_at", "variant", "email", "name", "marketing_consent", "visitor_id"]
    names = {row[2]: row[3] for row in rows}
    assert names == {"ann@example.com": "'=cmd|' /C calc'!A0", "bob@example.com": "'@evil"}
    assert not any(value.startswith(("=", "+", "-", "@")) for row in rows for value in row)


def test_results_export_has_one_row_per_arm_and_day(owner_client, site):
    campaign = popup_campaign_create(site=site, goal={"type": "purchase"}, control_share=0.1)
    a = campaign.variants.order_by("id").first()
    VariantDailyStats.objects.create(campaign_id=campaign.id, variant_id=a.id, day=date(2026, 3, 2), exposed=10,
                                     converters=2, revenue_sum=Decimal("12.50"))
    VariantDailyStats.objects.create(campaign_id=campaign.id, variant_id=None, day=date(2026, 3, 3), exposed=3)

    response = owner_client.get(reverse("admin:campaigns_campaign_export", args=[campaign.id, "results"]),
                                {"since": "2026-03-01"})

    header, *rows = rows_of(response)
    assert header[:4] == ["day", "variant_id", "variant", "impressions"]
    assert [(r[0], r[2], r[header.index("exposed")], r[header.index("revenue_sum")]) for r in rows] == [
        ("2026-03-02", "A", "10", "12.50"), ("2026-03-03", "Holdout", "3", "0.00")]


def test_nps_export_follows_the_search(owner_client, site):
    campaign = popup_campaign_create(site=site, message_type="nps", goal={"type": "submit"},
                                     variants=[{"name": "S", "weight": 100, "content": {"question": "?"}}])
    for score, text in ((10, "Great"), (2, "-slow shipping")):
        Response.objects.create(site=site, event_id=uuid.uuid4(), campaign_id=campaign.id, visitor_id="v",
                                form="nps", score=score, followup=text, created_at=NOON)

    response = owner_client.get(reverse("admin:campaigns_campaign_export", args=[campaign.id, "nps"]),
                                {"q": "slow"})

    _, *rows = rows_of(response)
    assert [(r[2], r[3]) for r in rows] == [("2", "'-slow shipping")]


def test_an_export_of_another_owners_campaign_is_404(owner_client, outsider_site):
    other = lead_create(outsider_site)
    lead(other, email="secret@example.com")

    response = owner_client.get(reverse("admin:campaigns_campaign_export", args=[other.id, "leads"]))

    assert response.status_code == 404
    assert b"secret@example.com" not in response.content


def test_an_unknown_export_is_404(owner_client, site):
    campaign = lead_create(site)
    response = owner_client.get(reverse("admin:campaigns_campaign_export", args=[campaign.id, "passwords"]))
    assert response.status_code == 404


FRAGMENTS = st.sampled_from(["=", "+", "-", "@", "\uff1d", "\uff0b", "\ufe62", "\uff20", ";", ",", "\t", "\r", "\n",
                             " ", "\u3000", "\"", "'", "ok", "1", "cmd|' /C calc'!A0"])


@given(st.lists(st.lists(FRAGMENTS, max_size=8).map("".join), min_size=1, max_size=4))
def test_no_text_becomes_a_formula_when_split_on_commas_or_semicolons(texts):
    text = "".join(csv_lines(header=["a", "b"], rows=[[*texts, 5, "plain"]]))[1:]
    assert formula_cells(text) == []


def test_every_export_resists_formulas_in_both_list_separators(owner_client, site):
    campaign = lead_create(site)
    nps = popup_campaign_create(site=site, name="NPS", message_type="nps", goal={"type": "submit"},
                                variants=[{"name": "S", "weight": 100, "content": {"question": "?"}}])
    feedback = popup_campaign_create(site=site, name="Why", message_type="feedback", goal={"type": "submit"},
                                     variants=[{"name": "F", "weight": 100, "content": {
                                         "question": "?", "options": ["Price", "Other"]}}])
    for payload in PAYLOADS:
        lead(campaign, email=f"{payload}@example.com", name=payload, visitor_id=payload)
        Response.objects.create(site=site, event_id=uuid.uuid4(), campaign_id=nps.id, visitor_id=payload,
                                form="nps", score=3, followup=payload, created_at=NOON)
        Response.objects.create(site=site, event_id=uuid.uuid4(), campaign_id=feedback.id, visitor_id=payload,
                                form="feedback", choices=[payload, "ok"], text=payload, created_at=NOON)
        ConsentRecord.objects.create(site=site, event_id=uuid.uuid4(), consent_id=payload, decided_at=NOON,
                                     received_at=NOON, policy_version=payload[:40], categories=[payload],
                                     decision="denied", user_agent=payload, url=payload)
    campaign.variants.update(name=PAYLOADS[1])
    VariantDailyStats.objects.create(campaign_id=campaign.id, variant_id=campaign.variants.get().id,
                                     day=date(2026, 3, 2), exposed=10)
    exports = [owner_client.get(reverse("admin:campaigns_campaign_export", args=[c.id, kind]))
               for c, kind in ((campaign, "leads"), (campaign, "results"), (nps, "nps"), (feedback, "feedback"))]
    exports.append(owner_client.post(reverse("admin:campaigns_consentrecord_changelist"), {
        "action": "export_csv", helpers.ACTION_CHECKBOX_NAME: list(ConsentRecord.objects.values_list("pk", flat=True)),
    }))

    texts = [text_of(response) for response in exports]

    for text in texts[2:]:
        cells = {c.replace("'", "") for row in csv.reader(io.StringIO(text, newline="")) for c in row}
        assert {p.replace("'", "") for p in PAYLOADS} <= cells, "the answers are exported, escaped, not dropped"
    assert [formula_cells(text) for text in texts] == [[], [], [], [], []]


def test_the_consent_export_holds_only_the_owners_records(owner_client, site, outsider_site):
    for owned in (site, outsider_site):
        ConsentRecord.objects.create(site=owned, event_id=uuid.uuid4(), consent_id=f"c-{owned.id}", decided_at=NOON,
                                     received_at=NOON, policy_version="1", categories=["marketing"],
                                     decision="granted")

    response = owner_client.post(reverse("admin:campaigns_consentrecord_changelist"), {
        "action": "export_csv", helpers.ACTION_CHECKBOX_NAME: list(ConsentRecord.objects.values_list("pk", flat=True)),
    })

    header, *rows = rows_of(response)
    assert header[:5] == ["decided_at", "received_at", "site_id", "consent_id", "decision"]
    assert [(row[3], row[4]) for row in rows] == [(f"c-{site.id}", "granted")]
