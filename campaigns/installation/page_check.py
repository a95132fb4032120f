"""Is this site's snippet on a page? Read from the page's HTML as served (no script runs, so a snippet that a tag
manager adds later is not seen: the answer says so)."""

from html.parser import HTMLParser
from typing import NamedTuple

from campaigns.installation.fetch import ERROR_STATUS, FetchRefused, page_fetch

FOUND = "found"
OTHER_KEY = "other_key"
KEY_ELSEWHERE = "key_elsewhere"
MISSING = "missing"
REFUSED = "refused"


class PageCheck(NamedTuple):
    """The answer: `state` one of the constants above; `url` the page read (after redirects); `keys` the other
    sites' keys found; `detail` why a page could not be read."""

    state: str
    url: str
    keys: tuple[str, ...] = ()
    detail: str = ""


class _Scripts(HTMLParser):
    """The data-site attribute of every <script> tag."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.keys: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            for name, value in attrs:
                if name == "data-site" and value:
                    self.keys.append(value.strip())


def snippet_keys(html: str) -> list[str]:
    """The site keys of the Retarget script tags on a page, in order."""
    parser = _Scripts()
    parser.feed(html)
    parser.close()
    return parser.keys


def page_check(*, url: str, public_key: str, allowed_origins) -> PageCheck:
    """Fetch `url` (campaigns/installation/fetch.py) and look for a script tag with this site's key."""
    try:
        page = page_fetch(url=url, allowed_origins=allowed_origins)
    except FetchRefused as refused:
        return PageCheck(REFUSED, url, detail=str(refused))
    if page.status >= 400:
        return PageCheck(REFUSED, page.url, detail=ERROR_STATUS.format(url=page.url, status=page.status))
    html = page.body.decode("utf-8", errors="replace")
    keys = snippet_keys(html)
    if public_key in keys:
        return PageCheck(FOUND, page.url)
    if keys:
        return PageCheck(OTHER_KEY, page.url, keys=tuple(dict.fromkeys(keys)))
    if public_key in html:
        return PageCheck(KEY_ELSEWHERE, page.url)
    return PageCheck(MISSING, page.url)
