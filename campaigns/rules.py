"""The rule language: targeting trees, schedules, frequency, site cap and consent.

Pure functions over plain data (the site config and a visitor context, docs/contracts.md):
no ORM, no request, no Django. widget/src/core/rules.js implements the same semantics, and both
must pass tests/conformance/rules.json. The language is documented in docs/rules.md.

Shape (as django-oscar's offers): one evaluator per operator in ``OPS``, one resolver per
attribute in ``ATTRS``/``PREFIXED``, one entry per condition of decide() in ``CHECKS`` (its
reason, its sentence, and the condition both as decide() tests it and as the widget runs it),
and one place, ``first_failed()``, that walks them in order; ``decide()`` gathers the campaigns,
sorts them by priority and applies them. Operator names and opcodes come from the registry,
campaigns/targeting/vocabulary.py (plain data, it imports nothing of ours).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict
from urllib.parse import unquote_to_bytes
from zoneinfo import ZoneInfo, available_timezones

import msgspec

from campaigns.assignment import assign, is_number
from campaigns.targeting import vocabulary as vocab
from campaigns.targeting.vocabulary import (
    BETWEEN,
    CONTAINS,
    ENDS_WITH,
    EQUALS,
    EXISTS,
    GT,
    GTE,
    IN,
    INCLUDES,
    IS_FALSE,
    IS_TRUE,
    LT,
    LTE,
    NEGATED,
    NOT_EXISTS,
    REGEX,
    STARTS_WITH,
)

# A campaign of one of these types is an overlay (one at a time, counted by the site cap)
# while its variant's content.position is missing or "center"; any other position puts it in
# a corner (slide-in) or a bar (top/bottom), as the widget renders it.
OVERLAY_TYPES = frozenset({"popup", "fullscreen", "nps", "feedback", "lead", "cart_recovery"})
OVERLAY_POSITIONS = (None, "center")

# Only the regular-expression subset that behaves the same in Python `re` and JS `RegExp`
# (without flags other than `i`). After removing the harmless escapes, anything left that
# matches REGEX_DENIED is refused: any other escape (\A, \Z, \p, \k, back-references ...),
# `(?` other than `(?:`, `(?=`, `(?!` (lookbehind, named groups, inline flags, atomic groups),
# possessive quantifiers, `{,n}`, and the empty classes `[]` / `[^]`.
REGEX_HARMLESS_ESCAPE = r"\\(?:[^A-Za-z0-9]|[dDwWsSbBnrtfv]|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4})"
REGEX_DENIED = r"\\|\(\?(?![:=!])|[*+?}]\+|\{,|\[\^?\]"
REGEX_MAX_LENGTH = 500

_HARMLESS = re.compile(REGEX_HARMLESS_ESCAPE)
_DENIED = re.compile(REGEX_DENIED)
_NUMERIC = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")  # fullmatch
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://([^/]*)")
_PORT = re.compile(r":[0-9]*\Z")
_ISO = re.compile(  # fullmatch; [0-9], not \d, which takes any Unicode digit in Python
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?(?:Z|([+-])([0-9]{2}):([0-9]{2}))"
)
_DAY_MS = 86_400_000
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()

INVALID_RULE_TEXT = "invalid rule"
ANY_FAILED_TEXT = "none of the {count} alternatives matched"
NOT_FAILED_TEXT = "the excluded condition matched"
LEAF_FAILED_TEXT = "{attr} {op} {value} did not match ({attr} is {actual})"

Rule = dict[str, Any]
Context = dict[str, Any]

# The attribute that names audiences: `{"attr": "audiences", "op": "includes", "value": [<audience id>]}`.
AUDIENCE = "audiences"


# ---------------------------------------------------------------- value helpers


def as_text(x: object) -> str:
    """The string form of a scalar, the same as the widget's (String(x))."""
    if type(x) is str:
        return x
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e21:
        return str(int(x))
    return str(x)


def _num(x: object) -> float | None:
    if is_number(x):
        return x  # type: ignore[return-value]
    if isinstance(x, str) and _NUMERIC.fullmatch(x):
        return float(x)
    return None


def _truthy(x: object) -> bool | None:
    if isinstance(x, bool):
        return x
    if is_number(x):
        return x != 0
    if isinstance(x, str):
        low = x.lower()
        if low in ("true", "1", "yes", "on"):
            return True
        if low in ("false", "0", "no", "off", ""):
            return False
    return None


def percent_decode(s: str) -> str:
    """Decode %XX as UTF-8; a malformed escape or invalid UTF-8 leaves the raw string."""
    if "%" not in s or _BAD_PERCENT.search(s):
        return s
    try:
        return unquote_to_bytes(s).decode("utf-8")
    except UnicodeDecodeError:
        return s


def compile_regex(pattern: object, case_sensitive: bool = False) -> re.Pattern[str] | None:
    """The compiled pattern, or None when it is invalid or outside the portable subset."""
    if not isinstance(pattern, str) or len(pattern) > REGEX_MAX_LENGTH:
        return None
    return _compile_regex(pattern, case_sensitive)


def regex_problem(pattern: str) -> str | None:
    """Why a pattern is refused (outside the portable subset, or invalid), or None."""
    if _DENIED.search(_HARMLESS.sub("e", pattern)):
        return "unsupported"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as error:
        return str(error)
    return None


@functools.lru_cache(maxsize=1024)
def _compile_regex(pattern: str, case_sensitive: bool) -> re.Pattern[str] | None:
    if _DENIED.search(_HARMLESS.sub("e", pattern)):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # re.ASCII keeps \w \d \b and case folding of an ASCII pattern as narrow as JS's (no `u` flag);
            # a pattern with non-ASCII letters needs Unicode case folding, as JS's `i` does for them.
            flags = (0 if case_sensitive else re.IGNORECASE) | (re.ASCII if pattern.isascii() else 0)
            return re.compile(pattern, flags)
    except (re.error, OverflowError, RecursionError):
        return None


