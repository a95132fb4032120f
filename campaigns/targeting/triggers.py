"""A campaign's triggers in the form widget/src/core/triggers.js arms (docs/contracts.md, "Compiled fields").

Each trigger becomes [type, ...its parameters in the registry's order] (targeting/vocabulary.py, TRIGGERS), defaults
applied and durations in ms, so the widget carries neither parameter names nor defaults. No trigger at all means
page load. An unknown type, or a required parameter that is missing, compiles to [null]: the widget never fires it
(a bad trigger hides a campaign, it never shows one everywhere).
"""

from __future__ import annotations

from typing import Any

from campaigns.targeting.vocabulary import DEFAULT_TRIGGER, SECONDS, TRIGGERS, Param, param_value

NEVER = [None]


def _param(param: Param, params: dict) -> Any:
    value = param_value(param, params.get(param.name))
    if isinstance(param.kind, tuple):
        # the widget's one choice parameter: true for the second choice (cart_abandonment: inactivity, not exit)
        return value == param.kind[1]
    if param.unit != SECONDS or value is None:
        return value
    ms = round(value * 1000, 3)  # 0.7 s is 700 ms, not 700.0000000000001
    return int(ms) if float(ms).is_integer() else ms


def triggers_compile(triggers: object) -> list:
    """[[type, ...parameters], ...]; params flat ({"type", "delay"}) or nested ({"type", "params": {...}})."""
    out = []
    for trigger in triggers if isinstance(triggers, list) and triggers else [{"type": DEFAULT_TRIGGER}]:
        if not isinstance(trigger, dict):
            out.append(NEVER)
            continue
        params = trigger.get("params") if isinstance(trigger.get("params"), dict) else trigger
        kind = trigger.get("type")
        spec = TRIGGERS.get(kind) if isinstance(kind, str) else None
        if spec is None:
            out.append(NEVER)  # not a name the widget could look up (toString, constructor ...)
            continue
        values = [_param(p, params) for p in spec.params]
        missing = any(p.required and v is None for p, v in zip(spec.params, values, strict=True))
        out.append(NEVER if missing else [kind, *values])
    return out
