"""A campaign's triggers in the form widget/src/triggers.js arms (docs/contracts.md, "Compiled fields").

Each trigger becomes [type, ...its parameters in a fixed order], defaults applied and times in ms, so the
widget carries neither parameter names nor defaults. No trigger at all means page load. An unknown type is
kept (the widget never fires it: a bad trigger hides a campaign, it never shows one everywhere).
"""

from __future__ import annotations

from typing import Any

from campaigns.rules import _is_num

# type -> its parameters: (name, default, kind) with kind "ms" (seconds), "ms_raw" (already ms), "num", "bool", "str"
PARAMS: dict[str, tuple[tuple[str, Any, str], ...]] = {
    "page_load": (("delay", 0, "ms"),),
    "exit_intent": (("sensitivity", 20, "num"), ("min_time", 0, "ms"), ("delay", 0, "ms_raw")),
    "mobile_exit": (
        ("scroll_up", True, "bool"),
        ("tab_hidden", True, "bool"),
        ("back_button", False, "bool"),
        ("min_time", 0, "ms"),
    ),
    "scroll": (("percent", 50, "num"),),
    "time_on_page": (("seconds", 0, "ms"),),
    "time_on_site": (("seconds", 0, "ms"),),
    "inactivity": (("seconds", 30, "ms"),),
    "click": (("selector", None, "str"),),
    "pageviews": (("count", 1, "num"),),
    "cart_abandonment": (("via", "exit_intent", "via"), ("seconds", 30, "ms")),
    "js": (("name", None, "str"),),
    "event": (("name", None, "str"),),
}


def _param(params: dict, name: str, default: Any, kind: str) -> Any:
    value = params.get(name)
    if kind in ("ms", "ms_raw", "num"):
        value = value if _is_num(value) else default
        return value * 1000 if kind == "ms" else value
    if kind == "bool":
        return bool(value) if value is not None else default
    if kind == "via":
        return value == "inactivity"  # true: inactivity, false: exit intent (mobile exit on touch devices)
    return value if isinstance(value, str) else default


def triggers_compile(triggers: object) -> list:
    """[[type, ...parameters], ...]; params flat ({"type", "delay"}) or nested ({"type", "params": {...}})."""
    out = []
    for trigger in triggers if isinstance(triggers, list) and triggers else [{"type": "page_load"}]:
        if not isinstance(trigger, dict):
            out.append([None])
            continue
        params = trigger.get("params") if isinstance(trigger.get("params"), dict) else trigger
        kind = trigger.get("type")
        if kind not in PARAMS:
            out.append([None])  # not a name the widget could look up (toString, constructor ...)
            continue
        out.append([kind, *(_param(params, *p) for p in PARAMS[kind])])  # type: ignore[index]
    return out
