"""The delivery worker's SAP Business Network settings: where Ariba invoices go and as whom."""

from functions.config import ARIBA_PRODUCTION_URL
from infra import constants
from tests.infra.support import FUNCTION_HANDLERS, Synthesized


def _environment(stack: Synthesized, handler: str) -> dict[str, object]:
    function = stack.resources[stack.function_id(handler)]
    return dict(function["Properties"]["Environment"]["Variables"])


def test_only_the_delivery_worker_is_told_the_supplier_anid(variant: Synthesized) -> None:
    # Given `-c aribaSupplierAnid=AN02000000001` (the variant's context)
    told = {
        handler
        for handler in FUNCTION_HANDLERS
        if _environment(variant, handler).get("ARIBA_SUPPLIER_ANID") == "AN02000000001"
    }

    assert told == {constants.DELIVERY_HANDLER}


def test_the_delivery_worker_gets_the_secrets_address_and_the_default_network_url(
    stack: Synthesized,
) -> None:
    environment = _environment(stack, constants.DELIVERY_HANDLER)

    # Without context: no ANID (Ariba invoices stay stored, saying so) and the production URL
    assert "ARIBA_SUPPLIER_ANID" not in environment
    assert environment.get("ARIBA_INVOICE_URL", ARIBA_PRODUCTION_URL) == ARIBA_PRODUCTION_URL
    assert environment["ARIBA_SECRET_ARN"] == {
        "Ref": stack.logical_id("AWS::SecretsManager::Secret", "AribaSharedSecret")
    }