def parse_time(value: object) -> int | None:
    """Epoch ms from epoch ms or an ISO 8601 string with Z or an offset; None if unreadable."""
    if is_number(value):
        return int(value)  # type: ignore[call-overload]
    return _parse_iso(value) if isinstance(value, str) else None


@functools.lru_cache(maxsize=256)
def _parse_iso(value: str) -> int | None:
    m = _ISO.fullmatch(value)
    if not m:
        return None
    y, mo, d, h, mi = (int(m.group(i)) for i in range(1, 6))
    s = int(m.group(6) or 0)
    if not (1970 <= y and 1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and s < 60):
        return None
    ms = int((m.group(7) or "0")[:3].ljust(3, "0"))
    off = (int(m.group(9)) * 60 + int(m.group(10))) * (-1 if m.group(8) == "-" else 1) if m.group(8) else 0
    days = dt.date(y, mo, 1).toordinal() - _EPOCH_ORDINAL + d - 1
    return ((days * 24 + h) * 60 + mi - off) * 60_000 + s * 1000 + ms


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())  # reads the zone database from disk: once per process


def zone_known(tz: object) -> bool:
    """Whether `tz` names a zone of the IANA database: what validation lets a site choose, and what zone() reads."""
    return isinstance(tz, str) and tz in _zone_names()


@functools.lru_cache(maxsize=64)
def zone(tz: str) -> dt.tzinfo:
    """The one "time zone by name": a site's zone, which the widget's schedule, both folds of the tally and the
    reports count days in; UTC for any name zone_known() refuses."""
    if not zone_known(tz):
        return dt.UTC
    try:
        return ZoneInfo(tz)
    except (ValueError, KeyError, OSError):  # listed, yet unreadable (a damaged zone file)
        return dt.UTC


def local_weekday_hour(*, now: int, tz: str) -> tuple[int, int]:
    """(weekday 0 = Monday, hour) at epoch ms `now` in time zone `tz` (UTC if unknown)."""
    local = dt.datetime.fromtimestamp(now / 1000, zone(tz or "UTC"))
    return local.weekday(), local.hour


def _split_url(url: str) -> tuple[str, str, str]:
    """(host, path, query) of a URL or of a bare path, without decoding."""
    url = url.split("#", 1)[0]
    url, _, query = url.partition("?")
    m = _SCHEME.match(url)
    if m:
        host = _PORT.sub("", m.group(1).rsplit("@", 1)[-1]).lower()
        path = url[m.end() :]
    else:
        host, path = "", url
    return host, path or "/", query


