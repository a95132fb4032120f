"""A lead magnet, as a visitor gets it: the download link joins the thank-you once the lead is stored."""

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from campaigns.models import Site
from campaigns.services.assets import asset_create
from tests.widget.browser.kit import campaign_add, events, fixture_url, message

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4 the one-page checklist, for the browser\n"


def test_a_visitor_who_signs_up_sees_the_download_link_and_gets_the_file(page, live_server, shop, settings,
                                                                        tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # This visitor signs up at once: without a minimum fill time, the tally keeps the lead instead of deleting it as
    # a bot's (test_forms.py holds those checks), whenever it runs.
    Site.objects.filter(pk=shop.pk).update(form_min_fill_seconds=0)
    asset_create(site=shop, name="checklist.pdf", title="Checklist", file=ContentFile(PDF, name="checklist.pdf"))
    campaign = campaign_add(site=shop, message_type="lead", content={
        "headline": "Free: the one-page checklist", "fields": [{"name": "email", "label": "Email", "required": True}],
        "magnet": {"title": "The one-page checklist (PDF)", "asset": "asset:checklist.pdf"},
    })
    page.goto(fixture_url(live_server, shop))
    lead = message(page, "lead")
    lead.get_by_label("Email", exact=True).fill("reader@example.org")
    lead.get_by_role("button", name="Subscribe").click()
    expect(lead.get_by_role("heading", name="Thank you!")).to_be_visible()

    link = lead.get_by_role("link", name="The one-page checklist (PDF)")
    expect(link).to_be_visible(timeout=8000)  # once the batch with the submit is stored (sent within a second)
    assert events(shop, "submit", campaign_id=campaign.id), "the link comes only after the lead is stored"
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "checklist.pdf"
    assert Path(download.value.path()).read_bytes() == PDF
