"""Lead magnets: a file (or URL) of the site, named by a lead's content, handed out as a signed, short-lived link in
the 202 of the batch that stored the lead, and served only through such a link."""

import json
import time
from pathlib import Path
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.test import override_settings
from django.urls import Resolver404, resolve

from campaigns import services
from campaigns.ingest.magnets import ERROR_LINK_EXPIRED, ERROR_LINK_INVALID, magnet_token
from campaigns.models import Asset
from campaigns.models.assets import ERROR_FILE_OR_URL
from campaigns.selectors.assets import ERROR_UNKNOWN_ASSET
from campaigns.selectors.config import site_config_get
from campaigns.services.assets import asset_create
from tests.campaigns.events_kit import event, post_events
from tests.conftest import popup_campaign_create

PDF = b"%PDF-1.4 the one-page checklist\n"
LEAD = {"fields": [{"name": "email", "required": True}], "magnet": {"title": "The checklist (PDF)",
                                                                 "asset": "asset:checklist.pdf"}}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def asset(site):
    return asset_create(site=site, name="checklist.pdf", title="Checklist", file=ContentFile(PDF, name="list.pdf"))


def magnet_campaign_create(site, content=LEAD, **fields):
    return services.campaign_create(
        site=site, name="Checklist for sign-ups", message_type="lead", status="active",
        triggers=[{"type": "page_load", "delay": 0}],
        variants=[{"name": "A", "weight": 100, "content": json.loads(json.dumps(content))}], **fields)


@pytest.fixture
def magnet_campaign(site, asset):
    return magnet_campaign_create(site)


def lead_submit(campaign, **extra):
    return event("submit", campaign=campaign, variant=campaign.variants.get(),
                 data={"form": "lead", "email": "reader@example.org"}, **extra)


def download(client, url):
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


# ---------------------------------------------------------------- the model and the content's reference


@pytest.mark.django_db
def test_an_asset_is_a_file_or_a_url_never_both_nor_neither(site):
    with pytest.raises(ValidationError) as both:
        asset_create(site=site, name="both", title="Both", file=ContentFile(b"x", name="x.pdf"),
                     url="https://files.example/x.pdf")
    assert ERROR_FILE_OR_URL in both.value.messages
    with pytest.raises(ValidationError):
        asset_create(site=site, name="none", title="None")
    assert not Asset.objects.exists()
    assert asset_create(site=site, name="remote", title="Remote", url="https://files.example/guide.pdf").url


@pytest.mark.django_db
def test_a_magnet_must_name_a_file_of_the_campaigns_own_site(site, outsider_site):
    asset_create(site=outsider_site, name="checklist.pdf", title="Theirs", url="https://other.example/c.pdf")
    with pytest.raises(ValidationError) as refused:
        magnet_campaign_create(site)
    assert refused.value.message_dict["content"] == [ERROR_UNKNOWN_ASSET.format(
        path="content.magnet.asset", ref="asset:checklist.pdf", expected="none yet")]
    mine = asset_create(site=site, name="guide", title="Guide", url="https://shop.example/guide.pdf")
    by_id = {**LEAD, "magnet": {"title": "Guide", "asset": f"asset:{mine.id}"}}
    assert magnet_campaign_create(site, by_id).variants.get().content["magnet"]["asset"] == f"asset:{mine.id}"


@pytest.mark.django_db
def test_the_public_config_keeps_only_the_magnets_title(client, site, magnet_campaign):
    body = site_config_get(public_key=site.public_key).body.decode()
    [variant] = json.loads(body)["campaigns"][0]["variants"]
    assert variant["content"]["magnet"] == {"title": "The checklist (PDF)"}
    assert "asset:" not in body and "checklist.pdf" not in body and "/media" not in body


# ---------------------------------------------------------------- the link in the 202


@pytest.mark.django_db
def test_a_stored_lead_of_a_magnet_campaign_gets_a_signed_link_in_its_202(client, site, magnet_campaign):
    submit = lead_submit(magnet_campaign)
    response = post_events(client, site, [event("pageview"), submit])
    assert response.status_code == 202
    [delivery] = response.json()["deliver"]
    assert delivery["event_id"] == submit["id"] and delivery["title"] == "The checklist (PDF)"
    assert delivery["url"].startswith(f"/api/w/{site.public_key}/magnet/")
    served, body = download(client, delivery["url"])
    assert (served.status_code, body) == (200, PDF)
    assert served["Content-Disposition"] == 'attachment; filename="list.pdf"'
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_no_link_for_other_events_campaigns_or_a_filled_honeypot(client, site, magnet_campaign, campaign):
    variant = magnet_campaign.variants.get()
    batch = [event("impression", campaign=magnet_campaign, variant=variant),
             event("submit", campaign=campaign, variant=campaign.variants.first(), data={"form": "lead"}),
             event("submit", campaign=magnet_campaign, variant=variant, data={"form": "lead", "hp": "bot"})]
    response = post_events(client, site, batch)
    assert response.status_code == 202
    assert "deliver" not in response.json()
    assert len(response.json()["accepted"]) == 2


