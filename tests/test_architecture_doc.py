"""docs/architecture.md names real files and symbols: its layout, its walk and its "where is" table cannot drift.

Each row of those tables names a `path` and a `symbol`. A Python symbol is defined at module level in that file
(`def`, `class` or an assignment), or `Class.member` inside such a class; a JavaScript symbol is a `function`,
`const`, `let` or `class` of that name in that file. A row for something not built yet names the folder reserved
for it, with the symbol `-`: the folder must not exist yet, so building it makes this test demand a real row.
In the layout, each file or folder named in backticks under a package's heading exists somewhere in that package
(or, when it starts with a package's name, at that path).
"""

import ast
import os
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
TABLES = ("## Where is", "## One event's walk")
NOT_BUILT = "-"
MAX_HOPS = 10

_CODE = re.compile(r"`([^`]+)`")
_PACKAGE_HEADING = re.compile(r"^### `([a-z]+)/`", flags=re.MULTILINE)
_FILE_OR_FOLDER = re.compile(r"[\w./-]+(?:\.py|\.js|\.mjs|/)")
SKIPPED_FOLDERS = {"node_modules", "__pycache__"}
LAYOUT_PACKAGES = ("campaigns", "widget", "retarget")


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start:] if end == -1 else text[start:end]


def table_rows(text: str, heading: str) -> list[tuple[str, str, str]]:
    """(first cell, path, symbol) of each body row of the section's table: its last two cells are `path`, `symbol`."""
    rows = []
    for line in _section(text, heading).splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3 or set(cells[-1]) <= {"-", " "} and cells[-1] != NOT_BUILT:
            continue
        path, symbol = (_CODE.fullmatch(cell) for cell in cells[-2:])
        if path is None or cells[-2] == "path":
            continue
        rows.append((cells[0], path[1], symbol[1] if symbol else cells[-1]))
    return rows


@cache
def _python_names(path: Path) -> dict[str, set[str]]:
    """Module-level names of a Python file, each with the names its class body defines (empty for the rest)."""
    names: dict[str, set[str]] = {}
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names[node.name] = set()
        elif isinstance(node, ast.ClassDef):
            names[node.name] = {name for child in node.body for name in _defined(child)}
        else:
            names.update((name, set()) for name in _defined(node))
    return names


def _defined(node: ast.stmt) -> list[str]:
    """The names a statement defines: a function's or class's, or each name an assignment binds (tuples too)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
    return [name.id for target in targets for name in ast.walk(target) if isinstance(name, ast.Name)]


def python_defines(path: Path, symbol: str) -> bool:
    outer, _, inner = symbol.partition(".")
    names = _python_names(path)
    return outer in names and (not inner or inner in names[outer])


def js_defines(path: Path, symbol: str) -> bool:
    pattern = rf"^\s*(?:export\s+)?(?:async\s+)?(?:function\*?|const|let|class)\s+{re.escape(symbol)}\b"
    return re.search(pattern, path.read_text(), flags=re.MULTILINE) is not None


def defines(path: Path, symbol: str) -> bool:
    if path.suffix == ".py":
        return python_defines(path, symbol)
    if path.suffix in (".js", ".mjs"):
        return js_defines(path, symbol)
    raise AssertionError(f"{path}: only .py and .js files can name a symbol here")


def _rows() -> list[tuple[str, str, str]]:
    text = DOC.read_text()
    return [row for heading in TABLES for row in table_rows(text, heading)]


def test_the_tables_are_read_whole():
    """A table the parser cannot read would make the test below pass on nothing."""
    text = DOC.read_text()
    assert len(table_rows(text, "## Where is")) >= 20
    assert 5 <= len(table_rows(text, "## One event's walk")) <= MAX_HOPS


def test_the_parser_sees_a_wrong_row():
    text = "## Where is\n| what | path | symbol |\n|---|---|---|\n| x | `a.py` | `b` |\n| y | `c/` | - |\n"
    assert table_rows(text, "## Where is") == [("x", "a.py", "b"), ("y", "c/", "-")]
    assert not python_defines(ROOT / "campaigns" / "rules.py", "no_such_function")
    assert python_defines(ROOT / "campaigns" / "rules.py", "decide")
    assert not js_defines(ROOT / "widget" / "src" / "core" / "transport.js", "createTransports")


@pytest.mark.parametrize(("what", "path", "symbol"), _rows(), ids=lambda value: str(value)[:40])
def test_every_row_names_a_file_that_defines_its_symbol(what: str, path: str, symbol: str):
    if symbol == NOT_BUILT:
        assert "not built yet" in what, f"{what}: a row without a symbol is for something not built yet"
        assert not (ROOT / path).exists(), f"{path} exists now: name its file and symbol in docs/architecture.md"
        return
    assert (ROOT / path).is_file(), f"{what}: {path} is not a file (moved? update docs/architecture.md)"
    assert defines(ROOT / path, symbol), f"{what}: {path} defines no {symbol} (renamed? update docs/architecture.md)"


def layout_names(text: str) -> list[tuple[str, str]]:
    """(package, name) for each file or folder in backticks under a `### `package/`` heading of the layout."""
    layout = _section(text, "## Layout")
    headings = list(_PACKAGE_HEADING.finditer(layout))
    return [
        (heading[1], name)
        for heading, following in zip(headings, [*headings[1:], None], strict=True)
        for name in _CODE.findall(layout[heading.end():following.start() if following else len(layout)])
        if _FILE_OR_FOLDER.fullmatch(name)
    ]


@cache
def package_paths(package: str) -> frozenset[str]:
    """Every file and folder of a package, relative to it, folders ending in "/"."""
    paths = set()
    for folder, folders, files in os.walk(ROOT / package):
        folders[:] = [name for name in folders if name not in SKIPPED_FOLDERS]
        relative = Path(folder).relative_to(ROOT / package).as_posix()
        prefix = "" if relative == "." else relative + "/"
        paths.update(prefix + name + "/" for name in folders)
        paths.update(prefix + name for name in files)
    return frozenset(paths)


def test_the_layout_is_read_whole():
    names = layout_names(DOC.read_text())
    assert {package for package, _name in names} == set(LAYOUT_PACKAGES)
    assert len(names) >= 60


@pytest.mark.parametrize(("package", "name"), layout_names(DOC.read_text()), ids=lambda value: str(value))
def test_every_file_the_layout_names_exists_in_its_package(package: str, name: str):
    if name.split("/")[0] in LAYOUT_PACKAGES:  # a path from the root, such as retarget/gunicorn.conf.py
        assert (ROOT / name).exists(), f"the layout names {name}, which does not exist"
        return
    found = [path for path in package_paths(package) if path == name or path.endswith("/" + name)]
    assert found, f"the layout names {name} under {package}/, which has no such file or folder"
