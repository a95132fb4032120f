"""The rule language's vocabularies, each word defined once: triggers, operators and the compiled form's opcodes.

Validation (targeting/validation.py), the compiler (targeting/compile.py, targeting/triggers.py), the descriptions
(targeting/describe.py) and the evaluator (campaigns/rules.py) read these tables; the widget receives the numbers,
and tests/campaigns/targeting/test_vocabulary.py holds widget/src's copies (rules.js, triggers.js) equal to them.
Plain data: this module imports nothing of ours, so the core may read it. The attributes of the visitor context are
the core's (`rules.ATTRS`, each with its compiled resolver), and decide()'s checks too (`rules.CHECKS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from campaigns.assignment import is_number

# ---------------------------------------------------------------- opcodes of the compiled rules

# Resolvers: the index of each attribute resolver in RESOLVE of widget/src/core/rules.js.
R_URL, R_PATH, R_HOST, R_AT, R_AT_NONEMPTY, R_NUMBER_AT, R_RETURNING = range(7)
R_DAYS, R_CART_COUNT, R_CART_PRODUCTS, R_WHEN, R_QUERY, R_UTM, R_COUNT = range(7, 14)
R_NOW, R_SINCE, R_SEEN_IN_SESSION = range(14, 17)
RESOLVERS = (
    "R_URL", "R_PATH", "R_HOST", "R_AT", "R_AT_NONEMPTY", "R_NUMBER_AT", "R_RETURNING", "R_DAYS", "R_CART_COUNT",
    "R_CART_PRODUCTS", "R_WHEN", "R_QUERY", "R_UTM", "R_COUNT", "R_NOW", "R_SINCE", "R_SEEN_IN_SESSION",
)
# Operators: the index in OPS of widget/src/core/rules.js.
OP_EXISTS, OP_EQ, OP_CONTAINS, OP_STARTS, OP_ENDS, OP_REGEX, OP_RANGE, OP_ABOVE, OP_INCLUDES, OP_TRUTH = range(10)
OPCODES = (
    "OP_EXISTS", "OP_EQ", "OP_CONTAINS", "OP_STARTS", "OP_ENDS", "OP_REGEX", "OP_RANGE", "OP_ABOVE", "OP_INCLUDES",
    "OP_TRUTH",
)
# A compiled leaf's flags (bits).
NEGATE, CASE_SENSITIVE, PATH_TRIM = 1, 2, 4
FLAGS = ("NEGATE", "CASE_SENSITIVE", "PATH_TRIM")


# ---------------------------------------------------------------- operators


@dataclass(frozen=True)
class Operator:
    """One operator of a targeting leaf.

    `kinds`: the attribute kinds (rules.ATTRS) it applies to; `phrase`: how describe reads it ("is at least");
    `negates`: the positive operator it is the opposite of (true on a missing value), or None; `opcode`: the
    widget's operator for its positive form (OP_*); `path_trim`: a whole-path comparison where a trailing slash
    never matters; `takes_value`: False for the operators that take no value.
    """

    kinds: tuple[str, ...]
    phrase: str
    opcode: int
    negates: str | None = None
    path_trim: bool = False
    takes_value: bool = True


_TEXT = ("str", "paths", "dyn")
_NUMBER = ("num", "count", "dyn")
_ANY = ("str", "paths", "num", "count", "bool", "list", "dyn")
_EQUAL = ("str", "paths", "num", "count", "bool", "dyn")
_IN = ("str", "paths", "num", "count", "dyn")

# Positive operators first, then the negated ones: the order validation lists them in (a kind's operators list each
# positive one followed by its negation).
OPERATORS: dict[str, Operator] = {
    "equals": Operator(_EQUAL, "is", OP_EQ, path_trim=True),
    "contains": Operator(_TEXT, "contains", OP_CONTAINS),
    "starts_with": Operator(_TEXT, "starts with", OP_STARTS),
    "ends_with": Operator(_TEXT, "ends with", OP_ENDS),
    "regex": Operator(_TEXT, "matches", OP_REGEX),
    "in": Operator(_IN, "is one of", OP_EQ, path_trim=True),
    "gt": Operator(_NUMBER, "is more than", OP_ABOVE),
    "gte": Operator(_NUMBER, "is at least", OP_RANGE),
    "lt": Operator(_NUMBER, "is less than", OP_ABOVE),
    "lte": Operator(_NUMBER, "is at most", OP_RANGE),
    "between": Operator(_NUMBER, "is between", OP_RANGE),
    "includes": Operator(("list", "dyn"), "includes", OP_INCLUDES),
    "is_true": Operator(("count", "bool", "dyn"), "is true", OP_TRUTH, takes_value=False),
    "is_false": Operator(("count", "bool", "dyn"), "is false", OP_TRUTH, takes_value=False),
    "exists": Operator(_ANY, "is set", OP_EXISTS, takes_value=False),
    "not_equals": Operator(_EQUAL, "is not", OP_EQ, negates="equals"),
    "not_contains": Operator(_TEXT, "does not contain", OP_CONTAINS, negates="contains"),
    "not_regex": Operator(_TEXT, "does not match", OP_REGEX, negates="regex"),
    "not_in": Operator(_IN, "is not one of", OP_EQ, negates="in"),
    "not_exists": Operator(_ANY, "is not set", OP_EXISTS, negates="exists", takes_value=False),
}
# negated -> positive (a negated operator is the opposite of its positive one on a present value, true on a missing one)
NEGATED = {name: op.negates for name, op in OPERATORS.items() if op.negates}
KINDS = ("str", "num", "count", "bool", "list", "paths", "dyn")


def _for_kind(kind: str) -> tuple[str, ...]:
    names: list[str] = []
    for name, op in OPERATORS.items():
        if op.negates is None and kind in op.kinds:
            names.append(name)
            names += [neg for neg, positive in NEGATED.items() if positive == name and kind in OPERATORS[neg].kinds]
    return tuple(names)


OPS_BY_KIND: dict[str, tuple[str, ...]] = {kind: _for_kind(kind) for kind in KINDS}
NO_VALUE_OPS = frozenset(name for name, op in OPERATORS.items() if not op.takes_value)


def _named(*names: str) -> tuple[str, ...]:
    """Operator names that other modules single out, checked against the table when this module loads."""
    unknown = [name for name in names if name not in OPERATORS]
    if unknown:
        raise ValueError(f"not operators: {unknown}")
    return names


# The operators a module treats by their meaning rather than by a field of the table (all checked names).
EQUALS, IN, INCLUDES, BETWEEN = _named("equals", "in", "includes", "between")
EXISTS, NOT_EXISTS = _named("exists", "not_exists")
CONTAINS, STARTS_WITH, ENDS_WITH = _named("contains", "starts_with", "ends_with")
REGEX, NOT_REGEX = _named("regex", "not_regex")
GT, GTE, LT, LTE, IS_TRUE, IS_FALSE = _named("gt", "gte", "lt", "lte", "is_true", "is_false")
NOT_EQUALS, NOT_CONTAINS, NOT_IN = _named("not_equals", "not_contains", "not_in")
COMPARISONS = (GT, GTE, LT, LTE)
SUBSTRING_OPS = (CONTAINS, STARTS_WITH, ENDS_WITH)
# A URL goal is matched with one of these (on the page's full URL, as a `url` leaf).
GOAL_URL_OPS = (EQUALS, CONTAINS, STARTS_WITH, ENDS_WITH, REGEX)


# ---------------------------------------------------------------- triggers

SECONDS = "s"  # a duration in seconds in the rule JSON; the widget receives it in ms
PIXELS = "px"
PERCENT = "%"
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class Param:
    """One parameter of a trigger: `kind` is int, num, bool, str or a tuple of choices; `low`/`high` bound a number
    or a string's length; `required` parameters have no default (`default` is then None)."""

    name: str
    kind: Any
    default: Any = None
    low: float | None = None
    high: float | None = None
    required: bool = False
    unit: str = ""


