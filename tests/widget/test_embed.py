"""The stable embed URL: the current core with a short cache and a content ETag; lazy files immutable; the hashed
core URLs of earlier snippets redirected to it; the same in production (collectstatic, compressed, no finders)."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from widget.embed import STALE_WHILE_REVALIDATE
from widget.snippet import embed_script_tag, embed_snippet

STATIC = Path(settings.BASE_DIR) / "widget" / "static" / "widget"
MANIFEST = json.loads((STATIC / "manifest.json").read_text())
CORE_URL = "/static/widget/retarget.js"
OLD_CORE_URL = "/static/widget/retarget.2857cef47e.js"  # the snippet of the release before the stable URL


def core_etag() -> str:
    return '"' + hashlib.sha256((STATIC / "retarget.js").read_bytes()).hexdigest()[:32] + '"'


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_snippet_names_the_stable_core_url():
    assert f'src="https://rt.example{CORE_URL}"' in embed_snippet(public_key="pk_1", base_url="https://rt.example")
    assert f'src="{CORE_URL}"' in embed_script_tag(public_key="pk_1")


def test_the_stable_url_serves_the_current_core_with_a_short_cache_and_a_content_etag(client):
    response = client.get(CORE_URL)
    assert response.status_code == 200
    assert body(response) == (STATIC / "retarget.js").read_bytes()
    assert response["Cache-Control"] == (
        f"public, max-age={settings.WIDGET_CORE_MAX_AGE}, stale-while-revalidate={STALE_WHILE_REVALIDATE}")
    assert response["ETag"] == core_etag()


def test_the_stable_url_answers_304_to_its_etag_and_200_to_another(client):
    assert client.get(CORE_URL, HTTP_IF_NONE_MATCH=core_etag()).status_code == 304
    assert client.get(CORE_URL, HTTP_IF_NONE_MATCH='"an-earlier-release"').status_code == 200


def test_lazy_files_are_immutable(client):
    for name in {*MANIFEST["renderers"].values(), *MANIFEST["lazy"], *MANIFEST.get("superseded", {})}:
        response = client.get(f"/static/widget/{name}")
        assert response.status_code == 200, name
        assert response["Cache-Control"] == "public, max-age=31536000, immutable", name


def test_an_earlier_hashed_core_url_redirects_to_the_current_core(client):
    response = client.get(OLD_CORE_URL)
    assert response.status_code == 302
    assert response["Location"] == CORE_URL
    assert f"max-age={settings.WIDGET_CORE_MAX_AGE}," in response["Cache-Control"]
    followed = client.get(OLD_CORE_URL, follow=True)
    assert followed.status_code == 200 and body(followed) == (STATIC / "retarget.js").read_bytes()


def test_other_missing_widget_files_are_still_404(client):
    assert client.get("/static/widget/render-all.NOSUCHFILE.js").status_code == 404
    assert client.get("/static/widget/retarget.not-a-hash.js").status_code == 404


# Production: collectstatic into a fresh STATIC_ROOT (compressed copies beside each file), no finders, no DEBUG.
PRODUCTION_PROBE = """
import json, sys
import django
django.setup()
from django.core.management import call_command
from django.test import Client
call_command("collectstatic", "--noinput", "-v0")
client = Client()
answers = {}
for url, headers in [
    ("/static/widget/retarget.js", {}),
    ("/static/widget/retarget.js", {"HTTP_ACCEPT_ENCODING": "gzip"}),
    ("/static/widget/retarget.js", {"HTTP_IF_NONE_MATCH": sys.argv[1]}),
    ("/static/widget/%s" % sys.argv[2], {}),
    ("/static/widget/retarget.0123456789.js", {}),
]:
    r = client.get(url, **headers)
    answers[url + " " + json.dumps(headers)] = {
        "status": r.status_code, "cache": r.get("Cache-Control"), "etag": r.get("ETag"),
        "encoding": r.get("Content-Encoding"), "location": r.get("Location"),
    }
print(json.dumps(answers))
"""


def test_production_serves_the_stable_core_the_same_way(tmp_path):
    render = MANIFEST["renderers"]["popup"]
    environment = {key: value for key, value in os.environ.items() if key not in ("DEMO", "DEBUG")}
    environment.update(
        DJANGO_SETTINGS_MODULE="retarget.settings", DEBUG="0", SECRET_KEY="probe-" + "x" * 50,
        ALLOWED_HOSTS="testserver", SECURE_SSL_REDIRECT="0", STATIC_ROOT=str(tmp_path / "static"),
    )
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE, core_etag(), render], cwd=settings.BASE_DIR, env=environment,
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answers = list(json.loads(result.stdout.strip().splitlines()[-1]).values())
    short = f"public, max-age={settings.WIDGET_CORE_MAX_AGE}, stale-while-revalidate={STALE_WHILE_REVALIDATE}"
    plain, gzipped, revalidated, lazy, legacy = answers
    assert plain == {"status": 200, "cache": short, "etag": core_etag(), "encoding": None, "location": None}
    assert gzipped == {**plain, "encoding": "gzip"}
    assert revalidated["status"] == 304 and revalidated["etag"] == core_etag()
    assert lazy["status"] == 200 and lazy["cache"] == "public, max-age=31536000, immutable"
    assert legacy["status"] == 302 and legacy["location"] == "/static/widget/retarget.js" and legacy["cache"] == short
