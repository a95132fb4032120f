"""The copy-paste embed snippet of the widget (docs/widget.md).

The script's URL never changes across releases (widget/embed.py serves it with a short cache), so a
snippet pasted once keeps running the current core after every upgrade.
"""

from html import escape

from widget.embed import core_url

# The queue stub: calls made before the script has loaded are kept in retarget.q and replayed in order.
QUEUE_STUB = "window.retarget=window.retarget||function(){(retarget.q=retarget.q||[]).push(arguments)};"

ERROR_NO_KEY = "public_key is required"


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


def embed_snippet(*, public_key: str, base_url: str = "", nonce: str | None = None) -> str:
    """The queue stub (inline, with the nonce if given) followed by the async script tag.

    base_url is the origin of the Retarget server ("https://retarget.example"); empty when the
    widget is served from the site's own origin.
    """
    nonce_attr = f' nonce="{escape(nonce)}"' if nonce else ""
    return (
        f"<script{nonce_attr}>{QUEUE_STUB}</script>\n"
        + embed_script_tag(public_key=public_key, base_url=base_url, nonce=nonce)
    )