@dataclass(frozen=True)
class Trigger:
    """A trigger: its parameters in the order the widget receives them, and how describe reads it.

    `phrase` is formatted with the parameters (durations in words); `phrase_when` holds (parameter, value, phrase)
    alternatives tried first ("on page load" when the delay is 0).
    """

    params: tuple[Param, ...]
    phrase: str
    phrase_when: tuple[tuple[str, Any, str], ...] = ()


_MIN_TIME = Param("min_time", "num", 0, 0, 3600, unit=SECONDS)

TRIGGERS: dict[str, Trigger] = {
    "page_load": Trigger(
        (Param("delay", "num", 0, 0, 3600, unit=SECONDS),),
        "{delay} after the page loads",
        (("delay", 0, "on page load"),),
    ),
    "exit_intent": Trigger(
        (
            Param("sensitivity", "int", 20, 0, 1000, unit=PIXELS),
            _MIN_TIME,
            Param("delay", "num", 0, 0, 10, unit=SECONDS),
        ),
        "on exit intent",
    ),
    "mobile_exit": Trigger(
        (
            Param("scroll_up", "bool", True),
            Param("tab_hidden", "bool", True),
            Param("back_button", "bool", False),
            _MIN_TIME,
        ),
        "when a phone visitor is about to leave",
    ),
    "scroll": Trigger((Param("percent", "int", 50, 1, 100, unit=PERCENT),), "after scrolling {percent}% of the page"),
    "time_on_page": Trigger(
        (Param("seconds", "num", None, 1, DAY_SECONDS, required=True, unit=SECONDS),), "after {seconds} on the page"
    ),
    "time_on_site": Trigger(
        (Param("seconds", "num", None, 1, DAY_SECONDS, required=True, unit=SECONDS),), "after {seconds} on the site"
    ),
    "inactivity": Trigger(
        (Param("seconds", "num", 30, 1, DAY_SECONDS, unit=SECONDS),), "after {seconds} of inactivity"
    ),
    "click": Trigger((Param("selector", "str", None, 1, 500, required=True),), "on a click on {selector}"),
    "pageviews": Trigger((Param("count", "int", 1, 1, 1000),), "from page view {count} of a visit"),
    "cart_abandonment": Trigger(
        (
            Param("via", ("exit_intent", "inactivity"), "exit_intent"),
            Param("seconds", "num", 30, 1, DAY_SECONDS, unit=SECONDS),
        ),
        "when a visitor with a cart is idle for {seconds}",
        (("via", "exit_intent", "when a visitor with a cart is about to leave"),),
    ),
    "js": Trigger(
        (Param("name", "str", None, 1, 100, required=True),), "when the page calls retarget('trigger', '{name}')"
    ),
    "event": Trigger((Param("name", "str", None, 1, 100, required=True),), "after the event {name}"),
}
# No trigger at all means this one.
DEFAULT_TRIGGER = "page_load"


