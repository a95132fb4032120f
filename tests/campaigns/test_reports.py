"""NPS, feedback, leads and consent reports from Response and ConsentRecord rows, and their admin pages."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db.models import Count
from django.urls import reverse

from campaigns.models import ConsentRecord, Response
from campaigns.results import reports
from campaigns.results.reports import ReportFilter
from tests.conftest import popup_campaign_create

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def nps_create(site, **fields):
    return popup_campaign_create(
        site=site, name=fields.pop("name", "NPS survey"), message_type="nps", goal={"type": "submit"},
        variants=[{"name": "Survey", "weight": 100, "content": {"question": "Would you recommend us?"}}], **fields,
    )


def feedback_create(site):
    return popup_campaign_create(
        site=site, name="Why leave?", message_type="feedback", goal={"type": "submit"},
        variants=[{"name": "Form", "weight": 100, "content": {
            "question": "What stopped you?", "options": ["Price", "Shipping", "Just looking"], "multiple": True}}],
    )


def lead_create(site):
    return popup_campaign_create(
        site=site, name="Newsletter", message_type="lead", goal={"type": "submit"},
        variants=[{"name": "Form", "weight": 100, "content": {
            "fields": [{"name": "email", "label": "Email", "required": True}]}}],
    )


def answer(campaign, *, form, at=NOON, **fields):
    """A response row, as the tally writes it from a submit event."""
    return Response.objects.create(
        site=campaign.site, event_id=uuid.uuid4(), campaign_id=campaign.id,
        variant_id=fields.pop("variant_id", campaign.variants.first().id), visitor_id=fields.pop("visitor", "v_1"),
        form=form, created_at=at, **fields,
    )


def consent(site, *, decision, version="1", categories=(), at=NOON):
    return ConsentRecord.objects.create(
        site=site, event_id=uuid.uuid4(), consent_id=str(uuid.uuid4()), decided_at=at, received_at=at,
        policy_version=version, categories=list(categories), decision=decision,
    )


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def test_nps_is_promoters_minus_detractors_with_an_interval(site):
    campaign = nps_create(site)
    for score in [10, 10, 9, 9, 9, 8, 7, 6, 3, 0]:
        answer(campaign, form="nps", score=score)

    report = reports.nps_report(campaign=campaign, filters=ReportFilter())

    assert (report["promoters"], report["passives"], report["detractors"]) == (5, 2, 3)
    assert report["score"] == pytest.approx(20.0)
    low, high = report["interval"]
    assert -100 <= low < 20 < high <= 100
    assert report["distribution"] == [1, 0, 0, 1, 0, 0, 1, 1, 1, 3, 2]


def test_nps_interval_matches_the_normal_approximation():
    # 50 promoters, 30 passives, 20 detractors: mean 0.3, variance 0.7 - 0.09 = 0.61
    score = reports.nps_score(promoters=50, passives=30, detractors=20)
    half = 1.959963984540054 * (0.61 / 100) ** 0.5 * 100
    assert score["interval"] == pytest.approx((30 - half, 30 + half))


def test_nps_without_answers_has_no_score(site):
    report = reports.nps_report(campaign=nps_create(site), filters=ReportFilter())
    assert report["score"] is None and report["interval"] is None and report["responses"] == 0


def test_nps_split_over_time_is_per_day_of_the_sites_time_zone(site):
    site.time_zone = "Asia/Tokyo"  # UTC+9: 20:00 UTC is the next day there
    site.save()
    campaign = nps_create(site)
    answer(campaign, form="nps", score=10, at=datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    answer(campaign, form="nps", score=0, at=datetime(2026, 3, 2, 20, 0, tzinfo=UTC))

    report = reports.nps_report(
        campaign=campaign, filters=ReportFilter(since=date(2026, 3, 1), until=date(2026, 3, 10))
    )

    assert report["period"] == "day"
    assert [(p["period"], p["promoters"], p["detractors"]) for p in report["over_time"]] == [
        (date(2026, 3, 2), 1, 0), (date(2026, 3, 3), 0, 1)]


def test_a_long_range_splits_nps_by_week(site):
    campaign = nps_create(site)
    answer(campaign, form="nps", score=9)
    assert reports.nps_report(campaign=campaign, filters=ReportFilter())["period"] == "week"


def test_nps_date_range_uses_the_sites_days(site):
    site.time_zone = "America/New_York"  # UTC-5 in March before DST
    site.save()
    campaign = nps_create(site)
    answer(campaign, form="nps", score=10, at=datetime(2026, 3, 3, 3, 0, tzinfo=UTC))  # 2 March, 22:00 there

    inside = reports.nps_report(campaign=campaign, filters=ReportFilter(since=date(2026, 3, 2), until=date(2026, 3, 2)))
    outside = reports.nps_report(campaign=campaign, filters=ReportFilter(since=date(2026, 3, 3)))

    assert inside["responses"] == 1 and outside["responses"] == 0


def test_nps_follow_ups_are_searchable_and_newest_first(site):
    campaign = nps_create(site)
    answer(campaign, form="nps", score=3, followup="Shipping was slow", at=NOON)
    answer(campaign, form="nps", score=10, followup="Great SHIPPING", at=NOON + timedelta(hours=1))
    answer(campaign, form="nps", score=8, followup="Price")
    answer(campaign, form="nps", score=9)

    found = reports.nps_followups(campaign=campaign, filters=ReportFilter(search="shipping"))

    assert [(r.score, r.followup) for r in found] == [(10, "Great SHIPPING"), (3, "Shipping was slow")]


def test_nps_per_variant_when_there_are_several(site):
    campaign = popup_campaign_create(
        site=site, message_type="nps", goal={"type": "submit"},
        variants=[{"name": n, "weight": 50, "content": {"question": "?"}} for n in ("Short", "Long")],
    )
    short, long = campaign.variants.order_by("id")
    answer(campaign, form="nps", score=10, variant_id=short.id)
    answer(campaign, form="nps", score=0, variant_id=long.id)

    variants = reports.nps_report(campaign=campaign, filters=ReportFilter())["variants"]

    assert [(v["name"], v["score"]) for v in variants] == [("Short", 100.0), ("Long", -100.0)]


def test_feedback_counts_each_option_and_keeps_the_configured_order(site):
    campaign = feedback_create(site)
    answer(campaign, form="feedback", choices=["Price", "Shipping"])
    answer(campaign, form="feedback", choices=["Price"], text="Too expensive")
    answer(campaign, form="feedback", choices=["An old option"])

    report = reports.feedback_report(campaign=campaign, filters=ReportFilter())

    assert report["respondents"] == 3 and report["with_text"] == 1
    assert [(o["option"], o["count"]) for o in report["options"]] == [
        ("Price", 2), ("Shipping", 1), ("Just looking", 0), ("An old option", 1)]
    assert report["options"][0]["share"] == pytest.approx(2 / 3)


def test_choice_counts_are_the_same_in_the_database_and_in_python(site, monkeypatch):
    campaign = feedback_create(site)
    for choices in (["Price", "Shipping"], ["Price"], [], ["Price", "Price"]):
        answer(campaign, form="feedback", choices=choices)
    rows = Response.objects.filter(campaign_id=campaign.id)

    database = reports.choice_counts(rows, field="choices")
    monkeypatch.setattr(reports.connection, "vendor", "sqlite")
    python = reports.choice_counts(rows, field="choices")

    assert database == python == {(None, "Price"): 3, (None, "Shipping"): 1}


def test_feedback_free_text_is_searchable(site):
    campaign = feedback_create(site)
    answer(campaign, form="feedback", choices=["Price"], text="Cheaper elsewhere")
    answer(campaign, form="feedback", choices=["Price"], text="Shipping cost")
    answer(campaign, form="feedback", choices=["Price"])

    texts = reports.feedback_texts(campaign=campaign, filters=ReportFilter(search="cheaper"))

    assert [r.text for r in texts] == ["Cheaper elsewhere"]


def test_leads_are_searchable_by_email_and_name(site):
    campaign = lead_create(site)
    answer(campaign, form="lead", email="ann@example.com", name="Ann", marketing_consent=True)
    answer(campaign, form="lead", email="bob@example.com", name="Bob Annan", marketing_consent=False)
    answer(campaign, form="lead", email="cy@example.com", name="Cy")

    assert {r.email for r in reports.leads(campaign=campaign, filters=ReportFilter(search="ann"))} == {
        "ann@example.com", "bob@example.com"}
    assert reports.leads_summary(campaign=campaign, filters=ReportFilter()) == {
        "leads": 3, "marketing_consent": 1, "with_email": 3}


def test_reports_of_one_campaign_never_include_another_campaigns_answers(site):
    campaign, other = lead_create(site), lead_create(site)
    answer(other, form="lead", email="x@example.com")
    assert reports.leads(campaign=campaign, filters=ReportFilter()).count() == 0


def test_consent_rates_are_per_policy_version_newest_first(site):
    for decision, categories in [("granted", ["necessary", "analytics", "marketing"]), ("granted", ["necessary"]),
                                 ("denied", ["necessary"]), ("custom", ["necessary", "analytics"])]:
        consent(site, decision=decision, version="1", categories=categories)
    consent(site, decision="denied", version="2", at=NOON + timedelta(days=1))

    report = reports.consent_report(site=site, filters=ReportFilter())

    assert [v["policy_version"] for v in report] == ["2", "1"]
    v1 = report[1]
    assert (v1["decisions"], v1["accept_rate"], v1["reject_rate"], v1["custom_rate"]) == (4, 0.5, 0.25, 0.25)
    rates = {c["category"]: c["rate"] for c in v1["categories"]}
    assert rates == {"necessary": 1.0, "analytics": 0.5, "marketing": 0.25}
    assert report[0]["reject_rate"] == 1.0


def test_consent_report_counts_only_the_sites_own_records(site, outsider_site):
    consent(outsider_site, decision="granted")
    assert reports.consent_report(site=site, filters=ReportFilter()) == []


def test_nps_report_takes_a_fixed_number_of_queries(site, django_assert_num_queries):
    campaign = nps_create(site)
    for day in range(30):
        answer(campaign, form="nps", score=day % 11, at=NOON + timedelta(days=day))

    with django_assert_num_queries(3):
        reports.nps_report(campaign=campaign, filters=ReportFilter())

    assert Response.objects.values("campaign_id").annotate(n=Count("id")).get()["n"] == 30


# --- Admin pages ---

def test_nps_page_shows_the_score_the_charts_and_the_follow_ups(owner_client, site):
    campaign = nps_create(site)
    answer(campaign, form="nps", score=10, followup="Love the <b>shoes</b>")
    answer(campaign, form="nps", score=2, followup="Slow")

    body = owner_client.get(reverse("admin:campaigns_campaign_nps", args=[campaign.id])).content.decode()

    assert "NPS <strong>+0</strong>" in body and "1 promoters" in body
    assert 'id="chart-distribution"><svg' in body and 'id="chart-split"><svg' in body
    assert "Love the &lt;b&gt;shoes&lt;/b&gt;" in body  # visitor text is escaped


def test_nps_page_searches_the_follow_ups(owner_client, site):
    campaign = nps_create(site)
    answer(campaign, form="nps", score=10, followup="Fast delivery")
    answer(campaign, form="nps", score=2, followup="Rude support")

    body = owner_client.get(reverse("admin:campaigns_campaign_nps", args=[campaign.id]), {"q": "support"}).content
    assert b"Rude support" in body and b"Fast delivery" not in body


def test_leads_page_paginates(owner_client, site):
    campaign = lead_create(site)
    for i in range(55):
        answer(campaign, form="lead", email=f"lead{i:02d}@example.com", at=NOON + timedelta(minutes=i))

    first = owner_client.get(reverse("admin:campaigns_campaign_leads", args=[campaign.id])).content.decode()
    second = owner_client.get(reverse("admin:campaigns_campaign_leads", args=[campaign.id]), {"page": 2}).content

    assert "lead54@example.com" in first and "lead04@example.com" not in first and "Page 1 of 2" in first
    assert b"lead04@example.com" in second


def test_feedback_and_consent_pages_render(owner_client, site):
    campaign = feedback_create(site)
    answer(campaign, form="feedback", choices=["Price"], text="Too dear")
    consent(site, decision="granted", categories=["necessary"])

    feedback = owner_client.get(reverse("admin:campaigns_campaign_feedback", args=[campaign.id])).content.decode()
    consent_page = owner_client.get(reverse("admin:campaigns_campaign_consent", args=[campaign.id])).content.decode()

    assert "Too dear" in feedback and 'id="chart-options"><svg' in feedback
    assert 'data-version="1"' in consent_page and "100 %" in consent_page


def test_report_pages_refuse_a_reversed_date_range_without_failing(owner_client, site):
    campaign = nps_create(site)
    response = owner_client.get(reverse("admin:campaigns_campaign_nps", args=[campaign.id]),
                                {"since": "2026-03-05", "until": "2026-03-01"})
    assert response.status_code == 200
    assert "must be on or before" in response.content.decode()
