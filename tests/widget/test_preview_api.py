"""GET /api/w/<key>/preview: a signed link's campaign alone (drafts included), never cached; every bad link a 4xx."""

from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core import signing

from campaigns import services
from campaigns.models import Campaign
from campaigns.selectors.live_preview import ERROR_EXPIRED, ERROR_INVALID, PREVIEW_SALT, preview_token_make

pytestmark = pytest.mark.django_db
ORIGIN = "https://shop.example"


@pytest.fixture
def owner():
    return get_user_model().objects.create_user(username="owner", is_staff=True)


def site_with_draft(owner, name="Shop", origin=ORIGIN):
    site = services.site_create(owner=owner, name=name, allowed_origins=[origin])
    draft = services.campaign_create(
        site=site, name="Draft", message_type="popup", status="draft", triggers=[{"type": "page_load"}],
        variants=[{"name": "A", "weight": 100, "content": {"headline": "Not live yet"}}],
    )
    return site, draft


def get(client, site, token, origin=ORIGIN):
    return client.get(f"/api/w/{site.public_key}/preview", {"token": token}, HTTP_ORIGIN=origin)


def test_a_valid_link_answers_its_draft_campaign_alone_and_uncached(client, owner):
    site, draft = site_with_draft(owner)
    assert draft.status == Campaign.Status.DRAFT
    response = get(client, site, preview_token_make(campaign=draft, user=owner))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    body = response.json()
    assert [c["id"] for c in body["campaigns"]] == [draft.id]
    assert body["campaigns"][0]["variants"][0]["content"]["headline"] == "Not live yet"


@pytest.mark.parametrize("case", ["expired", "forged", "other_site", "missing", "bad_origin"])
def test_a_bad_link_is_a_4xx_json_answer(client, owner, case):
    site, draft = site_with_draft(owner)
    token, origin, status = preview_token_make(campaign=draft, user=owner), ORIGIN, 403
    if case == "expired":
        with mock.patch("campaigns.selectors.live_preview.PREVIEW_LINK_SECONDS", -1):
            response = get(client, site, token)
        assert response.json()["error"] == ERROR_EXPIRED
    else:
        if case == "forged":
            token = signing.dumps({"s": site.public_key, "c": draft.id, "u": owner.id}, salt=PREVIEW_SALT, key="x" * 50)
        elif case == "other_site":
            other, _ = site_with_draft(owner, name="Other", origin="https://other.example")
            site, origin = other, "https://other.example"
        elif case == "missing":
            token, status = "", 400
        elif case == "bad_origin":
            origin = "https://evil.example"
        response = get(client, site, token, origin)
        if case in ("forged", "other_site"):
            assert response.json()["error"] == ERROR_INVALID
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