def param_value(param: Param, given: object) -> Any:
    """A parameter's value as the compiler and the descriptions read it: the given value when it has the right type,
    else the default (None for a required parameter). Bounds are validation's to enforce."""
    if param.kind == "bool":
        return bool(given) if given is not None else param.default
    if isinstance(param.kind, tuple):
        return given if given in param.kind else param.default
    if param.kind == "str":
        return given if isinstance(given, str) else param.default
    return given if is_number(given) else param.default


# ---------------------------------------------------------------- frequency and goals

# A goal's attribution window in days: the bounds validation enforces and the tally applies
# (campaigns/tally/attribution.py), and the default of a goal that names none.
ATTRIBUTION_DAYS_MIN, ATTRIBUTION_DAYS_MAX = 1, 90
ATTRIBUTION_DAYS_DEFAULT = 7
MAX_IMPRESSIONS_MIN, MAX_IMPRESSIONS_MAX = 1, 1000
# schedule.hours: [from, to) in whole hours of the site's time zone; to = 24 is the end of the day.
HOUR_FROM_MAX, HOUR_TO_MAX = 23, 24


# ---------------------------------------------------------------- audiences

# The journey stages in their order (the PageGroup model's choices are these; the `stages` attribute's values).
STAGES = ("awareness", "consideration", "decision", "retention", "advocacy")
# An NPS answer's band (the `nps` attribute's values): 0-6, 7-8, 9-10, as the NPS renderer and the reports count it.
NPS_BANDS = ("detractor", "passive", "promoter")
