"""The infra tests' fixtures. Synthesis is slow (a Node.js process behind jsii), so the session
synthesizes twice in all, once per xdist worker: the app as `python app.py` builds it, and one
variant (custom domain, missing layer, a deliberately unacknowledged cdk-nag finding) for the
tests that need other inputs."""

from pathlib import Path

import pytest

from infra import artifacts, constants
from tests.infra.support import (
    ALARM_EMAIL,
    EMAIL_SENDER,
    PUBLIC_BASE_URL,
    SELLER_ACCOUNTS,
    SUPPLIER_ENTITY_CONTEXT,
    Synthesized,
    synthesize,
)


@pytest.fixture(scope="session")
def built_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    layer = tmp_path_factory.mktemp("layer")
    (layer / "python").mkdir()
    (layer / "python" / "marker.py").write_text("# a stand-in for make layer's output\n")
    return layer


@pytest.fixture(scope="session")
def built_asset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    asset = tmp_path_factory.mktemp("asset")
    artifacts.build_asset(
        source=constants.REPO_ROOT / constants.FUNCTIONS_PACKAGE,
        target=asset,
        version=constants.LAMBDA_PYTHON_VERSION,
    )
    return asset


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory, built_layer: Path, built_asset: Path
) -> Synthesized:
    return synthesize(
        tmp_path_factory.mktemp("cdk.out"),
        {
            "layerDir": str(built_layer),
            "assetDir": str(built_asset),
            "sellerAccounts": SELLER_ACCOUNTS,
        },
    )


@pytest.fixture(scope="session")
def variant(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(
        tmp_path_factory.mktemp("cdk.out-variant"),
        {
            "publicBaseUrl": PUBLIC_BASE_URL,
            "layerDir": "does/not/exist",
            "assetDir": "does/not/exist/either",
            "emailSender": EMAIL_SENDER,
            "alarmEmail": ALARM_EMAIL,
            "logLevel": "debug",
            **SUPPLIER_ENTITY_CONTEXT,
            "aribaSupplierAnid": "AN02000000001",
        },
        canary=True,
    )
