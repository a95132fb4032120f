"""How the widget's files are served (docs/widget.md, "Embedding").

The snippet names one URL that never changes, /static/widget/retarget.js: a short cache and an ETag,
so a release reaches every embedding site within minutes. The lazy files carry a content hash in
their name and are immutable. A core URL with a hash in it (the snippet of earlier releases) is
answered with a redirect to the stable URL, so a snippet pasted long ago keeps running the current core.
"""

import hashlib
import re

from django.conf import settings
from django.http import HttpResponseRedirect

CORE_FILE = "retarget.js"
WIDGET_DIR = "widget/"
# Content-hashed names written by widget/build.mjs: the renderers, chunks, the language tables, and the debug,
# consent-tools (cmp), preview and audiences (aud) modules.
HASHED_FILE = re.compile(r"^((render|lang)-[\w-]+|chunk|debug|cmp|preview|aud)\.[\w-]+\.js$")
# The core of an earlier release, named by the snippets pasted before the stable URL existed.
LEGACY_CORE_PATTERN = r"retarget\.[0-9a-f]{6,64}\.js"
IMMUTABLE = "public, max-age=31536000, immutable"
# A browser may run its cached core for up to a day while it fetches the new one: well inside the seven days
# for which widget/build.mjs keeps the lazy files that core loads.
STALE_WHILE_REVALIDATE = 24 * 60 * 60


def core_url() -> str:
    return settings.STATIC_URL + WIDGET_DIR + CORE_FILE


def core_cache_control() -> str:
    return f"public, max-age={settings.WIDGET_CORE_MAX_AGE}, stale-while-revalidate={STALE_WHILE_REVALIDATE}"


def static_headers_add(headers, path: str, url: str) -> None:
    """WHITENOISE_ADD_HEADERS_FUNCTION: the widget's own cache policy over WhiteNoise's one max-age.

    The core's ETag is a hash of its content rather than WhiteNoise's mtime and size, so every server of a
    deployment answers the same ETag and a rebuild of another size or in the same second is never missed.
    """
    prefix = settings.STATIC_URL + WIDGET_DIR
    if not url.startswith(prefix):
        return
    name = url[len(prefix):]
    if name == CORE_FILE:
        headers["Cache-Control"] = core_cache_control()
        with open(path, "rb") as file:
            headers["ETag"] = '"' + hashlib.sha256(file.read()).hexdigest()[:32] + '"'
    elif HASHED_FILE.match(name):
        headers["Cache-Control"] = IMMUTABLE
    else:
        headers["Cache-Control"] = core_cache_control()


def legacy_core_redirect(request):
    """An earlier release's hashed core URL: the current core, through the stable URL and its cache policy.

    Reached only when no such file exists (WhiteNoise serves every file that does). The core finds its
    lazy files beside its own URL, and both URLs are in the same folder.
    """
    response = HttpResponseRedirect(core_url())
    response["Cache-Control"] = core_cache_control()
    return response
