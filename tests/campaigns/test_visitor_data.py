"""Data-subject requests: a visitor's data exported and erased by visitor id or e-mail, from admin, the API and
the command; counters stay, a returning visitor starts fresh, and no owner reaches another owner's visitors."""

import importlib
import json
import uuid
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from rest_framework.test import APIClient

from campaigns.models import (
    Assignment,
    Audience,
    AudienceVisitorDay,
    ConsentRecord,
    DataRequest,
    Event,
    FunnelStep,
    JourneySession,
    JourneyVisitorStage,
    Response,
)
from campaigns.pseudonyms import email_hash, visitor_hash
from campaigns.selectors.counters import variant_totals
from campaigns.selectors.visitor_data import EXEMPT, LOOKUP_MISSING, SOURCES, visitors_erased
from campaigns.services.visitor_data import visitor_data_erase, visitor_data_export
from campaigns.tally import drain as tally
from campaigns.tally.lock import LOCK_NAMESPACE, LOCK_TALLY
from tests.campaigns.events_kit import event, post_events
from tests.conftest import popup_campaign_create

pytestmark = pytest.mark.django_db

VISITOR = "v_ann"
OTHER = "v_bob"
EMAIL = "Ann.Smith@Example.com"
PERSONAL_FIELD_WORDS = ("visitor", "email", "e_mail")


def lead_create(site):
    return popup_campaign_create(
        site=site, name="Newsletter", message_type="lead", goal={"type": "submit"},
        variants=[{"name": "Form", "weight": 100, "content": {
            "fields": [{"name": "email", "label": "Email", "required": True}]}}],
    )


def nps_create(site):
    return popup_campaign_create(
        site=site, name="NPS", message_type="nps", goal={"type": "submit"},
        variants=[{"name": "Survey", "weight": 100, "content": {"question": "Would you recommend us?"}}],
    )


def send(client, site, events):
    assert post_events(client, site, events).status_code == 202


def visit(client, site, *, lead, nps, visitor: str, email: str = EMAIL) -> None:
    """A visitor grants consent, reads a page as one of the site's audience, leaves their e-mail in the lead form and
    answers the NPS; the tally counts it."""
    readers = {"attr": "pageviews_total", "op": "gte", "value": 1}
    audience, _ = Audience.objects.get_or_create(site=site, name="Readers", defaults={"rule": readers})
    lead_variant, nps_variant = lead.variants.get(), nps.variants.get()
    send(client, site, [
        event("consent", visitor=visitor, data={"decision": "granted", "categories": ["necessary"],
                                                "policy_version": "1", "consent_id": f"c-{visitor}"}),
        event("pageview", visitor=visitor, data={"audiences": [audience.id]}),
        event("impression", campaign=lead, variant=lead_variant, visitor=visitor),
        event("submit", campaign=lead, variant=lead_variant, visitor=visitor,
              data={"form": "lead", "email": email, "name": "Ann", "consent": True}),
        event("impression", campaign=nps, variant=nps_variant, visitor=visitor),
        event("submit", campaign=nps, variant=nps_variant, visitor=visitor,
              data={"form": "nps", "score": 9, "followup": "Fast"}),
    ])
    tally.tally_drain()


def rows_of(visitor: str) -> dict[str, int]:
    return {
        "events": Event.objects.filter(visitor_id=visitor).count(),
        "assignments": Assignment.objects.filter(visitor_id=visitor).count(),
        "funnel_steps": FunnelStep.objects.filter(visitor_id=visitor).count(),
        "responses": Response.objects.filter(visitor_id=visitor).count(),
        "consent_records": ConsentRecord.objects.filter(visitor_hash=visitor_hash(visitor_id=visitor)).count(),
        "journey_sessions": JourneySession.objects.filter(visitor_id=visitor).count(),
        "journey_stages": JourneyVisitorStage.objects.filter(visitor_id=visitor).count(),
        "audience_days": AudienceVisitorDay.objects.filter(visitor_id=visitor).count(),
    }


def counters(*campaigns) -> list[dict]:
    return [variant_totals(campaign_id=campaign.id) for campaign in campaigns]


