"""The widget's own words in the visitor's language: a Persian site reads a mirrored message, a Polish site Polish.

A screenshot of the Persian message goes to artifacts/screenshots/ beside test_screenshots.py's.
"""

import pytest
from playwright.sync_api import expect

from campaigns import services
from tests.browser import screenshot
from tests.widget.browser.conftest import site_settle
from tests.widget.browser.kit import campaign_add, fixture_url, message

pytestmark = pytest.mark.browser

# The fixture pages say <html lang="en">, which comes before the site's language: a page that declares none.
NO_PAGE_LANGUAGE = "document.documentElement.removeAttribute('lang')"
BOX = """(el) => {
  const box = el.querySelector('.box').getBoundingClientRect(), x = el.querySelector('.x').getBoundingClientRect();
  const at = (t) => [...el.querySelectorAll('.nps button')].find((b) => b.textContent == t).getBoundingClientRect().x;
  return {direction: getComputedStyle(el.querySelector('.box')).direction, close: x.x + x.width / 2 - box.x,
          width: box.width, zero: at('0'), ten: at('10')};
}"""


def site_language(site, language: str):
    services.site_update(site=site, language=language)
    site_settle(site)


def test_a_persian_site_shows_a_mirrored_message_in_persian(page, live_server, shop):
    site_language(shop, "fa")
    campaign_add(site=shop, message_type="nps", content={"question": "چقدر ما را به دوستانتان پیشنهاد می‌کنید؟"},
                 triggers=[{"type": "js", "name": "nps"}])
    page.emulate_media(reduced_motion="reduce")
    page.goto(fixture_url(live_server, shop))
    page.evaluate(NO_PAGE_LANGUAGE)
    page.evaluate("retarget('trigger', 'nps')")

    shown = message(page, "nps")
    expect(shown).to_be_visible()
    expect(shown).to_have_attribute("dir", "rtl")
    expect(shown).to_have_attribute("lang", "fa")
    expect(shown.locator(".x")).to_have_attribute("aria-label", "بستن")
    expect(shown.locator(".ends span")).to_have_text(["بعید", "بسیار محتمل"])
    box = shown.evaluate(BOX)
    assert box["direction"] == "rtl"
    assert box["close"] < box["width"] / 2, box  # the close button on the left
    assert box["zero"] > box["ten"], box  # the scale runs from the right
    screenshot(page, "desktop-nps-fa")

    shown.get_by_role("button", name="10", exact=True).click()
    expect(shown.locator("label")).to_have_text("چه چیزی را دوست دارید؟")
    expect(shown.get_by_role("button", name="ارسال")).to_be_visible()
    screenshot(page, "desktop-nps-fa-followup")


def test_a_polish_site_shows_polish_words_and_validation(page, live_server, shop):
    site_language(shop, "pl")
    campaign_add(site=shop, message_type="lead", content={"headline": "Zniżka 10%", "fields": [
        {"name": "email", "required": True}]}, triggers=[{"type": "js", "name": "lead"}])
    page.goto(fixture_url(live_server, shop))
    page.evaluate(NO_PAGE_LANGUAGE)
    page.evaluate("retarget('trigger', 'lead')")

    shown = message(page, "lead")
    expect(shown).to_be_visible()
    expect(shown).to_have_attribute("lang", "pl")
    expect(shown).not_to_have_attribute("dir", "rtl")
    expect(shown.locator(".x")).to_have_attribute("aria-label", "Zamknij")
    shown.get_by_role("button", name="Zapisz się").click()
    expect(shown.get_by_role("alert")).to_have_text("Wypełnij pole: email.")
    shown.locator("input[name=email]").fill("nie-adres")
    shown.get_by_role("button", name="Zapisz się").click()
    expect(shown.get_by_role("alert")).to_have_text("Podaj poprawny adres e-mail.")


def test_the_page_language_comes_before_the_site_and_the_campaign_before_both(page, live_server, shop):
    site_language(shop, "fa")
    campaign_add(site=shop, message_type="nps", content={"question": "?"}, triggers=[{"type": "js", "name": "nps"}])
    campaign_add(site=shop, message_type="lead", language="ro", content={"fields": [{"name": "email"}]},
                 triggers=[{"type": "js", "name": "lead"}])
    page.goto(fixture_url(live_server, shop))
    page.evaluate("document.documentElement.lang = 'pl-PL'")
    page.evaluate("retarget('trigger', 'nps')")
    expect(message(page, "nps").locator(".x")).to_have_attribute("aria-label", "Zamknij")
    message(page, "nps").locator(".x").click()
    page.evaluate("retarget('trigger', 'lead')")
    expect(message(page, "lead").get_by_role("button", name="Abonează-te")).to_be_visible()
