"""A staff user sees and edits only their own sites' objects, whatever URL or form they craft."""

import json

import pytest
from django.urls import reverse

from campaigns.models import Campaign, Site, Variant
from campaigns.models.site import consent_mode_map_default

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def _campaign_form(site, **overrides):
    data = {
        "site": site.id,
        "name": "Crafted",
        "message_type": "popup",
        "status": "draft",
        "priority": 0,
        "triggers": json.dumps([{"type": "page_load", "delay": 0}]),
        "schedule": "{}",
        "targeting": "null",
        "frequency": "{}",
        "goal": json.dumps({"type": "cta_click"}),
        "control_share": "0",
        "allocation_mode": "fixed",
        "stats_engine": "bayesian",
        "stats_difference": "relative",
        "stats_alpha": "0.05",
        "stats_correction": "none",
        "variants-TOTAL_FORMS": "1",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
        "variants-0-name": "A",
        "variants-0-weight": "100",
        "variants-0-content": json.dumps({"headline": "Hi"}),
    }
    data.update(overrides)
    return data


def test_campaign_list_shows_only_own_campaigns(owner_client, campaign, outsider_campaign):
    response = owner_client.get(reverse("admin:campaigns_campaign_changelist"))
    assert response.status_code == 200
    assert campaign.name in response.content.decode()
    assert outsider_campaign.name not in response.content.decode()


def test_site_filter_never_lists_another_owners_site(owner_client, campaign, outsider_campaign):
    response = owner_client.get(reverse("admin:campaigns_campaign_changelist"))
    assert "Owner shop" in response.content.decode()
    assert "Outsider shop" not in response.content.decode()


def test_site_list_shows_only_own_sites(owner_client, site, outsider_site):
    body = owner_client.get(reverse("admin:campaigns_site_changelist")).content.decode()
    assert site.name in body
    assert outsider_site.name not in body


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_every_admin_url_of_another_owners_campaign_is_404(owner_client, outsider_campaign, view):
    response = owner_client.get(reverse(f"admin:campaigns_campaign_{view}", args=[outsider_campaign.id]))
    assert response.status_code == 404


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_every_admin_url_of_another_owners_site_is_404(owner_client, outsider_site, view):
    response = owner_client.get(reverse(f"admin:campaigns_site_{view}", args=[outsider_site.id]))
    assert response.status_code == 404


def test_posting_to_another_owners_campaign_changes_nothing(owner_client, site, outsider_campaign):
    url = reverse("admin:campaigns_campaign_change", args=[outsider_campaign.id])
    response = owner_client.post(url, _campaign_form(site, name="Hijacked"))
    assert response.status_code == 404
    outsider_campaign.refresh_from_db()
    assert outsider_campaign.name == "Outsider popup"


def test_add_form_offers_only_own_sites(owner_client, site, outsider_site):
    response = owner_client.get(reverse("admin:campaigns_campaign_add"))
    assert list(response.context["adminform"].form.fields["site"].queryset) == [site]
    assert outsider_site.name not in response.content.decode()


def test_a_crafted_form_cannot_attach_a_campaign_to_another_owners_site(owner_client, outsider_site):
    response = owner_client.post(reverse("admin:campaigns_campaign_add"), _campaign_form(outsider_site))
    assert response.status_code == 200  # the form comes back with an error
    assert "Select a valid choice" in response.content.decode()
    assert not Campaign.objects.filter(name="Crafted").exists()


def test_a_crafted_form_cannot_move_an_own_campaign_to_another_owners_site(owner_client, campaign, outsider_site):
    url = reverse("admin:campaigns_campaign_change", args=[campaign.id])
    data = _campaign_form(outsider_site, name=campaign.name, **{"variants-TOTAL_FORMS": "0"})
    response = owner_client.post(url, data)
    assert response.status_code == 200
    campaign.refresh_from_db()
    assert campaign.site_id != outsider_site.id


def test_autocomplete_lists_only_own_sites(owner_client, site, outsider_site):
    response = owner_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "campaigns", "model_name": "campaign", "field_name": "site", "term": "shop"},
    )
    assert response.status_code == 200
    names = [item["text"] for item in response.json()["results"]]
    assert names == [site.name]


@pytest.mark.parametrize("action", ["activate", "pause", "archive", "duplicate"])
def test_actions_ignore_another_owners_campaigns(owner_client, campaign, outsider_campaign, action):
    before = Campaign.objects.count()
    owner_client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": action, "_selected_action": [outsider_campaign.id]},
    )
    outsider_campaign.refresh_from_db()
    assert outsider_campaign.status == "active"
    assert Campaign.objects.count() == before


def test_owner_can_create_a_campaign_with_a_variant_on_their_site(owner_client, site):
    response = owner_client.post(reverse("admin:campaigns_campaign_add"), _campaign_form(site))
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Campaign.objects.get(name="Crafted")
    assert created.site == site
    assert list(created.variants.values_list("name", flat=True)) == ["A"]


