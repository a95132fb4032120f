"""The template gallery: every template is complete and valid, has its picture, and makes a working draft; the quiz
block's schema; the admin page that lists the templates and opens a draft on one of the person's own sites."""

import copy
import json
import struct
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from campaigns import services
from campaigns.content import (
    ERROR_BAD_ASSET,
    ERROR_BAD_SCORE,
    ERROR_DUPLICATE_PRODUCT,
    ERROR_NEVER_WINS,
    ERROR_TOO_FEW,
    ERROR_UNKNOWN_PRODUCT,
    content_clean,
)
from campaigns.gallery.catalog import (
    CATALOG,
    ERROR_MISSING_KEY,
    ORDER,
    GalleryTemplate,
    gallery_template_get,
    gallery_template_problems,
    gallery_templates,
)
from campaigns.gallery.services import ERROR_NOT_YOUR_SITE, campaign_from_template
from campaigns.gallery.thumbnails import thumbnails_draw
from campaigns.models import Campaign, Site
from campaigns.selectors.config import site_config_get

THUMBNAILS = settings.BASE_DIR / "campaigns" / "static" / "campaigns" / "gallery"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The list the gallery promises, as message types: which template is which kind of campaign.
EXPECTED = {
    "exit_discount": "lead", "lead_magnet": "lead", "seasonal_countdown": "popup", "cart_recovery": "cart_recovery",
    "checkout_survey": "feedback", "nps_after_purchase": "nps", "consent_banner": "consent",
    "free_shipping_bar": "bar", "blog_interest": "slide_in", "utm_welcome": "popup", "welcome_back": "slide_in",
    "exit_feedback": "feedback", "ab_headlines": "popup", "product_quiz": "popup",
}


def quiz_content() -> dict:
    return copy.deepcopy(gallery_template_get(key="product_quiz").variants()[0]["content"])


# ---------------------------------------------------------------- the catalog


def test_the_gallery_holds_the_fourteen_templates_each_in_its_own_file():
    assert {path.stem for path in CATALOG.glob("*.json")} == set(ORDER)
    assert {template.key: template.message_type for template in gallery_templates()} == EXPECTED
    assert [template.key for template in gallery_templates()] == list(ORDER)


@pytest.mark.parametrize("key", ORDER)
def test_every_template_is_complete_and_passes_the_admin_validation(key):
    template = gallery_template_get(key=key)
    assert gallery_template_problems(template=template) == []
    assert template.name and len(template.description) > 40 and template.category


@pytest.mark.parametrize("key", ORDER)
def test_every_template_has_its_committed_thumbnail(key):
    picture = THUMBNAILS / f"{key}.png"
    assert picture.is_file(), f"run `manage.py gallery_thumbnails --only {key}` and commit {picture}"
    head = picture.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE
    assert struct.unpack(">II", head[16:24]) == (480, 300)


@pytest.mark.browser
@pytest.mark.django_db
def test_a_thumbnail_is_drawn_by_the_widget_and_leaves_no_row_behind(chromium, tmp_path):
    pictures = thumbnails_draw(browser=chromium, out_dir=tmp_path, keys=["free_shipping_bar", "product_quiz"])
    assert [picture.name for picture in pictures] == ["free_shipping_bar.png", "product_quiz.png"]
    for picture in pictures:
        head = picture.read_bytes()[:24]
        assert head[:8] == PNG_SIGNATURE and struct.unpack(">II", head[16:24]) == (480, 300)
    assert not Site.objects.exists() and not Campaign.objects.exists()


def test_a_broken_template_is_reported_with_every_problem():
    data = copy.deepcopy(gallery_template_get(key="product_quiz").data)
    del data["goal"]
    data["triggers"] = [{"type": "hover"}]
    data["variants"][0]["content"]["quiz"]["products"][0]["id"] = "Not An Id"
    broken = GalleryTemplate(key="broken", name="x", description="x", category="x", message_type="popup", data=data)
    problems = gallery_template_problems(template=broken)
    assert ERROR_MISSING_KEY.format(key="goal") in problems
    assert any(p.startswith("triggers[0].type: 'hover' is not one of") for p in problems)
    assert any(p.startswith("variants[0].content.quiz.products[0].id: 'Not An Id' is not a product id")
               for p in problems)


def test_an_unknown_template_is_refused():
    with pytest.raises(KeyError, match="no template 'nope'"):
        gallery_template_get(key="nope")


# ---------------------------------------------------------------- drafts from templates


