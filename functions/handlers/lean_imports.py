"""Cold start: keep a library package's `__init__` from importing what no handler uses.

`aws_lambda_powertools.event_handler/__init__.py` imports every resolver Powertools has (AppSync,
Bedrock agents, VPC Lattice, Lambda function URLs...), and AppSync pulls in `asyncio`: about a
tenth of `import boto3` on every API function's cold start, for code it never runs. The handlers
import what they use from the submodule (`aws_lambda_powertools.event_handler.api_gateway`),
and `defer_package_init` lets them do so without running the package's `__init__` first.

The package stays whole for everyone else: the first time a name that is not a submodule is
asked of it (`from aws_lambda_powertools.event_handler import AppSyncResolver`), its real
`__init__` runs and answers. tests/unit/test_cold_imports.py checks the handlers' cold path."""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

DEFERRED_PACKAGES = ("aws_lambda_powertools.event_handler",)


def defer_package_init(name: str) -> None:
    """Register package `name` without running its `__init__` (a no-op once it is imported):
    its submodules import alone; any other name runs the real `__init__` then."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return  # not an importable package here: leave it to the normal import (and its error)
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def __getattr__(attribute: str) -> Any:
        if importlib.util.find_spec(f"{name}.{attribute}") is not None:
            raise AttributeError(attribute)  # a submodule: the import system loads it alone
        del package.__dict__["__getattr__"]
        loader.exec_module(package)  # the real __init__, once; loaded submodules are reused
        return getattr(package, attribute)

    package.__dict__["__getattr__"] = __getattr__
    sys.modules[name] = package
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, package)


def install() -> None:
    for name in DEFERRED_PACKAGES:
        defer_package_init(name)
