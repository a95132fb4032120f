"""Number formatting for the results and report pages (the same wording as the verdict).

A missing number (None, or the empty string a template gives for an absent key) shows as a dash.
"""


from django import template

from campaigns.assignment import is_finite_number
from campaigns.results import verdicts

register = template.Library()
DASH = "\u2013"


def _missing(value) -> bool:
    return not is_finite_number(value)


@register.filter
def pct(value):
    """0.123 -> '12 %'."""
    return DASH if _missing(value) else verdicts.percent(value)


@register.filter
def signed_pct(value):
    return DASH if _missing(value) else verdicts.percent(value, signed=True)


@register.filter
def difference(value, kind="relative"):
    """A lift in the campaign's difference kind: '+12 %' (relative) or '+1.2 pp' (absolute)."""
    if _missing(value):
        return DASH
    return verdicts.percent(value, signed=True) if kind == "relative" else verdicts.points(value)


@register.filter
def chance(value):
    return DASH if _missing(value) else verdicts.chance(value)


@register.filter
def pvalue(value):
    return DASH if _missing(value) else f"{value:.2g}"


@register.filter
def num(value, digits=0):
    """Thousands separators; `digits` decimals."""
    return DASH if _missing(value) else f"{value:,.{int(digits)}f}"


@register.filter
def nps(value):
    return DASH if _missing(value) else f"{value:+.0f}".replace("-", verdicts.MINUS)


@register.filter
def level(alpha):
    """α = 0.05 -> '95 %': the level of an interval."""
    return "" if _missing(alpha) else verdicts.percent(1 - alpha)
