"""Cold-start import time of each handler module, as a ratio to `import boto3` alone, measured
two ways:

- `measure_like_lambda`: the way Lambda imports (the figure with a target). The built function
  asset and dependency layer (`make layer`, infra/artifacts.py) alone on `sys.path` besides the
  standard library (`-S`: no site-packages), their shipped bytecode read-only
  (PYTHONDONTWRITEBYTECODE=1, no cache elsewhere), this interpreter, which is the runtime's
  CPython version (checked). boto3 comes from the same layer. A module whose bytecode is missing
  or stale is compiled at every import, as on Lambda, and shows here.
- `measure`: the checkout as the tests see it, every .pyc pre-warmed in a private cache (the
  figure this bench reported before; kept next to the other for comparison).

Each import runs in a fresh interpreter (nothing already in `sys.modules`), timed inside the
child around the import statement only, so interpreter start-up and process creation stay out.
Dividing by boto3's time, measured the same way in the same run, cancels the machine's speed.

Bytecode: every child reads .pyc files from one private, pre-warmed cache
(PYTHONPYCACHEPREFIX), for the project and site-packages alike. Otherwise the result would
depend on whether this checkout happens to have __pycache__ directories (PYTHONDONTWRITEBYTECODE
is common in containers) and the bench would write into the work tree."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from infra import artifacts
from infra.constants import LAMBDA_PYTHON_VERSION
from local.aws import LOCAL_ENV

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "boto3"
HANDLERS = (
    "functions.handlers.cxml_api",
    "functions.handlers.admin_api",
    "functions.handlers.web",
    "functions.handlers.console",
    "functions.handlers.openbuy_api",
    "functions.handlers.orders_api",
    "functions.handlers.metering_api",
    "functions.handlers.email_worker",
    "functions.handlers.billing_worker",
    "functions.handlers.billing_schedule",
    "functions.handlers.delivery_worker",
    "functions.handlers.unsubscribe_sweep",
)
PROJECT_PACKAGE = "functions"
_MARK = "bench: import starts"
_CHILD = (
    "import sys, time\n"
    f"print({_MARK!r}, file=sys.stderr, flush=True)\n"
    "_cpu = time.process_time()\n"
    "_started = time.perf_counter()\n"
    "import {module}\n"
    "_elapsed = time.perf_counter() - _started\n"
    "print(repr(time.process_time() - _cpu), repr(_elapsed))\n"
)
"""Prints the import's CPU time and wall time. Wall time is what a cold start costs (the
figure with a target); CPU time leaves out waiting for a core, so on a busy shared machine it
is the steadier of the two (reported beside it)."""
_DROPPED = ("PYTHON", "AWS_")
"""Parent variables that could change how the child imports (PYTHONPATH, PYTHONSTARTUP,
PYTHONPROFILEIMPORTTIME...) or what it is configured with: the child gets a known environment."""
_CONFIGURATION = {
    **LOCAL_ENV,
    "PUBLIC_BASE_URL": "https://gateway.test",
    "ADMIN_TOKEN": "bench-admin-token",
    "ARIBA_SHARED_SECRET": "bench-ariba-secret",
}


@dataclass(frozen=True)
class PackageCost:
    package: str
    self_ms: float
    """Time in the package's own module bodies, summed over its modules."""
    cumulative_ms: float
    """Time from the package's first import to its end, dependencies included."""
    imported_by: str
    """The module whose import pulled it in first: where to look to avoid it."""


@dataclass(frozen=True)
class ColdStart:
    runs: int
    samples_ms: dict[str, list[float]]
    """Wall time of each import, per module."""
    importable_unconfigured: dict[str, str | None]
    """Module → None when it imports with no configuration at all, else the error's last line."""
    costs: dict[str, list[PackageCost]] = field(default_factory=dict)
    project_self_ms: dict[str, float] = field(default_factory=dict)
    cpu_samples_ms: dict[str, list[float]] = field(default_factory=dict)
    """CPU time of the same imports."""

    @property
    def medians_ms(self) -> dict[str, float]:
        return {module: statistics.median(s) for module, s in self.samples_ms.items()}

    def ratio(self, module: str) -> float:
        return self.medians_ms[module] / self.medians_ms[BASELINE]

    def cpu_ratio(self, module: str) -> float:
        cpu = self.cpu_samples_ms
        return statistics.median(cpu[module]) / statistics.median(cpu[BASELINE])

    def only_in(self, module: str, at_least_ms: float = 1.0) -> list[PackageCost]:
        """Packages this handler imports and no other handler does: usually what makes one
        handler slower than its siblings (a template engine, a parser it does not need)."""
        others = {c.package for m, costs in self.costs.items() if m != module for c in costs}
        mine = self.costs[module]
        return [c for c in mine if c.package not in others and c.cumulative_ms >= at_least_ms]


