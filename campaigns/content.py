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
ERROR_TOO_FEW = "{path}: needs at least {count} items"
ERROR_TOO_MANY = "{path}: holds at most {count} items"
ERROR_BAD_PRODUCT_ID = "{path}: {value!r} is not a product id (lower-case letters, digits, - and _, at most 40)"
ERROR_DUPLICATE_PRODUCT = "{path}: the product id {value!r} is used twice"
ERROR_UNKNOWN_PRODUCT = "{path}: {value!r} is not one of the quiz's products ({expected})"
ERROR_BAD_SCORE = "{path}: must be a whole number from 0 to {limit}"
ERROR_NEVER_WINS = "{path}: no answer scores the product {value!r}, so it can never be the result"
ERROR_NO_OTHER_FORM = "{path}: needs its `other` form (the one used when no other form fits)"
ERROR_BAD_ASSET = "{path}: {value!r} is not an asset reference like asset:trail-checklist.pdf"

# The widget's own words, one table per language (widget/src/lang/<code>.js, the same keys): a variant overrides any
# of them in content.strings. `items` (the cart's "3 items") is plural: a text, or a text per plural category
# (Intl.PluralRules'); `#` stands for the number, or for the field's name in `fill`.
STRING_KEYS = (
    "close", "done", "thanks", "next", "send", "other", "pick", "fill", "email_bad", "tick", "subscribe", "copy",
    "copied", "cart_headline", "cart_cta", "stopped", "items", "privacy", "policy", "accept", "reject", "choose",
    "save", "nps_question", "low", "high", "detractor", "passive", "promoter", "match",
    "see", "start", "again", "days",
)
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")
# The label fields that came before content.strings, and the word each one sets: the config compiler merges them
# into content.strings (content.strings wins), so the widget reads one table.
LABEL_STRINGS = {
    "close_label": "done", "accept_label": "accept", "reject_label": "reject", "customize_label": "choose",
    "save_label": "save", "policy_label": "policy", "low_label": "low", "high_label": "high",
}
NPS_STRINGS = {"question": "nps_question"}
FOLLOWUP_STRINGS = {"detractor": "detractor", "passive": "passive", "promoter": "promoter"}
QUIZ_STRINGS = {"start_label": "start", "result_headline": "match", "result_cta": "see"}

TEXT_LIMIT = 500
HTML_LIMIT = 5000

# The quiz block (popup, slide_in, fullscreen): questions whose answers add points to products; the widget shows
# the product with the most points (the first listed on a tie), so the result follows the answers.
QUIZ_TYPES = ("popup", "slide_in", "fullscreen")
QUIZ_MAX_QUESTIONS = 10
QUIZ_MAX_ANSWERS = 8
QUIZ_MIN_PRODUCTS = 2
QUIZ_MAX_PRODUCTS = 20
QUIZ_SCORE_MAX = 100
PRODUCT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
# A lead magnet names its file by reference only, `asset:<name>` or `asset:<id>` of one of its site's files
# (campaigns/models/assets.py): the file itself is never part of the content, nor the reference part of the public
# config; the file is handed out after the lead is stored.
ASSET_REF_RE = re.compile(r"^asset:[a-z0-9][a-z0-9_.-]{0,99}$")


def magnet_of(content: object) -> tuple[str, str] | None:
    """A lead's magnet as (asset reference, title), None when the content holds no well-formed one."""
    magnet = content.get("magnet") if isinstance(content, dict) else None
    if not isinstance(magnet, dict):
        return None
    ref, title = magnet.get("asset"), magnet.get("title")
    if not isinstance(ref, str) or not ASSET_REF_RE.match(ref) or not isinstance(title, str):
        return None
    return ref, title


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

    def bounded(self, value: Any, path: str, check, low: int, high: int) -> Any:
        """A list of `low`..`high` items, each checked by `check`."""
        if isinstance(value, list) and len(value) < low:
            self.errors.append(ERROR_TOO_FEW.format(path=path, count=low))
        if isinstance(value, list) and len(value) > high:
            self.errors.append(ERROR_TOO_MANY.format(path=path, count=high))
        return self.items(value, path, check)

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
        "strings": (lambda v, p: c.obj(v, p, {key: (_plural(c) if key == "items" else c.text, False)
                                              for key in STRING_KEYS}), False),
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
            "magnet": (lambda v, p: c.obj(v, p, {"title": (c.text, True), "asset": (_asset(c), True)}), False),
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
    for quiz_type in QUIZ_TYPES:
        specific[quiz_type] = {"quiz": (_quiz(c), False)}
    return {**common, **specific.get(message_type, {})}


def _plural(c: _Checker):
    def check(value, path):
        if not isinstance(value, dict):
            return c.text(value, path)
        if "other" not in value:
            c.errors.append(ERROR_NO_OTHER_FORM.format(path=path))
        return c.obj(value, path, {k: (c.text, False) for k in PLURAL_CATEGORIES})

    return check


