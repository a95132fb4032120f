"""The structured editors in a browser: an owner (not a superuser) edits a draft made from a template without typing
any JSON (the headline, a targeting condition, a trigger's parameter), saves, and the rows hold that JSON; a value
out of range comes back with its message on its field and everything else as typed. The admin's
Content-Security-Policy holds throughout. Screenshots go to artifacts/screenshots/editors-*.png."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from campaigns.gallery.catalog import gallery_templates
from campaigns.gallery.services import campaign_from_template
from campaigns.services.assets import asset_create
from tests.browser import ARTIFACTS
from tests.campaigns.test_admin_csp import VIOLATIONS
from tests.widget.browser.test_gallery import signed_in

pytestmark = pytest.mark.browser

HEADLINE = "Runners: our five-minute shoe guide"


def screenshot(page, name: str) -> None:
    """The whole change page: the editors run far below the fold."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_an_owner_edits_a_template_draft_with_the_editors_only(page, live_server, shop):
    owner = get_user_model().objects.get(pk=shop.owner_id)
    owner.is_staff = True
    owner.save(update_fields=["is_staff"])
    campaign = campaign_from_template(template_key="blog_interest", site=shop, owner=owner)
    variant = campaign.variants.get()
    signed_in(page, live_server, owner)
    page.add_init_script(VIOLATIONS)
    console = []

    def console_error(message) -> None:  # the browser's own request for /favicon.ico is not the page's
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            console.append(message.text)

    page.on("console", console_error)
    page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.id}/change/")

    content = page.locator(".field-content [data-editor=content]")
    content.locator("[data-content=headline]").fill(HEADLINE)

    targeting = page.locator(".field-targeting [data-editor=targeting]")
    expect(targeting.locator(".rt-leaf")).to_have_count(2)
    targeting.get_by_role("button", name="+ Condition").click()
    condition = targeting.locator(".rt-leaf").nth(2)
    condition.get_by_label("attribute").select_option("device")
    expect(condition.get_by_label("operator")).to_have_value("equals")
    condition.get_by_label("value").select_option("mobile")

    # The template's "viewed at least 3 pages under /blog/running/": its count has an input of its own.
    min_count = targeting.locator("[data-param=min_count]")
    expect(min_count).to_have_value("3")
    min_count.fill("2")

    triggers = page.locator(".field-triggers [data-editor=triggers]")
    triggers.locator("[data-param=percent]").fill("75")
    summary = page.locator(".field-summary .readonly")
    expect(summary).to_contain_text("after scrolling 75% of the page")  # the summary follows the editors
    screenshot(page, "editors-campaign")
    page.locator("input[name=_continue]").click()

    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    campaign.refresh_from_db()
    variant.refresh_from_db()
    assert variant.content["headline"] == HEADLINE
    assert campaign.triggers == [{"type": "scroll", "percent": 75}]
    assert campaign.targeting["all"][2] == {"attr": "device", "op": "equals", "value": "mobile"}
    template = campaign_from_template(template_key="blog_interest", site=shop, owner=owner).targeting["all"]
    assert campaign.targeting["all"][:2] == [template[0], {**template[1], "min_count": 2}]

    # A value out of range: its message on its field, the rest of the page as typed.
    page.locator(".field-triggers [data-param=percent]").fill("150")
    page.locator(".field-content [data-content=headline]").fill("Not saved yet")
    page.locator("input[name=_continue]").click()
    errors = page.locator(".field-triggers .errorlist")
    expect(errors).to_contain_text("triggers[0].percent: 150 is out of range (1..100)")
    expect(page.locator(".field-triggers [data-param=percent]")).to_have_value("150")
    expect(page.locator(".field-triggers [data-param=percent]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field-content [data-content=headline]")).to_have_value("Not saved yet")
    expect(page.locator(".field-targeting .rt-leaf")).to_have_count(3)
    screenshot(page, "editors-error")
    campaign.refresh_from_db()
    assert campaign.triggers == [{"type": "scroll", "percent": 75}]

    # The raw JSON is one click away, and holds what the editor shows.
    page.locator(".field-triggers").get_by_role("button", name="Raw JSON").click()
    expect(page.locator(".field-triggers textarea")).to_be_visible()
    assert '"percent": 150' in page.locator(".field-triggers textarea").input_value()

    assert page.evaluate("window.__violations") == []
    assert console == []


