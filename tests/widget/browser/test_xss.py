"""The XSS corpus (tests/security/xss_corpus.py) in every content field of every message type, in visitor
attributes shown through placeholders and in answers, rendered in Chromium by the widget and by the admin pages
that show them: not one payload may run, open a dialog or reach the DOM as live markup."""

import itertools
import uuid
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client

from campaigns import services
from campaigns.models import Campaign, ConsentRecord, DataRequest, RejectedEventCount, Response, Variant
from tests.security.xss_corpus import DANGEROUS_DOM, TRAP_SCRIPT, corpus, payloads, short, url_payload
from tests.widget.browser.kit import ROOT, fixture_url, message

# Shown through {{attrs.<name>}} in the text fields: the visitor's own attributes, set with retarget('set', ...).
ATTRS = {f"a{n}": payload for n, payload in enumerate(payloads("attr"))}
# A text field holds at most 500 characters (a longer one drops the variant from the config): each field gets a
# window of the corpus, starting further on for each field, so every payload lands in several fields of a type.
TEXT_LIMIT = 500
_fields = itertools.count()


def _text(where: str) -> str:
    n = next(_fields)
    items = payloads(where)
    start = (n * 5) % len(items)
    text = f"{{{{attrs.a{n % len(ATTRS)}}}}}"
    for payload in items[start:] + items[:start]:
        if len(text) + len(payload) + 1 > TEXT_LIMIT:
            break
        text += " " + payload
    return text


def _block(where: str) -> dict:
    return {"headline": _text(f"{where}.headline"), "body": corpus(f"{where}.body"),
            "cta": {"label": _text(f"{where}.cta"), "url": url_payload(f"{where}.cta.url")}}


def _content(message_type: str) -> dict:
    """Every field of the type's schema (campaigns/content.py) holding payloads."""
    content = {
        **_block("content"),
        "image": url_payload("content.image", 1),
        "close_label": _text("close_label"),
        "countdown": {"minutes": 30, "label": _text("countdown.label")},
        "steps": [_block("steps0")],
        "thank_you": _block("thank_you"),
    }
    specific = {
        "nps": {"question": _text("nps.question"), "low_label": _text("nps.low"), "high_label": _text("nps.high"),
                "followup": {band: _text(f"nps.{band}") for band in ("detractor", "passive", "promoter")}},
        "feedback": {"question": _text("feedback.question"), "options": [_text("feedback.option0"),
                     _text("feedback.option1")], "free_text": {"label": _text("feedback.free_text")}},
        "lead": {"fields": [{"name": "email", "label": _text("lead.email"), "required": True},
                            {"name": "name", "label": _text("lead.name")}],
                 "consent_label": _text("lead.consent"),
                 "coupon": {"code": _text("lead.coupon.code"), "label": _text("lead.coupon.label")}},
        "cart_recovery": {"feedback": {"label": _text("cart.label"), "question": _text("cart.question"),
                                       "options": [_text("cart.option")]}},
        "consent": {"categories": [{"id": "marketing", "label": _text("consent.category"),
                                    "description": _text("consent.description")}],
                    **{key: _text(f"consent.{key}") for key in ("accept_label", "reject_label", "customize_label",
                                                                 "save_label", "policy_label")}},
    }
    if message_type == "nps":
        del content["steps"]  # so the scores come first: the follow-up and an answer are rendered too (steps: above)
    return {**content, **specific.get(message_type, {})}


def _minimal(message_type: str) -> dict:
    """What the type requires, so that the campaign is created before its content is replaced."""
    required = {"nps": {"question": "Q"}, "feedback": {"question": "Q", "options": ["A"]},
                "lead": {"fields": [{"name": "email"}]}, "consent": {"categories": [{"id": "m", "label": "M"}]}}
    return {"headline": "H", **required.get(message_type, {})}


@pytest.fixture
def trapped(page):
    """The page with the trap in every frame: (executed payload ids, dialogs opened)."""
    hits, dialogs = [], []
    page.expose_function("__xssHit", lambda hit: hits.append(hit))
    page.add_init_script(TRAP_SCRIPT)
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return page, hits, dialogs


def _settle(page) -> None:
    """Let timers, image errors and focus handlers of anything injected fire before counting."""
    page.wait_for_timeout(300)
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 50)))")


@pytest.mark.parametrize("message_type", [t for t in Campaign.MessageType.values])
def test_no_payload_runs_in_any_field_of_any_message_type(trapped, live_server, shop, message_type):
    page, hits, dialogs = trapped
    campaign = services.campaign_create(
        site=shop, name=f"xss {message_type}", message_type=message_type, status="active",
        triggers=[{"type": "page_load", "delay": 0}],
        variants=[{"name": "Only", "weight": 100, "content": _minimal(message_type)}],
    )
    # Written around validation, as a row edited in the database would be: the config must still be safe.
    Variant.objects.filter(campaign=campaign).update(content=_content(message_type))
    cache.clear()
    set_attrs = f"retarget('set', {ATTRS!r});"
    page.add_init_script(
        "window.retarget=window.retarget||function(){(retarget.q=retarget.q||[]).push(arguments)};" + set_attrs)
    page.goto(fixture_url(live_server, shop))
    box = message(page, message_type)
    box.wait_for(state="visible")
    _settle(page)
    shown = box.inner_text()
    assert "__xss('attr#" in shown, "the visitor's attributes are shown through the placeholders, as text"
    if message_type == "nps":  # the follow-up, an answer typed into it, and the thank-you screen
        box.get_by_role("button", name="0", exact=True).click()
        box.locator("textarea").fill(corpus("answer.followup"))
        box.get_by_role("button", name="Send").click()
        _settle(page)
    assert page.evaluate(DANGEROUS_DOM, page.locator(ROOT).element_handle()) == []
    assert (hits, dialogs) == ([], [])


