"""Each vocabulary of the rule language is written once: campaigns/targeting/vocabulary.py.

Two kinds of guard:

- **Nothing outside the registry spells a word of it.** The Python modules that speak the rule language (the core's
  `campaigns/rules.py` and every module of `campaigns/targeting/` but the registry) are read with `ast`: a string
  constant that is a trigger name or an operator name fails, and so does a module-level opcode constant (`R_*`,
  `OP_*`, a leaf flag) or a compiled leaf built with a literal number where an opcode goes. The scan is scoped to
  those modules because elsewhere the same words belong to other vocabularies (run over all of campaigns/ and
  widget/, the scan finds only the event types "click" and "event" of collect and the tally, and the campaign JSON
  the seed commands write as a marketer would, which validation checks); inside the scope the few words that belong
  to another vocabulary are listed in OTHER_VOCABULARIES with the reason, and an entry that is no longer needed
  fails too, so the list only shrinks. A
  module names an operator it treats specially through the registry's constants (`vocabulary.EQUALS`), which the
  registry checks against its table when it loads.
- **The widget's copies are held equal.** `widget/src/core/rules.js` indexes its
  resolvers and operators by the registry's numbers: its RESOLVE and OPS arrays have exactly as many entries as the
  registry names, and each number it writes inline (the regex operator, the resolvers it reuses, the flag bits) is
  the registry's. `widget/src/core/triggers.js` arms exactly the registry's triggers, each
  reading exactly as many parameters as the registry sends. The behaviour behind the numbers is the conformance
  cases' to prove (node runs the compiled cases), so this test holds the numbering, not the semantics.
"""

import ast
import re
import string
from pathlib import Path

import pytest

from campaigns import rules
from campaigns.targeting import vocabulary as vocab
from campaigns.targeting.vocabulary import NEGATED, OPERATORS, TRIGGERS

ROOT = Path(__file__).resolve().parents[3]
REGISTRY = ROOT / "campaigns" / "targeting" / "vocabulary.py"
SCOPE = sorted([ROOT / "campaigns" / "rules.py", *(ROOT / "campaigns" / "targeting").glob("*.py")])
# (module, word): why the word is not the rule language's there.
OTHER_VOCABULARIES = {
    ("campaigns/targeting/validation.py", "event"): "a goal type (GOAL_TYPES), not the event trigger",
}
OPCODE_NAMES = frozenset({*vocab.RESOLVERS, *vocab.OPCODES, *vocab.FLAGS})
OPCODE_LIKE = re.compile(r"(R|OP)_[A-Z_]+")  # an opcode by another name (R_NUM was once R_NUMBER_AT elsewhere)
# Functions whose arguments 0 and 2 are a resolver and an operator number.
LEAF_BUILDERS = {"_leaf"}
WORDS = {**{name: "trigger" for name in TRIGGERS}, **{name: "operator" for name in OPERATORS}}


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes (prose may name a trigger)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _is_numbers(value: ast.expr) -> bool:
    """An int, a tuple of ints or a range(): what an opcode assignment looks like (a message template is not)."""
    if isinstance(value, ast.Constant):
        return isinstance(value.value, int)
    if isinstance(value, ast.Tuple):
        return all(_is_numbers(item) for item in value.elts)
    return isinstance(value, ast.Call) and getattr(value.func, "id", None) == "range"


