"""Draw the gallery's pictures (campaigns/static/campaigns/gallery/<key>.png) with the widget's real bundle.

Run it after changing a template or the renderers, and commit the pictures:
    python manage.py gallery_thumbnails [--only KEY ...] [--out DIR]
"""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from campaigns.gallery.catalog import ORDER
from campaigns.gallery.thumbnails import CHROMIUM, OUT, chromium_launch, thumbnails_draw


class Command(BaseCommand):
    help = "Draw a PNG of every gallery template in headless Chromium."

    def add_arguments(self, parser):
        parser.add_argument("--only", nargs="+", choices=ORDER, help="Only these templates.")
        parser.add_argument("--out", default=str(OUT), help="Folder of the pictures (default: the committed one).")
        parser.add_argument("--chromium", default=CHROMIUM, help="The Chromium to run (never downloaded).")

    def handle(self, *args, only, out, chromium, **options):
        if not Path(chromium).exists():
            raise CommandError(f"{chromium} is missing: install Debian's chromium package")
        from playwright.sync_api import sync_playwright  # a development dependency, as the browser tests

        # Playwright's sync API runs an event loop in this thread; the ORM calls made meanwhile stay synchronous.
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = chromium_launch(playwright, executable=chromium)
            try:
                written = thumbnails_draw(browser=browser, out_dir=Path(out), keys=only)
            finally:
                browser.close()
        for path in written:
            self.stdout.write(str(path))
        self.stdout.write(self.style.SUCCESS(f"{len(written)} picture(s) drawn."))
