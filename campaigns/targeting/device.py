"""The visitor's device: tablet, mobile or desktop, from the User-Agent (and, in a browser, its touch points).

The same rules as the widget's `deviceOf` (widget/src/core/device.js), which targeting uses and which the widget
sends in `data.segment.device`; both pass tests/conformance/device.json. The server uses them for an event that
does not carry the widget's device. It has no touch points, so an iPad in desktop mode (it says "Macintosh") reads
as a desktop here and as a tablet in the browser.
"""

import re

DESKTOP = "desktop"
MOBILE = "mobile"
TABLET = "tablet"
DEVICES = (DESKTOP, MOBILE, TABLET)

_TABLET = re.compile(r"iPad|Tablet|PlayBook|Silk|Kindle", re.IGNORECASE)
_ANDROID = re.compile(r"Android", re.IGNORECASE)
_MOBI = re.compile(r"Mobi", re.IGNORECASE)
_MACINTOSH = re.compile(r"Macintosh")
_MOBILE = re.compile(r"Mobi|iPhone|iPod|Android", re.IGNORECASE)


def device_of(*, user_agent: str, touch_points: int = 0) -> str:
    """An Android without "Mobi" is a tablet (Android phones' browsers say "Mobile"), and so is a Mac with a touch
    screen (no Mac has one; an iPad asking for desktop pages does)."""
    if (
        _TABLET.search(user_agent)
        or (_ANDROID.search(user_agent) and not _MOBI.search(user_agent))
        or (_MACINTOSH.search(user_agent) and touch_points > 1)
    ):
        return TABLET
    return MOBILE if _MOBILE.search(user_agent) else DESKTOP