@pytest.mark.django_db
@pytest.mark.parametrize("key", ORDER)
def test_every_template_makes_a_draft_that_serves_once_activated(key, site, owner):
    template = gallery_template_get(key=key)
    campaign = campaign_from_template(template_key=key, site=site, owner=owner)

    campaign.refresh_from_db()
    assert (campaign.status, campaign.name, campaign.message_type) == ("draft", template.name, template.message_type)
    assert campaign.triggers == template.data["triggers"] and campaign.targeting == template.data["targeting"]
    assert campaign.goal == template.data["goal"] and campaign.frequency == template.data["frequency"]
    campaign.full_clean()  # what the admin form runs on save
    variants = list(campaign.variants.order_by("id"))
    assert [(v.name, v.weight) for v in variants] == [(v["name"], v["weight"]) for v in template.variants()]
    for variant in variants:
        assert content_clean(message_type=campaign.message_type, content=variant.content)[1] == []

    served_ids = [c["id"] for c in json.loads(site_config_get(public_key=site.public_key).body)["campaigns"]]
    assert campaign.id not in served_ids  # a draft is not served
    services.campaigns_set_status(campaigns=Campaign.objects.filter(pk=campaign.pk), status="active")
    config = json.loads(site_config_get(public_key=site.public_key).body)
    [served] = [c for c in config["campaigns"] if c["id"] == campaign.id]
    assert [v["id"] for v in served["variants"]] == [v.id for v in variants]  # every variant reaches the widget


@pytest.mark.django_db
def test_a_template_on_someone_elses_site_is_refused(site, outsider):
    with pytest.raises(PermissionDenied, match=ERROR_NOT_YOUR_SITE):
        campaign_from_template(template_key="exit_discount", site=site, owner=outsider)
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_a_member_of_the_site_may_use_a_template(site, outsider):
    site.members.add(outsider)
    assert campaign_from_template(template_key="welcome_back", site=site, owner=outsider).site_id == site.id


@pytest.mark.django_db
def test_the_seasonal_offer_ends_after_its_days_and_counts_down_to_that_moment(site, owner):
    now = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    campaign = campaign_from_template(template_key="seasonal_countdown", site=site, owner=owner, now=now)
    assert campaign.ends_at == now + timedelta(days=7)
    assert campaign.variants.get().content["countdown"] == {"label": "Ends in", "ends_at": "2026-11-27T09:30:00Z"}


@pytest.mark.django_db
def test_the_ab_template_splits_two_headlines_and_holds_out_a_tenth(site, owner):
    campaign = campaign_from_template(template_key="ab_headlines", site=site, owner=owner, name="Spring headlines")
    assert campaign.name == "Spring headlines" and campaign.control_share == 0.1
    headlines = [(v.weight, v.content["headline"]) for v in campaign.variants.order_by("id")]
    assert [w for w, _ in headlines] == [50, 50] and headlines[0][1] != headlines[1][1]


@pytest.mark.django_db
def test_the_lead_magnet_holds_a_reference_to_its_file_not_the_file(site, owner):
    campaign = campaign_from_template(template_key="lead_magnet", site=site, owner=owner)
    assert campaign.variants.get().content["magnet"] == {"title": "The one-page checklist (PDF)",
                                                         "asset": "asset:checklist.pdf"}


# ---------------------------------------------------------------- content: the quiz block and the lead magnet


def test_the_gallery_quiz_is_valid_content_for_a_popup_a_slide_in_and_a_fullscreen():
    for message_type in ("popup", "slide_in", "fullscreen"):
        assert content_clean(message_type=message_type, content=quiz_content())[1] == []


def test_a_quiz_is_no_field_of_the_other_message_types():
    content = {"question": "How likely?", "quiz": quiz_content()["quiz"]}
    [error] = content_clean(message_type="nps", content=content)[1]
    assert error.startswith("content: unknown field 'quiz'")


def test_a_score_for_a_product_the_quiz_does_not_list_is_refused():
    content = quiz_content()
    content["quiz"]["questions"][0]["answers"][0]["scores"]["kids-shoe"] = 2
    errors = content_clean(message_type="popup", content=content)[1]
    assert errors == [ERROR_UNKNOWN_PRODUCT.format(
        path="content.quiz.questions[0].answers[0].scores.kids-shoe", value="kids-shoe",
        expected="daily-trainer, road-runner, trail-master")]


def test_a_product_no_answer_scores_is_refused_as_it_could_never_be_the_result():
    content = quiz_content()
    content["quiz"]["products"].append({"id": "sandal", "title": "The Sandal", "url": "/shop/sandal/"})
    assert content_clean(message_type="popup", content=content)[1] == [
        ERROR_NEVER_WINS.format(path="content.quiz.products[3]", value="sandal")]


