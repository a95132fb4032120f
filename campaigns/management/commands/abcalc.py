"""`manage.py abcalc`: an A/B calculator spec (JSON) on stdin, the result (JSON) on stdout.

A bad spec prints {"error": "invalid_spec", "detail": "<field>: <message>"} on stderr
and exits with status 2.
"""

import json
import sys

from django.core.management.base import BaseCommand

from campaigns.results.calculator import SpecError, calculate

INVALID_JSON = "spec: not valid JSON ({error})"
EXIT_INVALID_SPEC = 2


class Command(BaseCommand):
    help = "Compute A/B results from a JSON spec read on stdin (see docs/stats.md)."

    def add_arguments(self, parser):
        parser.add_argument("--indent", type=int, default=None, help="Pretty-print with this indent.")

    def handle(self, *args, **options):
        try:
            spec = json.loads(sys.stdin.read())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            self._fail(INVALID_JSON.format(error=error))
        try:
            result = calculate(spec)
        except SpecError as error:
            self._fail(str(error))
        self.stdout.write(json.dumps(result, indent=options["indent"], allow_nan=False))

    def _fail(self, detail: str) -> None:
        self.stderr.write(json.dumps({"error": "invalid_spec", "detail": detail}))
        raise SystemExit(EXIT_INVALID_SPEC)
