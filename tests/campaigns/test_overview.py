"""The admin's front page: each site's active campaigns over 7 and 30 days, running tests with today's verdict, NPS and
consent, from the counters and records the tally keeps; scoped to the owner's sites, in a bounded number of queries."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from campaigns import services
from campaigns.models import Campaign
from campaigns.results.campaign import campaign_results
from campaigns.results.overview import overview_get
from campaigns.services.members import site_invitation_answer, site_member_invite
from campaigns.services.results import campaign_winner_declare
from tests.campaigns.test_reports import answer, consent, nps_create
from tests.campaigns.test_results import ab_create, arms_of, counters
from tests.conftest import popup_campaign_create, user_create

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
TODAY = NOW.date()  # the site's zone is UTC


def figures(window) -> tuple:
    return window.impressions, window.converters, window.exposed, window.conversion_rate


@pytest.fixture
def ab(site):
    return ab_create(site, name="Exit popup")


def test_windows_sum_the_shown_arms_counters_of_the_last_7_and_30_days(owner, ab):
    a, b = arms_of(ab)
    counters(ab, a, TODAY, impressions=40, exposed=30, converters=3)
    counters(ab, b, TODAY - timedelta(days=6), impressions=20, exposed=10, converters=2)
    counters(ab, a, TODAY - timedelta(days=7), impressions=100, exposed=50, converters=1)  # 30 days only
    counters(ab, b, TODAY - timedelta(days=29), impressions=5, exposed=5, converters=0)
    counters(ab, a, TODAY - timedelta(days=30), impressions=999, exposed=999, converters=99)  # too old
    counters(ab, None, TODAY, exposed=70, converters=7)  # the holdout was shown nothing
    counters(ab, a, TODAY - timedelta(days=2), device="mobile", source="direct", impressions=4, exposed=4,
             converters=4)  # another segment of the same day

    [site] = overview_get(user=owner, now=NOW)
    [row] = site.campaigns

    assert row.campaign == ab
    assert figures(row.windows[7]) == (64, 9, 44, pytest.approx(9 / 44))
    assert figures(row.windows[30]) == (169, 10, 99, pytest.approx(10 / 99))
    assert len(row.daily_impressions) == 30
    assert row.daily_impressions[0] == (TODAY - timedelta(days=29), 5)
    assert row.daily_impressions[-1] == (TODAY, 40)
    assert dict(row.daily_impressions)[TODAY - timedelta(days=2)] == 4
    assert dict(row.daily_impressions)[TODAY - timedelta(days=1)] == 0


def test_a_window_without_exposure_has_no_rate_and_converters_never_exceed_the_exposed(owner, site):
    campaign = popup_campaign_create(site=site, name="Bar", variants=[{"name": "A", "weight": 100, "content": {}}])
    [variant] = arms_of(campaign)
    counters(campaign, variant, TODAY - timedelta(days=10), exposed=2, converters=0)
    counters(campaign, variant, TODAY, exposed=0, converters=3)  # exposed before the window, converted in it

    [row] = overview_get(user=owner, now=NOW)[0].campaigns

    assert row.windows[7].conversion_rate is None and row.windows[7].converters == 3
    assert row.windows[30].conversion_rate == pytest.approx(2 / 2)


def test_the_days_are_the_sites_own(owner, site, ab):
    site.time_zone = "Pacific/Auckland"  # 20 March 12:00 UTC is already 21 March there
    site.save(update_fields=["time_zone"])
    a, _ = arms_of(ab)
    counters(ab, a, TODAY + timedelta(days=1), impressions=8, exposed=8)
    counters(ab, a, TODAY - timedelta(days=6), impressions=1, exposed=1)  # 7 days ago in Auckland

    [overview] = overview_get(user=owner, now=NOW)

    assert overview.today == TODAY + timedelta(days=1)
    assert overview.campaigns[0].windows[7].impressions == 8
    assert overview.campaigns[0].windows[30].impressions == 9


def test_only_active_campaigns_are_listed_and_only_running_tests_get_a_verdict(owner, site, ab):
    popup_campaign_create(site=site, name="Paused", status="paused")
    single = popup_campaign_create(site=site, name="Single", variants=[{"name": "A", "weight": 100, "content": {}}])
    decided = ab_create(site, name="Decided")
    campaign_winner_declare(campaign=decided, variant=arms_of(decided)[1])
    a, b = arms_of(ab)
    counters(ab, a, TODAY - timedelta(days=40), exposed=1000, converters=30)
    counters(ab, b, TODAY - timedelta(days=40), exposed=1000, converters=60)
    counters(ab, None, TODAY - timedelta(days=40), exposed=200, converters=5)

    [overview] = overview_get(user=owner, now=NOW)

    assert [row.campaign.name for row in overview.campaigns] == ["Decided", "Exit popup", "Single"]
    assert single.control_share == 0
    [test] = overview.tests
    assert test.campaign == ab and test.arms == ["A", "B", "Holdout"]
    # Today's verdict is the results page's, over the whole test (the counters are older than 30 days).
    assert test.verdict == campaign_results(campaign=ab)["verdict"]
    assert test.verdict.startswith("B is ")


def test_nps_and_consent_count_the_answers_and_decisions_of_the_last_30_days(owner, site):
    nps = nps_create(site)
    for score, days_ago in ((10, 1), (9, 29), (8, 2), (3, 3), (0, 31)):
        answer(nps, form="nps", score=score, at=NOW - timedelta(days=days_ago), visitor=f"v{score}")
    for decision, days_ago in (("granted", 1), ("granted", 2), ("custom", 3), ("denied", 4), ("denied", 40)):
        consent(site, decision=decision, at=NOW - timedelta(days=days_ago))

    [overview] = overview_get(user=owner, now=NOW)

    [score] = overview.nps
    assert score.campaign == nps and score.responses == 4
    assert score.score == pytest.approx(100 * (2 - 1) / 4)
    assert (overview.consent.decisions, overview.consent.granted, overview.consent.custom,
            overview.consent.denied) == (4, 2, 1, 1)
    assert overview.consent.accept_rate == pytest.approx(0.5)


def test_an_owner_never_sees_another_owners_site(owner, outsider, site, ab):
    theirs = services.site_create(owner=outsider, name="Outsider shop", allowed_origins=["https://out.example"])
    hidden = ab_create(theirs, name="Their secret popup")
    counters(hidden, arms_of(hidden)[0], TODAY, impressions=5, exposed=5)
    member = user_create("member")
    invitation = site_member_invite(site=theirs, invited_by=outsider, invitee="member")
    site_invitation_answer(invitation_id=invitation.id, user=member, accept=True)

    assert [o.site for o in overview_get(user=owner, now=NOW)] == [site]
    assert [o.site for o in overview_get(user=outsider, now=NOW)] == [theirs]
    assert [o.site for o in overview_get(user=member, now=NOW)] == [theirs]


def test_the_front_page_shows_the_owners_sites_only(client, owner, outsider, site, ab):
    theirs = services.site_create(owner=outsider, name="Outsider shop", allowed_origins=["https://out.example"])
    ab_create(theirs, name="Their secret popup")
    client.force_login(owner)

    page = client.get(reverse("admin:index")).content.decode()

    assert "Owner shop" in page and "Exit popup" in page
    assert "Outsider shop" not in page and "Their secret popup" not in page
    assert 'class="rt-sparkline"' in page and "<script>" not in page
    assert reverse("admin:campaigns_campaign_results", args=[ab.id]) in page
    assert reverse("admin:campaigns_site_journeys", args=[site.id]) in page
    assert reverse("admin:campaigns_campaign_export", args=[ab.id, "results"]) in page
    assert 'id="rt-app-list"' in page and reverse("admin:campaigns_site_changelist") in page  # Django's index


def test_the_front_page_links_every_report_of_the_sites_campaigns(client, owner, site):
    nps = nps_create(site)
    client.force_login(owner)

    page = client.get(reverse("admin:index")).content.decode()

    for url in (reverse("admin:campaigns_campaign_nps", args=[nps.id]),
                reverse("admin:campaigns_campaign_export", args=[nps.id, "nps"])):
        assert url in page


def test_the_front_page_needs_a_staff_login(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def _busy_site(owner, name: str, *, with_records: bool):
    site = services.site_create(owner=owner, name=name, allowed_origins=[f"https://{name.lower()}.example"])
    for number in range(3):
        campaign = ab_create(site, name=f"{name} test {number}")
        a, b = arms_of(campaign)
        for days_ago in (0, 5, 20, 45):
            counters(campaign, a, TODAY - timedelta(days=days_ago), impressions=10, exposed=10, converters=1)
            counters(campaign, b, TODAY - timedelta(days=days_ago), impressions=10, exposed=10, converters=2)
            counters(campaign, None, TODAY - timedelta(days=days_ago), exposed=2, converters=0)
    popup_campaign_create(site=site, name=f"{name} bar", variants=[{"name": "A", "weight": 100, "content": {}}])
    if with_records:
        nps = nps_create(site, name=f"{name} NPS")
        answer(nps, form="nps", score=9, at=NOW - timedelta(days=1))
        consent(site, decision="granted", at=NOW - timedelta(days=1))
    return site


def test_the_front_page_costs_at_most_15_queries_whatever_the_sites_and_campaigns(
    client, owner, django_assert_max_num_queries, monkeypatch,
):
    monkeypatch.setattr("campaigns.results.overview.timezone.now", lambda: NOW)
    for number in range(4):
        _busy_site(owner, f"Shop{number}", with_records=number % 2 == 0)
    client.force_login(owner)
    assert Campaign.objects.filter(status="active").count() == 4 * 5 - 2

    with django_assert_max_num_queries(15):
        response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert response.content.decode().count('class="rt-sparkline"') == 18


def test_nps_and_consent_read_only_the_newest_answers_and_decisions(owner, site, monkeypatch):
    monkeypatch.setattr("campaigns.results.overview.RECORDS_LATEST", 2)
    nps = nps_create(site)
    for score, days_ago in ((10, 1), (0, 2), (0, 3)):  # the oldest detractor is past the newest two
        answer(nps, form="nps", score=score, at=NOW - timedelta(days=days_ago), visitor=f"v{days_ago}")
    for decision, days_ago in (("granted", 1), ("granted", 2), ("denied", 3)):
        consent(site, decision=decision, at=NOW - timedelta(days=days_ago))

    [overview] = overview_get(user=owner, now=NOW)

    assert (overview.nps[0].responses, overview.nps[0].score) == (2, 0)
    assert (overview.consent.decisions, overview.consent.accept_rate) == (2, 1)
