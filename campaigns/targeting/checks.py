"""decide()'s checks (campaigns/rules.py, CHECKS and CAP_CHECKS) in the widget's rule form (targeting/compile.py).

Each campaign gets `checks`, a list of [reason, path, rule] in decide()'s order, where `rule` matches when the
visitor FAILS the check: consent, schedule, targeting, frequency, variants. The site gets `caps`, the same for the
site cap (overlays only). Each entry of rules.CHECKS holds both forms of its condition; this walks them: what the
server knows for every visitor is settled there (a date that cannot be read, no variant with a weight, consent not
required), what depends on the visitor is a leaf over the context. widget/src/core/rules.js decide() then only finds the
first check whose rule matches.
"""

from __future__ import annotations

from typing import Any

from campaigns.rules import CAP_CHECKS, CHECKS, Check


def _compiled(checks: tuple[Check, ...], campaign: dict, site: dict, targeting: Any) -> list:
    out = []
    for check in checks:
        rule = check.compiled(campaign, site, targeting)
        if rule is not None:
            out.append([check.code, check.path, rule])
    return out


def campaign_checks(*, campaign: dict, site: dict, targeting: Any) -> list:
    """[reason, path, rule that matches when the visitor fails], in decide()'s order; `targeting` compiled."""
    return _compiled(CHECKS, campaign, site, targeting)


def site_caps(*, site: dict) -> list:
    """The site cap's checks (overlays only), as campaign_checks()."""
    return _compiled(CAP_CHECKS, {}, site, True)
