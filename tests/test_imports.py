"""The import rules of our packages (campaigns, widget, retarget), read from the source with `ast`.

Every `import` and `from ... import` counts, at module level or inside a function (a lazy import is still an
edge: it only moves the cycle from import time to call time). `from package import name` is an edge to the
submodule `package.name` when there is one, else to the package. Django's string references (INSTALLED_APPS,
`include("widget.urls")`) are not imports and do not count; migrations are left out (Django loads them by path).

The allow-lists below hold exactly today's exceptions: a new cycle or forbidden edge fails, and so does an allowed
one that has gone, so that each list only shrinks.
"""

import ast
from collections.abc import Iterable
from functools import cache
from itertools import permutations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("campaigns", "widget", "retarget")

# Module cycles (strongly connected components of the module graph), each with the edges that close it.
ALLOWED_CYCLES: set[frozenset[str]] = set()  # none today: keep it that way

# Package cycles: the simple cycles of the package graph (each a set of packages, here pairs importing each other).
ALLOWED_PACKAGE_CYCLES = {
    # campaigns -> widget: the snippet only (the embed code shown to site owners, in the admin and the sites API).
    frozenset({"campaigns", "widget"}),
}

# campaigns imports nothing from widget but the snippet (the embed code shown to site owners).
CAMPAIGNS_MAY_IMPORT_FROM_WIDGET = frozenset({"widget.snippet"})
ALLOWED_CAMPAIGNS_TO_WIDGET: set[tuple[str, str]] = set()  # none today: keep it that way

# The core: plain data in, answers out. Neither they nor anything of ours they import (transitively) may reach
# the ORM, a request or a face.
CORE = ("campaigns.rules", "campaigns.assignment", "campaigns.stats")
CORE_FORBIDDEN_OURS = ("campaigns.models", "campaigns.admin", "campaigns.api", "widget", "retarget")
CORE_FORBIDDEN_OTHERS = ("django.db", "django.http", "django.test", "django.contrib.admin", "django.shortcuts",
                         "django.views", "rest_framework")
ALLOWED_CORE_EDGES: set[tuple[str, str]] = set()  # none today: keep it that way

# The faces: they call services, selectors and the core, never each other; nothing below them imports one (the URL
# confs and the project's views mount them).
FACES = ("campaigns.admin", "campaigns.api", "widget.api")
MAY_IMPORT_FACES = ("campaigns.urls", "campaigns.urls_results", "widget.urls", "retarget")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def our_modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts and "node_modules" not in path.parts
    }


def _ours(name: str) -> str | None:
    """The module of ours that importing `name` runs (the longest prefix that is one), or None."""
    modules = our_modules()
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imported_names(module: str) -> set[str]:
    """Every dotted name `module` imports, anywhere in it, resolved to absolute names."""
    path = our_modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                names.add(submodule if submodule in our_modules() else base)
    return names


@cache
def graph() -> dict[str, frozenset[str]]:
    """Our modules and the modules of ours each imports (itself left out)."""
    return {
        module: frozenset(target for name in imported_names(module) if (target := _ours(name)) not in (None, module))
        for module in our_modules()
    }


def cycles(edges: dict[str, Iterable[str]]) -> set[frozenset[str]]:
    """The strongly connected components of more than one node (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.add(frozenset(component))
    return found


def _package(module: str) -> str:
    return module.split(".")[0]


def _under(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def _named(components: Iterable[frozenset[str]]) -> list[str]:
    return sorted(" <-> ".join(sorted(component)) for component in components)


def test_the_graph_sees_lazy_and_relative_imports():
    """The rules below are only as good as the graph: a lazy import inside a function and a relative one count."""
    assert "campaigns.tasks" in graph()["campaigns.apps"]  # inside CampaignsConfig.ready
    assert "retarget.celery" in graph()["retarget"]  # from .celery import app
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == {frozenset("abc")}
    assert cycles({"a": {"b"}, "b": set()}) == set()


def test_no_module_import_cycle_beyond_the_allowed_ones():
    found = cycles(graph())
    assert _named(found - ALLOWED_CYCLES) == [], "a new import cycle (or an allowed one grew)"
    assert _named(ALLOWED_CYCLES - found) == [], "an allowed cycle is gone: remove it from ALLOWED_CYCLES"


def test_no_package_import_cycle_beyond_the_allowed_ones():
    edges: dict[str, set[str]] = {package: set() for package in PACKAGES}
    for module, targets in graph().items():
        edges[_package(module)].update(_package(target) for target in targets if _package(target) != _package(module))
    found = {
        frozenset(path)
        for size in range(2, len(PACKAGES) + 1)
        for path in permutations(PACKAGES, size)
        if all(path[(i + 1) % size] in edges[path[i]] for i in range(size))
    }
    assert _named(found - ALLOWED_PACKAGE_CYCLES) == [], "a new package cycle"
    assert _named(ALLOWED_PACKAGE_CYCLES - found) == [], "an allowed package cycle is gone: shrink the list"


def test_campaigns_imports_nothing_from_widget_but_the_snippet():
    found = {
        (module, target)
        for module, targets in graph().items() if _package(module) == "campaigns"
        for target in targets if _package(target) == "widget" and target not in CAMPAIGNS_MAY_IMPORT_FROM_WIDGET
    }
    assert sorted(found - ALLOWED_CAMPAIGNS_TO_WIDGET) == [], "campaigns may import only the snippet from widget"
    assert sorted(ALLOWED_CAMPAIGNS_TO_WIDGET - found) == [], "an allowed edge is gone: shrink the list"


def _reached(start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for target in graph()[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_the_core_reaches_no_orm_no_request_and_no_face():
    found = set()
    for core in CORE:
        for module in sorted(_reached(core)):
            if _under(module, CORE_FORBIDDEN_OURS):
                found.add((core, module))
            found.update((core, f"{module} imports {name}") for name in imported_names(module)
                         if _under(name, CORE_FORBIDDEN_OTHERS))
    assert sorted(found - ALLOWED_CORE_EDGES) == [], "the core (rules, assignment, stats) must stay plain"
    assert sorted(ALLOWED_CORE_EDGES - found) == [], "an allowed edge is gone: shrink the list"


def test_faces_import_no_other_face_and_only_url_confs_import_faces():
    def face(module: str) -> str | None:
        return next((prefix for prefix in FACES if _under(module, [prefix])), None)

    found = sorted(
        (module, target)
        for module, targets in graph().items()
        for target in targets
        if face(target) and face(target) != face(module) and not _under(module, MAY_IMPORT_FACES)
    )
    assert found == [], "a face imports another face, or something below the faces imports one"