@pytest.fixture
def lead(site):
    return lead_create(site)


@pytest.fixture
def nps(site):
    return nps_create(site)


@pytest.fixture
def visited(client, site, lead, nps):
    visit(client, site, lead=lead, nps=nps, visitor=VISITOR)
    visit(client, site, lead=lead, nps=nps, visitor=OTHER, email="bob@example.com")
    return site


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def owner_api(owner):
    api = APIClient()
    api.force_authenticate(owner)
    return api


def assert_erased(visitor: str = VISITOR) -> None:
    assert rows_of(visitor) == {"events": 0, "assignments": 0, "funnel_steps": 0, "responses": 0,
                                "consent_records": 0, "journey_sessions": 0, "journey_stages": 0,
                                "audience_days": 0}
    assert ConsentRecord.objects.filter(consent_id=f"c-{visitor}", visitor_hash="").count() == 1
    assert rows_of(OTHER)["responses"] == 2 and rows_of(OTHER)["assignments"] == 2


# ---------------------------------------------------------------- what the tally writes

def test_the_tally_stores_the_email_hash_and_links_a_grant_but_not_a_denial_to_its_visitor(client, visited):
    lead_response = Response.objects.get(visitor_id=VISITOR, form="lead")
    assert lead_response.email_hash == email_hash(email="  ann.smith@example.COM ") != ""
    assert ConsentRecord.objects.get(consent_id=f"c-{VISITOR}").visitor_hash == visitor_hash(visitor_id=VISITOR)
    send(client, visited, [event("consent", visitor=None, session=None, data={
        "decision": "denied", "categories": [], "policy_version": "1", "consent_id": "c-denial"})])
    tally.tally_drain()
    assert ConsentRecord.objects.get(consent_id="c-denial").visitor_hash == ""


# ---------------------------------------------------------------- coverage of every model

def test_every_model_with_a_visitor_or_email_field_is_covered_by_export_and_erasure():
    covered = {source.model._meta.label_lower for source in SOURCES}
    holding = {
        model._meta.label_lower for model in apps.get_models()
        if any(word in field.name.lower() for field in model._meta.get_fields() for word in PERSONAL_FIELD_WORDS)
    }
    missing = holding - covered - set(EXEMPT)
    assert not missing, f"add these models to SOURCES (or EXEMPT, with a reason): {sorted(missing)}"
    assert {"campaigns.event", "campaigns.response", "campaigns.consentrecord"} <= covered
    assert not set(EXEMPT) - holding, "an EXEMPT entry that no longer holds such a field"


# ---------------------------------------------------------------- services

def test_an_export_by_visitor_id_holds_every_row_of_that_visitor_on_the_site(visited, owner, outsider_site):
    request, export = visitor_data_export(site=visited, requested_by=owner, channel="api", visitor_id=VISITOR)
    assert export["counts"] == rows_of(VISITOR) == {"events": 6, "assignments": 2, "funnel_steps": 0,
                                                    "responses": 2, "consent_records": 1, "journey_sessions": 0,
                                                    "journey_stages": 0, "audience_days": 1}
    assert {row["visitor_id"] for row in export["data"]["events"]} == {VISITOR}
    assert sorted(row["form"] for row in export["data"]["responses"]) == ["lead", "nps"]
    assert export["data"]["consent_records"][0]["consent_id"] == f"c-{VISITOR}"
    json.loads(json.dumps(export, default=str))
    assert (request.action, request.found, request.erased, request.visitors) == ("export", export["counts"], {}, 1)
    assert request.lookup_hash == visitor_hash(visitor_id=VISITOR) and VISITOR not in json.dumps(
        {f.attname: str(getattr(request, f.attname)) for f in DataRequest._meta.concrete_fields})
    _request, elsewhere = visitor_data_export(site=outsider_site, requested_by=None, channel="command",
                                              visitor_id=VISITOR)
    assert sum(elsewhere["counts"].values()) == 0