def test_scores_are_whole_points_from_0_to_100():
    for points in (-1, 101, 2.5, True, "3"):
        content = quiz_content()
        content["quiz"]["questions"][1]["answers"][0]["scores"]["daily-trainer"] = points
        assert ERROR_BAD_SCORE.format(path="content.quiz.questions[1].answers[0].scores.daily-trainer", limit=100) \
            in content_clean(message_type="popup", content=content)[1], points


def test_a_quiz_needs_two_products_two_answers_per_question_and_unique_product_ids():
    content = quiz_content()
    quiz = content["quiz"]
    quiz["questions"][2]["answers"] = quiz["questions"][2]["answers"][:1]
    quiz["products"][2]["id"] = "road-runner"
    errors = content_clean(message_type="popup", content=content)[1]
    assert ERROR_TOO_FEW.format(path="content.quiz.questions[2].answers", count=2) in errors
    assert ERROR_DUPLICATE_PRODUCT.format(path="content.quiz.products[2].id", value="road-runner") in errors

    alone = {"questions": [{"question": "Q", "answers": [{"label": "a", "scores": {"x": 1}},
                                                          {"label": "b", "scores": {"x": 2}}]}],
             "products": [{"id": "x", "title": "X", "url": "/x"}]}
    assert ERROR_TOO_FEW.format(path="content.quiz.products", count=2) in content_clean(
        message_type="popup", content={"quiz": alone})[1]


def test_a_quiz_product_link_is_a_url_and_its_texts_are_text():
    content = quiz_content()
    content["quiz"]["products"][0]["url"] = "javascript:alert(1)"
    content["quiz"]["questions"][0]["question"] = ["not", "text"]
    errors = content_clean(message_type="popup", content=content)[1]
    assert "content.quiz.products[0].url: 'javascript:alert(1)' is not an http(s) URL or a path starting with /" \
        in errors
    assert "content.quiz.questions[0].question: must be text" in errors


def test_a_lead_magnet_names_an_asset_and_never_a_link_to_the_file():
    lead = {"fields": [{"name": "email"}], "magnet": {"title": "Guide", "asset": "asset:guide-2026.pdf"}}
    assert content_clean(message_type="lead", content=lead)[1] == []
    lead["magnet"]["asset"] = "https://files.example/guide.pdf"
    assert content_clean(message_type="lead", content=lead)[1] == [
        ERROR_BAD_ASSET.format(path="content.magnet.asset", value="https://files.example/guide.pdf")]


# ---------------------------------------------------------------- the admin page


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


GALLERY = "/admin/campaigns/campaign/gallery/"


def test_the_gallery_url_is_the_admin_page(db):
    assert reverse("campaigns-gallery") == GALLERY


@pytest.mark.django_db
def test_the_gallery_shows_every_template_as_a_card_and_only_the_owners_sites(owner_client, site, outsider_site):
    page = owner_client.get(GALLERY).content.decode()
    for template in gallery_templates():
        assert f'data-template="{template.key}"' in page
        assert f"/static/campaigns/gallery/{template.key}.png" in page
        assert template.name in page
    assert "Nps, after the event purchase, shown at most once, to everyone." in page  # when each one shows
    assert f'<option value="{site.id}">Owner shop</option>' in page
    assert "Outsider shop" not in page and f'value="{outsider_site.id}"' not in page


@pytest.mark.django_db
def test_use_this_template_creates_a_draft_and_opens_its_change_page(owner_client, site):
    response = owner_client.post(GALLERY, {"site": site.id, "template": "product_quiz"})
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:campaigns_campaign_change", args=[campaign.id])
    assert (campaign.site_id, campaign.status, campaign.name) == (site.id, "draft", "Product quiz")
    change_page = owner_client.get(response["Location"])
    assert change_page.status_code == 200
    assert "created from the template" in change_page.content.decode()
    assert "Which shoe is made for you?" in change_page.content.decode()


@pytest.mark.django_db
def test_someone_elses_site_or_an_unknown_template_is_refused_on_the_form(owner_client, site, outsider_site):
    refused = owner_client.post(GALLERY, {"site": outsider_site.id, "template": "exit_discount"})
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()
    unknown = owner_client.post(GALLERY, {"site": site.id, "template": "nope"})
    assert unknown.status_code == 400 and "Select a valid choice" in unknown.content.decode()
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_an_owner_without_a_site_is_asked_to_add_one_first(owner_client):
    page = owner_client.get(GALLERY).content.decode()
    assert "add a site</a> first" in page and "Use this template" not in page


@pytest.mark.django_db
def test_the_gallery_is_for_signed_in_staff_only(client, site):
    response = client.get(GALLERY)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert client.post(GALLERY, {"site": site.id, "template": "exit_discount"}).status_code == 302
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_the_campaign_list_links_to_the_gallery(owner_client):
    page = owner_client.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    assert f'href="{GALLERY}"' in page and "Start from a template" in page
