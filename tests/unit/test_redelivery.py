"""The admin's "deliver again" rules (`functions/redelivery.py`), on in-memory ports: which
invoices go back to `created`, which need `force`, and that a refusal queues and changes
nothing. The same rules through the admin API and moto: tests/integration/test_admin_invoices.py."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from functions import contracts, integrations
from functions.errors import Conflict, NotFound
from functions.integrations import Integration
from functions.redelivery import redeliver
from tests.support import ariba_integration, coupa_integration

ENDPOINT = {
    "url": "https://acme.coupahost.com/cxml/invoices",
    "from": {"domain": "NetworkID", "identity": "procurement-gateway"},
    "to": {"domain": "DUNS", "identity": "acme-coupa"},
    "sender": {"domain": "NetworkID", "identity": "procurement-gateway"},
    "shared_secret": "coupa-supplier-secret",
}
LOG = {"attempts": 2, "last_code": 401, "last_text": "Unauthorized"}


@dataclass(frozen=True)
class Invoice:
    invoice_id: str
    integration_id: str
    state: str
    delivery: dict[str, Any] = field(default_factory=lambda: dict(LOG))


@dataclass
class Ports:
    invoices: dict[str, Invoice]
    integrations: dict[str, Integration]
    queued: list[dict[str, Any]] = field(default_factory=list)
    races: bool = False  # another change lands between the read and the conditional write

    def invoice(self, invoice_id: str) -> Invoice | None:
        return self.invoices.get(invoice_id)

    def integration(self, integration_id: str) -> Integration | None:
        return self.integrations.get(integration_id)

    def reopen(self, invoice_id: str, delivery: dict[str, Any], expected: str) -> bool:
        current = self.invoices[invoice_id]
        if self.races or current.state != expected:
            return False
        self.invoices[invoice_id] = replace(current, state=contracts.INVOICE_CREATED)
        assert delivery == current.delivery  # the delivery log is kept
        return True

    def queue(self, message: dict[str, Any]) -> None:
        self.queued.append(message)


def _ports(state: str, integration: Integration | None = None) -> Ports:
    if integration is None:
        integration, _ = integrations.new_integration(coupa_integration(invoice_delivery=ENDPOINT))
    invoice = Invoice("inv-1", integration.id, state)
    return Ports({invoice.invoice_id: invoice}, {integration.id: integration})


@pytest.mark.parametrize(
    "state",
    [contracts.INVOICE_REJECTED, contracts.INVOICE_FAILED, contracts.INVOICE_STORED],
)
def test_a_finished_invoice_goes_back_to_created_and_is_queued_once(state: str) -> None:
    # Given an invoice whose delivery ended without reaching the buyer
    ports = _ports(state)

    # When the admin delivers it again
    redeliver("inv-1", force=False, ports=ports)

    # Then it is `created` again, its log kept, and one plain message is queued
    reopened = ports.invoices["inv-1"]
    assert reopened.state == contracts.INVOICE_CREATED and reopened.delivery == LOG
    assert ports.queued == [{"invoice_id": "inv-1"}]


@pytest.mark.parametrize(
    ("state", "refusal"),
    [
        (contracts.INVOICE_DELIVERED, "add ?force=true to send it again"),
        (contracts.INVOICE_CREATED, "already on its way"),
    ],
)
def test_a_delivered_or_queued_invoice_needs_force(state: str, refusal: str) -> None:
    # Given a delivered invoice, or one still on its way
    ports = _ports(state)

    # When the admin delivers it again without force, Then 409 and nothing is queued
    with pytest.raises(Conflict, match=refusal.replace("?", r"\?")):
        redeliver("inv-1", force=False, ports=ports)
    assert ports.queued == [] and ports.invoices["inv-1"].state == state

    # When forced, Then one message is queued, marked forced only for a delivered invoice,
    # and the state is left as it was (the worker keeps a delivered invoice delivered)
    redeliver("inv-1", force=True, ports=ports)
    forced = state == contracts.INVOICE_DELIVERED
    assert ports.queued == [{"invoice_id": "inv-1", **({"force": True} if forced else {})}]
    assert ports.invoices["inv-1"].state == state


def test_an_integration_without_an_invoice_endpoint_is_refused_first() -> None:
    # Given an invoice of a Coupa integration with no invoice_delivery
    coupa, _ = integrations.new_integration(coupa_integration())
    ports = _ports(contracts.INVOICE_DELIVERED, coupa)

    # When the admin delivers it again, even forced
    with pytest.raises(Conflict, match="has no invoice endpoint") as refused:
        redeliver("inv-1", force=True, ports=ports)

    # Then the answer names the setting to fix, and nothing is queued
    assert refused.value.field == "invoice_delivery"
    assert coupa.name in str(refused.value)
    assert ports.queued == []


def test_an_ariba_invoice_kept_stored_is_queued_again_for_the_network() -> None:
    # Given an Ariba invoice kept `stored` (the marketplace's ANID was not set yet)
    ariba, _ = integrations.new_integration(ariba_integration())
    ports = _ports(contracts.INVOICE_STORED, ariba)

    # When the admin delivers it again
    redeliver("inv-1", force=False, ports=ports)

    # Then it goes back to `created` and is queued: the worker sends it to SAP Business Network
    assert ports.queued == [{"invoice_id": "inv-1"}]
    assert ports.invoices["inv-1"].state == contracts.INVOICE_CREATED


def test_a_change_meanwhile_queues_nothing() -> None:
    # Given a rejected invoice another call changes between our read and our write
    ports = _ports(contracts.INVOICE_REJECTED)
    ports.races = True

    # When the admin delivers it again, Then 409 "read it again" and nothing is queued
    with pytest.raises(Conflict, match="changed meanwhile"):
        redeliver("inv-1", force=False, ports=ports)
    assert ports.queued == [] and ports.invoices["inv-1"].state == contracts.INVOICE_REJECTED


def test_an_unknown_invoice_is_not_found() -> None:
    ports = _ports(contracts.INVOICE_REJECTED)

    with pytest.raises(NotFound, match="No invoice with id 'inv-2'"):
        redeliver("inv-2", force=False, ports=ports)
    assert ports.queued == []
