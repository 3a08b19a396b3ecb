"""The admin API's views of a subscription and of an order (issue 13 parts 1 and 6): held
usage shows even when no invoice carries it, an order's buyer status and confirmation show
on the order; unknown, foreign or hostile ids get a JSON 404 or 400, never a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest

from functions.subscription_requests import request_id_of
from tests.billing_support import CoupaStack as Stack
from tests.billing_support import invoicing_stack, meter_hours
from tests.order_support import BUYER, post_accepted_po, post_status, status_update, subscribe
from tests.storefront_support import (
    CONTRACT_PAYG,
    cart_of,
    create_integration,
    create_products,
    post_form,
    punch_out,
)
from tests.support import ADMIN_TOKEN, coupa_integration


@pytest.fixture
def stack(api: Any, tables: dict[str, Any], clock: Any) -> Iterator[Stack]:
    with invoicing_stack(api, tables, clock) as local:
        yield local


def _get(api: Any, path: str) -> tuple[int, dict[str, Any]]:
    answer = api.handle("GET", path, headers=[("Authorization", f"Bearer {ADMIN_TOKEN}")])
    return answer.status, json.loads(answer.body)


# --- a subscription ---------------------------------------------------------------------------


def test_usage_held_with_the_budget_used_up_shows_on_the_subscription_without_an_invoice(
    stack: Stack,
) -> None:
    coupa = stack.integration()
    # Given DataStream Pro with a 1,000-hour budget approved by PO-1001, 1,000 hours used
    # and invoiced in November (the budget used up)
    session = punch_out(stack.api, coupa)
    form = {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "1000"}
    cart = cart_of(post_form(stack.api, f"{session}/requests", form))
    subscription_id = request_id_of(cart.lines[0].findtext("ItemID/SupplierPartAuxiliaryID") or "")
    assert subscription_id
    post_accepted_po(stack.api, coupa, cart.lines, order_id="PO-1001")
    stack.run_triggers()
    assert meter_hours(stack, [600, 400]) == ["Success"] * 2
    stack.clock.freeze(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    stack.billing_run("2026-11")
    # and 250 more hours in December
    stack.clock.freeze(datetime(2026, 12, 20, 12, 0, tzinfo=UTC))
    assert meter_hours(stack, [250]) == ["Success"]

    # When December is billed (nothing can be invoiced) and the admin looks at the subscription
    stack.clock.freeze(datetime(2027, 1, 1, 2, 0, tzinfo=UTC))
    stack.billing_run("2026-12")
    status, body = _get(stack.api, f"/admin/subscriptions/{subscription_id}")

    # Then no invoice is issued for December, yet the 250 held hours (20.00) show
    assert status == 200, body
    assert [(i["kind"], i["period"]) for i in body["invoices"] if i["kind"] == "usage"] == [
        ("usage", "2026-11")
    ]
    november = next(i for i in body["invoices"] if i["kind"] == "usage")
    assert november["due"] == "80.00" and november["state"] == "delivered"
    assert body["budget"] == {
        "unit": "quantity", "currency": "USD", "approved": "1000",
        "used": {"hours": "1250"}, "invoiced": {"hours": "1000"}, "invoiced_to_date": "1000",
        "awaiting_budget": {"hours": "250"}, "awaiting_budget_amount": "20.00",
        "periods": ["2026-11", "2026-12"], "levels_mailed": ["1000"],
    }  # fmt: skip
    # and the subscription with its lines, as the PO approved them
    shown = body["subscription"]
    assert shown["id"] == subscription_id and shown["state"] == "active"
    assert shown["offer_id"] == "annual" and shown["billing_schedule"] == "upfront"
    usage = next(line for line in shown["lines"] if line["kind"] == "usage")
    assert usage["approval"]["order_id"] == "PO-1001"
    assert usage["approval"]["quantity"] == "1000"


# --- an order ---------------------------------------------------------------------------------


@pytest.fixture
def coupa(api: Any) -> dict[str, Any]:
    create_products(api, CONTRACT_PAYG)
    return create_integration(api, coupa_integration(test_mode=False, order_confirmations=True))


def test_an_orders_buyer_status_and_confirmation_show_on_the_order(
    api: Any, coupa: dict[str, Any]
) -> None:
    # Given PO-77 accepted, and the buyer's StatusUpdateRequest about it
    lines, secret = subscribe(api, coupa, order_id="PO-77", payload_id="po-77@coupa")
    answer = post_status(
        api,
        status_update(
            buyer=BUYER, secret=secret,
            body='<Status code="200" text="OK"/><DocumentStatus type="acknowledged">'
            '<DocumentInfo documentID="PO-77" documentType="OrderRequest"/>'
            "<Comments>seen</Comments></DocumentStatus>",
        ),
    )  # fmt: skip
    assert answer.code == 200, answer.message

    # When the admin looks at the order
    status, body = _get(api, f"/admin/integrations/{coupa['id']}/orders/PO-77")

    # Then it shows as kept, with the subscription it approved, the status and its history
    assert status == 200, body
    order = body["order"]
    assert (order["order_id"], order["order_type"], order["order_version"]) == ("PO-77", "new", 1)
    assert order["payload_id"] == "po-77@coupa" and len(order["lines"]) == len(lines)
    assert order["subscriptions"] == [
        request_id_of(lines[0].findtext("ItemID/SupplierPartAuxiliaryID") or "")
    ]
    assert "document" not in order
    assert body["buyer_status"]["status"] == "acknowledged"
    assert [h["status"] for h in body["buyer_status"]["history"]] == ["acknowledged"]
    assert body["buyer_status"]["comments"] == "seen"
    # and the ConfirmationRequest written with the order, not yet delivered
    assert body["confirmation"]["sent"] is True
    assert body["confirmation"]["state"] == "created"


def test_another_integrations_order_is_unknown(api: Any, coupa: dict[str, Any]) -> None:
    subscribe(api, coupa, order_id="PO-77", payload_id="po-77@coupa")
    other = create_integration(
        api,
        coupa_integration(
            name="Other Coupa",
            test_mode=False,
            buyer_identity={"domain": "DUNS", "identity": "other-coupa"},
        ),
    )

    status, body = _get(api, f"/admin/integrations/{other['id']}/orders/PO-77")

    assert status == 404 and "PO-77" in body["error"]["message"]


# --- unknown and hostile ids ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/admin/subscriptions/req-0000000000000000",
        "/admin/subscriptions/" + quote("usage#req-1"),
        "/admin/integrations/int-nobody/orders/PO-1",
    ],
)
def test_unknown_ids_are_a_json_404(api: Any, path: str) -> None:
    status, body = _get(api, path)

    assert status == 404, body
    assert body["error"]["message"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/admin/subscriptions/" + "9" * 5000, 400),
        ("/admin/integrations/" + "i" * 500 + "/orders/PO-1", 400),
        ("/admin/integrations/int-x/orders/" + "P" * 201, 400),
        ("/admin/subscriptions/" + quote("req-1\x00\n'<x>"), 404),
        ("/admin/subscriptions/" + quote("../../integrations", safe=""), 404),
        ("/admin/integrations/int-x/orders/" + quote("PO#1\x07"), 404),
    ],
)
def test_hostile_ids_are_a_json_4xx(api: Any, path: str, expected: int) -> None:
    status, body = _get(api, path)

    assert status == expected, body
    assert body["error"]["message"]
