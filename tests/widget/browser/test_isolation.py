"""The widget lives with the host page: a strict Content-Security-Policy, and page CSS that must not reach in."""

import pytest
from playwright.sync_api import expect

from tests.widget.browser.kit import ROOT, campaign_add, fixture_url, message, settle, wait_for_events

pytestmark = pytest.mark.browser

COLLECT_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  const where = e.sourceFile + ':' + e.lineNumber;
  window.__violations.push(e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + where);
});
"""
POPUP = {
    "headline": "Ten percent off today",
    "body": "<p>Use the code <strong>HELLO10</strong> at checkout.</p>",
    "cta": {"label": "Shop now", "url": "/demo/"},
}
BRANDED = {**POPUP, "colors": {"background": "#102030", "text": "#eeeeee", "accent": "#ff8800"}}
# The elements of a message and the properties page CSS most often breaks.
STYLE_PROBE = """(root) => {
  const sr = root.shadowRoot;
  const props = ['display', 'visibility', 'position', 'color', 'background-color', 'font-family', 'font-size',
                 'line-height', 'letter-spacing', 'text-transform', 'box-sizing', 'padding-top', 'border-top-style',
                 'border-top-width', 'border-top-left-radius', 'width'];
  const pick = (el) => Object.fromEntries(props.map((p) => [p, getComputedStyle(el).getPropertyValue(p)]));
  const out = {host: {display: getComputedStyle(root).display, visibility: getComputedStyle(root).visibility}};
  for (const sel of ['[data-rt-type]', '.box', 'h2', '.body p', 'strong', 'a.b', 'button.x']) {
    const el = sr.querySelector(sel);
    out[sel] = el ? pick(el) : null;
  }
  return out;
}"""


@pytest.mark.parametrize("page_name", ["csp_strict.html", "csp.html", "noinline.html"])
def test_a_strict_csp_page_shows_the_styled_message_without_any_violation(page, live_server, shop, page_name):
    campaign = campaign_add(site=shop, message_type="popup", content=BRANDED)
    page.add_init_script(COLLECT_VIOLATIONS)
    console = []
    page.on("console", lambda msg: console.append(msg.text))
    response = page.goto(fixture_url(live_server, shop, page_name))
    if page_name == "csp_strict.html":
        assert "style-src 'self'" in response.headers["content-security-policy"]

    popup = message(page, "popup")
    expect(popup).to_be_visible()
    expect(popup.get_by_role("heading")).to_have_text("Ten percent off today")
    box = popup.locator(".box")
    # The shadow root's stylesheet applied: an unstyled message would be static, square and transparent;
    # the campaign's colors (custom properties set through the CSSOM, not a style attribute) too.
    expect(popup).to_have_css("position", "fixed")
    expect(box).to_have_css("border-top-left-radius", "12px")
    expect(box).to_have_css("background-color", "rgb(16, 32, 48)")
    expect(popup.get_by_role("heading")).to_have_css("color", "rgb(238, 238, 238)")
    wait_for_events(shop, "impression", campaign_id=campaign.id)  # connect-src 'self' lets events out
    settle(page, 300)
    assert page.evaluate("window.__violations") == []
    assert not [line for line in console if "Content Security Policy" in line], console
    sheets = page.locator(ROOT).evaluate("(el) => [el.shadowRoot.adoptedStyleSheets.length,"
                                         " el.shadowRoot.querySelectorAll('style').length]")
    assert sheets == [1, 0], "styles come from a constructable stylesheet, no <style> needing 'unsafe-inline'"


def test_hostile_page_css_does_not_change_the_message_inside_the_shadow_root(page, live_server, shop):
    campaign_add(site=shop, message_type="popup", content=POPUP)
    page.goto(fixture_url(live_server, shop, "plain.html"))
    expect(message(page, "popup")).to_be_visible()
    page.wait_for_timeout(300)  # the 0.2 s entrance animation
    reference = page.locator(ROOT).evaluate(STYLE_PROBE)

    page.context.clear_cookies()
    page.evaluate("localStorage.clear()")
    page.goto(fixture_url(live_server, shop, "hostile.html"))
    popup = message(page, "popup")
    expect(popup).to_be_visible()
    expect(page.locator("#title")).to_be_hidden()  # the hostile CSS is in force on the page itself
    page.wait_for_timeout(300)
    hostile = page.locator(ROOT).evaluate(STYLE_PROBE)

    assert hostile["host"] == {"display": "contents", "visibility": "visible"}
    assert all(hostile[sel] is not None for sel in hostile)
    assert hostile == reference