def vocabulary_spelled_out(path: Path) -> list[str]:
    """Each place a module spells a trigger name, an operator name or an opcode instead of reading the registry."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skip = _docstrings(tree)
    module = _relative(path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            kind = WORDS.get(node.value)
            if kind and (module, node.value) not in OTHER_VOCABULARIES:
                found.append(f"{module}:{node.lineno}: the {kind} {node.value!r}")
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            numbers = _is_numbers(node.value)
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name) and (
                        name.id in OPCODE_NAMES or numbers and OPCODE_LIKE.fullmatch(name.id)
                    ):
                        found.append(f"{module}:{node.lineno}: defines the opcode {name.id}")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in LEAF_BUILDERS:
            for index in (0, 2):
                if index < len(node.args) and isinstance(node.args[index], ast.Constant):
                    found.append(f"{module}:{node.lineno}: a leaf with the literal opcode {node.args[index].value!r}")
    return found


def test_the_scan_sees_a_trigger_an_operator_and_an_opcode_written_by_hand(tmp_path):
    """The guard below is only as good as the scan: each kind of copy is caught, prose and other words are not."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Fires on exit_intent."""\n'
        'KIND = "exit_intent"\n'
        'def f(op):\n    return op == "not_contains" or "click here" == op\n'
        "R_URL = 0\n"
        "R_NUM, R_OTHER = range(2)\n"
        'OP_NOT_FOR_ATTRIBUTE = "{path}: operator {op!r} does not apply"\n'
        "rule = _leaf(3, ['consent'], 1, ['granted'])\n"
        "ok = _leaf(vocab.R_AT, ['consent'], vocab.OP_EQ, ['granted'])\n"
    )
    found = sorted(line.split(": ", 1)[1] for line in vocabulary_spelled_out(sample))
    assert found == sorted([
        "the trigger 'exit_intent'",
        "the operator 'not_contains'",
        "defines the opcode R_URL",
        "defines the opcode R_NUM",
        "defines the opcode R_OTHER",
        "a leaf with the literal opcode 3",
        "a leaf with the literal opcode 1",
    ])


def test_the_scan_covers_the_core_and_every_targeting_module():
    names = {_relative(path) for path in SCOPE}
    assert {"campaigns/rules.py", "campaigns/targeting/validation.py", "campaigns/targeting/compile.py",
            "campaigns/targeting/describe.py", "campaigns/targeting/checks.py"} <= names
    assert REGISTRY in SCOPE


def test_no_trigger_operator_or_opcode_is_written_outside_the_registry():
    found = [line for path in SCOPE if path != REGISTRY for line in vocabulary_spelled_out(path)]
    assert found == [], "read these from campaigns/targeting/vocabulary.py"


def test_each_word_listed_as_another_vocabulary_is_still_there():
    for module, word in OTHER_VOCABULARIES:
        tree = ast.parse((ROOT / module).read_text())
        assert any(isinstance(n, ast.Constant) and n.value == word for n in ast.walk(tree)), (module, word)


# ---------------------------------------------------------------- the registry against its readers


def test_the_evaluator_has_one_function_per_positive_operator():
    assert set(rules.OPS) == {name for name, op in OPERATORS.items() if not op.negates}
    assert set(rules.OPERATORS) == set(OPERATORS)
    assert all(positive in rules.OPS for positive in NEGATED.values())


def test_every_attribute_kind_has_operators_and_every_operator_a_kind():
    kinds = {kind for kind, _, _ in rules.ATTRS.values()} | {kind for kind, _, _ in rules.PREFIXED.values()}
    assert kinds <= set(vocab.KINDS)
    assert all(vocab.OPS_BY_KIND[kind] for kind in vocab.KINDS)
    assert all(set(op.kinds) <= set(vocab.KINDS) for op in OPERATORS.values())


def test_opcode_numbers_are_dense_and_named_in_order():
    for names in (vocab.RESOLVERS, vocab.OPCODES):
        assert [getattr(vocab, name) for name in names] == list(range(len(names)))
    assert {op.opcode for op in OPERATORS.values()} == set(range(len(vocab.OPCODES)))
    assert [getattr(vocab, name) for name in vocab.FLAGS] == [1, 2, 4]


def test_every_attribute_compiles_to_a_known_resolver():
    resolvers = [resolver for _, _, (resolver, _) in rules.ATTRS.values()]
    resolvers += [compiled("x.seen")[0] for _, _, compiled in rules.PREFIXED.values()]
    assert set(resolvers) <= set(range(len(vocab.RESOLVERS)))


def test_trigger_defaults_are_inside_their_bounds_and_required_parameters_have_none():
    for name, trigger in TRIGGERS.items():
        for param in trigger.params:
            if param.required:
                assert param.default is None, (name, param.name)
            elif isinstance(param.kind, tuple):
                assert param.default in param.kind, (name, param.name)
            elif param.low is not None and param.kind != "str":
                assert param.low <= param.default <= param.high, (name, param.name)
            fields = {field for _, field, _, _ in string.Formatter().parse(trigger.phrase) if field}
            assert fields <= {p.name for p in trigger.params}, name


def _trigger_table(doc: str) -> list[str]:
    text = (ROOT / "docs" / doc).read_text()
    return re.findall(r"^\| `([a-z_]+)` \| `?[{a-z]", text[text.index("| type |"):], flags=re.MULTILINE)


