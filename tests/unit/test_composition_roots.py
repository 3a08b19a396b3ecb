"""Each Lambda function has one composition root: one cached function that binds the tables
and builds the adapters, on the first request (test_cold_imports checks nothing runs at
import). Routes reach the adapters through it, never call it only for its side effect."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HANDLERS = Path(__file__).resolve().parents[2] / "functions" / "handlers"


def _functions() -> dict[str, list[Path]]:
    """Each Lambda function's modules: a handler module, or a handler package (web)."""
    found: dict[str, list[Path]] = {}
    for path in sorted(HANDLERS.rglob("*.py")):
        relative = path.relative_to(HANDLERS)
        name = relative.parts[0] if len(relative.parts) > 1 else relative.stem
        found.setdefault(name, []).append(path)
    return found


def _binds(node: ast.AST) -> bool:
    return any(
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "bind"
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "store"
        for call in ast.walk(node)
    )


def _is_cached(function: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "cache" for d in function.decorator_list)


FUNCTIONS = {name: paths for name, paths in _functions().items() if name != "__init__"}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_a_function_binds_its_tables_in_one_cached_composition_root(function: str) -> None:
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in FUNCTIONS[function]]
    roots = [
        node
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and _binds(node)
    ]

    assert len(roots) <= 1, f"{function} binds the tables in {[r.name for r in roots]}"
    if not roots:
        return
    (root,) = roots
    assert _is_cached(root), f"{function}'s composition root {root.name} runs more than once"
    discarded = [
        node.lineno
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == root.name
    ]
    assert discarded == [], f"{function} calls {root.name}() for its side effect: {discarded}"
