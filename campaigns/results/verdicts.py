"""The verdict in plain language: calculator numbers in, one sentence a marketer can act on out.

Pure functions (no ORM). Wording is kept here, in constants, so tests can assert it.
"""

import math

MINUS = "\u2212"  # a real minus sign: "−1 %" does not wrap or read as a dash
SPACE = " "  # between a number and its unit, as in "96 %"

ERROR_REASONS = {
    "no_visitors": "an arm has no visitors yet",
    "baseline_zero": "{control} has no conversions yet, so a relative lift is undefined",
    "zero_variance": "an arm has no conversions yet (or converts every visitor)",
    "out_of_range": "the numbers are too extreme to compute",
}
NO_RESULT = "{arm} vs {control}: no result yet; {reason}."
BAYESIAN = "{arm} is {chance} likely to beat {control}; {lift}, {interval}"
FREQUENTIST = "{arm} vs {control}: {lift}, {interval}; {p}, {significance}"
SAMPLE_MORE = "about {n} more visitors per arm{days} for {power} power to detect a {mde} lift"
SAMPLE_ENOUGH = "enough visitors for {power} power to detect a {mde} lift"
DAYS = " (about {days} {unit} at today's traffic)"
DAYS_LONG = " (more than a year at today's traffic)"
YEAR_DAYS = 365
NO_TEST = "Nothing to compare yet: add a second variant or a holdout (control share)."
SRM_HEADLINE = "Sample ratio mismatch: fix the assignment or the tracking before reading these results."
WINNER = "{name} was declared the winner on {day}; all traffic now goes to it."


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
    return f"{percent(value, signed=True)} relative" if relative else points(value)


def _interval(ci, *, alpha: float, relative: bool) -> str:
    level = percent(1 - alpha)
    fmt = (lambda v: percent(v, signed=True)) if relative else points
    return f"{level} interval {fmt(ci[0])} \u2026 {fmt(ci[1])}"


def sample_text(*, plan: dict | None, power: float) -> str:
    if plan is None or plan["remaining"] is None:
        return ""
    power_text = percent(power)
    mde = percent(plan["mde"])
    if plan["remaining"] <= 0:
        return SAMPLE_ENOUGH.format(power=power_text, mde=mde)
    days = plan.get("days_remaining")
    days_text = DAYS.format(days=f"{days:,}", unit="day" if days == 1 else "days") if days else ""
    if days and days > YEAR_DAYS:
        days_text = DAYS_LONG
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
        label = "p" if settings.get("correction", "none") == "none" else f"adjusted p ({settings['correction']})"
        if settings.get("sequential_tuning"):
            label = f"sequential {label}"
        significant = p_value is not None and p_value < alpha
        text = FREQUENTIST.format(
            arm=row["name"], control=control, lift=lift, interval=interval, p=f"{label} = {p_value:.2g}",
            significance=("significant" if significant else "not significant") + f" at \u03b1 = {alpha:g}",
        )
    more = sample_text(plan=plan, power=power)
    return f"{text}; {more}." if more else f"{text}."


def headline_verdict(*, verdicts: list[dict], comparison: dict | None, srm: dict, winner: str | None,
                     winner_declared_at) -> str:
    """The first line of the page: the SRM alarm, the declared winner, or the leading variant's sentence."""
    if srm.get("mismatch"):
        return SRM_HEADLINE
    if winner:
        return WINNER.format(name=winner, day=winner_declared_at.date().isoformat() if winner_declared_at else "?")
    if comparison is None or not verdicts:
        return NO_TEST
    rows = comparison["arms"][1:]
    scored = [(row.get("chance_to_win") if "chance_to_win" in row else row.get("expected"), i)
              for i, row in enumerate(rows) if not row.get("error")]
    if not scored:
        return verdicts[0]["sentence"]
    _, best = max(scored, key=lambda item: (item[0] if item[0] is not None else -math.inf, -item[1]))
    return verdicts[best]["sentence"]
