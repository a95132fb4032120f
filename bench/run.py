"""`make bench`: every benchmark in one run, figures printed (budgets are reported, never asserted).

`python bench/run.py WORD...` runs only the benchmarks whose title holds one of the words (`ablation`).
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    ("Rule evaluation, Python (50 campaigns)", [sys.executable, str(HERE / "rules_bench.py")]),
    ("Rule evaluation, JS (50 campaigns)", ["node", str(HERE / "rules_bench.mjs")]),
    ("Config endpoint", [sys.executable, str(HERE / "config_bench.py")]),
    ("Collect endpoint and tally", [sys.executable, str(HERE / "collect_bench.py")]),
    ("Collect ablation", [sys.executable, str(HERE / "collect_ablation.py")]),
    ("Event ids: PostgreSQL CPU, random vs time-ordered", [sys.executable, str(HERE / "event_ids_bench.py")]),
    ("Widget size and speed", [sys.executable, str(HERE / "widget_bench.py")]),
    ("Results page, API, front page (overview) and calculator", [sys.executable, str(HERE / "results_bench.py")]),
    ("Journey map page (90 days at a million page views a day)", [sys.executable, str(HERE / "journeys_bench.py")]),
]


def main() -> int:
    only = sys.argv[1:]
    failed = []
    for title, command in BENCHES:
        if only and not any(word.lower() in title.lower() for word in only):
            continue
        print(f"\n=== {title} ===", flush=True)
        if subprocess.run(command, cwd=HERE.parent).returncode != 0:
            failed.append(title)
    if failed:
        print("\nbenchmarks that could not run: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
