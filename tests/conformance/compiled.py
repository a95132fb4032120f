"""tests/conformance/rules.compiled.json: every case of rules.json compiled by campaigns/targeting/compile.py.

widget/src/core/rules.js evaluates the compiled config the server sends, so node runs this file's rules and
configs against the expectations of rules.json, with the same compiler the server uses. A pytest check
(tests/campaigns/targeting/test_compile.py) fails when this file is not what the cases compile to now:
after changing rules.json or the compiler, run `.venv/bin/python -m tests.conformance.compiled`.
"""

import json
from pathlib import Path

from campaigns.targeting.compile import config_compile, rule_compile, tz_offsets

HERE = Path(__file__).resolve().parent
CASES_FILE = HERE / "rules.json"
COMPILED_FILE = HERE / "rules.compiled.json"


def compiled_cases(cases: dict) -> dict:
    """{"rules": {name: {"rule", "tzo"}}, "decide": {name: config}}, compiled at each case's `now`."""

    def now_of(case: dict) -> int:
        context = case["context"]
        return (cases["contexts"][context] if isinstance(context, str) else context)["now"]

    return {
        "description": "Generated from rules.json by tests/conformance/compiled.py: do not edit.",
        "rules": {
            c["name"]: {"rule": rule_compile(c["rule"]), "tzo": tz_offsets(tz=c.get("tz", "UTC"), now=now_of(c))}
            for c in cases["rules"]
        },
        "decide": {c["name"]: config_compile(config=c["config"], now=now_of(c)) for c in cases["decide"]},
    }


def compiled_text() -> str:
    """The file's text: one case per line, so that a change shows as the cases it touches."""
    compiled = compiled_cases(json.loads(CASES_FILE.read_text("utf-8")))

    def one(x: object) -> str:
        return json.dumps(x, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def section(cases: dict) -> str:
        return "{\n" + ",\n".join(f"  {one(name)}: {one(case)}" for name, case in cases.items()) + "\n }"

    parts = [f'"description": {one(compiled["description"])}']
    parts += [f'"{key}": {section(compiled[key])}' for key in ("rules", "decide")]
    return "{" + ",\n ".join(parts) + "}\n"


if __name__ == "__main__":
    COMPILED_FILE.write_text(compiled_text(), "utf-8")
    print(f"wrote {COMPILED_FILE}")
