"""Variant content: checked against the schema of its message type, marketer HTML sanitized.

Only `body` fields hold HTML. They are cleaned with nh3 (an allow-list), both when a
variant is saved and again when the widget config is built, so nothing unsanitized can
reach a website even if a row was written around the admin and the API.
"""

import re
from typing import Any

import nh3

ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "u", "a", "ul", "ol", "li", "span", "small"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title", "target"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}

POSITIONS = ("center", "top", "bottom", "top_left", "top_right", "bottom_left", "bottom_right")
COLOR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
URL_RE = re.compile(r"^(?:https?://[^\s]+|/[^\s]*)$")

ERROR_NOT_OBJECT = "{path}: must be an object"
ERROR_NOT_TEXT = "{path}: must be text"
ERROR_TOO_LONG = "{path}: must be at most {limit} characters"
ERROR_UNKNOWN_KEY = "{path}: unknown field {key!r}; expected one of {expected}"
ERROR_BAD_URL = "{path}: {value!r} is not an http(s) URL or a path starting with /"
ERROR_BAD_COLOR = "{path}: {value!r} is not a colour like #ffffff"
ERROR_BAD_CHOICE = "{path}: {value!r} is not one of {expected}"
ERROR_NOT_LIST = "{path}: must be a list"
ERROR_NOT_BOOL = "{path}: must be true or false"
ERROR_REQUIRED = "{path}: is required for a {message_type} message"
ERROR_EMPTY_LIST = "{path}: needs at least one item"

TEXT_LIMIT = 500
HTML_LIMIT = 5000


def html_sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def text(self, value: Any, path: str, limit: int = TEXT_LIMIT) -> Any:
        if not isinstance(value, str):
            self.errors.append(ERROR_NOT_TEXT.format(path=path))
        elif len(value) > limit:
            self.errors.append(ERROR_TOO_LONG.format(path=path, limit=limit))
        return value

    def html(self, value: Any, path: str) -> Any:
        self.text(value, path, HTML_LIMIT)
        return html_sanitize(value) if isinstance(value, str) else value

    def url(self, value: Any, path: str) -> Any:
        if not isinstance(value, str) or not URL_RE.match(value):
            self.errors.append(ERROR_BAD_URL.format(path=path, value=value))
        return value

    def boolean(self, value: Any, path: str) -> Any:
        if not isinstance(value, bool):
            self.errors.append(ERROR_NOT_BOOL.format(path=path))
        return value

    def obj(self, value: Any, path: str, fields: dict, message_type: str = "") -> Any:
        """fields: name -> (checker, required)."""
        if not isinstance(value, dict):
            self.errors.append(ERROR_NOT_OBJECT.format(path=path))
            return value
        out = {}
        for key, item in value.items():
            if key not in fields:
                self.errors.append(
                    ERROR_UNKNOWN_KEY.format(path=path, key=key, expected=", ".join(sorted(fields)))
                )
                continue
            out[key] = fields[key][0](item, f"{path}.{key}")
        for key, (_check, required) in fields.items():
            if required and key not in value:
                self.errors.append(ERROR_REQUIRED.format(path=f"{path}.{key}", message_type=message_type))
        return out

    def items(self, value: Any, path: str, check, min_items: int = 0) -> Any:
        if not isinstance(value, list):
            self.errors.append(ERROR_NOT_LIST.format(path=path))
            return value
        if len(value) < min_items:
            self.errors.append(ERROR_EMPTY_LIST.format(path=path))
        return [check(item, f"{path}[{index}]") for index, item in enumerate(value)]

    def choice(self, value: Any, path: str, choices: tuple) -> Any:
        if value not in choices:
            self.errors.append(ERROR_BAD_CHOICE.format(path=path, value=value, expected=", ".join(choices)))
        return value

    def color(self, value: Any, path: str) -> Any:
        if not isinstance(value, str) or not COLOR_RE.match(value):
            self.errors.append(ERROR_BAD_COLOR.format(path=path, value=value))
        return value


def _fields_for(c: _Checker, message_type: str) -> dict:
    def cta(v, p):
        return c.obj(v, p, {"label": (c.text, True), "url": (c.url, False)})

    def block(v, p):
        return c.obj(v, p, {"headline": (c.text, False), "body": (c.html, False), "cta": (cta, False)})

    common = {
        "headline": (c.text, False),
        "body": (c.html, False),
        "image": (c.url, False),
        "cta": (cta, False),
        "close_label": (c.text, False),
        "colors": (lambda v, p: c.obj(v, p, {k: (c.color, False) for k in ("background", "text", "accent")}), False),
        "position": (lambda v, p: c.choice(v, p, POSITIONS), False),
        "countdown": (lambda v, p: c.obj(v, p, {"ends_at": (c.text, False), "minutes": (_int(c), False),
                                                "label": (c.text, False)}), False),
        "steps": (lambda v, p: c.items(v, p, block), False),
        "thank_you": (block, False),
    }
    options = (lambda v, p: c.items(v, p, c.text, min_items=1), True)
    specific = {
        "nps": {
            "question": (c.text, True),
            "low_label": (c.text, False),
            "high_label": (c.text, False),
            "followup": (lambda v, p: c.obj(v, p, {k: (c.text, False) for k in ("detractor", "passive", "promoter")}),
                         False),
        },
        "feedback": {
            "question": (c.text, True),
            "options": options,
            "multiple": (c.boolean, False),
            "free_text": (lambda v, p: v if v is None else c.obj(v, p, {"label": (c.text, True)}), False),
        },
        "lead": {
            "fields": (lambda v, p: c.items(v, p, lambda f, fp: c.obj(f, fp, {
                "name": (lambda n, np_: c.choice(n, np_, ("email", "name", "phone")), True),
                "label": (c.text, False),
                "required": (c.boolean, False),
            }), min_items=1), True),
            "consent_label": (lambda v, p: v if v is None else c.text(v, p), False),
            "coupon": (lambda v, p: c.obj(v, p, {"code": (c.text, True), "label": (c.text, False)}), False),
        },
        "cart_recovery": {
            "feedback": (lambda v, p: c.obj(v, p, {"label": (c.text, False), "question": (c.text, False),
                                                   "options": options}), False),
        },
        "consent": {
            "categories": (lambda v, p: c.items(v, p, lambda cat, cp: c.obj(cat, cp, {
                "id": (c.text, True), "label": (c.text, True), "description": (c.text, False),
                "required": (c.boolean, False),
            }), min_items=1), True),
            **{key: (c.text, False) for key in ("accept_label", "reject_label", "customize_label", "save_label",
                                               "policy_label")},
        },
    }
    return {**common, **specific.get(message_type, {})}


def _int(c: _Checker):
    def check(value, path):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            c.errors.append(f"{path}: must be a non-negative integer")
        return value

    return check


def content_clean(*, message_type: str, content: Any) -> tuple[dict, list[str]]:
    """The content with its HTML sanitized, and the list of errors (empty when valid)."""
    checker = _Checker()
    cleaned = checker.obj(content, "content", _fields_for(checker, message_type), message_type)
    return (cleaned if isinstance(cleaned, dict) else {}), checker.errors