def test_member_sees_the_site_they_belong_to(client, site, outsider):
    site.members.add(outsider)
    client.force_login(outsider)
    body = client.get(reverse("admin:campaigns_site_changelist")).content.decode()
    assert site.name in body


def test_member_cannot_delete_a_site_they_do_not_own(client, site, outsider):
    site.members.add(outsider)
    client.force_login(outsider)
    response = client.post(reverse("admin:campaigns_site_delete", args=[site.id]), {"post": "yes"})
    assert response.status_code == 403
    assert Site.objects.filter(id=site.id).exists()


def test_new_site_belongs_to_the_staff_user_who_created_it(owner_client, owner, outsider):
    response = owner_client.post(
        reverse("admin:campaigns_site_add"),
        {
            "name": "Second shop",
            "allowed_origins": json.dumps(["https://second.example"]),
            "owner": outsider.id,  # crafted: ignored, the field is not on the owner's form
            "policy_version": "1",
            "consent_source": "ours",
            "consent_mode_map": json.dumps(consent_mode_map_default()),
            "time_zone": "Europe/Paris",
            "language": "en",
            "event_retention_days": 90,
            "consent_retention_days": 365,
            "response_retention_days": 730,
            "max_overlays_per_session": 2,
            "min_overlay_gap_seconds": 60,
            "form_min_fill_seconds": 2,
            "leads_per_mailbox_per_day": 5,
            "leads_per_ip_per_hour": 20,
            "max_order_value": "100000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Site.objects.get(name="Second shop").owner == owner


def test_site_page_shows_the_embed_snippet(owner_client, site):
    body = owner_client.get(reverse("admin:campaigns_site_change", args=[site.id])).content.decode()
    assert site.public_key in body
    assert "data-site" in body


def test_superuser_sees_every_site(client, superuser, site, outsider_site):
    client.force_login(superuser)
    body = client.get(reverse("admin:campaigns_site_changelist")).content.decode()
    assert site.name in body and outsider_site.name in body


def test_duplicate_copies_the_variants_as_a_draft(owner_client, campaign):
    owner_client.post(
        reverse("admin:campaigns_campaign_changelist"), {"action": "duplicate", "_selected_action": [campaign.id]}
    )
    copy = Campaign.objects.get(name=f"{campaign.name} (copy)")
    assert copy.status == "draft"
    assert sorted(Variant.objects.filter(campaign=copy).values_list("name", flat=True)) == ["A", "B"]


def test_misspelt_targeting_operator_is_refused_with_the_field_named(owner_client, site):
    targeting = {"all": [{"attr": "path", "op": "contain", "value": "/blog/"}]}
    response = owner_client.post(
        reverse("admin:campaigns_campaign_add"), _campaign_form(site, targeting=json.dumps(targeting))
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "targeting.all[0].op" in body
    assert "contain" in body
    assert not Campaign.objects.filter(name="Crafted").exists()


def test_variant_content_of_the_wrong_shape_is_refused_with_the_field_named(owner_client, site):
    data = _campaign_form(site, message_type="nps", **{"variants-0-content": json.dumps({"headline": "Hi"})})
    response = owner_client.post(reverse("admin:campaigns_campaign_add"), data)
    assert response.status_code == 200
    assert "content.question" in response.content.decode()
    assert not Campaign.objects.filter(name="Crafted").exists()


def test_marketer_html_is_sanitized_when_saved(owner_client, site):
    content = {"headline": "Hi", "body": '<p onclick="x()">Hi<script>alert(1)</script></p>'}
    data = _campaign_form(site, **{"variants-0-content": json.dumps(content)})
    response = owner_client.post(reverse("admin:campaigns_campaign_add"), data)
    assert response.status_code == 302
    body = Variant.objects.get(campaign__name="Crafted").content["body"]
    assert body == "<p>Hi</p>"


def test_ingestion_pages_show_only_own_sites_rows_and_404_for_others(owner_client, site, outsider_site):
    from datetime import date

    from campaigns.models import RejectedEventCount

    own = RejectedEventCount.objects.create(site=site, day=date(2026, 11, 1), reason="schema", count=3)
    other = RejectedEventCount.objects.create(site=outsider_site, day=date(2026, 11, 1), reason="origin", count=9)
    body = owner_client.get(reverse("admin:campaigns_rejectedeventcount_changelist")).content.decode()
    assert "schema" in body and "origin" not in body and "Outsider shop" not in body
    assert owner_client.get(reverse("admin:campaigns_rejectedeventcount_change", args=[own.id])).status_code == 200
    assert owner_client.get(reverse("admin:campaigns_rejectedeventcount_change", args=[other.id])).status_code == 404
    for model in ("response", "consentrecord"):
        assert owner_client.get(reverse(f"admin:campaigns_{model}_changelist")).status_code == 200