def _environment(pycache: str, *, configured: bool, write_bytecode: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED)}
    if configured:
        env.update(_CONFIGURATION)
    env["PYTHONPYCACHEPREFIX"] = pycache
    if not write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _child(
    module: str, env: dict[str, str], *flags: str, check: bool = True, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    if module != BASELINE and module not in HANDLERS:
        raise ValueError(f"not a benchmarked module: {module}")
    done = subprocess.run(
        [sys.executable, "-X", "frozen_modules=on", *flags, "-c", _CHILD.format(module=module)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{done.stderr.strip()}")
    return done


def _seconds(done: subprocess.CompletedProcess[str]) -> tuple[float, float]:
    """(CPU, wall) seconds of the child's import."""
    cpu, wall = done.stdout.strip().splitlines()[-1].split()
    return float(cpu), float(wall)


def _timed_rounds(
    runs: int, env: dict[str, str], *flags: str, cwd: Path = ROOT
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """(wall, CPU) milliseconds per module."""
    modules = (BASELINE, *HANDLERS)
    wall: dict[str, list[float]] = {module: [] for module in modules}
    cpu: dict[str, list[float]] = {module: [] for module in modules}
    for run in range(runs):
        # Rotate the order every round: no module is always first after a quiet spell.
        shift = run % len(modules)
        for module in modules[shift:] + modules[:shift]:
            cpu_s, wall_s = _seconds(_child(module, env, *flags, cwd=cwd))
            wall[module].append(wall_s * 1000)
            cpu[module].append(cpu_s * 1000)
    return wall, cpu


def measure_like_lambda(runs: int, *, layer: Path, asset: Path) -> ColdStart:
    """Import times as Lambda sees them (see the module docstring). `layer` is a layer built for
    this machine's architecture (`python` inside it), `asset` the built function asset."""
    artifacts.require_interpreter(LAMBDA_PYTHON_VERSION)
    site = layer / artifacts.LAYER_SITE
    for root in (site, asset / "functions"):
        if not root.is_dir():
            raise RuntimeError(f"{root} is not built: run `make layer` (make bench does)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED)}
    env.update(_CONFIGURATION)
    env["PYTHONPATH"] = os.pathsep.join([str(asset.resolve()), str(site.resolve())])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    with tempfile.TemporaryDirectory(prefix="bench-lambda-") as cwd:  # not the checkout
        for module in (BASELINE, *HANDLERS):  # the file cache warm, as on a reused host
            _child(module, env, "-S", cwd=Path(cwd))
        samples, cpu = _timed_rounds(runs, env, "-S", cwd=Path(cwd))
    return ColdStart(runs=runs, samples_ms=samples, importable_unconfigured={}, cpu_samples_ms=cpu)


def measure(runs: int) -> ColdStart:
    modules = (BASELINE, *HANDLERS)
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as pycache:
        warm = _environment(pycache, configured=True, write_bytecode=True)
        timed = _environment(pycache, configured=True, write_bytecode=False)
        bare = _environment(pycache, configured=False, write_bytecode=False)
        for module in modules:  # fills the private bytecode cache; not measured
            _child(module, warm)
        unconfigured = {}
        for module in HANDLERS:
            done = _child(module, bare, check=False)
            lines = done.stderr.strip().splitlines()
            unconfigured[module] = None if done.returncode == 0 else (lines or ["?"])[-1]
        samples, cpu = _timed_rounds(runs, timed)
        costs, project = {}, {}
        for module in HANDLERS:
            report = _child(module, timed, "-X", "importtime").stderr
            ranked = package_costs(report)
            project[module] = sum(c.self_ms for c in ranked if c.package == PROJECT_PACKAGE)
            costs[module] = [c for c in ranked if c.package != PROJECT_PACKAGE]
    return ColdStart(
        runs=runs,
        samples_ms=samples,
        importable_unconfigured=unconfigured,
        costs=costs,
        project_self_ms=project,
        cpu_samples_ms=cpu,
    )


@dataclass
class _Node:
    name: str
    self_us: int
    cumulative_us: int
    children: list[_Node] = field(default_factory=list)

    @property
    def package(self) -> str:
        return self.name.split(".")[0]


def _tree(report: str) -> list[_Node]:
    """`-X importtime` prints each module after its dependencies, indented two spaces per
    level: a line at depth d adopts the pending lines at depth d + 1."""
    pending: dict[int, list[_Node]] = {}
    _, _, report = report.rpartition(_MARK)  # what interpreter start-up imports is not ours
    for line in report.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        self_us, cumulative_us, raw = line[len("import time:") :].split("|", 2)
        depth = (len(raw) - len(raw.lstrip(" ")) - 1) // 2
        node = _Node(raw.strip(), int(self_us), int(cumulative_us))
        node.children = pending.pop(depth + 1, [])
        pending.setdefault(depth, []).append(node)
    return pending.get(0, [])


def package_costs(report: str) -> list[PackageCost]:
    """Per top-level package, costliest (cumulative) first. A package's cumulative time counts
    its outermost imports only, so a package re-entered from its own dependencies is not
    counted twice."""
    self_us: dict[str, int] = {}
    cumulative_us: dict[str, int] = {}
    imported_by: dict[str, str] = {}

    def walk(node: _Node, parent: str, inside: frozenset[str]) -> None:
        package = node.package
        self_us[package] = self_us.get(package, 0) + node.self_us
        if package not in inside:
            cumulative_us[package] = cumulative_us.get(package, 0) + node.cumulative_us
            imported_by.setdefault(package, parent)
        for child in node.children:
            walk(child, node.name, inside | {package})

    for root in _tree(report):
        walk(root, "(top level)", frozenset())
    costs = [
        PackageCost(name, self_us[name] / 1000, cumulative_us[name] / 1000, imported_by[name])
        for name in cumulative_us
    ]
    return sorted(costs, key=lambda c: c.cumulative_ms, reverse=True)
