"""The layering, checked: dependencies point one way (handlers → domain → ports; adapters
implement the ports and may import domain types). This test reads every module under
`functions/` (imports inside functions count too; `if TYPE_CHECKING:` ones do not, they never
run) and fails on an import circle, or on a domain module importing an adapter."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "functions"
ADAPTERS = ("functions.store", "boto3", "botocore", "pynamodb")
"""What only `functions/store` and the handlers (composition roots) may import."""
OUTSIDE_DOMAIN = ("functions.store", "functions.handlers")
"""Adapters and handlers; every other module under functions/ is domain."""

# Known violations, each with its reason, to be removed when its cause is fixed (the test fails
# on a stale entry). None left when this test was written: keep it that way.
ALLOWED_CIRCLES: dict[frozenset[str], str] = {}
ALLOWED_ADAPTER_IMPORTS: dict[tuple[str, str], str] = {}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(module: str, path: Path) -> set[str]:
    """The modules `module` imports at run time (a `from package import name` of a submodule
    counts as importing the submodule)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in child.names:
                    submodule = f"{base}.{alias.name}"
                    found.add(submodule if submodule in MODULES else base)
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return found


GRAPH = {module: _imported(module, path) for module, path in MODULES.items()}


def _circles() -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan), and self-imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in GRAPH:
                continue
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1 or node in GRAPH[node]:
                found.append(frozenset(component))

    for module in sorted(GRAPH):
        if module not in index:
            connect(module)
    return found


def _is_domain(module: str) -> bool:
    return not any(module == o or module.startswith(f"{o}.") for o in OUTSIDE_DOMAIN)


def _adapter_imports() -> set[tuple[str, str]]:
    return {
        (module, target)
        for module, targets in GRAPH.items()
        if _is_domain(module)
        for target in targets
        if any(target == a or target.startswith(f"{a}.") for a in ADAPTERS)
    }


def test_the_walk_sees_the_package() -> None:
    # Given the modules under functions/, When their imports are read
    # Then the walk finds the layers and the known edges (so an empty result means something)
    assert {"functions.billing_run", "functions.store.billing_ports"} <= set(GRAPH)
    assert "functions.billing_run" in GRAPH["functions.store.billing_ports"]
    assert "functions.integrations.model" in GRAPH["functions.integrations.admin"]
    assert {"functions.orders.checks", "functions.orders.model", "functions.orders.reuse"} <= (
        GRAPH["functions.orders.decision"]
    )


def test_no_import_circle() -> None:
    circles = set(_circles())
    unexpected = sorted(sorted(circle) for circle in circles - set(ALLOWED_CIRCLES))
    assert not unexpected, f"import circles: {unexpected}"
    stale = [sorted(circle) for circle in ALLOWED_CIRCLES if circle not in circles]
    assert not stale, f"allowed circles that no longer exist (remove them): {stale}"


def test_domain_modules_import_no_adapter() -> None:
    found = _adapter_imports()
    unexpected = sorted(found - set(ALLOWED_ADAPTER_IMPORTS))
    assert not unexpected, f"domain modules importing adapters: {unexpected}"
    stale = sorted(set(ALLOWED_ADAPTER_IMPORTS) - found)
    assert not stale, f"allowed adapter imports that no longer exist (remove them): {stale}"
