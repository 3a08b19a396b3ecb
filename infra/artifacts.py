"""What Lambda runs, built without Docker: the dependency layer and the function asset, each
shipping the bytecode of the runtime's own CPython.

`/opt` (layers) and `/var/task` (the function) are read-only on Lambda: a module without a
valid `.pyc` for the runtime's version is compiled from source at every cold start and the
result thrown away. So both are compiled here, by the interpreter that runs this module (the
Makefile runs it with the runtime's version and this module refuses any other), with
`unchecked-hash` invalidation: the zip CDK makes of them does not keep source timestamps, and a
timestamp-checked `.pyc` whose source looks newer is ignored.

    python -m infra.artifacts layer --platform manylinux2014_aarch64 \\
        --requirements requirements.txt --target build/layer
    python -m infra.artifacts asset --source functions --target build/asset

Imports no CDK: the Makefile runs it before anything is synthesized.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path

LAYER_SITE = "python"
"""Lambda puts `/opt/python` on `sys.path`: the layer's packages go under this folder."""
_HASH_BASED = 0b01  # PEP 552: flags word of a hash-based .pyc
_CHECK_SOURCE = 0b10  # ... that Python re-validates against the source at every import


def python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def require_interpreter(version: str) -> None:
    if python_version() != version:
        raise SystemExit(
            f"artifacts: running on CPython {python_version()}, but the Lambda runtime is "
            f"{version}: its bytecode would be ignored. Run with python{version} (make does)."
        )


def compile_bytecode(root: Path) -> None:
    """Every .py under `root` gets its `__pycache__/<name>.<cache tag>.pyc`, unchecked-hash."""
    compiled = compileall.compile_dir(
        root,
        quiet=1,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    if not compiled:
        raise SystemExit(f"artifacts: some modules under {root} do not compile (see above)")


def build_layer(*, requirements: Path, target: Path, platform: str, version: str) -> None:
    """pip's wheels for the Lambda platform and version (binary wheels only: nothing is built
    from source for the wrong machine), then bytecode for every module."""
    require_interpreter(version)
    shutil.rmtree(target, ignore_errors=True)
    site = target / LAYER_SITE
    site.mkdir(parents=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",  # pip would write timestamp-checked .pyc files
            "--platform",
            platform,
            "--implementation",
            "cp",
            "--python-version",
            version,
            "--only-binary=:all:",
            "--target",
            str(site),
            "-r",
            str(requirements),
        ],
        check=True,
    )
    compile_bytecode(site)


def build_asset(*, source: Path, target: Path, version: str) -> None:
    """The function asset: a copy of the `functions` package with its bytecode."""
    require_interpreter(version)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(
        source,
        target / source.name,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".DS_Store"),
    )
    compile_bytecode(target)


def cache_tag(version: str) -> str:
    """`cpython-313` for "3.13": the name part of the .pyc files that version reads."""
    return "cpython-" + version.replace(".", "")


def missing_bytecode(root: Path, version: str) -> list[str]:
    """Modules under `root` that the runtime would compile at every cold start: no `.pyc` for
    `version`, or one Python re-checks against a source timestamp. Empty when all is well."""
    tag = cache_tag(version)
    missing = []
    for source in sorted(root.rglob("*.py")):
        pyc = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        if not pyc.is_file():
            missing.append(f"{source.relative_to(root)}: no {pyc.name}")
            continue
        header = pyc.read_bytes()[:8]
        flags = int.from_bytes(header[4:8], "little")
        if not flags & _HASH_BASED or flags & _CHECK_SOURCE:
            missing.append(f"{source.relative_to(root)}: {pyc.name} is not unchecked-hash")
        elif tag == sys.implementation.cache_tag and header[:4] != importlib.util.MAGIC_NUMBER:
            missing.append(f"{source.relative_to(root)}: {pyc.name} has another magic number")
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.artifacts", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    layer = commands.add_parser("layer", help="the dependency layer")
    layer.add_argument("--requirements", type=Path, required=True)
    layer.add_argument("--target", type=Path, required=True)
    layer.add_argument("--platform", required=True, help="e.g. manylinux2014_aarch64")
    asset = commands.add_parser("asset", help="the function asset")
    asset.add_argument("--source", type=Path, required=True)
    asset.add_argument("--target", type=Path, required=True)
    for command in (layer, asset):
        command.add_argument("--python-version", default=python_version())
    args = parser.parse_args(argv)
    if args.command == "layer":
        build_layer(
            requirements=args.requirements,
            target=args.target,
            platform=args.platform,
            version=args.python_version,
        )
        root = args.target / LAYER_SITE
    else:
        build_asset(source=args.source, target=args.target, version=args.python_version)
        root = args.target
    missing = missing_bytecode(root, args.python_version)
    if missing:
        print("artifacts: modules without bytecode:", *missing, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
