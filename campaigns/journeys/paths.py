"""Page paths as the journey map counts them: cleaned by ordered rules, then put in page groups and stages.

Plain data in, answers out. The tally cleans each page view's path and its previous path with `path_clean` before
counting (so counts are kept by cleaned path, and the number of distinct rows stays bounded); the map puts each
cleaned path in its group with `group_of` when it is read, so editing a group later keeps its history.

A page group's URL rule has the shape of a URL goal's rule in the rule language (docs/rules.md):
`{"op": "starts_with", "value": "/blog/seo/", "case_sensitive": false}`, with the operators of a URL goal
(equals, contains, starts_with, ends_with, regex), matched on the cleaned path by the rule language's own matcher
(`campaigns.rules.rule_matches` on the `path` attribute: `equals` ignores a trailing slash, matching is
case-insensitive unless asked, a regex is of the portable subset).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from campaigns.rules import compile_regex, percent_decode, regex_problem, rule_matches
from campaigns.targeting.validation import GOAL_URL_OPS, validate_goal
from campaigns.targeting.vocabulary import STAGES  # noqa: F401 (the stages are read from here too)

# The operators of a page group's URL rule: those of a URL goal.
URL_RULE_OPS = GOAL_URL_OPS
# A cleaned path is at most this long: it is part of the counters' unique keys (an index entry has a size limit).
PATH_MAX_LENGTH = 200
# What takes the place of a dropped id: "/order/123/" and "/order/456/" are both "/order/*/".
ID_PLACEHOLDER = "*"
# Clean-up rules run again until the path stops changing, at most this many times, so cleaning a cleaned path
# changes nothing (a rule whose output another rule rewrites is settled by the second pass).
CLEAN_PASSES = 4
CLEANUP_PATTERN_MAX_LENGTH = 500

BAD_CLEANUP_PATTERN = "pattern: {problem}"
CLEANUP_PATTERN_BLANK = "pattern: must not be blank"
CLEANUP_REPLACEMENT_LONG = f"replacement: longer than {PATH_MAX_LENGTH} characters"

_SCHEME_HOST = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^/?#]*")
_SLASHES = re.compile(r"/{2,}")
# Characters a cleaned path keeps percent-encoded: "%" (so decoding twice changes nothing), "?" and "#" (so a
# decoded path is never read as having a query or fragment), and control characters (a path stays one line).
_KEPT_ENCODED = re.compile(r"[%?#\x00-\x1f\x7f]")
_NEVER_IN_PATH = re.compile(r"[?#\x00-\x1f\x7f]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # what a JSON string can carry but UTF-8 cannot
_TRAILING_PARTIAL_ESCAPE = re.compile(r"%[0-9A-Fa-f]?\Z")
# A path segment that is an id: digits, a UUID, or a long hexadecimal string with at least one digit.
_ID_SEGMENT = re.compile(
    r"[0-9]+"
    r"|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
    r"|(?=[A-Za-z]*[0-9])[0-9A-Fa-f]{16,}"
)
# `<name>` in a clean-up pattern stands for one path segment.
_PLACEHOLDER = re.compile(r"<[A-Za-z_][A-Za-z0-9_]*>")
_SEGMENT_REGEX = "[^/]+"


@dataclass(frozen=True)
class Cleanup:
    """Every match of `pattern` in a path is replaced by `replacement` (plain text).

    `pattern` is a regular expression of the rule language's portable subset, matched case-sensitively anywhere in
    the path, in which `<name>` stands for one path segment: `/product/<slug>/` with the replacement `/product/*/`
    counts every product page as one path.
    """

    pattern: str
    replacement: str


@dataclass(frozen=True)
class Group:
    """A page group as plain data: its name, its URL rule, its order (lowest first) and its stage ("" for none)."""

    name: str
    rule: dict[str, Any]
    stage: str = ""
    order: int = 0


def cleanup_regex(pattern: str) -> str:
    """The regular expression a clean-up pattern stands for (its `<name>` placeholders as one path segment)."""
    return _PLACEHOLDER.sub(_SEGMENT_REGEX, pattern)


def cleanup_rule_problems(*, pattern: object, replacement: object) -> list[str]:
    """Why a clean-up rule cannot be saved (empty when it can)."""
    problems = []
    if not isinstance(pattern, str) or not pattern.strip():
        problems.append(CLEANUP_PATTERN_BLANK)
    elif len(pattern) > CLEANUP_PATTERN_MAX_LENGTH:
        problems.append(BAD_CLEANUP_PATTERN.format(problem=f"longer than {CLEANUP_PATTERN_MAX_LENGTH} characters"))
    else:
        problem = regex_problem(cleanup_regex(pattern))
        if problem == "unsupported":
            problem = "outside the regular expressions the rule language supports (see docs/rules.md)"
        if problem:
            problems.append(BAD_CLEANUP_PATTERN.format(problem=problem))
    if not isinstance(replacement, str) or len(replacement) > PATH_MAX_LENGTH:
        problems.append(CLEANUP_REPLACEMENT_LONG)
    return problems


def url_rule_problems(*, rule: object) -> list[str]:
    """Why a page group's URL rule cannot be saved (empty when it can): the checks of a URL goal's rule."""
    return [message.replace("goal.url", "url_rule", 1) for message in validate_goal(goal={"type": "url", "url": rule})]


@functools.lru_cache(maxsize=256)
def _compiled(rules: tuple[Cleanup, ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    """The usable rules, compiled; a rule that cannot compile is skipped (a bad rule never stops the counting)."""
    found = []
    for rule in rules:
        if not isinstance(rule.pattern, str) or not rule.pattern or not isinstance(rule.replacement, str):
            continue
        rx = compile_regex(cleanup_regex(rule.pattern), case_sensitive=True)
        if rx is not None:
            found.append((rx, rule.replacement))
    return tuple(found)


def _path_of(url: str) -> str:
    """The path of a URL or of a bare path: no scheme, host, query or fragment."""
    url = url.split("#", 1)[0].split("?", 1)[0]
    return _SCHEME_HOST.sub("", url, count=1)


def _encode_kept(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8"))


def _mask_ids(path: str) -> str:
    return "/".join(ID_PLACEHOLDER if _ID_SEGMENT.fullmatch(segment) else segment for segment in path.split("/"))


def _clean_once(path: str, rules: tuple[tuple[re.Pattern[str], str], ...]) -> str:
    path = _KEPT_ENCODED.sub(_encode_kept, percent_decode(_LONE_SURROGATE.sub("\ufffd", path)))
    for rx, replacement in rules:
        path = rx.sub(lambda _match, text=replacement: text, path)
    if rules:  # a replacement may bring back what a path never holds
        path = _NEVER_IN_PATH.sub(_encode_kept, _LONE_SURROGATE.sub("\ufffd", path))
    path = _SLASHES.sub("/", _mask_ids(path))
    if not path.startswith("/"):
        path = "/" + path
    if len(path) > PATH_MAX_LENGTH:
        path = _TRAILING_PARTIAL_ESCAPE.sub("", path[:PATH_MAX_LENGTH])
    return path


def path_clean(*, url: str, rules: Sequence[Cleanup] = ()) -> str:
    """A page's path as the journey map counts it.

    The query string and fragment go, and so does a scheme and host; the path is percent-decoded (but `%`, `?`,
    `#` and control characters stay encoded); the site's clean-up rules rewrite it in their order; then every
    segment that is an id (digits, a UUID, a long hexadecimal string) becomes `*`, repeated slashes become one,
    and the path is cut to PATH_MAX_LENGTH characters. Cleaning a cleaned path changes nothing, unless the site's
    rules never settle (such as one that rewrites "%" into "?", which the next pass encodes again); whatever the
    rules, a cleaned path starts with "/", has no "?", "#" or control character and fits in PATH_MAX_LENGTH.
    """
    compiled = _compiled(tuple(rules))
    path = _clean_once(_path_of(url if isinstance(url, str) else ""), compiled)
    for _ in range(CLEAN_PASSES - 1):
        again = _clean_once(path, compiled)
        if again == path:
            break
        path = again
    return path


def group_matches(*, group: Group, path: str) -> bool:
    """Whether a cleaned path is in a group: its URL rule matched by the rule language on the `path` attribute."""
    rule = group.rule if isinstance(group.rule, dict) else {}
    leaf = {"attr": "path", "op": rule.get("op"), "value": rule.get("value")}
    if rule.get("case_sensitive") is True:
        leaf["case_sensitive"] = True
    return rule_matches(rule=leaf, context={"url": path})


def groups_sorted(groups: Iterable[Group]) -> list[Group]:
    """Groups in the order they are tried: by `order`, then as given."""
    return sorted(groups, key=lambda group: group.order)


def group_of(*, path: str, groups: Sequence[Group]) -> Group | None:
    """The first group, by order, whose URL rule matches the cleaned path; None when none does."""
    for group in groups_sorted(groups):
        if group_matches(group=group, path=path):
            return group
    return None


def label_of(*, path: str, groups: Sequence[Group]) -> str:
    """What the map shows for a cleaned path: its group's name, or the path itself when no group has it."""
    group = group_of(path=path, groups=groups)
    return group.name if group is not None else path


def labeller(*, groups: Sequence[Group]):
    """`label_of` for many paths: each distinct path is matched once."""
    ordered = groups_sorted(groups)

    @functools.lru_cache(maxsize=4096)
    def label(path: str) -> str:
        for group in ordered:
            if group_matches(group=group, path=path):
                return group.name
        return path

    return label


def journey_groups_key(*, groups: Sequence[Group]) -> str:
    """What labels depend on (names, rules, the order they are tried in): rollups built with another key are stale."""
    ordered = [[group.name, group.rule] for group in groups_sorted(groups)]
    return hashlib.sha256(json.dumps(ordered, sort_keys=True, default=str).encode()).hexdigest()
