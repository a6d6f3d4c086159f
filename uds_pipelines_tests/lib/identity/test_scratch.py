"""Identity's DuckDB scratch tables are named once, in lib/identity/scratch.py (source scans)."""

import ast
import re
from pathlib import Path

from uds_pipelines.lib.identity import scratch

IDENTITY = Path(scratch.__file__).resolve().parent
NAME = re.compile(r"_idr_[a-z0-9_]+")
DECLARED = {k: v for k, v in vars(scratch).items() if k.isupper() and isinstance(v, str)}


def _modules():
    return [f for f in sorted(IDENTITY.glob("*.py")) if f.name != "scratch.py"]


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def test_declarations_are_unique_scratch_names():
    assert all(NAME.fullmatch(v) for v in DECLARED.values()), DECLARED
    assert len(set(DECLARED.values())) == len(DECLARED)


def test_every_scratch_name_mentioned_in_identity_is_declared():
    """Docstrings and comments may name a table; it must still be one scratch.py declares."""
    undeclared = [
        f"{f.name}:{n}: {name}"
        for f in _modules()
        for n, line in enumerate(f.read_text().splitlines(), 1)
        for name in NAME.findall(line)
        if name not in DECLARED.values()
    ]
    assert not undeclared, "scratch table names not declared in scratch.py:\n" + "\n".join(undeclared)


def test_code_takes_scratch_names_from_scratch():
    """No string literal (f-string parts included) outside docstrings spells an `_idr_` name."""
    spelled = []
    for f in _modules():
        tree = ast.parse(f.read_text())
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                spelled += [f"{f.name}:{node.lineno}: {name}" for name in NAME.findall(node.value)]
    assert not spelled, "use the scratch.py constant:\n" + "\n".join(spelled)


def test_every_declared_name_is_used():
    source = "\n".join(f.read_text() for f in _modules())
    unused = [k for k in DECLARED if not re.search(rf"\bscratch\.{k}\b", source)]
    assert not unused, f"declared in scratch.py but never used: {unused}"