def test_an_export_by_email_finds_the_visitor_who_sent_it_whatever_the_case(visited):
    _request, export = visitor_data_export(site=visited, requested_by=None, channel="command",
                                           email="ann.smith@EXAMPLE.com ")
    assert export["visitor_ids"] == [VISITOR] and export["counts"]["responses"] == 2
    assert export["counts"]["events"] == 6


def test_a_lookup_needs_exactly_one_of_a_visitor_id_or_an_email(visited):
    with pytest.raises(ValueError, match=LOOKUP_MISSING):
        visitor_data_export(site=visited, requested_by=None, channel="command", visitor_id=VISITOR, email=EMAIL)
    with pytest.raises(ValueError, match=LOOKUP_MISSING):
        visitor_data_erase(site=visited, requested_by=None, channel="command")
    assert not DataRequest.objects.exists()


def test_erasure_deletes_the_rows_keeps_the_counters_and_unlinks_the_consent_proof(visited, lead, nps, owner):
    before = counters(lead, nps)
    request = visitor_data_erase(site=visited, requested_by=owner, channel="admin", email=EMAIL)
    assert_erased()
    assert counters(lead, nps) == before
    assert request.erased == {"events": 6, "assignments": 2, "funnel_steps": 0, "responses": 2,
                              "consent_records": 1, "journey_sessions": 0, "journey_stages": 0,
                              "audience_days": 1}
    assert (request.lookup, request.visitors, visitors_erased(site_id=visited.id)) == ("email", 1, 1)


def test_an_erased_visitor_who_returns_is_assigned_again_and_counted_as_new(client, visited, lead, nps):
    exposed_before = counters(lead)[0][lead.variants.get().id]["exposed"]
    visitor_data_erase(site=visited, requested_by=None, channel="command", visitor_id=VISITOR)
    send(client, visited, [event("impression", campaign=lead, variant=lead.variants.get(), visitor=VISITOR)])
    tally.tally_drain()
    assert Assignment.objects.filter(visitor_id=VISITOR, campaign_id=lead.id).count() == 1
    assert counters(lead)[0][lead.variants.get().id]["exposed"] == exposed_before + 1


def test_an_uncounted_consent_decision_keeps_its_proof_when_its_visitor_is_erased(client, site):
    send(client, site, [event("consent", visitor=VISITOR, data={
        "decision": "granted", "categories": [], "policy_version": "1", "consent_id": "c-late"})])
    assert tally.tally_pending() == 1
    visitor_data_erase(site=site, requested_by=None, channel="command", visitor_id=VISITOR)
    tally.tally_drain()
    record = ConsentRecord.objects.get(consent_id="c-late")
    assert (record.visitor_hash, record.decision, Event.objects.count()) == ("", "granted", 0)


def test_an_erasure_on_one_site_leaves_the_same_visitor_id_on_another_site(client, visited, outsider_site):
    post_events(client, outsider_site, [event("pageview", visitor=VISITOR)], origin="https://other.example")
    tally.tally_drain()
    visitor_data_erase(site=visited, requested_by=None, channel="command", visitor_id=VISITOR)
    assert Event.objects.filter(visitor_id=VISITOR, site=outsider_site).count() == 1


# ---------------------------------------------------------------- admin

def test_the_data_requests_page_exports_then_erases_a_visitor_and_logs_both(owner_client, visited, lead, nps):
    url = reverse("admin:campaigns_datarequest_answer")
    page = owner_client.get(url)
    assert page.status_code == 200 and "Owner shop" in page.content.decode()
    exported = owner_client.post(url, {"site": visited.id, "visitor_id": VISITOR, "action": "export"})
    assert exported.status_code == 200 and exported["Content-Type"].startswith("application/json")
    assert "attachment" in exported["Content-Disposition"]
    assert json.loads(exported.content)["counts"]["responses"] == 2
    before = counters(lead, nps)
    confirm = owner_client.post(url, {"site": visited.id, "email": EMAIL, "action": "erase"})
    assert confirm.status_code == 200 and "2 responses" in confirm.content.decode()
    assert rows_of(VISITOR)["responses"] == 2  # asked to confirm first
    erased = owner_client.post(url, {"site": visited.id, "email": EMAIL, "action": "erase", "confirm": "yes"},
                               follow=True)
    assert erased.status_code == 200 and "1 visitor" in erased.content.decode()
    assert_erased()
    assert counters(lead, nps) == before
    log = owner_client.get(reverse("admin:campaigns_datarequest_changelist")).content.decode()
    assert "Export" in log and "Erase" in log and "1 visitor erased on Owner shop" in log
    changelist = reverse("admin:campaigns_datarequest_changelist")
    by_email = owner_client.get(changelist, {"q": "ann.smith@example.com"}).context["cl"].result_list
    by_visitor = owner_client.get(changelist, {"q": VISITOR}).context["cl"].result_list
    assert [r.action for r in by_email] == ["erase"] and [r.action for r in by_visitor] == ["export"]


