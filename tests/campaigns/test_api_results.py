"""The results API: the page's numbers as JSON, report lists with pagination, CSV, the calculator, tenancy."""

import csv
import io
import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from campaigns.models import ConsentRecord, Response, VariantDailyStats
from campaigns.results.calculator import calculate
from campaigns.results.campaign import campaign_results
from tests.conftest import popup_campaign_create

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 2)
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SPEC = {"arms": [{"name": "control", "visitors": 10000, "conversions": 1000},
                 {"name": "popup B", "visitors": 10050, "conversions": 1100}]}


@pytest.fixture
def api(owner):
    client = APIClient()
    client.force_authenticate(owner)
    return client


def ab_create(site, **fields):
    campaign = popup_campaign_create(site=site, goal={"type": "purchase"}, control_share=0.1, **fields)
    a, b = campaign.variants.order_by("id")
    for offset in range(3):
        day = DAY + timedelta(days=offset)
        VariantDailyStats.objects.bulk_create([
            VariantDailyStats(campaign_id=campaign.id, variant_id=a.id, day=day, exposed=3000, converters=300,
                              revenue_sum=3000, revenue_sum_squares=90000),
            VariantDailyStats(campaign_id=campaign.id, variant_id=b.id, day=day, exposed=3000, converters=330,
                              revenue_sum=3600, revenue_sum_squares=110000),
            VariantDailyStats(campaign_id=campaign.id, variant_id=None, day=day, exposed=660, converters=50),
        ])
    return campaign


def answers(campaign, form, n, **fields):
    Response.objects.bulk_create([
        Response(site=campaign.site, event_id=uuid.uuid4(), campaign_id=campaign.id, visitor_id=f"v_{i}", form=form,
                 created_at=NOON + timedelta(minutes=i), **fields)
        for i in range(n)
    ])


def test_results_api_returns_the_numbers_of_the_results_page(api, site):
    campaign = ab_create(site)

    body = api.get(f"/api/campaigns/{campaign.id}/results/").json()

    page = campaign_results(campaign=campaign)
    assert body["verdict"] == page["verdict"]
    assert body["comparison"]["arms"] == page["comparison"]["arms"]
    assert [a["funnel"] for a in body["arms"]] == [a["funnel"] for a in page["arms"]]
    assert body["srm"] == page["srm"] and body["uplift"][0]["incremental_conversions"] == pytest.approx(
        page["uplift"][0]["incremental_conversions"])
    assert body["over_time"][0]["points"][0]["day"] == "2026-03-02"
    assert body["sample_size"]["arms"][0]["arm"] == "B"


def test_results_api_filters_by_date_and_plans_for_a_chosen_lift(api, site):
    campaign = ab_create(site)

    body = api.get(f"/api/campaigns/{campaign.id}/results/", {"since": "2026-03-03", "mde": "0.05"}).json()

    assert body["arms"][0]["funnel"]["exposed"] == 6000
    assert body["sample_size"]["arms"][0]["mde"] == 0.05


def test_results_api_refuses_bad_filters(api, site):
    campaign = ab_create(site)
    url = f"/api/campaigns/{campaign.id}/results/"

    assert api.get(url, {"since": "yesterday"}).status_code == 400
    assert "until" in api.get(url, {"since": "2026-03-05", "until": "2026-03-01"}).json()
    assert api.get(url, {"mde": "-1"}).status_code == 400


