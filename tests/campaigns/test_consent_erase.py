"""Erase on denial: the tally erases the visitor a denial names, once, in both folds, only where the site opts in."""

import pytest
from django.db import connection

from campaigns.models import DataRequest, Event, Site
from campaigns.tally import drain as tally
from tests.campaigns.events_kit import event
from tests.campaigns.test_visitor_data import (
    OTHER,
    VISITOR,
    counters,
    lead_create,
    nps_create,
    rows_of,
    send,
    visit,
)

pytestmark = pytest.mark.django_db

FOLDS = ["postgresql", "portable"]


@pytest.fixture(params=FOLDS)
def fold(request, monkeypatch):
    """Counts what was sent with the PostgreSQL fold, or with the portable one (the embedded SQLite default's)."""
    def run() -> None:
        if request.param == "portable":
            monkeypatch.setattr(connection, "vendor", "sqlite")
        tally.tally_drain()
        monkeypatch.undo()
    return run


@pytest.fixture
def visited(client, site):
    lead, nps = lead_create(site), nps_create(site)
    visit(client, site, lead=lead, nps=nps, visitor=VISITOR)
    visit(client, site, lead=lead, nps=nps, visitor=OTHER, email="bob@example.com")
    return site, (lead, nps)


def denial(*, erase, decision: str = "denied", categories=(), consent_id: str = "c-denial") -> dict:
    return event("consent", visitor=None, session=None, data={
        "decision": decision, "categories": list(categories), "policy_version": "1", "consent_id": consent_id,
        "erase": erase})


def stored_denial(consent_id: str = "c-denial") -> Event:
    return Event.objects.get(type="consent", payload__consent_id=consent_id)


def test_a_denial_erases_the_visitor_it_names_once_and_keeps_the_id_nowhere(client, visited, fold):
    site, campaigns = visited
    Site.objects.filter(pk=site.pk).update(consent_erase_on_denial=True)
    before = counters(*campaigns)

    send(client, site, [denial(erase=VISITOR)])
    fold()

    assert rows_of(VISITOR) == {"events": 0, "assignments": 0, "funnel_steps": 0, "responses": 0,
                                "consent_records": 0, "journey_sessions": 0, "journey_stages": 0,
                                "audience_days": 0}
    assert rows_of(OTHER)["responses"] == 2 and rows_of(OTHER)["assignments"] == 2
    assert counters(*campaigns) == before, "counters are aggregates: an erasure does not change them"
    [request] = DataRequest.objects.filter(site=site)
    assert (request.action, request.channel, request.requested_by, request.visitors) == ("erase", "denial", None, 1)
    assert stored_denial().payload["erase"] is True
    assert not Event.objects.filter(payload__contains=VISITOR).exists()

    tally.tally_drain()
    assert DataRequest.objects.filter(site=site).count() == 1


def test_a_site_that_did_not_opt_in_erases_nothing_and_drops_the_id(client, visited, fold):
    site, _campaigns = visited
    send(client, site, [denial(erase=VISITOR)])
    fold()

    assert rows_of(VISITOR)["responses"] == 2
    assert not DataRequest.objects.exists()
    assert stored_denial().payload["erase"] is True


def test_a_grant_with_an_erase_flag_erases_nothing(client, visited, fold):
    site, _campaigns = visited
    Site.objects.filter(pk=site.pk).update(consent_erase_on_denial=True)
    send(client, site, [denial(erase=VISITOR, decision="granted"),
                        denial(erase=VISITOR, decision="custom", categories=["marketing"], consent_id="c-custom")])
    fold()

    assert rows_of(VISITOR)["responses"] == 2
    assert not DataRequest.objects.exists()


def test_an_erase_flag_that_names_no_one_is_counted_without_erasing(client, visited, fold):
    site, _campaigns = visited
    Site.objects.filter(pk=site.pk).update(consent_erase_on_denial=True)
    send(client, site, [denial(erase=" "), denial(erase=123, consent_id="c-number")])
    fold()

    assert not DataRequest.objects.exists()
    assert rows_of(VISITOR)["responses"] == 2
    assert tally.tally_pending() == 0
