"""Order confirmations (issue 13 part 6): the ConfirmationRequest is valid against Fulfill.dtd
for Coupa and Ariba parties, owed only by accepted, real, non-delete POs of integrations that
enable it, and delivered with the invoice rules, never twice."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree

from functions import confirmation_delivery, delivery
from functions.business_network import BusinessNetwork
from functions.confirmation_delivery import PendingConfirmation
from functions.cxml.build import order_confirmation, response
from functions.cxml.model import Credential
from functions.delivery import DeliveryLog
from functions.delivery_transport import Answer, Send, Unanswered
from functions.integrations import BuyerIdentity, Integration, InvoiceDelivery
from functions.order_confirmations import OrderConfirmation, for_order
from tests.support import dtd_errors

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
US = Credential("NetworkID", "procurement-gateway")


def _document(supplier: Credential, buyer: Credential, sender: Credential, **kw: Any) -> bytes:
    return order_confirmation(
        supplier=supplier, buyer=buyer, sender=sender, sender_secret="s3cret-value",
        payload_id="1764581400.1.abc@gateway", timestamp="2026-12-01T09:30:00+00:00",
        confirm_id="PO-7-accept", order_id="PO-7", order_payload_id="po-7@coupa", **kw,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("supplier", "buyer", "sender", "mode"),
    [
        (US, Credential("DUNS", "acme-coupa"), US, "production"),  # Coupa's supplier setup
        (Credential("NetworkID", "AN02000000002-T"), Credential("NetworkID", "AN01000000001-T"),
         Credential("NetworkID", "AN02000000002-T"), "test"),  # SAP Business Network
    ],
)  # fmt: skip
def test_the_confirmation_is_valid_against_fulfill_dtd(
    supplier: Credential, buyer: Credential, sender: Credential, mode: str
) -> None:
    document = _document(supplier, buyer, sender, deployment_mode=mode)

    assert dtd_errors(document, "Fulfill.dtd") == []
    root = etree.fromstring(document)
    header = root.find("Request/ConfirmationRequest/ConfirmationHeader")
    assert header is not None and header.get("type") == "accept"
    reference = root.find("Request/ConfirmationRequest/OrderReference")
    assert reference is not None and reference.get("orderID") == "PO-7"
    assert reference.find("DocumentReference").get("payloadID") == "po-7@coupa"
    assert root.get("payloadID") == "1764581400.1.abc@gateway", "fixed: the same on retries"
    assert (root.find("Request").get("deploymentMode") == "test") == (mode == "test")


@dataclass(frozen=True)
class _Order:
    integration_id: str = "int_1"
    order_id: str = "PO-7"
    order_type: str = "new"
    order_version: int = 1
    payload_id: str = "po-7@coupa"
    test: bool = False


def test_only_accepted_real_orders_of_enabled_integrations_are_confirmed() -> None:
    confirmed = for_order(_Order(), enabled=True, stale=False, moment=NOW)
    update = for_order(
        _Order(order_type="update", order_version=2), enabled=True, stale=False, moment=NOW
    )

    assert confirmed is not None and confirmed.key == "confirmation#int_1#PO-7#new#1"
    assert confirmed.order_payload_id == "po-7@coupa"
    assert update is not None and update.key == "confirmation#int_1#PO-7#update#2"
    assert for_order(_Order(), enabled=False, stale=False, moment=NOW) is None
    assert for_order(_Order(), enabled=True, stale=True, moment=NOW) is None
    assert for_order(_Order(test=True), enabled=True, stale=False, moment=NOW) is None
    assert for_order(_Order(order_type="delete"), enabled=True, stale=False, moment=NOW) is None


# --- delivery, with in-memory ports ----------------------------------------------------------

ENDPOINT = InvoiceDelivery(
    "https://acme.coupahost.com/cxml/invoices",
    US,
    Credential("DUNS", "acme-coupa"),
    US,
    "coupa-supplier-secret",
)


class _Ledger:
    def __init__(self, confirmation: OrderConfirmation) -> None:
        self.item = PendingConfirmation(confirmation, delivery.CREATED, DeliveryLog())

    def pending(self, key: str) -> PendingConfirmation | None:
        return self.item if key == self.item.confirmation.key else None

    def record(self, key: str, state: str, log: DeliveryLog, expected: str) -> bool:
        if self.item.state != expected:
            return False
        self.item = replace(self.item, state=state, delivery=log)
        return True


class _Integrations:
    def __init__(self, integration: Integration) -> None:
        self.integration = integration

    def get(self, integration_id: str) -> Integration | None:
        return self.integration if integration_id == self.integration.id else None


class _Coupa:
    def __init__(self, *answers: int | None) -> None:
        self.answers = list(answers)
        self.posts: list[Send] = []

    def post(self, send: Send) -> Answer:
        self.posts.append(send)
        code = self.answers.pop(0) if self.answers else 200
        if code is None:
            raise Unanswered("timed out")
        return Answer(200 if code < 500 else code, response(code, "said so"))


def _ports(coupa: _Coupa, *, endpoint: InvoiceDelivery | None = ENDPOINT) -> Any:
    integration = Integration(
        "int_1", "Acme Coupa", "coupa", BuyerIdentity("DUNS", "acme-coupa"), "111122223333",
        "it@acme.example", invoice_delivery=endpoint, order_confirmations=True,
    )  # fmt: skip
    confirmation = for_order(_Order(), enabled=True, stale=False, moment=NOW)
    assert confirmation is not None
    return confirmation, confirmation_delivery.Ports(
        _Ledger(confirmation), _Integrations(integration), coupa
    )


def test_delivered_once_and_never_again() -> None:
    coupa = _Coupa(200)
    confirmation, ports = _ports(coupa)

    first = confirmation_delivery.deliver(confirmation.key, receive_count=1, ports=ports, now=NOW)
    again = confirmation_delivery.deliver(confirmation.key, receive_count=1, ports=ports, now=NOW)

    assert (first.state, first.sent) == (delivery.DELIVERED, True)
    assert (again.state, again.sent) == (delivery.DELIVERED, False)
    assert len(coupa.posts) == 1
    assert b"<SharedSecret>coupa-supplier-secret</SharedSecret>" in coupa.posts[0].body
    assert dtd_errors(coupa.posts[0].body, "Fulfill.dtd") == []


def test_transient_failures_are_retried_then_failed_on_the_last_receive() -> None:
    coupa = _Coupa(500, None, 500)
    confirmation, ports = _ports(coupa)

    for receive in (1, 2):
        with pytest.raises(delivery.RetryLater):
            confirmation_delivery.deliver(
                confirmation.key, receive_count=receive, ports=ports, now=NOW
            )
    last = confirmation_delivery.deliver(
        confirmation.key, receive_count=delivery.MAX_RECEIVES, ports=ports, now=NOW
    )

    assert last.state == delivery.FAILED and last.delivery.attempts == 3
    assert last.delivery.unanswered == 1


def test_a_refusal_is_rejected_and_no_endpoint_is_stored() -> None:
    refused, ports = _ports(_Coupa(403))
    kept, no_endpoint = _ports(_Coupa(), endpoint=None)

    outcome = confirmation_delivery.deliver(refused.key, receive_count=1, ports=ports, now=NOW)
    stored = confirmation_delivery.deliver(kept.key, receive_count=1, ports=no_endpoint, now=NOW)

    assert outcome.state == delivery.REJECTED and outcome.delivery.last_code == 403
    assert (stored.state, stored.sent) == (delivery.STORED, False)


def _ariba_ports(network: BusinessNetwork, sender: _Coupa) -> Any:
    integration = Integration(
        "int_1", "Initech Ariba", "ariba", BuyerIdentity("NetworkID", "AN01000000001-T"),
        "111122223333", "it@initech.example", order_confirmations=True,
    )  # fmt: skip
    confirmation = for_order(_Order(), enabled=True, stale=False, moment=NOW)
    assert confirmation is not None
    return confirmation, confirmation_delivery.Ports(
        _Ledger(confirmation), _Integrations(integration), sender, network=network
    )


def test_an_ariba_confirmation_goes_to_sap_business_network_as_its_invoices_do() -> None:
    network = _Coupa(200)
    confirmation, ports = _ariba_ports(
        BusinessNetwork("https://network.example/cxml", "AN02000000001-T", lambda: "ariba-secret"),
        network,
    )

    outcome = confirmation_delivery.deliver(confirmation.key, receive_count=1, ports=ports, now=NOW)

    assert (outcome.state, outcome.sent) == (delivery.DELIVERED, True)
    (post,) = network.posts
    assert post.url == "https://network.example/cxml"
    assert dtd_errors(post.body, "Fulfill.dtd") == []
    assert b"<Identity>AN01000000001-T</Identity>" in post.body  # To: the buyer's ANID
    assert b"<SharedSecret>ariba-secret</SharedSecret>" in post.body


def test_an_ariba_confirmation_waits_stored_while_the_network_account_is_incomplete() -> None:
    network = _Coupa()
    confirmation, ports = _ariba_ports(
        BusinessNetwork("https://network.example/cxml", None, lambda: "ariba-secret"), network
    )

    outcome = confirmation_delivery.deliver(confirmation.key, receive_count=1, ports=ports, now=NOW)

    assert (outcome.state, outcome.sent) == (delivery.STORED, False)
    assert "ARIBA_SUPPLIER_ANID" in outcome.delivery.note
    assert network.posts == []
