"""Groups and stages suggested from the paths seen."""

import pytest

from campaigns.journeys.paths import Cleanup, cleanup_rule_problems, group_of, path_clean, url_rule_problems
from campaigns.journeys.suggest import CLEANUP_MIN_PAGES, HOME, suggest_cleanups, suggest_groups

SEEN = {
    "/": 500,
    "/blog/seo/titles/": 40,
    "/blog/seo/links/": 30,
    "/blog/running/": 20,
    "/product/*/": 300,
    "/cart/": 120,
    "/checkout/": 80,
    "/checkout/thank-you/": 50,
    "/about/": 10,
    "/account/orders/": 5,
    "/reviews/write/": 3,
}


def suggestions():
    return {item.group.name: item for item in suggest_groups(paths_with_counts=SEEN)}


def test_groups_and_stages_are_suggested_from_the_words_of_the_paths():
    found = {name: (item.group.stage, item.pageviews, item.paths) for name, item in suggestions().items()}
    assert found == {
        HOME: ("awareness", 500, 1),
        "Blog": ("awareness", 90, 3),
        "Blog: seo": ("awareness", 70, 2),
        "Product": ("consideration", 300, 1),
        "Cart": ("decision", 120, 1),
        "Checkout": ("decision", 80, 1),
        "Thank you": ("retention", 50, 1),
        "Account": ("retention", 5, 1),
        "Reviews and referrals": ("advocacy", 3, 1),
    }


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/", HOME),
        ("/blog/seo/titles/", "Blog: seo"),  # the sub-folder's group is tried first
        ("/blog/running/", "Blog"),
        ("/blog", "Blog"),
        ("/product/*/", "Product"),
        ("/cart/", "Cart"),
        ("/cartography/", None),
        ("/checkout/", "Checkout"),
        ("/checkout/thank-you/", "Thank you"),  # a thank-you page inside the checkout is a thank-you page
        ("/about/", None),  # names no kind of page: left for the owner
    ],
)
def test_the_suggested_groups_put_each_seen_path_in_the_right_group(path, name):
    groups = [item.group for item in suggest_groups(paths_with_counts=SEEN)]
    assert all(url_rule_problems(rule=group.rule) == [] for group in groups)
    group = group_of(path=path, groups=groups)
    assert (group.name if group else None) == name


def test_the_same_kind_of_page_under_two_prefixes_gives_two_named_groups():
    found = suggest_groups(paths_with_counts=[("/en/blog/a/", 3), ("/fr/blog/b/", 2), ("/en/blog/c/", 1)])
    assert sorted(item.group.name for item in found) == ["Blog (/en/blog)", "Blog (/fr/blog)"]


def test_a_folder_with_special_characters_gets_an_exact_rule():
    found = suggest_groups(paths_with_counts={"/shop.v2/cart/": 1, "/shopXv2/cart/": 1})
    groups = [item.group for item in found]
    assert group_of(path="/shop.v2/cart/", groups=groups).name == "Cart (/shop.v2/cart)"
    assert group_of(path="/shopXv2/cart/", groups=groups).name == "Cart (/shopXv2/cart)"


def test_nothing_seen_suggests_nothing():
    assert suggest_groups(paths_with_counts={}) == []
    assert suggest_groups(paths_with_counts={"not a path": 3, "/about/": 2}) == []


def test_clean_up_rules_are_suggested_for_folders_of_many_pages_of_one_template():
    seen = {"/product/red-shoe/": 5, "/product/blue-shoe/": 3, "/product/sock/": 2, "/product/sock/reviews/": 1,
            "/blog/one/": 9, "/blog/two/": 1, "/blog/three/": 1, "/shop.v2/category/a": 1, "/shop.v2/category/b": 1,
            "/shop.v2/category/c": 1}
    rules = suggest_cleanups(paths_with_counts=seen)
    assert rules == [
        Cleanup(pattern="^/product/<slug>/", replacement="/product/*/"),
        Cleanup(pattern="^/shop\\.v2/category/<slug>$", replacement="/shop.v2/category/*"),
    ]
    assert all(cleanup_rule_problems(pattern=rule.pattern, replacement=rule.replacement) == [] for rule in rules)
    cleaned = {path_clean(url=path, rules=rules) for path in seen}
    assert {"/product/*/", "/product/*/reviews/", "/shop.v2/category/*", "/blog/one/"} <= cleaned
    assert path_clean(url="/shopXv2/category/a", rules=rules) == "/shopXv2/category/a"  # the dot is escaped


def test_any_folder_of_very_many_pages_gets_a_clean_up_rule():
    seen = {f"/docs/page-{index}/": 1 for index in range(CLEANUP_MIN_PAGES)}
    assert suggest_cleanups(paths_with_counts=seen) == [Cleanup(pattern="^/docs/<slug>/", replacement="/docs/*/")]
    fewer = dict(list(seen.items())[:-1])
    assert suggest_cleanups(paths_with_counts=fewer) == []
