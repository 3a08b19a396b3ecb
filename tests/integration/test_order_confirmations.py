"""Confirmations going out (issue 13 part 6): a PO accepted for an integration with
`order_confirmations` writes its ConfirmationRequest to the outbox in the PO's transaction; the
outbox stream and the delivery queue deliver it to the buyer's Coupa (the fake Coupa on
127.0.0.1, checking credentials and Fulfill.dtd) once, whatever is retried."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree

from functions.handlers import billing_worker
from local.events import LambdaContext
from tests.billing_support import CoupaStack as Stack
from tests.billing_support import coupa_stack, outbox_insert
from tests.order_support import coupa_po, post_order, request_approval, table_items
from tests.storefront_support import (
    CONTRACT_PAYG,
    create_products,
)
from tests.support import dtd_errors


@pytest.fixture
def stack(api: Any, tables: dict[str, Any], clock: Any) -> Iterator[Stack]:
    clock.freeze(datetime(2026, 11, 26, 12, 30, tzinfo=UTC))
    create_products(api, CONTRACT_PAYG)
    with coupa_stack(api, tables, clock) as local:
        yield local


def _order(stack: Stack, integration: dict[str, Any], **po: Any) -> None:
    cart = request_approval(stack.api, integration)
    answer = post_order(stack.api, coupa_po(integration, cart.lines, **po))
    assert answer.code == 200, answer.message


def _confirmations(stack: Stack) -> list[dict[str, Any]]:
    return [
        i for i in table_items(stack.tables, "outbox") if i["pk"]["S"].startswith("confirmation#")
    ]


def test_an_accepted_po_is_confirmed_to_coupa_exactly_once(stack: Stack) -> None:
    # Given a Coupa integration that asks for order confirmations
    integration = stack.integration(order_confirmations=True)
    assert integration["integration"]["order_confirmations"] is True

    # When its PO is accepted, Coupa's first answer is a 500, and the outbox stream record is
    # delivered twice (Lambda's at-least-once)
    _order(stack, integration, order_id="PO-2001", payload_id="po-2001@coupa")
    (item,) = _confirmations(stack)
    assert item["status"]["S"] == "created", "written with the PO, before any send"
    payload_id = json.loads(item["context"]["S"])["payload_id"]
    stack.coupa.fail_next(2)  # the contract invoice's first post and the confirmation's
    stack.run_triggers()
    billing_worker.handler(outbox_insert(item["pk"]["S"]), LambdaContext("billing_worker"))
    stack.run_triggers()

    # Then Coupa holds one confirmation, valid, accepting the PO by orderID and payloadID
    (document,) = stack.coupa.confirmations
    assert dtd_errors(document, "Fulfill.dtd") == []
    root = etree.fromstring(document)
    reference = root.find("Request/ConfirmationRequest/OrderReference")
    assert reference is not None and reference.get("orderID") == "PO-2001"
    assert reference.find("DocumentReference").get("payloadID") == "po-2001@coupa"
    assert root.find("Request/ConfirmationRequest/ConfirmationHeader").get("type") == "accept"
    assert root.get("payloadID") == payload_id
    # (which two posts met the 500s depends on the queue's order: the unit tests pin retries)
    assert [r.code for r in stack.coupa.log if r.payload_id == payload_id] == [200]
    assert [r.code for r in stack.coupa.log].count(500) == 2
    (item,) = _confirmations(stack)
    assert item["status"]["S"] == "delivered"
    assert json.loads(item["delivery"]["S"])["attempts"] in (1, 2)
    assert "coupa-supplier-secret" not in json.dumps(table_items(stack.tables, "outbox"))
    assert stack.coupa.shared_secret not in json.dumps(table_items(stack.tables, "outbox"))


def test_a_retried_po_writes_no_second_confirmation_and_disabled_integrations_none(
    stack: Stack,
) -> None:
    confirming = stack.integration(order_confirmations=True)
    cart = request_approval(stack.api, confirming)
    document = coupa_po(confirming, cart.lines, order_id="PO-3001", payload_id="po-3001@coupa")

    assert post_order(stack.api, document).code == 200
    assert post_order(stack.api, document).code == 200  # Coupa's retry
    stack.run_triggers()

    assert len(_confirmations(stack)) == 1
    assert len(stack.coupa.confirmations) == 1


def test_no_confirmation_unless_the_integration_enables_it(stack: Stack) -> None:
    _order(stack, stack.integration(), order_id="PO-4001")
    stack.run_triggers()

    assert _confirmations(stack) == []
    assert stack.coupa.confirmations == []
