"""CSV exports: streamed, opened safely by a spreadsheet (no formula injection), scoped to the owner."""

import csv
import io
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from campaigns.exports import cell
from campaigns.models import Response, VariantDailyStats
from tests.conftest import popup_campaign_create

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def lead_create(site):
    return popup_campaign_create(
        site=site, name="Newsletter", message_type="lead", goal={"type": "submit"},
        variants=[{"name": "Form", "weight": 100, "content": {
            "fields": [{"name": "email", "label": "Email", "required": True}]}}],
    )


def lead(campaign, **fields):
    return Response.objects.create(
        site=campaign.site, event_id=uuid.uuid4(), campaign_id=campaign.id,
        variant_id=campaign.variants.first().id, visitor_id="v_1", form="lead", created_at=NOON, **fields,
    )


def rows_of(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


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
    (["Price", "=1+1"], "Price; =1+1"),
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
