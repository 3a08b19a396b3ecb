"""What Lambda runs is what was tested: one CPython minor version everywhere, and a layer and an
asset that ship that version's bytecode (read-only /opt and /var/task never get any other)."""

import importlib.util
import py_compile
import subprocess
import sys
from pathlib import Path

import pytest

from infra import artifacts, constants
from infra.functions import ARCHITECTURE, RUNTIME

# A small layer built exactly as `make layer` builds the real one: a pure-Python package and one
# with a compiled extension (its wheel must be the Lambda architecture's), pins from
# requirements.txt.
SMALL_LAYER_PACKAGES = ("defusedxml", "MarkupSafe")
MACHINE_OF_ARCHITECTURE = {"arm64": "aarch64", "x86_64": "x86_64"}


def _pins(*names: str) -> str:
    lines = (constants.REPO_ROOT / "requirements.txt").read_text().splitlines()
    pins = [line for line in lines if line.split("==")[0] in names]
    assert len(pins) == len(names)
    return "\n".join(pins) + "\n"


def _make_variables(*names: str) -> list[str]:
    """Variables as the Makefile computes them on this machine."""
    done = subprocess.run(
        [
            "make",
            "-s",
            "--no-print-directory",
            "--eval",
            "_print: ; @echo " + " ".join(f"$({name})" for name in names),
            "_print",
        ],
        cwd=constants.REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def test_tests_run_on_the_lambda_runtimes_python_version() -> None:
    # Given the runtime the stack deploys
    # Then this interpreter (tests, local stack, mypy's target) is that very minor version
    assert RUNTIME.name == f"python{constants.LAMBDA_PYTHON_VERSION}"
    assert artifacts.python_version() == constants.LAMBDA_PYTHON_VERSION
    assert RUNTIME.supports_snap_start


def test_makefile_reads_the_version_and_architecture_from_the_one_setting() -> None:
    version, architecture, platform, python = _make_variables(
        "PYTHON_VERSION", "ARCHITECTURE", "LAYER_PLATFORM", "PYTHON"
    )

    assert version == constants.LAMBDA_PYTHON_VERSION
    assert architecture == constants.LAMBDA_ARCHITECTURE == ARCHITECTURE.name
    assert platform == f"manylinux2014_{MACHINE_OF_ARCHITECTURE[architecture]}"
    found = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.split() == constants.LAMBDA_PYTHON_VERSION.split(".")


@pytest.fixture(scope="module")
def small_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("small-layer")
    requirements = work / "requirements.txt"
    requirements.write_text(_pins(*SMALL_LAYER_PACKAGES))
    target = work / "layer"
    artifacts.build_layer(
        requirements=requirements,
        target=target,
        platform=f"manylinux2014_{MACHINE_OF_ARCHITECTURE[constants.LAMBDA_ARCHITECTURE]}",
        version=constants.LAMBDA_PYTHON_VERSION,
    )
    return target


def test_built_layer_has_unchecked_bytecode_of_the_runtime_for_every_module(
    small_layer: Path,
) -> None:
    site = small_layer / artifacts.LAYER_SITE
    modules = list(site.rglob("*.py"))

    assert len(modules) > 5
    assert artifacts.missing_bytecode(site, constants.LAMBDA_PYTHON_VERSION) == []
    # nothing compiled for another interpreter rides along
    tag = artifacts.cache_tag(constants.LAMBDA_PYTHON_VERSION)
    assert {p.name.split(".")[-2] for p in site.rglob("*.pyc")} == {tag}


def test_built_layer_carries_extensions_for_the_lambda_architecture(small_layer: Path) -> None:
    (extension,) = (small_layer / artifacts.LAYER_SITE / "markupsafe").glob("*.so")
    machine = MACHINE_OF_ARCHITECTURE[constants.LAMBDA_ARCHITECTURE]

    assert f"cpython-{constants.LAMBDA_PYTHON_VERSION.replace('.', '')}-{machine}" in (
        extension.name
    )


def test_built_asset_is_the_functions_package_with_its_bytecode(tmp_path: Path) -> None:
    source = constants.REPO_ROOT / constants.FUNCTIONS_PACKAGE

    artifacts.build_asset(
        source=source, target=tmp_path / "asset", version=constants.LAMBDA_PYTHON_VERSION
    )

    asset = tmp_path / "asset"
    assert [p.name for p in asset.iterdir()] == [constants.FUNCTIONS_PACKAGE]
    assert artifacts.missing_bytecode(asset, constants.LAMBDA_PYTHON_VERSION) == []
    shipped = {p.relative_to(asset) for p in asset.rglob("*.py")}
    assert shipped == {p.relative_to(source.parent) for p in source.rglob("*.py")}
    assert (asset / "functions" / "web" / "templates").is_dir()


def test_what_pip_compiles_by_default_is_reported_as_missing(tmp_path: Path) -> None:
    # Given modules compiled the way pip does it (timestamp-checked), and one not at all
    (tmp_path / "stamped.py").write_text("VALUE = 1\n")
    (tmp_path / "bare.py").write_text("VALUE = 2\n")
    py_compile.compile(
        str(tmp_path / "stamped.py"),
        cfile=importlib.util.cache_from_source(str(tmp_path / "stamped.py")),
        invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP,
    )

    missing = artifacts.missing_bytecode(tmp_path, constants.LAMBDA_PYTHON_VERSION)

    # Then both would be compiled again at every cold start
    assert missing == [
        f"bare.py: no bare.{sys.implementation.cache_tag}.pyc",
        f"stamped.py: stamped.{sys.implementation.cache_tag}.pyc is not unchecked-hash",
    ]


def test_layer_refuses_an_interpreter_of_another_version() -> None:
    with pytest.raises(SystemExit, match=r"Lambda runtime is 3\.99"):
        artifacts.require_interpreter("3.99")