def test_the_data_requests_page_refuses_another_owners_site(owner_client, outsider_site):
    url = reverse("admin:campaigns_datarequest_answer")
    answer = owner_client.post(url, {"site": outsider_site.id, "visitor_id": VISITOR, "action": "export"})
    assert answer.status_code == 200 and "Select a valid choice" in answer.content.decode()
    assert not DataRequest.objects.exists()


def test_the_responses_list_exports_and_erases_the_visitors_of_the_selected_answers(owner_client, visited):
    url = reverse("admin:campaigns_response_changelist")
    ann = Response.objects.filter(visitor_id=VISITOR, form="lead").values_list("id", flat=True)
    exported = owner_client.post(url, {"action": "visitor_data_export", "_selected_action": list(ann)})
    assert json.loads(exported.content)["visitors"][0]["visitor_ids"] == [VISITOR]
    erased = owner_client.post(url, {"action": "visitor_data_erase", "_selected_action": list(ann),
                                     "confirm": "yes"}, follow=True)
    assert erased.status_code == 200
    assert_erased()


def test_an_owner_can_delete_a_response_but_not_a_consent_record(owner_client, visited):
    response = Response.objects.filter(visitor_id=VISITOR).first()
    delete = reverse("admin:campaigns_response_delete", args=[response.id])
    assert owner_client.post(delete, {"post": "yes"}).status_code == 302
    assert not Response.objects.filter(id=response.id).exists()
    record = ConsentRecord.objects.first()
    assert owner_client.post(reverse("admin:campaigns_consentrecord_delete", args=[record.id]),
                             {"post": "yes"}).status_code == 403
    assert ConsentRecord.objects.filter(id=record.id).exists()


def test_an_owner_cannot_delete_another_owners_response(client, outsider, visited):
    client.force_login(outsider)
    response = Response.objects.first()
    assert client.post(reverse("admin:campaigns_response_delete", args=[response.id]),
                       {"post": "yes"}).status_code == 404
    assert Response.objects.filter(id=response.id).exists()


def test_the_request_log_shows_only_the_owners_sites(client, outsider, visited):
    visitor_data_export(site=visited, requested_by=None, channel="command", visitor_id=VISITOR)
    client.force_login(outsider)
    log = client.get(reverse("admin:campaigns_datarequest_changelist")).content.decode()
    assert "0 data requests" in log or "0 results" in log
    request = DataRequest.objects.get()
    assert client.get(reverse("admin:campaigns_datarequest_change", args=[request.id])).status_code == 404


# ---------------------------------------------------------------- REST API

def test_the_api_exports_and_erases_by_visitor_id_and_by_email(owner_api, visited, lead, nps):
    export_url = reverse("campaigns:site-visitor-data-export", args=[visited.id])
    erase_url = reverse("campaigns:site-visitor-data-erase", args=[visited.id])
    exported = owner_api.post(export_url, {"visitor_id": VISITOR}, format="json")
    assert exported.status_code == 200 and exported.json()["counts"]["events"] == 6
    before = counters(lead, nps)
    erased = owner_api.post(erase_url, {"email": EMAIL}, format="json")
    assert erased.status_code == 200
    body = erased.json()
    assert body["erased"]["responses"] == 2 and body["visitors_erased_on_site"] == 1
    assert_erased()
    assert counters(lead, nps) == before
    listed = owner_api.get(reverse("campaigns:site-visitor-data", args=[visited.id])).json()
    assert listed["visitors_erased"] == 1 and [r["action"] for r in listed["requests"]] == ["erase", "export"]


