"""Ariba invoices through SAP Business Network, pure: who the posted document is from and to,
how the network's answers are judged, and a marketplace whose network account is incomplete."""

from __future__ import annotations

from dataclasses import replace

import pytest
from lxml import etree

from functions import delivery, integrations
from functions.business_network import BusinessNetwork, NotConfigured
from functions.delivery import DELIVERED, REJECTED, STORED, Ports, classify
from functions.delivery_transport import Unanswered, build_send
from tests.delivery_support import (
    FRESH,
    LOST,
    Ledger,
    Sender,
    cxml_answer,
    deliver_invoice,
    delivery_ports,
    stored_document,
)
from tests.support import ariba_integration, dtd_errors

SUPPLIER_ANID = "AN02000000001-T"
SECRET = "network-secret-7f3a"
NETWORK = BusinessNetwork(
    "https://service.ariba.com/service/transaction/cxml.asp", SUPPLIER_ANID, lambda: SECRET
)


def _ariba() -> integrations.Integration:
    integration, _ = integrations.new_integration(ariba_integration())
    return integration


def _header(document: bytes) -> dict[str, tuple[str, str, str | None]]:
    root = etree.fromstring(document)
    parties = {}
    for party in ("From", "To", "Sender"):
        credential = root.find(f"Header/{party}/Credential")
        parties[party] = (
            credential.get("domain"),
            credential.findtext("Identity"),
            credential.findtext("SharedSecret"),
        )
    return parties


def test_an_ariba_invoice_is_from_our_anid_to_the_buyers_anid_with_the_network_secret() -> None:
    # Given an Ariba integration whose buyer is ANID AN01000000001-T
    endpoint = delivery.endpoint_of(_ariba(), NETWORK)
    assert endpoint is not None

    # When the stored invoice is readdressed for the network
    send = build_send(stored_document(), endpoint)

    # Then it goes to the network's cXML endpoint, From/Sender us, To the buyer, DTD-valid
    assert send.url == "https://service.ariba.com/service/transaction/cxml.asp"
    assert _header(send.body) == {
        "From": ("NetworkID", SUPPLIER_ANID, None),
        "To": ("NetworkID", "AN01000000001-T", None),
        "Sender": ("NetworkID", SUPPLIER_ANID, SECRET),
    }
    assert dtd_errors(send.body, "InvoiceDetail.dtd") == []


def test_without_a_network_an_ariba_integration_has_no_endpoint() -> None:
    assert delivery.endpoint_of(_ariba()) is None


@pytest.mark.parametrize(
    ("network", "names"),
    [
        (replace(NETWORK, supplier_anid=None), "ARIBA_SUPPLIER_ANID"),
        (replace(NETWORK, shared_secret=lambda: None), "ARIBA_SHARED_SECRET"),
    ],
)
def test_a_missing_anid_or_secret_is_named(network: BusinessNetwork, names: str) -> None:
    with pytest.raises(NotConfigured, match=names):
        network.endpoint_for(_ariba())


def test_the_secret_is_not_read_when_the_anid_is_missing() -> None:
    def unreadable() -> str:
        raise AssertionError("the secret was read")

    network = BusinessNetwork(NETWORK.url, None, unreadable)

    with pytest.raises(NotConfigured):
        network.endpoint_for(_ariba())


# --- the network's answers ------------------------------------------------------------------


def test_the_networks_bad_credentials_answer_is_a_rejection_naming_it() -> None:
    text = "Invalid or unrecognized sender credentials. Error Reference Number: ANERR-1"

    verdict = classify(cxml_answer(401, text), FRESH, "ariba")

    assert (verdict.state, verdict.code) == (REJECTED, 401)
    assert "unrecognized sender credentials" in verdict.text


@pytest.mark.parametrize("code", [500, 503])
def test_the_networks_5xx_is_retried(code: int) -> None:
    assert classify(cxml_answer(code), FRESH, "ariba").retry


def test_a_timeout_is_retried() -> None:
    assert classify(Unanswered("timed out after 20 s"), FRESH, "ariba").retry


def test_a_duplicate_after_a_lost_answer_is_taken_as_delivered() -> None:
    duplicate = cxml_answer(
        400, "INVOICE_DUPLICATE: An invoice with the same ID has already been received."
    )

    first = classify(duplicate, FRESH, "ariba")
    after_lost = classify(duplicate, LOST, "ariba")

    assert first.state == REJECTED, "never sent before: a real clash of invoice numbers"
    assert after_lost.state == DELIVERED
    assert "SAP Business Network" in after_lost.note


def test_coupas_417_rule_does_not_apply_to_the_network() -> None:
    verdict = classify(cxml_answer(417, "Invalid attributes in document."), LOST, "ariba")

    assert verdict.state == REJECTED


# --- one delivery -----------------------------------------------------------------------------


def _ariba_ports(network: BusinessNetwork | None, *replies: object) -> tuple[Ports, Ledger, Sender]:
    ports, ledger, sender = delivery_ports(*replies, integration=_ariba())  # type: ignore[arg-type]
    return replace(ports, network=network), ledger, sender


def test_an_ariba_invoice_is_posted_to_the_network_and_delivered() -> None:
    ports, _, sender = _ariba_ports(NETWORK, cxml_answer(200))

    outcome = deliver_invoice(ports)

    assert (outcome.state, outcome.sent) == (DELIVERED, True)
    assert sender.sent[0].url == NETWORK.url


def test_without_the_supplier_anid_the_invoice_stays_stored_with_a_note() -> None:
    ports, ledger, sender = _ariba_ports(replace(NETWORK, supplier_anid=None))

    outcome = deliver_invoice(ports)

    assert (outcome.state, outcome.sent, sender.sent) == (STORED, False, [])
    log = ledger.invoices["INV-1"].delivery
    assert "ARIBA_SUPPLIER_ANID" in log.note and log.attempts == 0
    assert SECRET not in repr(log.to_json())
