"""A campaign's URL targeting alone: which page views are "its pages" for the installation check's warning.

The targeting tree keeps its URL leaves (`url`, `path`, `host`); every other leaf depends on the visitor and is
taken as "may match" (true, or false under an odd number of `not`s, so that negating it also may match). A page
view is one of the campaign's pages when the reduced tree matches its URL (campaigns.rules.rule_matches).
"""

from campaigns.rules import rule_matches

URL_ATTRS = frozenset({"url", "path", "host"})
_TRUE: dict = {"all": []}
_FALSE: dict = {"any": []}


def url_targeting(rule, *, negated: bool = False):
    """The tree with only its URL leaves (None for no targeting: every page)."""
    if rule is None:
        return None
    if not isinstance(rule, dict):
        return rule  # malformed: rule_matches refuses it, as decide() does
    for key in ("all", "any"):
        if key in rule:
            children = rule[key]
            if not isinstance(children, list):
                return rule
            return {key: [url_targeting(child, negated=negated) or _TRUE for child in children]}
    if "not" in rule:
        inner = url_targeting(rule["not"], negated=not negated)
        return {"not": inner if inner is not None else _TRUE}
    if rule.get("attr") in URL_ATTRS:
        return rule
    return _FALSE if negated else _TRUE


def url_targeting_has_urls(rule) -> bool:
    """Whether the targeting names pages at all (a URL leaf anywhere)."""
    if isinstance(rule, dict):
        if rule.get("attr") in URL_ATTRS:
            return True
        return any(url_targeting_has_urls(child) for key in ("all", "any") for child in (rule.get(key) or [])
                   if isinstance(rule.get(key), list)) or url_targeting_has_urls(rule.get("not"))
    return False


def url_matches(*, reduced, url: str) -> bool:
    return rule_matches(rule=reduced, context={"url": url})