def segment_create(site):
    """Three days of whole-test counters (ab_create, no segment), then a day of mobile and desktop visitors."""
    campaign = ab_create(site)
    a, b = campaign.variants.order_by("id")
    day = DAY + timedelta(days=5)
    VariantDailyStats.objects.bulk_create([
        VariantDailyStats(campaign_id=campaign.id, variant_id=v.id, day=day, device=device, source=source,
                          returning=returning, exposed=exposed, converters=exposed // 10)
        for v in (a, b)
        for device, source, returning, exposed in (
            ("mobile", "google/cpc", True, 400), ("desktop", "direct", False, 900))
    ])
    return campaign


def test_results_api_filters_by_segment(api, site):
    campaign = segment_create(site)
    url = f"/api/campaigns/{campaign.id}/results/"

    mobile = api.get(url, {"device": "mobile"}).json()
    google = api.get(url, {"source": " Google/CPC ", "returning": "true"}).json()
    new = api.get(url, {"returning": "false", "since": "2026-03-07"}).json()
    everyone = api.get(url, {"source": ""}).json()

    assert mobile["arms"][0]["funnel"]["exposed"] == 400 and mobile["filters"]["device"] == "mobile"
    assert google["arms"][0]["funnel"]["exposed"] == 400 and google["filters"]["source"] == "google/cpc"
    assert new["arms"][0]["funnel"]["exposed"] == 900 and new["filters"]["returning"] is False
    assert everyone["arms"][0]["funnel"]["exposed"] == 3 * 3000 + 1300 and everyone["filters"]["source"] is None
    assert mobile["srm"]["informational"] and not everyone["srm"]["informational"]


@pytest.mark.parametrize(("param", "value"), [("device", "phone"), ("returning", "maybe"), ("source", "x" * 65)])
def test_results_api_refuses_a_bad_segment_value_and_names_the_param(api, site, param, value):
    campaign = segment_create(site)

    response = api.get(f"/api/campaigns/{campaign.id}/results/", {param: value})

    assert response.status_code == 400
    assert list(response.json()) == [param]


def test_results_api_keeps_its_query_budget_on_a_segment(api, site, django_assert_max_num_queries):
    campaign = segment_create(site)
    with django_assert_max_num_queries(4):
        response = api.get(f"/api/campaigns/{campaign.id}/results/",
                           {"device": "mobile", "source": "google/cpc", "returning": "true"})
    assert response.status_code == 200


def test_results_csv_api_has_the_segment_columns_and_follows_the_segment(api, site):
    campaign = segment_create(site)

    response = api.get(f"/api/campaigns/{campaign.id}/export/results.csv", {"device": "desktop"})
    bad = api.get(f"/api/campaigns/{campaign.id}/export/results.csv", {"device": "phone"})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff"))))
    assert rows[0][-3:] == ["device", "source", "returning"]
    assert [(r[2], r[-3], r[-2], r[-1]) for r in rows[1:]] == [("A", "desktop", "direct", "no"),
                                                                ("B", "desktop", "direct", "no")]
    assert bad.status_code == 400 and "device" in bad.json()


def test_the_segment_filters_are_documented_in_the_openapi_schema(api):
    schema = json.loads(api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)

    for path in ("/api/campaigns/{id}/results/", "/api/campaigns/{id}/export/results.csv"):
        parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert {"device", "source", "returning"} <= set(parameters), path
        assert parameters["device"]["schema"]["enum"] == ["desktop", "mobile", "tablet"]
    assert "400" in schema["paths"]["/api/campaigns/{id}/results/"]["get"]["responses"]


def test_results_api_keeps_a_query_budget(api, site, django_assert_max_num_queries):
    campaign = ab_create(site)
    with django_assert_max_num_queries(4):  # campaign + variants + counters (+ session-less auth)
        assert api.get(f"/api/campaigns/{campaign.id}/results/").status_code == 200


@pytest.mark.parametrize("path", [
    "results/", "nps/", "nps/responses/", "feedback/", "feedback/responses/", "leads/",
    "export/results.csv", "export/nps.csv", "export/feedback.csv", "export/leads.csv",
])
def test_another_owners_campaign_answers_404_everywhere(api, outsider_site, path):
    other = ab_create(outsider_site)
    answers(other, "lead", 1, email="secret@example.com")

    response = api.get(f"/api/campaigns/{other.id}/{path}")

    assert response.status_code == 404
    assert b"secret@example.com" not in response.content


def test_another_owners_site_consent_answers_404(api, outsider_site):
    assert api.get(f"/api/sites/{outsider_site.id}/consent/").status_code == 404


@pytest.mark.parametrize("path", ["/api/campaigns/1/results/", "/api/campaigns/1/leads/", "/api/stats/calculate"])
def test_the_results_api_needs_a_login(path):
    client = APIClient()
    response = client.post(path, SPEC, format="json") if path.endswith("calculate") else client.get(path)
    assert response.status_code in (401, 403)


def test_lead_list_is_paginated_and_searchable(api, site):
    campaign = ab_create(site)
    answers(campaign, "lead", 55, email="someone@example.com")
    answers(campaign, "lead", 1, email="needle@example.com", name="Ann")

    first = api.get(f"/api/campaigns/{campaign.id}/leads/").json()
    found = api.get(f"/api/campaigns/{campaign.id}/leads/", {"search": "needle"}).json()

    assert first["count"] == 56 and len(first["results"]) == 50 and first["next"]
    assert [r["email"] for r in found["results"]] == ["needle@example.com"]


def test_nps_report_and_answers(api, site):
    campaign = ab_create(site)
    answers(campaign, "nps", 3, score=10, followup="Great")
    answers(campaign, "nps", 1, score=0, followup="Awful")

    report = api.get(f"/api/campaigns/{campaign.id}/nps/").json()
    listed = api.get(f"/api/campaigns/{campaign.id}/nps/responses/", {"search": "awful"}).json()

    assert report["score"] == 50.0 and report["responses"] == 4 and len(report["interval"]) == 2
    assert [(r["score"], r["followup"]) for r in listed["results"]] == [(0, "Awful")]


def test_feedback_report_and_answers(api, site):
    campaign = ab_create(site)
    answers(campaign, "feedback", 2, choices=["Price"], text="Too dear")

    report = api.get(f"/api/campaigns/{campaign.id}/feedback/").json()
    listed = api.get(f"/api/campaigns/{campaign.id}/feedback/responses/").json()

    assert report["respondents"] == 2 and {"option": "Price", "count": 2, "share": 1.0} in report["options"]
    assert listed["count"] == 2


def test_site_consent_report(api, site):
    ConsentRecord.objects.create(site=site, event_id=uuid.uuid4(), consent_id="c1", decided_at=NOON,
                                 received_at=NOON, policy_version="3", categories=["necessary"], decision="denied")

    body = api.get(f"/api/sites/{site.id}/consent/").json()

    assert body[0]["policy_version"] == "3" and body[0]["reject_rate"] == 1.0


def test_csv_endpoints_stream_escaped_csv(api, site):
    campaign = ab_create(site)
    answers(campaign, "lead", 1, email="ann@example.com", name="=1+1")

    response = api.get(f"/api/campaigns/{campaign.id}/export/leads.csv", HTTP_ACCEPT="text/csv")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[1][3] == "'=1+1"


def test_results_csv_has_the_daily_counters(api, site):
    campaign = ab_create(site)
    response = api.get(f"/api/campaigns/{campaign.id}/export/results.csv", {"until": "2026-03-02"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff"))))
    assert len(rows) == 1 + 3  # header, two variants and the holdout on one day


def test_calculate_returns_the_calculators_result(api):
    response = api.post("/api/stats/calculate", SPEC, format="json")
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(calculate(SPEC)))


def test_calculate_names_the_bad_field(api):
    spec = {"arms": [SPEC["arms"][0], {"name": "B", "visitors": -1, "conversions": 0}]}

    response = api.post("/api/stats/calculate", spec, format="json")

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_spec", "detail": "arms[1].visitors: must be a non-negative integer"}


def test_calculate_refuses_a_body_that_is_not_json(api):
    response = api.post("/api/stats/calculate", "{nope", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "invalid_spec"


def test_every_results_endpoint_is_in_the_openapi_schema(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    paths = json.loads(response.content)["paths"]
    for path in ("/api/campaigns/{id}/results/", "/api/campaigns/{id}/nps/", "/api/campaigns/{id}/leads/",
                 "/api/campaigns/{id}/export/leads.csv", "/api/sites/{id}/consent/", "/api/stats/calculate"):
        assert path in paths, path
    assert "text/csv" in paths["/api/campaigns/{id}/export/leads.csv"]["get"]["responses"]["200"]["content"]
    assert "400" in paths["/api/stats/calculate"]["post"]["responses"]


def _shape_differences(serializer, data, path="") -> list[str]:
    """Keys the documented serializer and the returned dict disagree on, nested objects included."""
    from rest_framework import serializers

    fields = serializer.fields
    differences = [f"{path}{k}: not documented" for k in data if k not in fields]
    differences += [f"{path}{k}: documented, not sent" for k, f in fields.items() if k not in data and f.required]
    for name, field in fields.items():
        value = data.get(name)
        if isinstance(field, serializers.ListSerializer) and value:
            differences += _shape_differences(field.child, value[0], f"{path}{name}[0].")
        elif isinstance(field, serializers.Serializer) and isinstance(value, dict):
            differences += _shape_differences(field, value, f"{path}{name}.")
    return differences


def test_the_documented_results_shape_is_the_one_sent(api, site):
    from campaigns.api.results import ResultsOutput

    campaign = ab_create(site)
    body = api.get(f"/api/campaigns/{campaign.id}/results/", {"mde": "0.05"}).json()

    assert _shape_differences(ResultsOutput(), body) == []
