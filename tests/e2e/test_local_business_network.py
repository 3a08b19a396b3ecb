"""`make run`'s fake SAP Business Network, over real HTTP: it takes invoices as the demo
marketplace's supplier ANID, with the marketplace's Ariba secret, to the demo Ariba buyer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests

from functions.billing import contract_invoice
from functions.cxml.build import readdressed_invoice
from functions.cxml.model import Credential
from tests.billing_support import acme_document, subscription
from tests.support import read_cxml

SUPPLIER = Credential("NetworkID", "AN02000000001-T")  # local/server.py's demo supplier ANID
BUYER = Credential("NetworkID", "AN01000000001-T")  # local/seed.py's demo Ariba buyer


def _invoice(secret: str) -> bytes:
    invoice = contract_invoice(subscription(), datetime(2026, 12, 2, tzinfo=UTC))
    assert invoice is not None
    return readdressed_invoice(
        acme_document(invoice), supplier=SUPPLIER, buyer=BUYER, sender=SUPPLIER,
        sender_secret=secret,
    )  # fmt: skip


def _post(stack: dict[str, Any], document: bytes) -> Any:
    reply = requests.post(f"{stack['base']}/_local/ariba/cxml", data=document, timeout=10)
    return read_cxml(reply.status_code, reply.content, reply.headers.get("Content-Type"))


def test_the_fake_network_takes_the_marketplaces_invoices_and_refuses_a_wrong_secret(
    stack: dict[str, Any],
) -> None:
    # Given the local stack (run_stack sets ARIBA_SHARED_SECRET=e2e-ariba)
    status = requests.get(f"{stack['base']}/_local/ariba", timeout=10).json()
    assert status["supplier_anid"] == SUPPLIER.identity and status["buyers"] == [BUYER.identity]
    assert stack["banner"]["fake_business_network"] == f"{stack['base']}/_local/ariba"

    # When an invoice with another secret, then one with the marketplace's, are posted
    wrong = _post(stack, _invoice("not-the-secret"))
    right = _post(stack, _invoice("e2e-ariba"))

    # Then the first is refused as the network does, the second accepted
    assert wrong.code == 401 and "unrecognized sender credentials" in wrong.message
    assert right.code == 200
    status = requests.get(f"{stack['base']}/_local/ariba", timeout=10).json()
    assert len(status["accepted"]) == 1