def test_the_other_editors_write_their_json_and_a_broken_raw_value_comes_back_raw(page, live_server, shop):
    owner = get_user_model().objects.get(pk=shop.owner_id)
    owner.is_staff = True
    owner.save(update_fields=["is_staff"])
    campaign = campaign_from_template(template_key="nps_after_purchase", site=shop, owner=owner)
    signed_in(page, live_server, owner)
    page.add_init_script(VIOLATIONS)
    page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.id}/change/")

    content = page.locator(".field-content [data-editor=content]")
    content.locator("[data-content='followup.passive']").fill("What is missing?")
    content.get_by_label("set the background colour").check()

    targeting = page.locator(".field-targeting [data-editor=targeting]")
    targeting.get_by_role("button", name="Add a condition").click()
    targeting.get_by_label("attribute").select_option("path")
    targeting.get_by_label("operator").select_option("regex")
    pattern = targeting.get_by_label("pattern")
    pattern.fill("^/(shop")
    expect(targeting.locator(".rt-check")).to_contain_text("Invalid pattern")
    pattern.fill("^/(?<=x)")
    expect(targeting.locator(".rt-check")).to_contain_text("works differently in the browser")
    pattern.fill("^/shop/")
    expect(targeting.locator(".rt-check")).to_have_text("Valid pattern")
    targeting.get_by_role("button", name="+ Group").click()
    group = targeting.locator(".rt-group[data-depth='1']")
    group.get_by_label("attribute").select_option("cart.value")
    group.get_by_label("operator").select_option("between")
    group.get_by_label("from", exact=True).fill("20")
    group.get_by_label("to", exact=True).fill("80")
    targeting.locator(".rt-group[data-depth='0'] > .rt-group-foot").get_by_role("button", name="+ Condition").click()
    weekend = targeting.locator(".rt-group[data-depth='0'] > .rt-leaf").last
    weekend.get_by_label("attribute").select_option("weekday")
    expect(weekend.get_by_label("attribute").locator("option:checked")).to_have_text("day of the week")
    weekend.get_by_label("operator").select_option("in")
    weekend.get_by_label("Saturday").check()
    weekend.get_by_label("Sunday").check()

    schedule = page.locator(".field-schedule [data-editor=schedule]")
    for day in ("0", "1", "2"):
        schedule.locator(f"[data-day='{day}']").check()
    schedule.get_by_label("to", exact=True).select_option("20")
    page.locator(".field-frequency [data-param=max_impressions]").fill("2")
    goal = page.locator(".field-goal [data-editor=goal]")
    goal.get_by_label("goal type").select_option("url")
    goal.get_by_label("address", exact=True).fill("/thanks")

    # A second variant, added with the inline's own button, gets its editor too.
    page.locator(".add-row a").click()
    added = page.locator(".dynamic-variants").last
    expect(added.locator("[data-editor=content][data-ready]")).to_have_count(1)
    added.locator("input[name$='-name']").fill("B")
    added.locator("[data-content=question]").fill("Would you recommend us?")

    # The goal typed raw, and broken: the save fails on another field and the broken text comes back, raw.
    page.locator(".field-goal").get_by_role("button", name="Raw JSON").click()
    raw_goal = page.locator(".field-goal textarea")
    assert '"value": "/thanks"' in raw_goal.input_value()
    raw_goal.fill('{"type": "url", "url": ')
    page.locator("input[name=_continue]").click()
    expect(page.locator(".field-goal .errorlist")).to_be_visible()
    expect(page.locator(".field-goal textarea")).to_have_value('{"type": "url", "url": ')
    expect(page.locator(".field-goal .rt-editor-status")).to_contain_text("not valid JSON")
    expect(page.locator("#variants-0 [data-content='followup.passive']")).to_have_value("What is missing?")
    page.locator(".field-goal textarea").fill('{"type": "url", "url": {"op": "starts_with", "value": "/thanks"}}')
    page.locator(".field-goal").get_by_role("button", name="Use the editor").click()
    expect(page.locator(".field-goal").get_by_label("address", exact=True)).to_have_value("/thanks")
    screenshot(page, "editors-nps")
    page.locator("input[name=_continue]").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    campaign.refresh_from_db()
    variant, added = campaign.variants.order_by("id")
    assert variant.content["followup"]["passive"] == "What is missing?"
    assert (added.name, added.content) == ("B", {"question": "Would you recommend us?"})
    assert variant.content["colors"] == {"background": "#ffffff"}
    assert campaign.targeting == {"all": [
        {"attr": "path", "op": "regex", "value": "^/shop/"},
        {"any": [{"attr": "cart.value", "op": "between", "value": [20, 80]}]},
        {"attr": "weekday", "op": "in", "value": [5, 6]},
    ]}
    assert campaign.schedule == {"hours": [8, 20], "weekdays": [0, 1, 2]}
    assert campaign.frequency == {"max_impressions": 2}
    assert campaign.goal == {"type": "url", "url": {"op": "starts_with", "value": "/thanks"}}

    page.goto(f"{live_server.url}/admin/campaigns/site/{shop.id}/change/")
    origins = page.locator(".field-allowed_origins [data-editor=origins]")
    origins.get_by_role("button", name="Add an origin").click()
    origins.get_by_label("origin", exact=True).last.fill("https://www.shop.example")
    page.locator("input[name=_continue]").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    shop.refresh_from_db()
    assert shop.allowed_origins == [live_server.url, "https://www.shop.example"]
    assert page.evaluate("window.__violations") == []


