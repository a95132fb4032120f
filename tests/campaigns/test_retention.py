from datetime import UTC, datetime, timedelta

from django.utils import timezone

from campaigns.models import Assignment, ConsentRecord, Event, Response, VariantDailyStats
from campaigns.services.retention import events_expire
from campaigns.tally.drain import tally_drain, tally_pending
from campaigns.tasks import events_expire as events_expire_task
from tests.campaigns.events_kit import event, post_events


def age_everything(days: int) -> None:
    then = timezone.now() - timedelta(days=days)
    Event.objects.update(received_at=then)
    ConsentRecord.objects.update(received_at=then)


def test_old_events_go_and_counters_responses_and_assignments_stay(client, site, campaign):
    variant = campaign.variants.first()
    post_events(client, site, [
        event("impression", campaign=campaign, variant=variant),
        event("submit", campaign=campaign, variant=variant, data={"form": "feedback", "text": "ok"}),
    ])
    tally_drain()
    site.event_retention_days = 30
    site.save()
    age_everything(31)
    assert events_expire(site=site) == (2, 0)
    assert not Event.objects.exists()
    assert VariantDailyStats.objects.exists() and Response.objects.exists() and Assignment.objects.exists()


def test_recent_events_and_events_not_yet_counted_are_kept(client, site, campaign):
    post_events(client, site, [event("pageview")])
    age_everything(365)  # old, but not counted yet
    post_events(client, site, [event("pageview")])
    assert events_expire(site=site) == (0, 0)
    assert Event.objects.count() == 2 and tally_pending() == 2


def test_consent_records_follow_their_own_retention(client, site):
    data = {"decision": "denied", "categories": [], "policy_version": "1", "consent_id": "c"}
    post_events(client, site, [event("consent", data=data)])
    tally_drain()
    site.consent_retention_days = 400
    site.event_retention_days = 10
    site.save()
    age_everything(100)
    assert events_expire(site=site) == (1, 0)
    age_everything(401)
    assert events_expire(site=site, now=datetime.now(UTC)) == (0, 1)


def test_the_beat_task_expires_every_site(client, site, outsider_site):
    post_events(client, site, [event("pageview")])
    tally_drain()
    age_everything(1000)
    events_expire_task.delay()
    assert not Event.objects.exists()


def test_responses_follow_their_own_retention(client, site, campaign):
    from campaigns.services.retention import responses_expire

    variant = campaign.variants.first()
    post_events(client, site, [
        event("impression", campaign=campaign, variant=variant),
        event("submit", campaign=campaign, variant=variant, data={"form": "lead", "email": "ann@example.com"}),
    ])
    tally_drain()
    site.response_retention_days = 730
    site.save()
    Response.objects.update(created_at=timezone.now() - timedelta(days=729))
    assert responses_expire(site=site) == 0
    Response.objects.update(created_at=timezone.now() - timedelta(days=731))
    events_expire(site=site)
    assert not Response.objects.exists() and VariantDailyStats.objects.exists()
