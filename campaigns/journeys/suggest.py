"""Page groups and stages suggested from the paths a site's visitors saw, for the owner to accept or edit.

A path's segments are read for words that name a kind of page (`cart`, `checkout`, `blog`, `product` ...), the most
telling one winning (a thank-you page inside a checkout is a thank-you page). A group covers the path up to that
word, whatever follows it, so `/en/shop/product/<slug>/` gives "Product" for `/en/shop/product/`; the same kind of
page under two prefixes gives two groups, each named with its prefix. A blog folder with its own sub-folders gives
a group per sub-folder ("Blog: seo"), tried before the blog's own group. `suggest_cleanups` suggests the clean-up
rules that count a folder of many pages of one template as one path. Plain data in, answers out.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from campaigns.journeys.paths import ID_PLACEHOLDER, STAGES, Cleanup, Group

# (kind, name, stage, the words of a path segment that name it), most telling first. No one-letter words: "/p/"
# may be a product folder, but "/c/" and "/s/" are as often anything else.
KINDS: tuple[tuple[str, str, str, frozenset[str]], ...] = (
    ("thanks", "Thank you", "retention", frozenset({
        "thank-you", "thankyou", "thanks", "thank_you", "order-received", "order-confirmation", "order-complete",
        "confirmation", "success",
    })),
    ("checkout", "Checkout", "decision", frozenset({"checkout", "payment", "billing", "shipping"})),
    ("cart", "Cart", "decision", frozenset({"cart", "basket", "bag", "panier", "warenkorb"})),
    ("account", "Account", "retention", frozenset({
        "account", "my-account", "orders", "order-history", "profile", "subscriptions", "login", "signin",
    })),
    ("advocacy", "Reviews and referrals", "advocacy", frozenset({
        "review", "reviews", "refer", "referral", "referrals", "invite", "affiliate", "affiliates", "share",
    })),
    ("pricing", "Pricing", "consideration", frozenset({"pricing", "plans", "compare", "comparison", "features"})),
    ("product", "Product", "consideration", frozenset({"product", "products", "item", "items"})),
    ("category", "Category", "consideration", frozenset({
        "category", "categories", "collections", "collection", "shop", "store",
    })),
    ("search", "Search", "consideration", frozenset({"search"})),
    ("blog", "Blog", "awareness", frozenset({
        "blog", "blogs", "articles", "article", "news", "guides", "guide", "learn", "resources", "posts", "post",
        "stories", "magazine",
    })),
)
_RANK = {kind: rank for rank, (kind, _name, _stage, _words) in enumerate(KINDS)}
_WORDS = {word: kind for kind, _name, _stage, words in KINDS for word in words}
_INFO = {kind: (name, stage) for kind, name, stage, _words in KINDS}
HOME = "Home"
# A blog sub-folder gets its own group from this many distinct paths under it.
SUBFOLDER_MIN_PATHS = 2


@dataclass(frozen=True)
class Suggestion:
    """A suggested group (as `Group`), with the page views and distinct paths of the seen URLs it covers."""

    group: Group
    pageviews: int
    paths: int


def _kind_of(segments: list[str]) -> tuple[str, int] | None:
    """The most telling kind of page a path's segments name, and the index of the segment that names it."""
    found = None
    for index, segment in enumerate(segments):
        kind = _WORDS.get(segment.lower())
        if kind is not None and (found is None or _RANK[kind] < _RANK[found[0]]):
            found = (kind, index)
    return found


def _prefix_rule(prefix: str) -> dict[str, str]:
    """The URL rule for the folder `prefix` (no trailing slash): the folder itself and everything under it."""
    return {"op": "regex", "value": "^" + re.escape(prefix) + "(/|$)"}