ADMIN_PAGES = (
    "/admin/campaigns/campaign/", "/admin/campaigns/campaign/{campaign}/change/",
    "/admin/campaigns/campaign/{campaign}/results/", "/admin/campaigns/campaign/{nps}/nps/",
    "/admin/campaigns/campaign/{feedback}/feedback/", "/admin/campaigns/campaign/{lead}/leads/",
    "/admin/campaigns/campaign/{campaign}/consent/", "/admin/campaigns/response/",
    "/admin/campaigns/response/{response}/change/", "/admin/campaigns/consentrecord/",
    "/admin/campaigns/consentrecord/{record}/change/", "/admin/campaigns/datarequest/",
    "/admin/campaigns/datarequest/answer/", "/admin/campaigns/rejectedeventcount/", "/admin/campaigns/site/",
    "/admin/campaigns/site/{site}/change/", "/admin/campaigns/site/{site}/preview/",
)


@pytest.fixture
def hostile_rows(shop):
    """Names, answers, consent proofs and request logs holding payloads, as visitors and owners could store them."""
    shop.name = short("site.name", 200)
    shop.save()
    at = datetime.now(UTC)
    made = {"site": shop.id}
    for form in ("nps", "feedback", "lead"):
        campaign = services.campaign_create(
            site=shop, name=short(f"{form}.name", 200), message_type=form, status="active",
            variants=[{"name": short(f"{form}.variant", 100), "weight": 100, "content": {
                **_minimal(form), "headline": corpus(f"{form}.headline")[:500]}}])
        made[form] = campaign.id
        for n in range(2):
            row = Response.objects.create(
                site=shop, event_id=uuid.uuid4(), campaign_id=campaign.id, variant_id=campaign.variants.first().id,
                visitor_id=short(f"{form}.visitor", 64), form=form, score=n * 9 if form == "nps" else None,
                followup=corpus(f"{form}.followup"), text=corpus(f"{form}.text"), choices=[corpus(f"{form}.choice")],
                email=f"<svg/onload=__xss('{form}.email{n}')>@x.example", name=short(f"{form}.lead_name", 200),
                created_at=at)
            made["response"] = row.id
    made["campaign"] = made["nps"]
    record = ConsentRecord.objects.create(
        site=shop, event_id=uuid.uuid4(), consent_id=short("consent.id", 64), decided_at=at, received_at=at,
        policy_version=short("consent.policy", 40), categories=[corpus("consent.category")], decision="granted",
        user_agent=corpus("consent.ua"), url="https://shop.example/" + corpus("consent.url"))
    made["record"] = record.id
    DataRequest.objects.create(site=shop, action="export", channel="admin", lookup="visitor",
                               lookup_hash=short("request.hash", 64))
    RejectedEventCount.objects.create(site=shop, day=at.date(), reason=short("rejected.reason", 32), count=1)
    return made


def test_no_payload_runs_in_any_admin_page_that_shows_stored_text(trapped, live_server, shop, hostile_rows):
    page, hits, dialogs = trapped
    owner = get_user_model().objects.get(username="shop-owner")
    owner.is_staff = True
    owner.save()
    client = Client()
    client.force_login(owner)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])
    found, shown_nothing = {}, []
    for template in ADMIN_PAGES:
        url = live_server.url + template.format(**hostile_rows)
        response = page.goto(url)
        assert response.status == 200, f"{url}: {response.status}"
        if template.endswith("/preview/"):  # the preview's answer lists every campaign with its rules
            with page.expect_navigation():
                page.locator("input[type=submit][value=Explain]").click()
            assert page.locator("#content").inner_text().count(short("nps.name", 200)[:20]) >= 1
        assert "/login/" not in page.url, f"{url}: the session was lost"
        if "__xss(" not in page.locator("body").inner_text():
            shown_nothing.append(template)
        _settle(page)
        dangerous = page.evaluate(DANGEROUS_DOM, page.locator("html").element_handle())
        if dangerous:
            found[template] = dangerous
    assert found == {}
    assert (hits, dialogs) == ([], [])
    assert shown_nothing == [], "these pages show none of the stored payloads: the test would prove nothing there"


def test_the_trap_catches_a_payload_that_runs_and_one_that_opens_a_dialog(trapped, live_server, shop):
    """The checks above can fail: markup written as HTML runs its handlers, and both the trap and the DOM scan
    see it."""
    page, hits, dialogs = trapped
    page.goto(fixture_url(live_server, shop))
    page.evaluate("(html) => { const d = document.createElement('div'); d.innerHTML = html; document.body.append(d); }",
                  "<img src=x onerror=__xss('probe')> <img src=y onerror=alert('probe')>")
    _settle(page)
    assert page.evaluate(DANGEROUS_DOM, page.locator("html").element_handle()) == [
        "img[onerror=__xss('probe')]", "img[onerror=alert('probe')]"]
    assert (hits, dialogs) == (["probe"], ["probe"])