@pytest.mark.parametrize("doc", ["contracts.md", "rules.md"])
def test_the_docs_list_exactly_the_registry_triggers(doc):
    names = _trigger_table(doc)
    assert names[: len(TRIGGERS)] == list(TRIGGERS)


# ---------------------------------------------------------------- the widget's copies


def _widget_file(name: str) -> Path:
    """widget/src/core/<name>: the core bundle's files, where the rules VM and the triggers live."""
    return ROOT / "widget" / "src" / "core" / name


def _without_comments(source: str) -> str:
    return re.sub(r"^\s*//.*$", "", source, flags=re.MULTILINE)


def _array_entries(source: str, name: str) -> list[str]:
    """The top-level entries of `const NAME = [ ... ];` (strings and nested brackets skipped)."""
    start = source.index(f"const {name} = [") + len(f"const {name} = [")
    depth, entries, current, quote, i = 0, [], "", None, start
    while True:
        ch = source[i]
        if quote:
            quote = None if ch == quote and source[i - 1] != "\\" else quote
        elif ch in "'\"`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif ch == "," and depth == 0:
            entries.append(current)
            current = ""
            i += 1
            continue
        current += ch
        i += 1
    entries.append(current)
    return [entry for entry in (e.strip() for e in entries) if entry]


def test_the_widget_has_one_resolver_and_one_operator_per_registry_number():
    source = _without_comments(_widget_file("rules.js").read_text())
    assert len(_array_entries(source, "RESOLVE")) == len(vocab.RESOLVERS)
    assert len(_array_entries(source, "OPS")) == len(vocab.OPCODES)


def test_the_numbers_the_widget_writes_inline_are_the_registry_ones():
    source = _without_comments(_widget_file("rules.js").read_text())
    # the operator a leaf checks by number: the regex (an invalid pattern never matches)
    assert set(re.findall(r"\bo == (\d+)", source)) == {str(vocab.OP_REGEX)}
    # the resolvers reused by others: a number at a path (returning's sessions), the query (utm's fallback)
    assert re.search(rf"RESOLVE\[{vocab.R_NUMBER_AT}\]\(c, \['visitor', 'sessions'\]\)", source)
    assert re.search(rf"RESOLVE\[{vocab.R_QUERY}\]\(c, 'utm_' \+ n\)", source)
    assert set(re.findall(r"RESOLVE\[(\d+)\]", source)) == {str(vocab.R_NUMBER_AT), str(vocab.R_QUERY)}
    # the flag bits
    flags = {int(bit) for bit in re.findall(r"\bf & (\d+)", source)}
    assert flags == {vocab.NEGATE, vocab.CASE_SENSITIVE, vocab.PATH_TRIM}
    assert re.search(rf"neg = f & {vocab.NEGATE}\b", source)
    assert re.search(rf"f & {vocab.CASE_SENSITIVE} \? '' : 'i'", source)
    assert re.search(rf"f & {vocab.PATH_TRIM} \? _trim", source)


def _trigger_entries(source: str) -> dict[str, str]:
    """name -> the text of its entry in `export const TRIGGERS = { ... };`."""
    block = source[source.index("export const TRIGGERS = {"):]
    block = block[: block.index("\n};")]
    parts = re.split(r"^  (\w+)(?=[:(,])", block, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def _arity(source: str, entry: str, name: str) -> int:
    """How many parameters a trigger reads: the array it destructures, or that of the function it hands them to."""
    direct = re.match(r"[:(]\s*(?:\()?fire, \[([^\]]*)\]", entry) or re.match(r"\(fire, \[([^\]]*)\]", entry)
    if direct:
        return len([p for p in direct.group(1).split(",") if p.strip()])
    for ident in [name.replace("_", ""), *re.findall(r"\b([A-Za-z_]\w*)\b", entry)]:
        found = re.search(rf"function {ident}\(fire, \[([^\]]*)\]", source)
        if found:
            return len([p for p in found.group(1).split(",") if p.strip()])
    raise AssertionError(f"cannot tell how many parameters {name} reads")


def test_the_widget_arms_exactly_the_registry_triggers_with_their_parameter_count():
    source = _without_comments(_widget_file("triggers.js").read_text())
    entries = _trigger_entries(source)
    assert sorted(entries) == sorted(TRIGGERS)
    for name, entry in entries.items():
        assert _arity(source, entry, name) == len(TRIGGERS[name].params), name
