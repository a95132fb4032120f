"""The copy-paste embed snippet of the widget (docs/widget.md).

The script's URL never changes across releases (widget/embed.py serves it with a short cache), so a
snippet pasted once keeps running the current core after every upgrade.
"""

import json
from html import escape

from widget.embed import core_url

# The queue stub: calls made before the script has loaded are kept in retarget.q and replayed in order.
QUEUE_STUB = "window.retarget=window.retarget||function(){(retarget.q=retarget.q||[]).push(arguments)};"

ERROR_NO_KEY = "public_key is required"

# Google Consent Mode v2: how long Google's tags wait for the widget's update before they use the default.
WAIT_FOR_UPDATE_MS = 500
NECESSARY = "necessary"
# Defines gtag as Google's own snippet does, so that this part works above it (and the site's copy is the same).
GTAG_STUB = "window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"


def consent_mode_defaults(*, site) -> dict | None:
    """The Consent Mode default of a site that turned it on (None otherwise): every mapped type denied but those
    mapped to the necessary category, and wait_for_update."""
    if not site.consent_mode:
        return None
    state = {t: "granted" if category == NECESSARY else "denied" for t, category in site.consent_mode_map.items()}
    return {**state, "wait_for_update": WAIT_FOR_UPDATE_MS}


def consent_mode_script(*, defaults: dict) -> str:
    """The inline Consent Mode default. It must run before the site's Google tag (gtag.js or GTM) reads consent,
    which is why the whole snippet goes above the site's gtag snippet."""
    return f"{GTAG_STUB};gtag('consent','default',{json.dumps(defaults, separators=(',', ':'))});"


def embed_script_tag(*, public_key: str, base_url: str = "", nonce: str | None = None) -> str:
    """The <script> tag alone: for pages with a strict CSP that allows no inline script.

    Such a site defines the queue stub in one of its own script files (see docs/widget.md).
    """
    if not public_key:
        raise ValueError(ERROR_NO_KEY)
    base = base_url.rstrip("/")
    attrs = [f'src="{escape(base + core_url())}"', f'data-site="{escape(public_key)}"']
    if base:
        attrs.append(f'data-api="{escape(base)}"')
    if nonce:
        attrs.append(f'nonce="{escape(nonce)}"')
    return f"<script {' '.join(attrs)} async></script>"


def embed_snippet(
    *, public_key: str, base_url: str = "", nonce: str | None = None, consent_mode: dict | None = None
) -> str:
    """The queue stub (inline, with the nonce if given) followed by the async script tag.

    base_url is the origin of the Retarget server ("https://retarget.example"); empty when the
    widget is served from the site's own origin. consent_mode: the Consent Mode default
    (consent_mode_defaults) the inline part sets first, for a site that turned Consent Mode on.
    """
    nonce_attr = f' nonce="{escape(nonce)}"' if nonce else ""
    head = ""
    if consent_mode:
        head = ("<!-- Paste above your Google tag (gtag.js or Tag Manager): Consent Mode's default must come "
                "first -->\n")
    inline = consent_mode_script(defaults=consent_mode) + QUEUE_STUB if consent_mode else QUEUE_STUB
    return (
        f"{head}<script{nonce_attr}>{inline}</script>\n"
        + embed_script_tag(public_key=public_key, base_url=base_url, nonce=nonce)
    )
