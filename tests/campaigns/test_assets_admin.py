"""Lead magnet files in the admin: owner-scoped like the campaigns, never linked, and checked by the lead's form."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import Asset, Campaign
from campaigns.services.assets import asset_create
from tests.campaigns.test_admin_tenancy import _campaign_form

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def test_an_owner_uploads_a_file_to_their_own_site_and_its_page_never_links_to_it(owner_client, site, outsider_site):
    add = reverse("admin:campaigns_asset_add")
    form = owner_client.get(add).content.decode()
    assert site.name in form and outsider_site.name not in form
    upload = SimpleUploadedFile("guide.pdf", b"%PDF guide", content_type="application/pdf")
    response = owner_client.post(add, {"site": site.id, "name": "guide.pdf", "title": "The guide", "file": upload,
                                       "url": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    asset = Asset.objects.get()
    assert (asset.site, asset.file.read()) == (site, b"%PDF guide")
    page = owner_client.get(reverse("admin:campaigns_asset_change", args=[asset.id])).content.decode()
    assert asset.file.name not in page and 'href="/media' not in page
    assert "asset:guide.pdf" in page


def test_another_owners_file_is_404_and_a_crafted_form_cannot_add_to_their_site(owner_client, outsider_site):
    theirs = asset_create(site=outsider_site, name="theirs", title="Theirs", url="https://other.example/t.pdf")
    assert owner_client.get(reverse("admin:campaigns_asset_change", args=[theirs.id])).status_code == 404
    assert "theirs" not in owner_client.get(reverse("admin:campaigns_asset_changelist")).content.decode()
    response = owner_client.post(reverse("admin:campaigns_asset_add"), {
        "site": outsider_site.id, "name": "mine", "title": "Mine", "url": "https://shop.example/m.pdf"})
    assert response.status_code == 200
    assert Asset.objects.count() == 1


def test_the_lead_form_refuses_a_magnet_naming_a_file_its_site_does_not_have(owner_client, site, outsider_site):
    asset_create(site=outsider_site, name="guide", title="Theirs", url="https://other.example/g.pdf")
    content = {"fields": [{"name": "email"}], "magnet": {"title": "Guide", "asset": "asset:guide"}}
    data = _campaign_form(site, message_type="lead", **{"variants-0-content": json.dumps(content)})
    response = owner_client.post(reverse("admin:campaigns_campaign_add"), data)
    assert response.status_code == 200
    assert "content.magnet.asset: this site has no file &#x27;asset:guide&#x27;" in response.content.decode()
    assert not Campaign.objects.exists()

    asset_create(site=site, name="guide", title="Mine", url="https://shop.example/g.pdf")
    response = owner_client.post(reverse("admin:campaigns_campaign_add"), data)
    assert response.status_code == 302
    assert Campaign.objects.get().variants.get().content["magnet"] == content["magnet"]
