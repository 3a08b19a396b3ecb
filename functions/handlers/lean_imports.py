"""Cold start: keep a library package's `__init__` from importing what no handler uses.

`aws_lambda_powertools.event_handler/__init__.py` imports every resolver Powertools has (AppSync,
Bedrock agents, VPC Lattice, Lambda function URLs...), and AppSync pulls in `asyncio`: about a
tenth of `import boto3` on every API function's cold start, for code it never runs. Likewise
`utilities/data_classes/__init__.py` imports all forty event sources (CodePipeline's brings
`zipfile` and `tempfile`) when a resolver wants the API Gateway event or a batch worker the SQS
record, and `event_handler/openapi/__init__.py` its spec merger when a resolver wants its config.
The handlers import what they use from the submodule (`aws_lambda_powertools.event_handler.
api_gateway`), and `defer_package_init` lets them do so without running the package's `__init__`
first.

The package stays whole for everyone else: a name its `__init__` re-exports from one of its own
submodules (`from .alb_event import ALBEvent`, as api_gateway asks of data_classes) is answered
from that submodule alone, the same object the `__init__` would have bound; the first time any
other name is asked of it (`__all__`, a name it defines itself), its real `__init__` runs and
answers. tests/unit/test_cold_imports.py checks the handlers' cold path."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

DEFERRED_PACKAGES = (
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.event_handler.openapi",
    "aws_lambda_powertools.utilities.data_classes",
)


def _reexports(name: str, source: str) -> dict[str, tuple[str, str]]:
    """Name bound by package `name`'s `__init__` → (its submodule, the name there), for each
    `from .sub import X [as Y]` (or `from <name>.sub import ...`) at the top of its source."""
    import ast  # on the first deferred name only (already loaded by Powertools' logger)

    found: dict[str, tuple[str, str]] = {}
    for statement in ast.parse(source).body:
        if not isinstance(statement, ast.ImportFrom) or not statement.module:
            continue
        if statement.level == 1:
            module = f"{name}.{statement.module}"
        elif statement.level == 0 and statement.module.startswith(f"{name}."):
            module = statement.module
        else:
            continue
        for alias in statement.names:
            if alias.name != "*":
                found[alias.asname or alias.name] = (module, alias.name)
    return found


def defer_package_init(name: str) -> None:
    """Register package `name` without running its `__init__` (a no-op once it is imported):
    its submodules import alone, and so do the names it re-exports from them; any other name
    runs the real `__init__` then."""
    if name in sys.modules:
        return
    parent, _, child = name.rpartition(".")
    if parent:
        importlib.import_module(parent)  # the parent's own __init__ runs as in a normal import
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return  # not an importable package here: leave it to the normal import (and its error)
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader
    reexports: dict[str, tuple[str, str]] | None = None

    def __getattr__(attribute: str) -> Any:
        nonlocal reexports
        if importlib.util.find_spec(f"{name}.{attribute}") is not None:
            raise AttributeError(attribute)  # a submodule: the import system loads it alone
        if reexports is None:
            get_source = getattr(loader, "get_source", None)
            source = get_source(name) if get_source else None
            reexports = _reexports(name, source) if source else {}
        if attribute in reexports:
            module, original = reexports[attribute]
            value = getattr(importlib.import_module(module), original)
            setattr(package, attribute, value)  # answered once; the __init__ would bind the same
            return value
        del package.__dict__["__getattr__"]
        loader.exec_module(package)  # the real __init__, once; loaded submodules are reused
        return getattr(package, attribute)

    package.__dict__["__getattr__"] = __getattr__
    sys.modules[name] = package
    if parent:
        setattr(sys.modules[parent], child, package)


def install() -> None:
    for name in DEFERRED_PACKAGES:
        defer_package_init(name)
