"""The widget's main-thread time, A/B: the bundle of a git commit (A) against the one in widget/static/widget (B).

On a shared machine one load varies by a factor of two, so two bench runs made minutes apart cannot tell a few
milliseconds apart. This loads the demo home page alternately with A and B (A B A B ...) on one server and one
browser, both bundles served the same way (from files, through page.route), and prints each side's median and
the median of the pairwise differences, in wall time (the budgeted figure of bench/widget_bench.py: evaluation
plus start-up) and in the thread CPU time of the same slices. B's config is served to both: it keeps every
field an older bundle reads.

Usage: python bench/widget_ab.py COMMIT [--pairs 12]   (needs what bench/widget_bench.py needs, except npm)
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import widget_bench as wb  # noqa: E402
from bench.common import BASE_DIR, database_drop, database_fresh, django_shell, environment, gunicorn  # noqa: E402

DB_NAME = "retarget_bench_widget_ab"
PORT = 8768


def bundle_at(commit: str) -> Path:
    """The widget files of a commit, in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="rt-widget-ab-"))

    def show(name: str) -> bytes:
        return subprocess.run(
            ["git", "show", f"{commit}:widget/static/widget/{name}"], cwd=BASE_DIR, capture_output=True, check=True
        ).stdout

    manifest = json.loads(show("manifest.json"))
    names = {manifest["core"], *manifest["renderers"].values(), *manifest.get("chunks", []), *manifest["lazy"]}
    for name in names:
        (folder / name).write_bytes(show(name))
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("commit")
    parser.add_argument("--pairs", type=int, default=12)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    sides = {"A": bundle_at(args.commit), "B": wb.WIDGET / "static" / "widget"}
    core = {side: json.loads((folder / "manifest.json").read_text())["core"] for side, folder in sides.items()}
    wall: dict[str, list[float]] = {"A": [], "B": []}
    cpu: dict[str, list[float]] = {"A": [], "B": []}

    def serve(side: str, route) -> None:
        name = route.request.url.rsplit("/", 1)[-1]
        if name == core["B"]:
            name = core[side]  # the page names B's core
        file = sides[side] / name
        if not file.exists():
            route.continue_()
            return
        headers = {"Content-Type": "text/javascript", "Access-Control-Allow-Origin": "*"}
        route.fulfill(status=200, body=file.read_bytes(), headers=headers)

    env = environment(db_name=DB_NAME)
    database_fresh(db_name=DB_NAME, env=env)
    try:
        django_shell(wb.SEED.replace(str(wb.PORT), str(PORT)), env=env)
        with gunicorn(env=env, port=PORT, workers=2), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=wb.CHROMIUM_ARGS)
            for i in range(args.pairs * 2):
                side = "AB"[i % 2]
                context = browser.new_context(viewport={"width": 412, "height": 823})
                page = context.new_page()
                page.route("**/static/widget/*.js", lambda route, request, side=side: serve(side, route))
                context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": 4})
                browser.start_tracing(page=page, categories=wb.TRACE_CATEGORIES)
                page.goto(f"http://127.0.0.1:{PORT}/demo/", wait_until="load")
                page.wait_for_timeout(1500)
                trace = json.loads(browser.stop_tracing())
                events, minus = wb.widget_trace_events(trace), wb.instrumentation_slices(trace)
                end = wb.startup_end(trace, events)  # the budgeted figure: evaluation + start-up
                events = [e for e in events if end is None or e["ts"] < end]
                wall[side].append(wb._outermost_duration_ms(events, minus))
                cpu[side].append(wb.thread_cpu_ms(events, minus))
                context.close()
            browser.close()
    finally:
        database_drop(db_name=DB_NAME)
    print(f"demo home page, 4x CPU throttling, {args.pairs} interleaved pairs")
    print(f"  A = the bundle of {args.commit}, B = widget/static/widget")
    for name, figures in (("wall time", wall), ("thread CPU time", cpu)):
        for side in "AB":
            runs = ", ".join(f"{x:.0f}" for x in figures[side])
            print(f"  {name:16s} {side}: median {statistics.median(figures[side]):6.1f} ms  (runs: {runs})")
        diffs = [b - a for a, b in zip(figures["A"], figures["B"], strict=True)]
        print(f"  {name:16s} B - A, median of the pairs: {statistics.median(diffs):+.1f} ms")


if __name__ == "__main__":
    main()
