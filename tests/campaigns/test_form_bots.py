"""Forms bots cannot flood: a honeypot refused at collect; a minimum fill time measured from the stored impression,
and per-e-mail and per-address limits, applied by both folds of the tally; every refusal counted by its reason."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Event, RejectedEventCount, Response
from campaigns.selectors.counters import variant_totals
from campaigns.tally import forms as tally_forms
from tests.campaigns.events_kit import event, post_events
from tests.campaigns.test_tally_revenue import FOLDS
from tests.conftest import popup_campaign_create

pytestmark = pytest.mark.parametrize("fold", FOLDS)


@pytest.fixture
def lead(site):
    site.form_min_fill_seconds = 2.0
    site.save()
    campaign = popup_campaign_create(
        site=site, name="Newsletter", message_type="lead", goal={"type": "submit"},
        variants=[{"name": "Form", "weight": 100, "content": {
            "fields": [{"name": "email", "label": "Email", "required": True}]}}],
    )
    return campaign, campaign.variants.order_by("id").first()


def refusals(site) -> dict[str, int]:
    return dict(RejectedEventCount.objects.filter(site=site).values_list("reason", "count"))


def shown(client, site, lead, *, visitor: str, seconds_ago: float, address: str = "10.0.0.1") -> None:
    """The lead form shown to `visitor`, its impression received `seconds_ago` (as if the visitor took that long)."""
    campaign, variant = lead
    assert post_events(client, site, [event("impression", campaign=campaign, variant=variant, visitor=visitor)],
                       REMOTE_ADDR=address).status_code == 202
    Event.objects.filter(site=site, type="impression", visitor_id=visitor).update(
        received_at=timezone.now() - timedelta(seconds=seconds_ago))


def answered(client, site, lead, *, visitor: str, email: str = "ann@example.com", address: str = "10.0.0.1",
             **data) -> dict:
    campaign, variant = lead
    response = post_events(client, site, [event("submit", campaign=campaign, variant=variant, visitor=visitor,
                                                 data={"form": "lead", "email": email, **data})], REMOTE_ADDR=address)
    assert response.status_code == 202
    return response.json()


def test_a_person_who_took_longer_than_the_minimum_is_kept(client, site, lead, fold):
    shown(client, site, lead, visitor="v", seconds_ago=3)
    answered(client, site, lead, visitor="v", hp="")
    fold()
    assert Response.objects.get().email == "ann@example.com"
    assert variant_totals(campaign_id=lead[0].id)[lead[1].id]["submits"] == 1
    assert refusals(site) == {}


def test_a_filled_honeypot_is_refused_at_collect(client, site, lead, fold):
    shown(client, site, lead, visitor="v", seconds_ago=3)
    answer = answered(client, site, lead, visitor="v", hp="http://spam.example")
    assert answer["rejected"] == [{"index": 0, "reason": "form_honeypot"}]
    fold()
    assert not Event.objects.filter(type="submit").exists() and not Response.objects.exists()
    assert refusals(site) == {"form_honeypot": 1}


def test_a_submit_without_an_impression_is_refused_and_counts_nowhere(client, site, lead, fold):
    answered(client, site, lead, visitor="v")
    fold()
    assert not Response.objects.exists()
    assert not Event.objects.filter(type="submit").exists(), "the bot's raw event goes with it"
    row = variant_totals(campaign_id=lead[0].id).get(lead[1].id, {})
    assert row.get("submits", 0) == 0 and row.get("converters", 0) == 0
    assert refusals(site) == {tally_forms.REASON_NO_IMPRESSION: 1}


def test_a_submit_sooner_than_the_minimum_after_its_impression_is_refused(client, site, lead, fold):
    campaign, variant = lead
    # A bot sends the impression and the answer together: no time between them on the server.
    post_events(client, site, [event("impression", campaign=campaign, variant=variant, visitor="bot"),
                               event("submit", campaign=campaign, variant=variant, visitor="bot",
                                     data={"form": "lead", "email": "bot@example.com"})])
    shown(client, site, lead, visitor="quick", seconds_ago=1)
    answered(client, site, lead, visitor="quick")
    fold()
    assert not Response.objects.exists()
    assert refusals(site) == {tally_forms.REASON_TOO_FAST: 2}


def test_at_most_five_answers_per_email_a_day_across_batches(client, site, lead, fold):
    for n in range(3):
        shown(client, site, lead, visitor=f"v{n}", seconds_ago=3, address=f"10.0.0.{n}")
        answered(client, site, lead, visitor=f"v{n}", email="Ann@Example.com", address=f"10.0.0.{n}")
    fold()
    for n in range(3, 7):
        shown(client, site, lead, visitor=f"v{n}", seconds_ago=3, address=f"10.0.0.{n}")
        answered(client, site, lead, visitor=f"v{n}", email=" ann@example.COM", address=f"10.0.0.{n}")
    shown(client, site, lead, visitor="other", seconds_ago=3)
    answered(client, site, lead, visitor="other", email="bob@example.com")
    fold()
    assert Response.objects.filter(email_hash=Response.objects.get(visitor_id="v0").email_hash).count() == 5
    assert Response.objects.filter(visitor_id="other").exists()
    assert refusals(site) == {tally_forms.REASON_EMAIL_LIMIT: 2}


def test_at_most_the_sites_limit_of_answers_per_address_an_hour(client, site, lead, fold):
    site.leads_per_ip_per_hour = 3
    site.save()
    for n in range(4):
        shown(client, site, lead, visitor=f"v{n}", seconds_ago=3, address="10.9.9.9")
        answered(client, site, lead, visitor=f"v{n}", email=f"p{n}@example.com", address="10.9.9.9")
    shown(client, site, lead, visitor="elsewhere", seconds_ago=3, address="10.1.1.1")
    answered(client, site, lead, visitor="elsewhere", email="e@example.com", address="10.1.1.1")
    fold()
    assert sorted(Response.objects.values_list("visitor_id", flat=True)) == ["elsewhere", "v0", "v1", "v2"]
    assert refusals(site) == {tally_forms.REASON_ADDRESS_LIMIT: 1}
    # An hour later the address may answer again.
    Response.objects.update(received_at=timezone.now() - timedelta(hours=1, seconds=1))
    shown(client, site, lead, visitor="later", seconds_ago=3, address="10.9.9.9")
    answered(client, site, lead, visitor="later", email="l@example.com", address="10.9.9.9")
    fold()
    assert Response.objects.filter(visitor_id="later").exists()
