"""Widget benchmark: gzipped sizes beside comparable npm packages installed in the same run, and, in Chromium
with 4x CPU throttling (Lighthouse's mobile profile), the widget's main-thread time on the demo home page and
the time from a trigger to the message being visible.

Budgets: core <= 6 KB gz, everything <= 16 KB gz; main-thread <= 30 ms; trigger-to-visible <= 50 ms.
Needs PostgreSQL, Redis, npm (registry) and /usr/bin/chromium. Usage: python bench/widget_bench.py [--runs 5]
"""

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BASE_DIR,
    budget,
    database_drop,
    database_fresh,
    django_shell,
    environment,
    gunicorn,
)

DB_NAME = "retarget_bench_widget"
PORT = 8767
STATIC = BASE_DIR / "widget" / "static" / "widget"
COMPARABLE = {
    # package: file a site would load (the browser bundle)
    "posthog-js": "dist/array.js",
    "@growthbook/growthbook": "dist/bundles/index.min.js",
    "vanilla-cookieconsent": "dist/cookieconsent.umd.js",
}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TRACE_NAMES = {
    "EvaluateScript",
    "v8.compile",
    "v8.compileModule",
    "v8.evaluateModule",
    "FunctionCall",
    "TimerFire",
    "EventDispatch",
    "FireAnimationFrame",
    "RunMicrotasks",
    "v8.produceCache",
}

SEED = (
    """
from django.core.management import call_command
from campaigns import services
from campaigns.models import Campaign, Site
from widget.demo import DEMO_SITE_NAME
call_command("demo_seed", password="bench-pass-1", stdout=open("/dev/null", "w"))
site = Site.objects.get(name=DEMO_SITE_NAME)
site.consent_required = False
site.max_overlays_per_session = None
site.min_overlay_gap_seconds = 0
site.allowed_origins = ["http://127.0.0.1:{PORT}"]
site.save()
Campaign.objects.filter(site=site).exclude(message_type="bar").update(status="paused")
services.campaign_create(site=site, name="Bench popup", message_type="popup", status="active", priority=1000,
    triggers=[{"type": "js", "name": "bench"}], frequency={},
    variants=[{"name": "A", "weight": 100, "content": {"headline": "Bench", "body": "<p>Visible?</p>"}}])
print(Campaign.objects.get(name="Bench popup").id)
""".replace("{PORT}", str(PORT))
)


def gz(data: bytes) -> int:
    return len(gzip.compress(data, 9))


def widget_sizes() -> tuple[int, int]:
    manifest = json.loads((STATIC / "manifest.json").read_text())
    core_files = [manifest["core"], *manifest.get("core_chunks", [])]
    every = {
        manifest["core"],
        *manifest.get("renderers", {}).values(),
        *manifest.get("chunks", []),
        *manifest.get("core_chunks", []),
        *manifest.get("lazy", []),
    }
    core = sum(gz((STATIC / name).read_bytes()) for name in core_files)
    total = sum(gz((STATIC / name).read_bytes()) for name in every)
    return core, total


def comparable_sizes() -> dict[str, int | None]:
    folder = Path(tempfile.mkdtemp(prefix="rt-npm-"))
    subprocess.run(["npm", "init", "-y"], cwd=folder, capture_output=True, check=True)
    result = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *COMPARABLE],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    sizes = {}
    for package, path in COMPARABLE.items():
        file = folder / "node_modules" / package / path
        sizes[package] = gz(file.read_bytes()) if result.returncode == 0 and file.exists() else None
    return sizes


def _outermost_duration_ms(events: list[dict]) -> float:
    """Sum of trace slices attributed to the widget's scripts, counting nested slices once."""
    total = 0.0
    by_thread: dict[tuple, list[dict]] = {}
    for event in events:
        by_thread.setdefault((event["pid"], event["tid"]), []).append(event)
    for slices in by_thread.values():
        slices.sort(key=lambda e: e["ts"])
        end = -1
        for event in slices:
            if event["ts"] >= end:
                total += event["dur"]
                end = event["ts"] + event["dur"]
    return total / 1000


def widget_trace_events(trace: dict) -> list[dict]:
    found = []
    for event in trace.get("traceEvents", []):
        if event.get("ph") != "X" or event.get("name") not in TRACE_NAMES or "dur" not in event:
            continue
        data = (event.get("args") or {}).get("data") or {}
        url = data.get("url") or data.get("scriptName") or ""
        if "/static/widget/" in url:
            found.append(event)
    return found


VISIBLE_JS = """(id) => new Promise((resolve) => {
  const t0 = performance.now();
  setTimeout(() => resolve(-1), 5000);  // never shown
  window.retarget('trigger', 'bench');
  const look = () => {
    const root = document.getElementById('retarget-root');
    const el = root && root.shadowRoot && root.shadowRoot.querySelector('[data-rt-campaign="' + id + '"]');
    if (el && el.getBoundingClientRect().height > 0) resolve(performance.now() - t0);
    else requestAnimationFrame(look);
  };
  look();
})"""


def browser_times(*, base: str, campaign_id: int, runs: int) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    main_thread, visible = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 412, "height": 823})
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
            browser.start_tracing(
                page=page, categories=["devtools.timeline", "v8", "disabled-by-default-devtools.timeline"]
            )
            page.goto(f"{base}/demo/", wait_until="load")
            page.wait_for_timeout(1500)  # config fetched, campaigns armed, renderers prefetched
            trace = json.loads(browser.stop_tracing())
            main_thread.append(_outermost_duration_ms(widget_trace_events(trace)))
            visible.append(page.evaluate(VISIBLE_JS, campaign_id))
            context.close()
        browser.close()
    return main_thread, visible


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    core, total = widget_sizes()
    print("widget sizes (gzip -9)")
    print(f"  core                 : {core / 1024:6.1f} KB  (budget <= 6 KB: {budget(core <= 6 * 1024)})")
    print(f"  core + all renderers : {total / 1024:6.1f} KB  (budget <= 16 KB: {budget(total <= 16 * 1024)})")
    for package, size in comparable_sizes().items():
        shown = f"{size / 1024:6.1f} KB  ({size / core:.1f}x our core)" if size else "not installed (npm failed)"
        print(f"  {package:21s}: {shown}")

    env = environment(db_name=DB_NAME)
    database_fresh(db_name=DB_NAME, env=env)
    try:
        campaign_id = int(django_shell(SEED, env=env).splitlines()[-1])
        with gunicorn(env=env, port=PORT, workers=2):
            main_thread, visible = browser_times(
                base=f"http://127.0.0.1:{PORT}", campaign_id=campaign_id, runs=args.runs
            )
        mt, vis = statistics.median(main_thread), statistics.median(visible)
        print(f"Chromium, 4x CPU throttling, demo home page, median of {args.runs} loads")
        print(
            f"  widget main-thread time : {mt:6.1f} ms  (runs: {', '.join(f'{x:.1f}' for x in main_thread)})"
            f"  budget <= 30 ms: {budget(mt <= 30)}"
        )
        print(
            f"  trigger to visible      : {vis:6.1f} ms  (runs: {', '.join(f'{x:.1f}' for x in visible)})"
            f"  budget <= 50 ms: {budget(vis <= 50)}"
        )
    finally:
        database_drop(db_name=DB_NAME)


if __name__ == "__main__":
    main()
