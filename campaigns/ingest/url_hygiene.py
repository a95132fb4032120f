"""Which part of a page URL is stored: the query parameters a site keeps, never the fragment.

A query string can carry an e-mail address, a password-reset token or a session id; the raw events table keeps
URLs for the whole retention period, so only parameters a site names are kept (the UTM ones by default). The
widget still reads the full URL in the browser for targeting: nothing of it leaves the page but what is kept.
Plain strings in and out: no ORM, no request.
"""

from __future__ import annotations

import re

from campaigns.rules import percent_decode

DEFAULT_KEPT_PARAMS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
MAX_KEPT_PARAMS = 50
MAX_PARAM_NAME = 100
_PARAM_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]]+")

NOT_A_LIST = "must be a list of query parameter names"
TOO_MANY_PARAMS = f"at most {MAX_KEPT_PARAMS} parameter names"
BAD_PARAM_NAME = "{name!r} is not a query parameter name (letters, digits, _ . - [ ]; at most 100 characters)"


def kept_params_default() -> list[str]:
    return list(DEFAULT_KEPT_PARAMS)


def kept_params_errors(value: object) -> list[str]:
    """Messages for a site's list of kept parameter names; empty when valid."""
    if not isinstance(value, list):
        return [NOT_A_LIST]
    if len(value) > MAX_KEPT_PARAMS:
        return [TOO_MANY_PARAMS]
    return [
        BAD_PARAM_NAME.format(name=name)
        for name in value
        if not isinstance(name, str) or len(name) > MAX_PARAM_NAME or not _PARAM_NAME.fullmatch(name)
    ]


def param_name(pair: str) -> str:
    """The decoded name of one `name=value` pair, as the rule language reads it."""
    return percent_decode(pair.partition("=")[0].replace("+", " "))


def url_clean(url: str, *, kept: frozenset[str]) -> str:
    """`url` without its fragment and with only the query pairs whose name is in `kept`, in their order and
    encoding; the '?' goes when nothing is kept. On the collect path for every event: a URL without '?' or '#'
    is returned as it is."""
    if "?" not in url and "#" not in url:
        return url
    url = url.partition("#")[0]
    base, _, query = url.partition("?")
    if not query:
        return base
    pairs = [pair for pair in query.split("&") if pair and param_name(pair) in kept]
    return f"{base}?{'&'.join(pairs)}" if pairs else base


def url_param_names(url: str) -> list[str]:
    """The decoded names of the query parameters of `url` (or of a bare query), in order."""
    query = url.partition("#")[0].partition("?")[2]
    return [param_name(pair) for pair in query.split("&") if pair]