def test_the_api_answers_a_bad_lookup_with_a_json_400(owner_api, visited):
    answer = owner_api.post(reverse("campaigns:site-visitor-data-erase", args=[visited.id]),
                            {"visitor_id": VISITOR, "email": EMAIL}, format="json")
    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid_lookup", "detail": LOOKUP_MISSING}
    assert rows_of(VISITOR)["responses"] == 2


def test_another_owner_gets_404_and_touches_nothing(outsider, visited):
    api = APIClient()
    api.force_authenticate(outsider)
    for name in ("site-visitor-data-export", "site-visitor-data-erase"):
        answer = api.post(reverse(f"campaigns:{name}", args=[visited.id]), {"visitor_id": VISITOR}, format="json")
        assert answer.status_code == 404
    assert api.get(reverse("campaigns:site-visitor-data", args=[visited.id])).status_code == 404
    assert rows_of(VISITOR)["responses"] == 2 and not DataRequest.objects.exists()


def test_the_api_is_in_the_openapi_schema(owner_api):
    schema = owner_api.get(reverse("campaigns:schema"), HTTP_ACCEPT="application/json").json()
    assert "400" in schema["paths"]["/api/sites/{id}/visitor-data/erase/"]["post"]["responses"]
    assert "/api/sites/{id}/visitor-data/export/" in schema["paths"]


# ---------------------------------------------------------------- management command

def test_the_command_exports_then_erases_a_visitor(visited, lead, nps):
    out = StringIO()
    call_command("visitor_data", "export", "--site", str(visited.id), "--email", EMAIL, stdout=out)
    assert json.loads(out.getvalue())["counts"]["responses"] == 2
    before = counters(lead, nps)
    out = StringIO()
    call_command("visitor_data", "erase", "--site", str(visited.id), "--visitor", VISITOR, stdout=out)
    assert json.loads(out.getvalue())["erased"]["events"] == 6
    assert_erased()
    assert counters(lead, nps) == before
    assert list(DataRequest.objects.values_list("channel", "action")) == [("command", "erase"),
                                                                           ("command", "export")]


def test_the_command_refuses_an_unknown_site_and_a_missing_lookup(visited):
    with pytest.raises(CommandError):
        call_command("visitor_data", "erase", "--site", "999999", "--visitor", VISITOR)
    with pytest.raises(CommandError, match=LOOKUP_MISSING):
        call_command("visitor_data", "erase", "--site", str(visited.id))
    assert rows_of(VISITOR)["responses"] == 2


def test_uuid_event_ids_survive_the_export_as_text(visited):
    _request, export = visitor_data_export(site=visited, requested_by=None, channel="command", visitor_id=VISITOR)
    from campaigns.selectors.visitor_data import visitor_data_json

    text = visitor_data_json(export=export)
    assert str(uuid.UUID(json.loads(text)["data"]["events"][0]["event_id"])) in text


def test_the_migration_fills_the_hashes_of_rows_stored_before_it(site):
    from datetime import UTC, datetime

    migration = importlib.import_module("campaigns.migrations.0013_visitor_data")
    at = datetime(2026, 11, 30, tzinfo=UTC)
    lead = Response.objects.create(site=site, event_id=uuid.uuid4(), campaign_id=1, visitor_id=VISITOR, form="lead",
                                   email=" Ann.Smith@example.com", created_at=at)
    nps = Response.objects.create(site=site, event_id=uuid.uuid4(), campaign_id=1, visitor_id=VISITOR, form="nps",
                                  score=9, created_at=at)
    records = {}
    for consent_id, visitor, keep_event in (("kept", VISITOR, True), ("expired", VISITOR, False), ("denial", "", True)):
        event_id = uuid.uuid4()
        records[consent_id] = ConsentRecord.objects.create(
            site=site, event_id=event_id, consent_id=consent_id, decided_at=at, received_at=at, policy_version="1",
            decision="granted")
        if keep_event:
            Event.objects.create(site=site, event_id=event_id, type="consent", ts=at, received_at=at,
                                 visitor_id=visitor)
    migration.hashes_fill(apps, None)
    lead.refresh_from_db()
    nps.refresh_from_db()
    assert (lead.email_hash, nps.email_hash) == (email_hash(email=EMAIL), "")
    hashes = {key: ConsentRecord.objects.get(id=record.id).visitor_hash for key, record in records.items()}
    assert hashes == {"kept": visitor_hash(visitor_id=VISITOR), "expired": "", "denial": ""}