def _parse_query(query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in query.split("&"):
        if pair:
            k, _, v = pair.partition("=")
            k = percent_decode(k.replace("+", " "))
            if k not in params:  # the first occurrence wins
                params[k] = percent_decode(v.replace("+", " "))
    return params


# ---------------------------------------------------------------- the visitor context

# The context's shape (docs/contracts.md), for a context that comes from outside the widget (the decide endpoint,
# the admin's preview): every field optional, null the same as missing, other fields ignored (the widget sends its
# stored state as it is). The evaluator below reads only contexts of this shape.
ERROR_CONTEXT_SHAPE = "context has a field of the wrong type"
# The latest time the time zone functions read whatever the zone (a few days before year 9999 ends).
MAX_TIME_MS = 253_400_000_000_000
_Number = Annotated[float, msgspec.Meta(ge=-1e300, le=1e300)]  # a JSON number: not a boolean, NaN or infinite
_Time = Annotated[float, msgspec.Meta(ge=0, le=MAX_TIME_MS)]


class _Utm(TypedDict, total=False):
    source: str | None
    medium: str | None
    campaign: str | None


class _Touch(TypedDict, total=False):
    referrer: str | None
    utm: _Utm | None


class _CartItem(TypedDict, total=False):
    id: str | _Number | None
    qty: _Number | None
    price: _Number | None


class _Cart(TypedDict, total=False):
    value: _Number | None
    items: list[_CartItem] | None


class _History(TypedDict, total=False):
    impressions: list[_Number] | None
    closes: list[_Number] | None
    conversions: list[_Number] | None
    sessions: list[str] | None


class _Visitor(TypedDict, total=False):
    id: str | None
    first_seen: _Number | None
    sessions: _Number | None
    session_id: str | None
    session_start: _Number | None
    pageviews_session: _Number | None
    pageviews_total: _Number | None
    visited: list[str] | None
    first_touch: _Touch | None
    utm: _Utm | None
    attrs: dict[str, Any] | None
    cart: _Cart | None
    history: dict[str, _History] | None
    overlays: list[_Number] | None
    overlays_session: _Number | None
    events: list[str] | None
    groups: dict[str, _Number] | None
    stages: list[str] | None
    nps: str | None


class _Context(TypedDict, total=False):
    now: _Time | None
    url: str | None
    referrer: str | None
    device: str | None
    language: str | None
    consent: str | None
    cookies: dict[str, str] | None
    visitor: _Visitor | None


def context_problem(*, context: object) -> str | None:
    """Where a visitor context from outside differs from the contract's shape (as "Expected `array`, got `str` - at
    `$.visitor.overlays`"), or None when decide() can read it."""
    try:
        msgspec.convert(context, _Context)
    except msgspec.ValidationError as error:
        return str(error)
    return None


class _Ctx:
    """A visitor context with its derived values computed once per evaluation."""

    __slots__ = ("raw", "visitor", "tz", "now", "audiences", "_cache")

    def __init__(self, context: Context, tz: str = "UTC", audiences: object = None) -> None:
        self.raw = context
        self.audiences = audiences if isinstance(audiences, list) else []
        self.visitor = context.get("visitor") or {}
        self.tz = tz or "UTC"
        now = context.get("now")
        self.now = now if is_number(now) else int(time.time() * 1000)
        self._cache: dict[str, Any] = {}

    def get(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def url(self) -> tuple[str, str, str]:
        return self.get("@url", lambda: _split_url(as_text(self.raw.get("url") or "")))

    def query(self) -> dict[str, str]:
        return self.get("@query", lambda: _parse_query(self.url()[2]))

    def when(self) -> tuple[int, int]:
        return self.get("@when", lambda: local_weekday_hour(now=self.now, tz=self.tz))


def _nonempty(x: object) -> object:
    """Referrers and UTM values: an empty string is the same as no value."""
    return None if x is None or x == "" else x


def _referrer(c: _Ctx) -> object:
    return _nonempty(c.raw.get("referrer"))


def _utm(c: _Ctx, name: str) -> object:
    value = (c.visitor.get("utm") or {}).get(name)
    return _nonempty(value if value is not None else c.query().get("utm_" + name))


def _first(c: _Ctx, name: str) -> object:
    touch = c.visitor.get("first_touch") or {}
    if name == "referrer":
        return _nonempty(touch.get("referrer"))
    if name.startswith("utm."):
        return _nonempty((touch.get("utm") or {}).get(name[4:]))
    return None


def _cart(c: _Ctx) -> dict[str, Any]:
    return c.visitor.get("cart") or {}


def _cart_count(c: _Ctx) -> float:
    total = 0
    for item in _cart(c).get("items") or []:
        qty = item.get("qty", 1) if isinstance(item, dict) else 0
        total += qty if is_number(qty) else 0
    return total


# campaign.<id>.<what>: the visitor's history list it counts.
_HISTORY = {"seen": "impressions", "closed": "closes", "converted": "conversions"}


def _campaign(c: _Ctx, rest: str) -> object:
    cid, _, what = rest.partition(".")
    key = _HISTORY.get(what)
    if key is None:
        return None
    return len(((c.visitor.get("history") or {}).get(cid) or {}).get(key) or [])


def _campaign_history(rest: str) -> list[str]:
    """campaign.<id>.<seen|closed|converted>: the path of that list in the visitor context."""
    cid, _, what = rest.partition(".")
    return ["visitor", "history", cid, _HISTORY[what]]


def _visitor_num(name: str) -> Callable[[_Ctx], object]:
    return lambda c: c.visitor.get(name) if is_number(c.visitor.get(name)) else 0


def _days_since_first(c: _Ctx) -> object:
    first = c.visitor.get("first_seen")
    return math.floor((c.now - first) / _DAY_MS) if is_number(first) else None


def _visitor_at(name: str) -> tuple[int, list[str]]:
    return vocab.R_NUMBER_AT, ["visitor", name]


def _group_views(c: _Ctx, group: str) -> object:
    groups = c.visitor.get("groups")
    views = groups.get(group) if isinstance(groups, dict) else None
    return views if is_number(views) else 0


def _audiences(c: _Ctx) -> object:
    """The ids of the site's audiences (config site.audiences) whose rule the visitor matches, None for none.

    An audience's rule is evaluated without the audiences: one naming another never matches through it.
    """
    inner = _Ctx(c.raw, c.tz)
    inner.now = c.now
    found = [
        a.get("id") for a in c.audiences if isinstance(a, dict) and _matches(a.get("rule"), inner)
    ]
    return found or None


# Attribute name -> (kind, resolver, compiled resolver). Kinds: str, num, bool, list, paths, dyn (see docs/rules.md);
# the compiled resolver is (opcode, argument): what widget/src/core/rules.js's RESOLVE runs for it.
ATTRS: dict[str, tuple[str, Callable[[_Ctx], Any], tuple[int, Any]]] = {
    "url": ("str", lambda c: percent_decode(as_text(c.raw.get("url") or "")), (vocab.R_URL, 0)),
    "path": ("str", lambda c: percent_decode(c.url()[1]), (vocab.R_PATH, 0)),
    "host": ("str", lambda c: c.url()[0] or None, (vocab.R_HOST, 0)),
    "referrer": ("str", _referrer, (vocab.R_AT_NONEMPTY, ["referrer"])),
    "referrer_host": (
        "str",
        lambda c: _nonempty(_split_url(as_text(_referrer(c)))[0]) if _referrer(c) else None,
        (vocab.R_HOST, 1),
    ),
    "device": ("str", lambda c: c.raw.get("device"), (vocab.R_AT, ["device"])),
    "language": ("str", lambda c: c.raw.get("language"), (vocab.R_AT, ["language"])),
    "consent": ("str", lambda c: c.raw.get("consent"), (vocab.R_AT, ["consent"])),
    "returning": ("bool", lambda c: _visitor_num("sessions")(c) > 1, (vocab.R_RETURNING, 0)),
    "sessions": ("num", _visitor_num("sessions"), _visitor_at("sessions")),
    "pageviews_session": ("num", _visitor_num("pageviews_session"), _visitor_at("pageviews_session")),
    "pageviews_total": ("num", _visitor_num("pageviews_total"), _visitor_at("pageviews_total")),
    "visited": ("paths", lambda c: c.visitor.get("visited") or [], (vocab.R_AT, ["visitor", "visited"])),
    "days_since_first_visit": ("num", _days_since_first, (vocab.R_DAYS, 0)),
    "cart.value": (
        "num",
        lambda c: _cart(c).get("value") if is_number(_cart(c).get("value")) else 0,
        (vocab.R_NUMBER_AT, ["visitor", "cart", "value"]),
    ),
    "cart.count": ("num", _cart_count, (vocab.R_CART_COUNT, 0)),
    "cart.products": (
        "list",
        lambda c: [i["id"] for i in _cart(c).get("items") or [] if isinstance(i, dict) and i.get("id") is not None]
        or None,
        (vocab.R_CART_PRODUCTS, 0),
    ),
    "weekday": ("num", lambda c: c.when()[0], (vocab.R_WHEN, 0)),
    "hour": ("num", lambda c: c.when()[1], (vocab.R_WHEN, 1)),
    # The journey stages the visitor has reached (the widget adds a page's group's stage, src/lazy/audiences.js).
    "stages": ("list", lambda c: c.visitor.get("stages"), (vocab.R_AT, ["visitor", "stages"])),
    # The band of the visitor's latest NPS answer: detractor, passive or promoter.
    "nps": ("str", lambda c: c.visitor.get("nps"), (vocab.R_AT, ["visitor", "nps"])),
    # The site's audiences the visitor is in; the compiler puts the audiences' rules in place of this leaf, so the
    # widget has no resolver for it (targeting/compile.py).
    AUDIENCE: ("list", _audiences, (vocab.R_AT, ["visitor", AUDIENCE])),
}
# Prefixed attributes: prefix -> (kind, resolver(ctx, rest of the name), compiled resolver(rest of the name)).
PREFIXED: dict[str, tuple[str, Callable[[_Ctx, str], Any], Callable[[str], tuple[int, Any]]]] = {
    "query.": ("dyn", lambda c, n: c.query().get(n), lambda n: (vocab.R_QUERY, n)),
    "utm.": ("str", _utm, lambda n: (vocab.R_UTM, n)),
    "first.": ("str", _first, lambda n: (vocab.R_AT_NONEMPTY, ["visitor", "first_touch", *n.split(".")])),
    "attrs.": (
        "dyn",
        lambda c, n: (c.visitor.get("attrs") or {}).get(n),
        lambda n: (vocab.R_AT, ["visitor", "attrs", n]),
    ),
    "cookie.": ("dyn", lambda c, n: (c.raw.get("cookies") or {}).get(n), lambda n: (vocab.R_AT, ["cookies", n])),
    "campaign.": ("count", _campaign, lambda n: (vocab.R_COUNT, _campaign_history(n))),
    # views.<page group name>: the visitor's page views in that group (src/lazy/audiences.js counts them).
    "views.": ("num", _group_views, lambda n: (vocab.R_NUMBER_AT, ["visitor", "groups", n])),
}
UTM_FIELDS = ("source", "medium", "campaign")


def attribute_kind(attr: object) -> str | None:
    """The kind of a known attribute name, None for an unknown one."""
    return _attribute_kind(attr) if isinstance(attr, str) else None


@functools.lru_cache(maxsize=1024)
def _attribute_kind(attr: str) -> str | None:
    if attr in ATTRS:
        return ATTRS[attr][0]
    for prefix, (kind, _, _) in PREFIXED.items():
        if attr.startswith(prefix) and len(attr) > len(prefix):
            rest = attr[len(prefix) :]
            if prefix == "utm." and rest not in UTM_FIELDS:
                return None
            if prefix == "first." and rest not in ("referrer", *(f"utm.{f}" for f in UTM_FIELDS)):
                return None
            if prefix == "campaign." and not re.fullmatch(r"[^.]+\.(seen|closed|converted)", rest):
                return None
            return kind
    return None


def attribute_resolver(attr: str) -> tuple[int, Any]:
    """(opcode, argument) of the widget's resolver for a known attribute (attribute_kind() is not None)."""
    if attr in ATTRS:
        return ATTRS[attr][2]
    for prefix, (_, _, compiled) in PREFIXED.items():
        if attr.startswith(prefix):
            return compiled(attr[len(prefix) :])
    raise KeyError(attr)


def _resolve(attr: str, c: _Ctx) -> Any:
    if attr in ATTRS:
        return c.get(attr, lambda: ATTRS[attr][1](c))
    for prefix, (_, fn, _) in PREFIXED.items():
        if attr.startswith(prefix):
            rest = attr[len(prefix) :]
            return c.get(attr, functools.partial(fn, c, rest))
    return None


# ---------------------------------------------------------------- operators


class _Opts:
    """What an operator needs besides the two values."""

    __slots__ = ("cs", "path")

    def __init__(self, cs: bool, path: bool) -> None:
        self.cs = cs
        self.path = path


_OPTS = {(cs, path): _Opts(cs, path) for cs in (False, True) for path in (False, True)}


def _norm(x: object, o: _Opts) -> str:
    s = as_text(x)
    if o.path:  # a trailing slash never matters when comparing a whole path
        s = s.rstrip("/") or "/"
    return s if o.cs else s.lower()


def _text(x: object, o: _Opts) -> str:
    s = as_text(x)
    return s if o.cs else s.lower()


def _equals(a: object, v: object, o: _Opts) -> bool:
    if is_number(a) and is_number(v):
        return a == v
    if v is None or isinstance(v, list | dict) or isinstance(a, list | dict):
        return False
    return _norm(a, o) == _norm(v, o)


def _substr(test: Callable[[str, str], bool]) -> Callable[[object, object, _Opts], bool]:
    def op(a: object, v: object, o: _Opts) -> bool:
        if not (isinstance(v, str) or is_number(v)) or isinstance(a, list | dict):
            return False
        return test(_text(a, o), _text(v, o))

    return op


def _regex(a: object, v: object, o: _Opts) -> bool:
    rx = compile_regex(v, o.cs)
    return rx is not None and not isinstance(a, list | dict) and rx.search(as_text(a)) is not None


def _in(a: object, v: object, o: _Opts) -> bool:
    return isinstance(v, list) and any(_equals(a, x, o) for x in v)


def _compare(test: Callable[[float, float], bool]) -> Callable[[object, object, _Opts], bool]:
    def op(a: object, v: object, o: _Opts) -> bool:
        n = _num(a)
        return n is not None and is_number(v) and test(n, v)  # type: ignore[arg-type]

    return op


def _between(a: object, v: object, o: _Opts) -> bool:
    n = _num(a)
    return (
        n is not None
        and isinstance(v, list)
        and len(v) == 2
        and is_number(v[0])
        and is_number(v[1])
        and v[0] <= n <= v[1]
    )


def _includes(a: object, v: object, o: _Opts) -> bool:
    if not isinstance(a, list):
        return False
    wanted = v if isinstance(v, list) else [v]
    return any(_equals(item, w, o) for item in a for w in wanted)


# One evaluator per positive operator (targeting/vocabulary.py OPERATORS), over a present value `a`, the rule's
# value `v` and options; tests/campaigns/targeting/test_vocabulary.py holds its keys equal to the table's.
OPS: dict[str, Callable[[Any, Any, _Opts], bool]] = {
    EQUALS: _equals,
    CONTAINS: _substr(lambda a, v: v in a),
    STARTS_WITH: _substr(lambda a, v: a.startswith(v)),
    ENDS_WITH: _substr(lambda a, v: a.endswith(v)),
    REGEX: _regex,
    IN: _in,
    GT: _compare(lambda a, v: a > v),
    GTE: _compare(lambda a, v: a >= v),
    LT: _compare(lambda a, v: a < v),
    LTE: _compare(lambda a, v: a <= v),
    BETWEEN: _between,
    INCLUDES: _includes,
    IS_TRUE: lambda a, v, o: _truthy(a) is True,
    IS_FALSE: lambda a, v, o: _truthy(a) is False,
    EXISTS: lambda a, v, o: True,
}
# A negated operator is the opposite of its positive one on a present value, and true on a
# missing one: "not_contains /checkout" holds for a visitor without a referrer (vocabulary.NEGATED).
OPERATORS = tuple(vocab.OPERATORS)
PATH_EQUALITY_OPS = frozenset(name for name, op in vocab.OPERATORS.items() if op.path_trim)
PATH_ATTRS = frozenset({"path", "visited"})


def path_trimmed(*, attr: object, op: object) -> bool:
    """Whether a leaf compares whole paths, where a trailing slash never matters (`path equals /pricing/`)."""
    return attr in PATH_ATTRS and op in PATH_EQUALITY_OPS


def _leaf_matches(rule: Rule, c: _Ctx) -> tuple[bool, Any]:
    """(matched, the attribute's value) for a leaf."""
    attr, op, value = rule.get("attr"), rule.get("op"), rule.get("value")
    kind = attribute_kind(attr)
    if kind is None or op not in OPERATORS:
        return False, None
    positive = NEGATED.get(op, op)
    cs = rule.get("case_sensitive") is True
    if positive == REGEX and compile_regex(value, cs) is None:
        return False, None  # an invalid regex never matches, whatever the operator
    actual = _resolve(attr, c)  # type: ignore[arg-type]
    if op == NOT_EXISTS:
        return _missing(actual), actual
    if _missing(actual):
        return op in NEGATED, actual
    opts = _OPTS[cs, path_trimmed(attr=attr, op=positive)]
    evaluate = OPS[positive]
    if kind == "paths":
        decoded = (percent_decode(p) for p in actual if isinstance(p, str))
        hits = {d.rstrip("/") or "/" for d in decoded if evaluate(d, value, opts)}
        if op in NEGATED:
            return not hits, actual
        need = rule.get("min_count", 1)
        return len(hits) >= (need if is_number(need) else 1), actual
    matched = evaluate(actual, value, opts)
    return (not matched if op in NEGATED else matched), actual


def _missing(x: object) -> bool:
    return x is None or x == []


def _matches(rule: object, c: _Ctx) -> bool:
    if rule is None:
        return True
    if not isinstance(rule, dict):
        return False
    if "all" in rule:
        children = rule["all"]
        return isinstance(children, list) and all(_matches(r, c) for r in children)
    if "any" in rule:
        children = rule["any"]
        return isinstance(children, list) and any(_matches(r, c) for r in children)
    if "not" in rule:
        return isinstance(rule["not"], dict) and not _matches(rule["not"], c)
    return _leaf_matches(rule, c)[0]


def _explain(rule: object, c: _Ctx, path: str) -> dict[str, str] | None:
    if rule is None:
        return None
    if not isinstance(rule, dict):
        return {"path": path, "text": INVALID_RULE_TEXT}
    if "all" in rule:
        if not isinstance(rule["all"], list):
            return {"path": path, "text": INVALID_RULE_TEXT}
        for i, child in enumerate(rule["all"]):
            why = _explain(child, c, f"{path}.all[{i}]")
            if why:
                return why
        return None
    if "any" in rule:
        children = rule["any"]
        if isinstance(children, list) and any(_matches(r, c) for r in children):
            return None
        count = len(children) if isinstance(children, list) else 0
        return {"path": path, "text": ANY_FAILED_TEXT.format(count=count)}
    if "not" in rule:
        if isinstance(rule["not"], dict) and not _matches(rule["not"], c):
            return None
        return {"path": path, "text": NOT_FAILED_TEXT}
    matched, actual = _leaf_matches(rule, c)
    if matched:
        return None
    if attribute_kind(rule.get("attr")) is None or rule.get("op") not in OPERATORS:
        return {"path": path, "text": INVALID_RULE_TEXT}
    return {
        "path": path,
        "text": LEAF_FAILED_TEXT.format(
            attr=rule.get("attr"), op=rule.get("op"), value=_json(rule.get("value")), actual=_json(actual)
        ),
    }


def _json(x: object) -> str:
    return json.dumps(x, ensure_ascii=False, separators=(",", ":"), default=str)


def rule_matches(*, rule: Rule | None, context: Context, tz: str = "UTC") -> bool:
    """Whether a targeting tree matches a visitor context (`tz`: the site's, for weekday/hour).

    Never raises on a malformed rule: an unknown attribute or operator, or an invalid regex,
    makes its leaf false, so a bad rule hides a campaign and never shows it everywhere.
    """
    return _matches(rule, _Ctx(context, tz))


def explain(*, rule: Rule | None, context: Context, tz: str = "UTC", path: str = "targeting") -> dict[str, str] | None:
    """The first rule that excludes the visitor, as {"path": "targeting.all[1]", "text": ...}; None if it matches."""
    return _explain(rule, _Ctx(context, tz), path)


# ---------------------------------------------------------------- decide()'s checks

# A compiled check that every visitor fails (the server settled it: an unreadable date, no variant).
ALWAYS = True
Failed = bool | dict[str, str] | None  # a failed check: True, or {"path", "text"} naming the rule that failed


@dataclass(frozen=True)
class Check:
    """One condition of decide(), in the django-oscar shape: its reason, and the condition in both its forms.

    `fails(campaign, site, ctx)`: whether the visitor fails it (decide()); `compiled(campaign, site, targeting)`:
    the rule the widget runs, matching when the visitor fails, ALWAYS, or None when the check does not apply to
    this campaign (`targeting` is the campaign's compiled targeting). `path` is where the condition is set.
    """

    code: str
    text: str
    path: str
    fails: Callable[[dict[str, Any], dict[str, Any], _Ctx], Failed]
    compiled: Callable[[dict[str, Any], dict[str, Any], Any], Any]


def _leaf(resolver: int, argument: Any, op: int, value: Any, flags: int = 0) -> list:
    """A compiled leaf (docs/contracts.md, "Compiled fields")."""
    return [resolver, argument, op, value, flags]


def _gated(campaign: dict[str, Any], site: dict[str, Any]) -> bool:
    """Whether the site needs consent before this campaign (the consent banner itself never waits for it)."""
    consent = site.get("consent") or {}
    return (
        campaign.get("type") != "consent"
        and consent.get("required") is True
        and consent.get("show_before_consent") is not True
    )


def _date(campaign: dict[str, Any], key: str) -> int | None:
    """A start or end date in epoch ms; None when there is none or it cannot be read."""
    raw = campaign.get(key)
    return None if raw is None else parse_time(raw)


def _unreadable(campaign: dict[str, Any], key: str) -> bool:
    return campaign.get(key) is not None and _date(campaign, key) is None


def _weekdays(campaign: dict[str, Any]) -> list | None:
    weekdays = (campaign.get("schedule") or {}).get("weekdays")
    return weekdays if isinstance(weekdays, list) else None


def _hours(campaign: dict[str, Any]) -> list | None:
    hours = (campaign.get("schedule") or {}).get("hours")
    ok = isinstance(hours, list) and len(hours) == 2 and all(is_number(x) for x in hours) and hours[0] != hours[1]
    return hours if ok else None  # the same from and to hour is all day


def _outside_hours(hours: list, hour: int) -> bool:
    start, end = hours
    return not (start <= hour < end if start < end else hour >= start or hour < end)


def _compiled_hours(hours: list) -> Any:
    start, end = hours
    before = _leaf(vocab.R_WHEN, 1, vocab.OP_ABOVE, [None, start])
    after = _leaf(vocab.R_WHEN, 1, vocab.OP_RANGE, [end, None])
    # outside [start, end); across midnight, outside means in [end, start)
    return {"any": [before, after]} if start < end else {"all": [before, after]}


def _frequency(campaign: dict[str, Any]) -> dict[str, Any]:
    f = campaign.get("frequency")
    return f if isinstance(f, dict) else {}


def _history(campaign: dict[str, Any], c: _Ctx) -> dict[str, Any]:
    return (c.visitor.get("history") or {}).get(as_text(campaign.get("id"))) or {}


def _history_path(campaign: dict[str, Any], kind: str) -> list[str]:
    return ["visitor", "history", as_text(campaign.get("id")), kind]


def cancel_events(frequency: object) -> list[str]:
    """The events of `frequency.cancel_on` (a list of names; anything else cancels nothing)."""
    cancel_on = frequency.get("cancel_on") if isinstance(frequency, dict) else None
    return [e for e in cancel_on if isinstance(e, str)] if isinstance(cancel_on, list) else []


def _stop_after(key: str, kind: str) -> tuple[Callable, Callable]:
    """stop_after_close / stop_after_conversion: the visitor has one of those in this campaign's history."""

    def fails(campaign: dict[str, Any], site: dict[str, Any], c: _Ctx) -> Failed:
        return bool(_frequency(campaign).get(key) and _history(campaign, c).get(kind))

    def compiled(campaign: dict[str, Any], site: dict[str, Any], targeting: Any) -> Any:
        if not _frequency(campaign).get(key):
            return None
        return _leaf(vocab.R_COUNT, _history_path(campaign, kind), vocab.OP_RANGE, [1, None])

    return fails, compiled


def _recent(gap: object, times: object, c: _Ctx) -> bool:
    return is_number(gap) and bool(times) and c.now - max(times) < gap * 1000  # type: ignore[arg-type,operator]


def _has_variant(campaign: dict[str, Any]) -> bool:
    return any(is_number(v.get("weight")) and v.get("weight") > 0 for v in campaign.get("variants") or [])


_CONSENT_ANSWERS = ["granted", "denied"]
_CONVERTED = _stop_after("stop_after_conversion", "conversions")
_CLOSED = _stop_after("stop_after_close", "closes")

# decide()'s checks of one campaign, in the order decide() applies them (the first failure is reported);
# targeting/checks.py compiles the same entries, in the same order, for the widget.
CHECKS: tuple[Check, ...] = (
    Check(
        "consent_decided",
        "The visitor has already answered the consent banner.",
        "consent",
        lambda k, s, c: k.get("type") == "consent" and c.raw.get("consent") in _CONSENT_ANSWERS,
        lambda k, s, t: _leaf(vocab.R_AT, ["consent"], vocab.OP_EQ, _CONSENT_ANSWERS, vocab.CASE_SENSITIVE)
        if k.get("type") == "consent"
        else None,
    ),
    Check(
        "consent_required",
        "The site needs consent first and this visitor has not granted it.",
        "site.consent.required",
        lambda k, s, c: _gated(k, s) and c.raw.get("consent") != "granted",
        lambda k, s, t: _leaf(vocab.R_AT, ["consent"], vocab.OP_EQ, ["granted"], vocab.CASE_SENSITIVE | vocab.NEGATE)
        if _gated(k, s)
        else None,
    ),
    Check(
        "schedule_invalid",
        "The campaign's start or end date cannot be read.",
        "starts_at",
        lambda k, s, c: _unreadable(k, "starts_at"),
        lambda k, s, t: ALWAYS if _unreadable(k, "starts_at") else None,
    ),
    Check(
        "not_started",
        "The campaign has not started yet.",
        "starts_at",
        lambda k, s, c: _date(k, "starts_at") is not None and c.now < _date(k, "starts_at"),  # type: ignore[operator]
        lambda k, s, t: _leaf(vocab.R_NOW, 0, vocab.OP_ABOVE, [None, _date(k, "starts_at")])
        if _date(k, "starts_at") is not None
        else None,
    ),
    Check(
        "schedule_invalid",
        "The campaign's start or end date cannot be read.",
        "ends_at",
        lambda k, s, c: _unreadable(k, "ends_at"),
        # after an unreadable start the widget never reaches the end's checks: they are left out
        lambda k, s, t: ALWAYS if _unreadable(k, "ends_at") and not _unreadable(k, "starts_at") else None,
    ),
    Check(
        "ended",
        "The campaign has ended.",
        "ends_at",
        lambda k, s, c: _date(k, "ends_at") is not None and c.now >= _date(k, "ends_at"),  # type: ignore[operator]
        lambda k, s, t: _leaf(vocab.R_NOW, 0, vocab.OP_RANGE, [_date(k, "ends_at"), None])
        if _date(k, "ends_at") is not None and not _unreadable(k, "starts_at")
        else None,
    ),
    Check(
        "schedule_weekday",
        "The campaign does not run on this weekday (site time zone).",
        "schedule.weekdays",
        lambda k, s, c: _weekdays(k) is not None and c.when()[0] not in _weekdays(k),  # type: ignore[operator]
        lambda k, s, t: _leaf(vocab.R_WHEN, 0, vocab.OP_EQ, [d for d in _weekdays(k) if is_number(d)], vocab.NEGATE)
        if _weekdays(k) is not None
        else None,
    ),
    Check(
        "schedule_hours",
        "The campaign does not run at this hour (site time zone).",
        "schedule.hours",
        lambda k, s, c: _hours(k) is not None and _outside_hours(_hours(k), c.when()[1]),  # type: ignore[arg-type]
        lambda k, s, t: _compiled_hours(_hours(k)) if _hours(k) is not None else None,  # type: ignore[arg-type]
    ),
    Check(
        "targeting",
        "The visitor does not match the targeting.",
        "targeting",
        lambda k, s, c: _explain(k.get("targeting"), c, "targeting"),
        lambda k, s, t: {"not": t} if t is not True else None,
    ),
    Check(
        "cancelled",
        "The visitor did something that cancels the campaign.",
        "frequency.cancel_on",
        lambda k, s, c: any(e in cancel_events(_frequency(k)) for e in c.visitor.get("events") or []),
        lambda k, s, t: _leaf(
            vocab.R_AT, ["visitor", "events"], vocab.OP_INCLUDES, cancel_events(_frequency(k)), vocab.CASE_SENSITIVE
        )
        if cancel_events(_frequency(k))
        else None,
    ),
    Check(
        "converted",
        "The visitor already converted.",
        "frequency.stop_after_conversion",
        *_CONVERTED,
    ),
    Check("closed", "The visitor closed the campaign before.", "frequency.stop_after_close", *_CLOSED),
    Check(
        "max_impressions",
        "The visitor has seen the campaign the maximum number of times.",
        "frequency.max_impressions",
        lambda k, s, c: is_number(_frequency(k).get("max_impressions"))
        and len(_history(k, c).get("impressions") or []) >= _frequency(k)["max_impressions"],
        lambda k, s, t: _leaf(
            vocab.R_COUNT,
            _history_path(k, "impressions"),
            vocab.OP_RANGE,
            [_frequency(k)["max_impressions"], None],
        )
        if is_number(_frequency(k).get("max_impressions"))
        else None,
    ),
    Check(
        "once_per_session",
        "The visitor already saw the campaign in this session.",
        "frequency.once_per_session",
        lambda k, s, c: bool(_frequency(k).get("once_per_session"))
        and c.visitor.get("session_id") is not None
        and c.visitor.get("session_id") in (_history(k, c).get("sessions") or []),
        lambda k, s, t: _leaf(vocab.R_SEEN_IN_SESSION, _history_path(k, "sessions"), vocab.OP_TRUTH, True)
        if _frequency(k).get("once_per_session")
        else None,
    ),
    Check(
        "min_gap",
        "The visitor saw the campaign too recently.",
        "frequency.min_gap_seconds",
        lambda k, s, c: _recent(_frequency(k).get("min_gap_seconds"), _history(k, c).get("impressions"), c),
        lambda k, s, t: _leaf(
            vocab.R_SINCE,
            _history_path(k, "impressions"),
            vocab.OP_ABOVE,
            [None, _frequency(k)["min_gap_seconds"] * 1000],
        )
        if is_number(_frequency(k).get("min_gap_seconds"))
        else None,
    ),
    Check(
        "no_variant",
        "No variant has a positive weight.",
        "variants",
        lambda k, s, c: not _has_variant(k),
        lambda k, s, t: None if _has_variant(k) else ALWAYS,
    ),
)


def _cap(site: dict[str, Any]) -> dict[str, Any]:
    return site.get("cap") or {}


# The site cap's checks, for an overlay that passed CHECKS and bucketing (the same shape; `campaign` unused).
CAP_CHECKS: tuple[Check, ...] = (
    Check(
        "site_cap",
        "The visitor has seen the maximum number of overlays this session.",
        "site.cap.max_overlays_per_session",
        lambda k, s, c: is_number(_cap(s).get("max_overlays_per_session"))
        and is_number(c.visitor.get("overlays_session"))
        and c.visitor["overlays_session"] >= _cap(s)["max_overlays_per_session"],
        lambda k, s, t: _leaf(
            vocab.R_NUMBER_AT,
            ["visitor", "overlays_session"],
            vocab.OP_RANGE,
            [_cap(s)["max_overlays_per_session"], None],
        )
        if is_number(_cap(s).get("max_overlays_per_session"))
        else None,
    ),
    Check(
        "site_gap",
        "The visitor saw another overlay too recently.",
        "site.cap.min_overlay_gap_seconds",
        lambda k, s, c: _recent(_cap(s).get("min_overlay_gap_seconds"), c.visitor.get("overlays"), c),
        lambda k, s, t: _leaf(
            vocab.R_SINCE, ["visitor", "overlays"], vocab.OP_ABOVE, [None, _cap(s)["min_overlay_gap_seconds"] * 1000]
        )
        if is_number(_cap(s).get("min_overlay_gap_seconds"))
        else None,
    ),
)
# Reason codes (stable, asserted by the conformance cases) and their sentences.
REASONS = {check.code: check.text for check in (*CHECKS, *CAP_CHECKS)}


def first_failed(
    *, checks: tuple[Check, ...], campaign: dict[str, Any], site: dict[str, Any], c: _Ctx
) -> tuple[str, str, str | None] | None:
    """(reason, path, detail) of the first check the visitor fails, or None: the one place that walks them."""
    for check in checks:
        failed = check.fails(campaign, site, c)
        if failed:
            if isinstance(failed, dict):
                return check.code, failed["path"], failed["text"]
            return check.code, check.path, None
    return None


def is_overlay(*, campaign_type: object, variant: dict[str, Any] | None) -> bool:
    position = ((variant or {}).get("content") or {}).get("position")
    return campaign_type in OVERLAY_TYPES and position in OVERLAY_POSITIONS


def _reason_text(code: str, detail: str | None) -> str:
    return f"{REASONS[code][:-1]}: {detail}." if detail else REASONS[code]


def priority_key(campaign: dict[str, Any]) -> tuple[float, Any]:
    """decide()'s order: priority descending, then id ascending."""
    priority = campaign.get("priority")
    return (-(priority if is_number(priority) else 0), campaign.get("id") or 0)


def decide(*, config: dict[str, Any], context: Context) -> dict[str, Any]:
    """Which campaigns are armed for this visitor now, in priority order (desc, then id asc).

    Checks (CHECKS, in order; first failure reported): consent, schedule, targeting, frequency, variants; then
    bucketing, then the site cap (CAP_CHECKS, overlays only). A holdout visitor is armed with variant None and
    holdout True (the widget sends `exposure` and shows nothing). "overlay" is the armed overlay that wins when
    several fire at once: the first in priority order (a holdout winner means nothing is shown).
    """
    site = config.get("site") or {}
    c = _Ctx(context, site.get("tz") or "UTC", site.get("audiences"))
    visitor_id = as_text(c.visitor.get("id") or "")
    results: list[dict[str, Any]] = []
    winner = None
    for campaign in sorted(config.get("campaigns") or [], key=priority_key):
        ctype = campaign.get("type")
        variants = campaign.get("variants") or []
        chosen: dict[str, Any] = {"holdout": False, "index": None}
        variant = None
        why = first_failed(checks=CHECKS, campaign=campaign, site=site, c=c)
        if why is None:  # bucketing only for the campaigns that passed every visitor check
            chosen = assign(
                campaign_id=campaign.get("id"),
                visitor_id=visitor_id,
                control_share=campaign.get("control_share") or 0,
                weights=[v.get("weight") for v in variants],
            )
            variant = variants[chosen["index"]] if chosen["index"] is not None else None
        overlay = is_overlay(campaign_type=ctype, variant=variant)
        if why is None and overlay:
            why = first_failed(checks=CAP_CHECKS, campaign=campaign, site=site, c=c)
        armed = why is None
        if armed and overlay and winner is None:
            winner = campaign.get("id")
        results.append(
            {
                "id": campaign.get("id"),
                "armed": armed,
                "reason": None if armed else why[0],  # type: ignore[index]
                "reason_text": None if armed else _reason_text(why[0], why[2]),  # type: ignore[index]
                "path": None if armed else why[1],  # type: ignore[index]
                "variant": variant.get("id") if armed and variant else None,
                "holdout": armed and chosen["holdout"],
                "overlay": overlay,
                "triggers": campaign.get("triggers") or [],
            }
        )
    return {"campaigns": results, "overlay": winner}


def audiences_matched(*, config: dict[str, Any], context: Context) -> list:
    """The ids of the site's audiences (config site.audiences) the visitor is in, in their order: what the widget's
    page view reports (src/lazy/audiences.js) and what an `audiences` leaf reads."""
    site = config.get("site") or {}
    return _audiences(_Ctx(context, site.get("tz") or "UTC", site.get("audiences"))) or []


def goal_url_rule(*, goal: object) -> Rule | None:
    """The leaf a `url` goal is reached by, for the widget and the tally alike: the page's full URL (not only its
    path), with the goal's operator, value and case_sensitive; None when the goal has no `url` object."""
    url = goal.get("url") if isinstance(goal, dict) else None
    if not isinstance(url, dict):
        return None
    return {"attr": "url", "op": url.get("op"), "value": url.get("value"), "case_sensitive": url.get("case_sensitive")}
