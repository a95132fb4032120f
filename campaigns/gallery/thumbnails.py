"""The gallery's pictures: each template drawn by the widget's real bundle in headless Chromium.

Every template becomes a campaign of a throw-away site inside a transaction that is rolled back at the end, shown at
once on a mock shop page (its triggers, targeting, schedule, frequency and holdout set aside, its first variant
only), and photographed. The page, the widget's files and the site's config are answered by Playwright's routing
from this process: the config is the one the config endpoint would serve (site_config_get); nothing is sent on.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.db import transaction

from campaigns.gallery.catalog import GalleryTemplate, gallery_templates
from campaigns.gallery.services import campaign_from_template
from campaigns.models import Campaign, Site
from campaigns.selectors.config import config_invalidate, site_config_get
from campaigns.services import site_create
from widget.snippet import embed_snippet

OUT = Path(settings.BASE_DIR) / "campaigns" / "static" / "campaigns" / "gallery"
ORIGIN = "http://gallery.test"
PAGE = Path(__file__).resolve().parent / "thumbnail_page.html"
MARKER = "<!--RETARGET-->"
# Drawn at half scale: a 480 x 300 picture of a 960 x 600 page.
VIEWPORT = {"width": 960, "height": 600}
SCALE = 0.5
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOWN = "#retarget-root [data-rt-type]"


def chromium_launch(playwright, *, executable: str = CHROMIUM):
    """Debian's Chromium, never a downloaded browser."""
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)


def thumbnails_draw(*, browser, out_dir: Path = OUT, keys: list[str] | None = None) -> list[Path]:
    """A PNG per template (all, or those of `keys`) in out_dir; returns the files written. Leaves no row behind."""
    templates = [t for t in gallery_templates() if keys is None or t.key in keys]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with transaction.atomic():
        owner = get_user_model().objects.create_user(username=f"gallery-{uuid4().hex[:12]}")
        site = site_create(owner=owner, name="Gallery", allowed_origins=[ORIGIN], max_overlays_per_session=None,
                           min_overlay_gap_seconds=0)
        try:
            for template in templates:
                campaign = _shown_at_once(campaign_from_template(template_key=template.key, site=site, owner=owner))
                config_invalidate(public_key=site.public_key)
                written.append(_draw(browser=browser, site=site, template=template, out_dir=out_dir))
                campaign.delete()
        finally:
            config_invalidate(public_key=site.public_key)
            transaction.set_rollback(True)
    return written


def _shown_at_once(campaign: Campaign) -> Campaign:
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.ACTIVE, triggers=[{"type": "page_load", "delay": 0}], targeting=None, frequency={},
        schedule={}, control_share=0.0,
    )
    first = campaign.variants.order_by("id").first()
    campaign.variants.exclude(pk=first.pk).update(weight=0)
    return campaign


def _draw(*, browser, site: Site, template: GalleryTemplate, out_dir: Path) -> Path:
    html = PAGE.read_text().replace(MARKER, embed_snippet(public_key=site.public_key, base_url=ORIGIN))
    # Read here: Playwright runs route handlers in greenlets of their own, which Django gives other connections,
    # outside this transaction.
    config = site_config_get(public_key=site.public_key).body
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=SCALE, reduced_motion="reduce")
    try:
        page = context.new_page()
        page.route(f"{ORIGIN}/**", lambda route: _answer(route, site=site, html=html, config=config))
        page.goto(f"{ORIGIN}/shop/")
        shown = page.locator(SHOWN).first
        shown.wait_for(state="visible", timeout=10_000)
        quiz = template.variants()[0]["content"].get("quiz")
        if quiz:  # its first question says more than its intro
            shown.get_by_role("button", name=quiz.get("start_label") or "Start").click()
            shown.locator("legend").wait_for(state="visible")
        path = out_dir / f"{template.key}.png"
        page.screenshot(path=str(path))
        return path
    finally:
        context.close()


def _answer(route, *, site: Site, html: str, config: bytes) -> None:
    path = urlsplit(route.request.url).path
    if path.startswith(settings.STATIC_URL):
        found = finders.find(path[len(settings.STATIC_URL):])
        return route.fulfill(path=found) if found else route.fulfill(status=404)
    if path == f"/api/w/{site.public_key}/config":
        return route.fulfill(status=200, body=config, content_type="application/json")
    if path.startswith("/api/"):
        return route.fulfill(status=204)  # the widget's events: nothing is recorded
    return route.fulfill(status=200, body=html, content_type="text/html; charset=utf-8")
