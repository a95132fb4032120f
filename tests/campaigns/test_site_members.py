"""Members of a site: an owner never sees the installation's users; an invitee joins only by accepting."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Site, SiteInvitation
from tests.conftest import user_create

pytestmark = pytest.mark.django_db

CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def site_form(site: Site, **overrides) -> dict:
    data = {
        "name": site.name,
        "allowed_origins": json.dumps(site.allowed_origins),
        "members": [user.id for user in site.members.all()],
        "policy_version": site.policy_version,
        "consent_source": site.consent_source,
        "consent_mode_map": json.dumps(site.consent_mode_map),
        "time_zone": site.time_zone,
        "language": site.language,
        "event_retention_days": site.event_retention_days,
        "consent_retention_days": site.consent_retention_days,
        "response_retention_days": site.response_retention_days,
        "kept_query_params": json.dumps(site.kept_query_params),
        "max_overlays_per_session": site.max_overlays_per_session or "",
        "min_overlay_gap_seconds": site.min_overlay_gap_seconds,
        "form_min_fill_seconds": site.form_min_fill_seconds,
        "leads_per_mailbox_per_day": site.leads_per_mailbox_per_day,
        "leads_per_ip_per_hour": site.leads_per_ip_per_hour,
        "max_order_value": site.max_order_value,
    }
    data.update(overrides)
    return data


@pytest.fixture
def owner_client(owner):
    browser = Client()
    browser.force_login(owner)
    return browser


@pytest.fixture
def ann(db):
    user = user_create("ann")
    user.email = "ann@example.com"
    user.save()
    return user


@pytest.fixture
def client(db):
    """The invitee's or outsider's browser, apart from the owner's."""
    return Client()


def answer(client, invitation: SiteInvitation, decision: str):
    return client.post(reverse("admin:campaigns_site_invitations"),
                       {"invitation": invitation.id, "answer": decision})


def test_the_site_form_lists_no_user_who_is_not_a_member(owner_client, site, outsider, ann):
    body = owner_client.get(reverse("admin:campaigns_site_change", args=[site.id])).content.decode()

    assert 'name="invite"' in body
    assert "outsider" not in body
    assert "ann" not in body


def test_an_owner_cannot_add_a_member_by_crafting_the_form(owner_client, site, outsider):
    response = owner_client.post(reverse("admin:campaigns_site_change", args=[site.id]),
                                 site_form(site, members=[outsider.id]))

    assert response.status_code == 200  # the form comes back with an error
    assert list(site.members.all()) == []


def test_an_invitee_sees_the_site_only_after_accepting(owner_client, client, site, ann):
    response = owner_client.post(reverse("admin:campaigns_site_change", args=[site.id]),
                                 site_form(site, invite="ann@example.com"))
    assert response.status_code == 302
    invitation = SiteInvitation.objects.get(site=site)
    assert invitation.user == ann
    client.force_login(ann)
    assert site.name not in client.get(reverse("admin:campaigns_site_changelist")).content.decode()
    assert client.get(reverse("admin:campaigns_site_change", args=[site.id])).status_code == 404

    page = client.get(reverse("admin:campaigns_site_invitations")).content.decode()
    assert site.name in page
    answer(client, invitation, "accept")

    assert list(site.members.all()) == [ann]
    assert client.get(reverse("admin:campaigns_site_change", args=[site.id])).status_code == 200


def test_an_owner_learns_nothing_about_which_accounts_exist(owner_client, site, ann):
    answers = [
        owner_client.post(reverse("admin:campaigns_site_change", args=[site.id]), site_form(site, invite=typed),
                          follow=True).content.decode().replace(typed, "TYPED")
        for typed in ("ann", "nobody-by-that-name")
    ]

    assert SiteInvitation.objects.get(invitee="ann").user_id is not None
    assert SiteInvitation.objects.get(invitee="nobody-by-that-name").user_id is None
    assert "Invitation for &#x27;TYPED&#x27; recorded" in answers[0]
    assert CSRF_TOKEN.sub("", answers[0]) == CSRF_TOKEN.sub("", answers[1])


def test_an_invitation_names_an_account_exactly(owner_client, site, ann):
    for typed in ("Ann", "an", "ANN@example.com.evil"):
        owner_client.post(reverse("admin:campaigns_site_change", args=[site.id]), site_form(site, invite=typed))

    assert not SiteInvitation.objects.filter(user=ann).exists()


def test_a_declined_invitation_adds_nobody_and_only_its_invitee_may_answer(owner_client, client, site, ann, outsider):
    owner_client.post(reverse("admin:campaigns_site_change", args=[site.id]), site_form(site, invite="ann"))
    invitation = SiteInvitation.objects.get(site=site)

    client.force_login(outsider)
    answer(client, invitation, "accept")
    assert list(site.members.all()) == []

    client.force_login(ann)
    answer(client, invitation, "decline")
    answer(client, invitation, "accept")  # answered already: nothing changes
    invitation.refresh_from_db()
    assert invitation.accepted is False
    assert list(site.members.all()) == []


def test_a_member_cannot_invite_or_see_the_member_list(client, site, ann, outsider):
    site.members.add(ann)
    client.force_login(ann)

    body = client.get(reverse("admin:campaigns_site_change", args=[site.id])).content.decode()
    client.post(reverse("admin:campaigns_site_change", args=[site.id]), site_form(site, invite="outsider"))

    assert 'name="invite"' not in body
    assert 'name="members"' not in body
    assert not SiteInvitation.objects.exists()


def test_an_owner_removes_a_member(owner_client, site, ann):
    site.members.add(ann)

    response = owner_client.post(reverse("admin:campaigns_site_change", args=[site.id]), site_form(site, members=[]))

    assert response.status_code == 302
    assert list(site.members.all()) == []