@pytest.mark.django_db
def test_a_url_asset_is_a_redirect_behind_the_link(client, site):
    asset_create(site=site, name="guide", title="Guide", url="https://files.example/guide.pdf")
    campaign = magnet_campaign_create(site, {**LEAD, "magnet": {"title": "Guide", "asset": "asset:guide"}})
    assert "files.example" not in site_config_get(public_key=site.public_key).body.decode()
    [delivery] = post_events(client, site, [lead_submit(campaign)]).json()["deliver"]
    response = client.get(delivery["url"])
    assert (response.status_code, response["Location"]) == (302, "https://files.example/guide.pdf")
    assert response["Cache-Control"] == "no-store"


# ---------------------------------------------------------------- the link itself


@pytest.mark.django_db
def test_an_expired_link_answers_410(client, site, magnet_campaign, asset):
    token = magnet_token(site_id=site.id, campaign_id=magnet_campaign.id, asset_id=asset.id, event_id="e-1")
    url = f"/api/w/{site.public_key}/magnet/{token}"
    assert download(client, url)[0].status_code == 200
    with override_settings(MAGNET_LINK_SECONDS=60), mock.patch("django.core.signing.time.time",
                                                               return_value=time.time() + 61):
        response = client.get(url)
    assert (response.status_code, response.json()["error"]) == (410, ERROR_LINK_EXPIRED)


@pytest.mark.django_db
def test_a_forged_or_altered_link_answers_403(client, site, magnet_campaign, asset):
    token = magnet_token(site_id=site.id, campaign_id=magnet_campaign.id, asset_id=asset.id, event_id="e-1")
    value, stamp, signature = token.rsplit(":", 2)
    other_asset = value.replace(f".{asset.id}.", f".{asset.id + 1}.")
    for forged in (f"{other_asset}:{stamp}:{signature}", f"{value}:{stamp}:{'A' * len(signature)}", "nothing"):
        response = client.get(f"/api/w/{site.public_key}/magnet/{forged}")
        assert (response.status_code, response.json()["error"]) == (403, ERROR_LINK_INVALID), forged


@pytest.mark.django_db
def test_a_link_of_one_site_is_refused_under_another_sites_key(client, site, outsider_site, magnet_campaign, asset):
    token = magnet_token(site_id=site.id, campaign_id=magnet_campaign.id, asset_id=asset.id, event_id="e-1")
    response = client.get(f"/api/w/{outsider_site.public_key}/magnet/{token}")
    assert (response.status_code, response.json()["error"]) == (403, ERROR_LINK_INVALID)
    mixed = magnet_token(site_id=outsider_site.id, campaign_id=magnet_campaign.id, asset_id=asset.id, event_id="e")
    assert client.get(f"/api/w/{outsider_site.public_key}/magnet/{mixed}").status_code == 404


@pytest.mark.django_db
def test_the_file_is_not_reachable_at_any_media_url(client, site, asset, settings):
    assert Path(asset.file.path).read_bytes() == PDF
    for url in (f"/{asset.file.name}", f"{settings.MEDIA_URL or '/'}{asset.file.name}", f"/media/{asset.file.name}"):
        with pytest.raises(Resolver404):
            resolve(url)
        assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_a_non_magnet_campaign_answers_as_before(client, site):
    campaign = popup_campaign_create(site=site)
    response = post_events(client, site, [event("submit", campaign=campaign, variant=campaign.variants.first())])
    assert set(response.json()) == {"accepted", "rejected"}


@pytest.mark.django_db
def test_the_gallerys_lead_magnet_promises_its_file_only_once_the_site_has_it(client, site, owner):
    from campaigns.gallery.services import campaign_from_template

    campaign = campaign_from_template(template_key="lead_magnet", site=site, owner=owner)
    services.campaigns_set_status(campaigns=type(campaign).objects.filter(id=campaign.id), status="active")
    content = json.loads(site_config_get(public_key=site.public_key).body)["campaigns"][0]["variants"][0]["content"]
    assert "magnet" not in content
    submit = lead_submit(campaign)
    assert "deliver" not in post_events(client, site, [submit]).json()

    asset_create(site=site, name="checklist.pdf", title="Checklist", file=ContentFile(PDF, name="checklist.pdf"))
    content = json.loads(site_config_get(public_key=site.public_key).body)["campaigns"][0]["variants"][0]["content"]
    assert content["magnet"] == {"title": "The one-page checklist (PDF)"}
    [delivery] = post_events(client, site, [lead_submit(campaign)]).json()["deliver"]
    assert download(client, delivery["url"])[1] == PDF