def content_strings(*, message_type: str, content: dict) -> dict:
    """The variant's own words for the widget: its label fields as table keys, with content.strings over them."""
    out = {key: content[field] for field, key in LABEL_STRINGS.items() if isinstance(content.get(field), str)}
    followup = content.get("followup")
    if message_type == "nps":
        out.update({key: content[field] for field, key in NPS_STRINGS.items() if isinstance(content.get(field), str)})
    if message_type == "nps" and isinstance(followup, dict):
        out.update({key: followup[f] for f, key in FOLLOWUP_STRINGS.items() if isinstance(followup.get(f), str)})
    quiz = content.get("quiz")
    if isinstance(quiz, dict):
        out.update({key: quiz[field] for field, key in QUIZ_STRINGS.items() if isinstance(quiz.get(field), str)})
    strings = content.get("strings")
    return {**out, **(strings if isinstance(strings, dict) else {})}


def _int(c: _Checker):
    def check(value, path):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            c.errors.append(f"{path}: must be a non-negative integer")
        return value

    return check


def _asset(c: _Checker):
    def check(value, path):
        if not isinstance(value, str) or not ASSET_REF_RE.match(value):
            c.errors.append(ERROR_BAD_ASSET.format(path=path, value=value))
        return value

    return check


def _quiz(c: _Checker):
    """questions[{question, answers[{label, scores{product id: points}}]}], products[{id, title, url, image,
    description}], start_label, result_headline, result_cta. Every score names a listed product, and every product
    is scored by some answer (one that never is could only win a tie)."""

    def check(value, path):
        products = value.get("products") if isinstance(value, dict) else None
        ids = [p.get("id") for p in products if isinstance(p, dict)] if isinstance(products, list) else []
        scored: set[str] = set()

        def product_id(v, p):
            if not isinstance(v, str) or not PRODUCT_ID_RE.match(v):
                c.errors.append(ERROR_BAD_PRODUCT_ID.format(path=p, value=v))
            return v

        def product(v, p):
            return c.obj(v, p, {"id": (product_id, True), "title": (c.text, True), "url": (c.url, True),
                                "image": (c.url, False), "description": (c.text, False)})

        def scores(v, p):
            if not isinstance(v, dict):
                c.errors.append(ERROR_NOT_OBJECT.format(path=p))
                return v
            for key, points in v.items():
                if key not in ids:
                    expected = ", ".join(str(i) for i in ids) or "none"
                    c.errors.append(ERROR_UNKNOWN_PRODUCT.format(path=f"{p}.{key}", value=key, expected=expected))
                if not isinstance(points, int) or isinstance(points, bool) or not 0 <= points <= QUIZ_SCORE_MAX:
                    c.errors.append(ERROR_BAD_SCORE.format(path=f"{p}.{key}", limit=QUIZ_SCORE_MAX))
                elif points > 0:
                    scored.add(key)
            return v

        def answer(v, p):
            return c.obj(v, p, {"label": (c.text, True), "scores": (scores, True)})

        def question(v, p):
            return c.obj(v, p, {"question": (c.text, True),
                                "answers": (lambda a, ap: c.bounded(a, ap, answer, 2, QUIZ_MAX_ANSWERS), True)})

        cleaned = c.obj(value, path, {
            "questions": (lambda v, p: c.bounded(v, p, question, 1, QUIZ_MAX_QUESTIONS), True),
            "products": (lambda v, p: c.bounded(v, p, product, QUIZ_MIN_PRODUCTS, QUIZ_MAX_PRODUCTS), True),
            "start_label": (c.text, False),
            "result_headline": (c.text, False),
            "result_cta": (c.text, False),
        }, "quiz")
        for index, pid in enumerate(ids):
            if not isinstance(pid, str) or not PRODUCT_ID_RE.match(pid):
                continue
            if pid in ids[:index]:
                c.errors.append(ERROR_DUPLICATE_PRODUCT.format(path=f"{path}.products[{index}].id", value=pid))
            elif pid not in scored and isinstance(value.get("questions"), list):
                c.errors.append(ERROR_NEVER_WINS.format(path=f"{path}.products[{index}]", value=pid))
        return cleaned

    return check


def content_clean(*, message_type: str, content: Any) -> tuple[dict, list[str]]:
    """The content with its HTML sanitized, and the list of errors (empty when valid)."""
    checker = _Checker()
    cleaned = checker.obj(content, "content", _fields_for(checker, message_type), message_type)
    return (cleaned if isinstance(cleaned, dict) else {}), checker.errors


# Placeholders the renderers fill in text (widget/src/render/placeholders.js), offered by the content editor.
PLACEHOLDERS = ("{{cart.value}}", "{{cart.count}}", "{{attrs.first_name|there}}")


def content_vocabulary(*, message_types: list[str]) -> dict:
    """What the content editor offers: each message type's fields, the positions, the placeholders and the tags
    the body keeps after sanitising."""
    checker = _Checker()
    return {
        "fields": {message_type: list(_fields_for(checker, message_type)) for message_type in message_types},
        "positions": list(POSITIONS),
        "placeholders": list(PLACEHOLDERS),
        "tags": sorted(ALLOWED_TAGS),
        "lead_fields": ["email", "name", "phone"],
    }
