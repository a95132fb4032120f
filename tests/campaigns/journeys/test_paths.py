"""Paths as the journey map counts them: cleaned, then grouped by the rule language's URL rules."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.journeys.paths import (
    CLEANUP_PATTERN_BLANK,
    PATH_MAX_LENGTH,
    Cleanup,
    Group,
    cleanup_rule_problems,
    group_of,
    label_of,
    labeller,
    path_clean,
    url_rule_problems,
)

PRODUCT = Cleanup(pattern="/product/<slug>/", replacement="/product/*/")

CLEANED = [
    # url, rules, cleaned
    ("/cart/", (), "/cart/"),
    ("https://shop.example:8443/cart/?utm_source=x#top", (), "/cart/"),
    ("https://shop.example", (), "/"),
    ("", (), "/"),
    ("cart", (), "/cart"),
    ("/order/12345/", (), "/order/*/"),
    ("/order/12345", (), "/order/*"),
    ("/u/550e8400-e29b-41d4-a716-446655440000/settings", (), "/u/*/settings"),
    ("/obj/5f1d7c2e9a3b4c6d8e0f1a2b/", (), "/obj/*/"),  # a 24-digit hexadecimal id
    ("/deadbeefdeadbeefdead/", (), "/deadbeefdeadbeefdead/"),  # hexadecimal letters only: a word, not an id
    ("/blog/2024-review/", (), "/blog/2024-review/"),
    ("//a///b/", (), "/a/b/"),
    ("/caf%C3%A9/", (), "/café/"),
    ("/100%25/", (), "/100%25/"),  # a percent sign stays encoded: decoding twice would change it
    ("/a%3Fb/", (), "/a%3Fb/"),  # a question mark stays encoded: it is part of the path, not a query
    ("/bad%zz/", (), "/bad%25zz/"),  # a malformed escape: the path is kept as it is, its percent encoded
    ("/line%0Abreak/", (), "/line%0Abreak/"),
    ("/a\ud800b/", (), "/a\ufffdb/"),  # a lone surrogate (a JSON string can carry one) cannot be stored
    ("/product/red-shoe/", (PRODUCT,), "/product/*/"),
    ("/en/product/red-shoe/", (PRODUCT,), "/en/product/*/"),
    ("/product/red-shoe/reviews/", (PRODUCT,), "/product/*/reviews/"),
    ("/product/", (PRODUCT,), "/product/"),
    # Rules apply in their order, each to what the one before made of the path.
    ("/shop/a/", (Cleanup("^/shop/", "/store/"), Cleanup("^/store/<x>/", "/store/item/")), "/store/item/"),
    ("/shop/a/", (Cleanup("^/store/<x>/", "/store/item/"), Cleanup("^/shop/", "/store/")), "/store/item/"),
    # A rule that cannot compile is skipped: it never stops the counting.
    ("/x/", (Cleanup("(", "y"),), "/x/"),
    ("/x/", (Cleanup("(?<=x)", "y"),), "/x/"),
]


@pytest.mark.parametrize(("url", "rules", "cleaned"), CLEANED)
def test_path_clean(url, rules, cleaned):
    assert path_clean(url=url, rules=rules) == cleaned


def test_a_long_path_is_cut_without_leaving_half_an_escape():
    cleaned = path_clean(url="/" + "a" * (PATH_MAX_LENGTH - 3) + "%C3%A9")
    assert len(cleaned) <= PATH_MAX_LENGTH
    assert cleaned == "/" + "a" * (PATH_MAX_LENGTH - 3) + "é"
    # "%25%25" does not fit: cut after "%2", half an escape, which goes too.
    cut = path_clean(url="/" + "a" * (PATH_MAX_LENGTH - 3) + "%25%25")
    assert cut == "/" + "a" * (PATH_MAX_LENGTH - 3)
    assert path_clean(url=cut) == cut


paths = st.lists(
    st.sampled_from(list("/abc-_.%25AF09?#é\u05d0 \n") + ["%2F", "%25", "%3F", "%C3%A9", "123", "//", "\ud800"]),
    max_size=40,
).map("".join)
long_paths = st.lists(st.sampled_from(["/", "a", "12", "%25", "%C3%A9", "é", "x" * 30]), max_size=40).map("".join)
rules = st.lists(
    st.sampled_from([
        PRODUCT,
        Cleanup("^/a/", "/b/"),
        Cleanup("/<id>/edit", "/*/edit"),
        Cleanup("b", "bb"),  # grows: settled by the passes and the length cut
        Cleanup("é", "e"),
        Cleanup("x", "%"),
    ]),
    max_size=3,
)
unsettled = st.sampled_from([Cleanup("%", "?"), Cleanup("a", "#a"), Cleanup("/", "\n")])


@given(url=st.one_of(paths, long_paths), rules=st.just(()))
def test_cleaning_a_cleaned_path_changes_nothing(url, rules):
    once = path_clean(url=url, rules=rules)
    assert path_clean(url=once, rules=rules) == once
    assert once.startswith("/") and len(once) <= PATH_MAX_LENGTH
    assert "?" not in once and "#" not in once and "\n" not in once and "//" not in once


@given(url=paths, rules=rules)
def test_cleaning_with_rules_that_settle_is_idempotent(url, rules):
    if Cleanup("b", "bb") in rules:
        return  # a rule that grows the path settles only at the length cut, covered below
    once = path_clean(url=url, rules=rules)
    assert path_clean(url=once, rules=rules) == once


@given(url=paths, rules=st.lists(unsettled, max_size=2))
def test_whatever_the_rules_a_cleaned_path_is_one_path(url, rules):
    cleaned = path_clean(url=url, rules=rules)
    assert cleaned.startswith("/") and len(cleaned) <= PATH_MAX_LENGTH
    assert not any(character in cleaned for character in "?#\n\x00")
    cleaned.encode("utf-8")


def test_a_growing_rule_never_makes_a_path_longer_than_the_limit():
    assert len(path_clean(url="/" + "b" * 150, rules=[Cleanup("b", "bb")])) <= PATH_MAX_LENGTH


@pytest.mark.parametrize(
    ("pattern", "replacement", "problems"),
    [
        ("/product/<slug>/", "/product/*/", []),
        ("^/p/[0-9]+", "/p/*", []),
        ("", "/x/", [CLEANUP_PATTERN_BLANK]),
        ("(?<=a)b", "", ["pattern: outside the regular expressions the rule language supports (see docs/rules.md)"]),
        ("(", "", ["pattern: missing ), unterminated subpattern at position 0"]),
        ("/x/", "/" * 201, ["replacement: longer than 200 characters"]),
    ],
)
def test_cleanup_rule_problems(pattern, replacement, problems):
    assert cleanup_rule_problems(pattern=pattern, replacement=replacement) == problems


GROUPS = [
    Group(name="Blog", rule={"op": "starts_with", "value": "/blog/"}, stage="awareness", order=20),
    Group(name="Blog: SEO", rule={"op": "starts_with", "value": "/blog/seo/"}, stage="awareness", order=10),
    Group(name="Cart", rule={"op": "equals", "value": "/cart"}, stage="decision", order=30),
    Group(name="Thanks", rule={"op": "regex", "value": "^/(thank-you|thanks)(/|$)"}, stage="retention", order=40),
    Group(name="Case", rule={"op": "contains", "value": "/Pro/", "case_sensitive": True}, order=50),
    Group(name="Broken", rule={"op": "regex", "value": "("}, order=0),
]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/blog/seo/titles/", "Blog: SEO"),  # order decides, not the list's order
        ("/blog/running/", "Blog"),
        ("/BLOG/running/", "Blog"),  # case-insensitive unless asked, as in the rule language
        ("/cart/", "Cart"),  # equals ignores a trailing slash, as in the rule language
        ("/cart/add/", None),
        ("/thanks", "Thanks"),
        ("/thank-you/order/", "Thanks"),
        ("/thanksgiving/", None),
        ("/x/Pro/", "Case"),
        ("/x/pro/", None),
        ("/", None),
    ],
)
def test_group_of_is_the_first_matching_group_by_order(path, name):
    group = group_of(path=path, groups=GROUPS)
    assert (group.name if group else None) == name
    assert label_of(path=path, groups=GROUPS) == (name or path)
    assert labeller(groups=GROUPS)(path) == (name or path)


@pytest.mark.parametrize(
    ("rule", "problems"),
    [
        ({"op": "starts_with", "value": "/blog/"}, []),
        ({"op": "regex", "value": "^/p/[0-9]+$", "case_sensitive": True}, []),
        ({"op": "starts_with"}, ["url_rule.value: is required"]),
        ({"op": "gt", "value": 3}, ["url_rule.op: 'gt' is not one of equals, contains, starts_with, ends_with, regex"]),
        ({"op": "regex", "value": "(?<=a)"}, ["url_rule.value: unsupported regular expression: lookbehind, named "
                                              "groups, inline flags, possessive quantifiers, back-references, {,n}, "
                                              "[] and escapes such as \\A \\Z \\p work differently in the browser"]),
        ({"op": "equals", "value": "/", "path": "/x"}, ["url_rule: unknown key 'path'"]),
        ("starts_with /blog/", ["url_rule: expected an object, got string"]),
        (None, ["url_rule: is required"]),
    ],
)
def test_url_rule_problems_are_those_of_a_url_goal(rule, problems):
    assert url_rule_problems(rule=rule) == problems