def suggest_groups(*, paths_with_counts: Mapping[str, int] | Iterable[tuple[str, int]]) -> list[Suggestion]:
    """Groups and stages for the cleaned paths seen (path -> page views), most specific rule first.

    Only kinds of pages the words above name are suggested (and "Home" for `/`): a path that names none is left
    for the owner to group, or to read as itself on the map.
    """
    items = paths_with_counts.items() if isinstance(paths_with_counts, Mapping) else paths_with_counts
    folders: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)  # (kind, folder) -> path -> views
    home: dict[str, int] = {}
    for path, count in items:
        if not isinstance(path, str) or not path.startswith("/"):
            continue
        segments = [segment for segment in path.split("/") if segment]
        if not segments:
            home[path] = home.get(path, 0) + count
            continue
        found = _kind_of(segments)
        if found is None:
            continue
        kind, index = found
        folder = "/" + "/".join(segments[: index + 1])
        folders[kind, folder][path] = folders[kind, folder].get(path, 0) + count
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, folder in folders:
        by_kind[kind].append(folder)
    found: list[tuple[Group, int, int, int]] = []  # group, depth (deeper first), views, paths
    for (kind, folder), paths in folders.items():
        name, stage = _INFO[kind]
        if len(by_kind[kind]) > 1:
            name = f"{name} ({folder})"
        depth = folder.count("/")
        found.append((Group(name=name, rule=_prefix_rule(folder), stage=stage), depth, sum(paths.values()),
                      len(paths)))
        if kind == "blog":
            found += _subfolders(folder=folder, name=name, stage=stage, paths=paths)
    if home:
        found.append((Group(name=HOME, rule={"op": "equals", "value": "/"}, stage="awareness"), 0,
                      sum(home.values()), len(home)))
    found.sort(key=lambda item: (-item[1], STAGES.index(item[0].stage), -item[2], item[0].name))
    return [
        Suggestion(group=Group(name=group.name, rule=group.rule, stage=group.stage, order=(order + 1) * 10),
                   pageviews=views, paths=count)
        for order, (group, _depth, views, count) in enumerate(found)
    ]


def _subfolders(*, folder: str, name: str, stage: str, paths: dict[str, int]) -> list[tuple[Group, int, int, int]]:
    under: dict[str, dict[str, int]] = defaultdict(dict)
    for path, count in paths.items():
        rest = [segment for segment in path[len(folder):].split("/") if segment]
        if len(rest) >= 2:  # a sub-folder and a page in it
            under[f"{folder}/{rest[0]}"][path] = count
    return [
        (Group(name=f"{name}: {sub.rsplit('/', 1)[1]}", rule=_prefix_rule(sub), stage=stage), sub.count("/"),
         sum(seen.values()), len(seen))
        for sub, seen in under.items()
        if len(seen) >= SUBFOLDER_MIN_PATHS
    ]


# A folder gets a clean-up rule that counts its pages as one when it has this many distinct pages (fewer for the
# kinds of folder whose pages are one template: products, categories, search results).
CLEANUP_MIN_PAGES = 50
CLEANUP_MIN_TEMPLATE_PAGES = 3
_TEMPLATE_KINDS = frozenset({"product", "category", "search"})


def suggest_cleanups(*, paths_with_counts: Mapping[str, int] | Iterable[tuple[str, int]]) -> list[Cleanup]:
    """Clean-up rules that count the many pages of one folder as one path (`/product/<slug>/` -> `/product/*/`).

    A folder qualifies when it holds CLEANUP_MIN_PAGES distinct pages, or CLEANUP_MIN_TEMPLATE_PAGES when its name
    says products, categories or search results. The rule keeps the site's trailing-slash style.
    """
    items = paths_with_counts.items() if isinstance(paths_with_counts, Mapping) else paths_with_counts
    children: dict[str, set[str]] = defaultdict(set)
    slashed: dict[str, int] = defaultdict(int)
    for path, _count in items:
        if not isinstance(path, str) or not path.startswith("/") or "<" in path:
            continue
        segments = path.split("/")[1:]
        for index in range(1, len(segments)):
            child = segments[index]
            if not child or child == ID_PLACEHOLDER:
                continue
            folder = "/" + "/".join(segments[:index])
            children[folder].add(child)
            slashed[folder] += 1 if index + 1 < len(segments) else -1
    found = []
    for folder, names in sorted(children.items()):
        kind = _WORDS.get(folder.rsplit("/", 1)[1].lower())
        needed = CLEANUP_MIN_TEMPLATE_PAGES if kind in _TEMPLATE_KINDS else CLEANUP_MIN_PAGES
        if len(names) < needed:
            continue
        prefix = "^" + re.escape(folder)
        if slashed[folder] >= 0:
            found.append(Cleanup(pattern=f"{prefix}/<slug>/", replacement=f"{folder}/{ID_PLACEHOLDER}/"))
        else:
            found.append(Cleanup(pattern=f"{prefix}/<slug>$", replacement=f"{folder}/{ID_PLACEHOLDER}"))
    return found