def test_the_results_page_says_how_many_visitors_were_erased(owner_client, visited, lead):
    url = reverse("admin:campaigns_campaign_results", args=[lead.id])
    assert 'id="visitors-erased"' not in owner_client.get(url).content.decode()
    visitor_data_erase(site=visited, requested_by=None, channel="command", visitor_id=VISITOR)
    visitor_data_erase(site=visited, requested_by=None, channel="command", visitor_id="v_never_seen")
    page = owner_client.get(url).content.decode()
    assert "1 visitor erased on this site" in page
    results = owner_client.get(reverse("campaigns:campaign-results", args=[lead.id])).json()
    assert results["visitors_erased_on_site"] == 1


@pytest.mark.parametrize("body", [
    {"visitor_id": "v_\ud800"}, {"email": "ann\x00@example.com"}, {"visitor_id": ["v_1"]}, ["v_1"],
    {"visitor_id": "v" * 300},
])
def test_the_api_answers_malformed_lookups_with_a_json_400(owner_api, visited, body):
    answer = owner_api.post(reverse("campaigns:site-visitor-data-erase", args=[visited.id]),
                            json.dumps(body), content_type="application/json")
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_lookup"
    assert rows_of(VISITOR)["responses"] == 2 and not DataRequest.objects.exists()


@pytest.mark.django_db(transaction=True)  # the tally's lock taken by the fixture's tally must be released
def test_an_erasure_waits_for_the_tally_and_answers_503_when_it_keeps_its_lock(owner_api, visited, monkeypatch):
    import psycopg
    from django.db import connection

    from campaigns.services import visitor_data

    if connection.vendor != "postgresql":
        pytest.skip("the tally's advisory lock is PostgreSQL's")
    monkeypatch.setattr(visitor_data, "LOCK_WAIT_SECONDS", 0.2)
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k in ("dbname", "host", "port", "user", "password")},
                         autocommit=True) as tally_worker:
        assert tally_worker.execute("SELECT pg_try_advisory_lock(%s, %s)",
                                    [LOCK_NAMESPACE, LOCK_TALLY]).fetchone()[0]
        answer = owner_api.post(reverse("campaigns:site-visitor-data-erase", args=[visited.id]),
                                {"visitor_id": VISITOR}, format="json")
    assert answer.status_code == 503 and answer["Retry-After"] == "60"
    assert answer.json()["error"] == "busy"
    assert rows_of(VISITOR)["responses"] == 2 and not DataRequest.objects.exists()
    retried = owner_api.post(reverse("campaigns:site-visitor-data-erase", args=[visited.id]),
                             {"visitor_id": VISITOR}, format="json")
    assert retried.status_code == 200 and rows_of(VISITOR)["responses"] == 0


def test_another_owner_selecting_these_answers_in_admin_erases_and_exports_nothing(client, outsider, visited):
    client.force_login(outsider)
    url = reverse("admin:campaigns_response_changelist")
    ids = list(Response.objects.values_list("id", flat=True))
    for action in ("visitor_data_export", "visitor_data_erase"):
        answer = client.post(url, {"action": action, "_selected_action": ids, "confirm": "yes"})
        assert answer.status_code in (200, 302) and answer.get("Content-Type", "").startswith("text/html")
    assert rows_of(VISITOR)["responses"] == 2 and not DataRequest.objects.exists()