# Templates whose content holds blocks the content editor shows in other ways, or not at all (the quiz).
VARIED = ("lead_magnet", "consent_banner", "product_quiz")


def test_templates_open_in_the_editors_and_an_edit_keeps_what_the_editor_does_not_show(page, live_server, shop):
    """A gallery template's draft is shown by the editors (none falls back to raw JSON), and once the content
    editor has rewritten each variant's JSON (the headline typed again), saving writes back the same JSON: an
    editor never drops a key it does not show."""
    owner = get_user_model().objects.get(pk=shop.owner_id)
    owner.is_staff = True
    owner.save(update_fields=["is_staff"])
    signed_in(page, live_server, owner)
    page.add_init_script(VIOLATIONS)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    assert set(VARIED) <= {template.key for template in gallery_templates()}
    # The lead magnet's file, which a saved campaign must find on its site.
    asset_create(site=shop, name="checklist.pdf", title="The checklist", url="https://files.example/checklist.pdf")
    for key in VARIED:
        campaign = campaign_from_template(template_key=key, site=shop, owner=owner)
        before = _rules_and_content(campaign)
        page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.id}/change/")
        expect(page.locator("[data-editor][data-ready]")).to_have_count(5 + campaign.variants.count())
        assert page.locator(".rt-editor.rt-raw").count() == 0, key
        for headline in page.locator(".field-content [data-content=headline]").all():
            headline.fill(headline.input_value())
        if key == "product_quiz":  # an answer's points for the first product, changed in the quiz editor
            answer = page.locator(".rt-quiz [data-path='content.quiz.questions[0].answers[0]']")
            answer.locator("input[type=number]").first.fill("7")
            quiz = before[1][0]["quiz"]
            quiz["questions"][0]["answers"][0]["scores"][quiz["products"][0]["id"]] = 7
        page.locator("input[name=_continue]").click()
        expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
        campaign.refresh_from_db()
        assert _rules_and_content(campaign) == before, key
    assert errors == []
    assert page.evaluate("window.__violations") == []


def _rules_and_content(campaign) -> tuple:
    rules = (campaign.triggers, campaign.targeting, campaign.frequency, campaign.schedule, campaign.goal)
    return rules, [variant.content for variant in campaign.variants.order_by("id")]
