"""The verdict in plain language: calculator numbers in, one sentence a marketer can act on out.

Pure functions (no ORM). Wording is kept here, in constants, so tests can assert it; each is translatable and read
in the language active when the sentence is built (the admin's, English elsewhere).
"""

import math

from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

MINUS = "\u2212"  # a real minus sign: "−1 %" does not wrap or read as a dash
SPACE = " "  # between a number and its unit, as in "96 %"

ERROR_REASONS = {
    "no_visitors": _("an arm has no visitors yet"),
    "baseline_zero": _("{control} has no conversions yet, so a relative lift is undefined"),
    "zero_variance": _("an arm has no conversions yet (or converts every visitor)"),
    "out_of_range": _("the numbers are too extreme to compute"),
}
NO_RESULT = _("{arm} vs {control}: no result yet; {reason}.")
BAYESIAN = _("{arm} is {chance} likely to beat {control}; {lift}, {interval}")
FREQUENTIST = _("{arm} vs {control}: {lift}, {interval}; {p}, {significance}")
SAMPLE_MORE = _("about {n} more visitors per arm{days} for {power} power to detect a {mde} lift")
SAMPLE_ENOUGH = _("enough visitors for {power} power to detect a {mde} lift")
DAYS_LONG = _("more than a year at today's traffic")
YEAR_DAYS = 365
NO_TEST = _("Nothing to compare yet: add a second variant or a holdout (control share).")
SRM_HEADLINE = _("Sample ratio mismatch: fix the assignment or the tracking before reading these results.")
WINNER = _("{name} was declared the winner on {day}; all traffic now goes to it.")


def _trim(text: str) -> str:
    return text[:-2] if text.endswith(".0") else text


def percent(value: float | None, *, signed: bool = False) -> str:
    """0.123 -> '12 %', 0.0123 -> '1.2 %'; signed adds '+' and uses a real minus sign."""
    if value is None or not math.isfinite(value):
        return "n/a"
    number = value * 100
    digits = 0 if abs(number) >= 10 else 1
    text = _trim(f"{abs(number):.{digits}f}")
    sign = (MINUS if number < 0 else "+") if signed and text not in ("0", "0.0") else (MINUS if number < 0 else "")
    return f"{sign}{text}{SPACE}%"


def points(value: float | None, *, signed: bool = True) -> str:
    """An absolute difference of rates, in percentage points."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return percent(value, signed=signed).replace(f"{SPACE}%", f"{SPACE}pp")


def chance(value: float) -> str:
    if value > 0.995:
        return f">99{SPACE}%"
    if value < 0.005:
        return f"<1{SPACE}%"
    return f"{value * 100:.0f}{SPACE}%"


def about(n: int) -> str:
    """Two significant figures with thousands separators: 9,412 -> '9,400'."""
    if n < 100:
        return f"{n:,}"
    magnitude = 10 ** (len(str(n)) - 2)
    return f"{round(n / magnitude) * magnitude:,}"


def _difference(value: float, relative: bool) -> str:
    return gettext("%(lift)s relative") % {"lift": percent(value, signed=True)} if relative else points(value)


def _interval(ci, *, alpha: float, relative: bool) -> str:
    level = percent(1 - alpha)
    fmt = (lambda v: percent(v, signed=True)) if relative else points
    return gettext("%(level)s interval %(low)s … %(high)s") % {"level": level, "low": fmt(ci[0]),
                                                                "high": fmt(ci[1])}


def sample_text(*, plan: dict | None, power: float) -> str:
    if plan is None or plan["remaining"] is None:
        return ""
    power_text = percent(power)
    mde = percent(plan["mde"])
    if plan["remaining"] <= 0:
        return SAMPLE_ENOUGH.format(power=power_text, mde=mde)
    days = plan.get("days_remaining")
    days_text = ngettext("about %(days)s day at today's traffic", "about %(days)s days at today's traffic",
                         days) % {"days": f"{days:,}"} if days else ""
    if days and days > YEAR_DAYS:
        days_text = str(DAYS_LONG)
    days_text = f" ({days_text})" if days_text else ""
    return SAMPLE_MORE.format(n=about(plan["remaining"]), days=days_text, power=power_text, mde=mde)


def arm_verdict(*, row: dict, control: str, settings: dict, plan: dict | None, power: float) -> str:
    """One calculator row (a variant against the control) as a sentence."""
    if row.get("error"):
        reason = ERROR_REASONS.get(row["error"], row["error"]).format(control=control)
        return NO_RESULT.format(arm=row["name"], control=control, reason=reason)
    relative = settings["difference"] == "relative"
    alpha = settings["alpha"]
    lift = _difference(row["expected"], relative)
    interval = _interval(row["ci"], alpha=alpha, relative=relative)
    if settings["engine"] == "bayesian":
        text = BAYESIAN.format(arm=row["name"], chance=chance(row["chance_to_win"]), control=control, lift=lift,
                               interval=interval)
    else:
        p_value = row["p_value_adjusted"]
        correction = settings.get("correction", "none")
        label = "p" if correction == "none" else gettext("adjusted p (%(correction)s)") % {"correction": correction}
        if settings.get("sequential_tuning"):
            label = gettext("sequential %(label)s") % {"label": label}
        significant = p_value is not None and p_value < alpha
        significance = (gettext("significant at α = %(alpha)s") if significant
                        else gettext("not significant at α = %(alpha)s")) % {"alpha": f"{alpha:g}"}
        text = FREQUENTIST.format(
            arm=row["name"], control=control, lift=lift, interval=interval, p=f"{label} = {p_value:.2g}",
            significance=significance,
        )
    more = sample_text(plan=plan, power=power)
    return f"{text}; {more}." if more else f"{text}."


def headline_verdict(*, verdicts: list[dict], comparison: dict | None, srm: dict, winner: str | None,
                     winner_declared_at) -> str:
    """The first line of the page: the SRM alarm, the declared winner, or the leading variant's sentence."""
    if srm.get("mismatch"):
        return str(SRM_HEADLINE)
    if winner:
        return WINNER.format(name=winner, day=winner_declared_at.date().isoformat() if winner_declared_at else "?")
    if comparison is None or not verdicts:
        return str(NO_TEST)
    rows = comparison["arms"][1:]
    scored = [(row.get("chance_to_win") if "chance_to_win" in row else row.get("expected"), i)
              for i, row in enumerate(rows) if not row.get("error")]
    if not scored:
        return verdicts[0]["sentence"]
    _, best = max(scored, key=lambda item: (item[0] if item[0] is not None else -math.inf, -item[1]))
    return verdicts[best]["sentence"]
