"""The campaign page's preview panel and its endpoints: unsaved content compiled as the widget reads it (or its
errors), the screens a message has, and signed links to a page of the site's own origin only."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from campaigns.admin.live_preview import ERROR_PATH, PARAM, preview_link_url
from campaigns.selectors.live_preview import preview_config_get, preview_screens

pytestmark = pytest.mark.django_db
LIVE = "/admin/campaigns/campaign/live-preview/"


def test_the_change_page_has_the_sandboxed_preview_frame_and_its_data(client, owner, campaign):
    client.force_login(owner)
    page = client.get(f"/admin/campaigns/campaign/{campaign.id}/change/").content.decode()
    assert '<iframe class="rt-lp-frame" title="Preview of the message" sandbox="allow-scripts"' in page
    assert 'id="rt-live-preview-data" type="application/json"' in page
    assert "campaigns/admin/live_preview.js" in page


def test_unsaved_content_comes_back_compiled_and_sanitized_with_its_screens(client, owner, site):
    client.force_login(owner)
    content = {"headline": "Hi", "body": "<p onclick='x()'>Body</p>", "fields": [{"name": "email"}],
               "steps": [{"headline": "First"}], "coupon": {"code": "TEN"}}
    answer = client.post(LIVE, {"message_type": "lead", "content": json.dumps(content), "site": site.id}).json()
    variant = answer["config"]["campaigns"][0]["variants"][0]
    assert variant["content"]["body"] == "<p>Body</p>"
    assert variant["display"] == "overlay"
    assert [name for name, _ in answer["screens"]] == ["step:0", "main", "coupon"]


def test_invalid_content_answers_its_errors(client, owner):
    client.force_login(owner)
    bad = client.post(LIVE, {"message_type": "lead", "content": "{not json"})
    assert bad.status_code == 400 and bad.json()["errors"] == ["content: not valid JSON"]
    invalid = client.post(LIVE, {"message_type": "lead", "content": json.dumps({"headline": "x"})})
    assert invalid.status_code == 400 and "content.fields: is required for a lead message" in invalid.json()["errors"]


def test_nps_has_a_follow_up_per_band_and_a_thank_you():
    names = [name for name, _ in preview_screens(message_type="nps", content={})]
    assert names == ["main", "followup:detractor", "followup:passive", "followup:promoter", "thanks"]


def test_a_preview_link_goes_to_a_page_of_the_sites_first_origin_with_a_working_token(client, owner, site, campaign):
    client.force_login(owner)
    answer = client.post(f"/admin/campaigns/campaign/{campaign.id}/preview-link/", {"page": "/pricing/?a=1"}).json()
    url = urlsplit(answer["url"])
    assert (url.scheme, url.netloc, url.path) == ("https", "shop.example", "/pricing/")
    query = parse_qs(url.query)
    assert query["a"] == ["1"]
    config, error = preview_config_get(public_key=site.public_key, token=query[PARAM][0])
    assert error is None and [c["id"] for c in config["campaigns"]] == [campaign.id]


@pytest.mark.parametrize("page", ["//evil.example/x", "https://evil.example/", "@evil.example", "pricing"])
def test_a_preview_link_never_leaves_the_site(client, owner, campaign, page):
    assert preview_link_url(origin="https://shop.example", page=page, token="t") is None
    client.force_login(owner)
    response = client.post(f"/admin/campaigns/campaign/{campaign.id}/preview-link/", {"page": page})
    assert response.status_code == 400 and response.json()["error"] == ERROR_PATH


def test_another_owners_campaign_has_no_preview_link(client, owner, outsider_campaign):
    client.force_login(owner)
    response = client.post(f"/admin/campaigns/campaign/{outsider_campaign.id}/preview-link/", {"page": "/"})
    assert response.status_code == 404
