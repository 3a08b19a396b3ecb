"""Units the buyer's system knows, through the real handlers: the admin sets a Coupa
integration's unit mapping; the cart carries the buyer's units, the PO comes back in them (or
in ours) and is accepted, and the invoice delivered to the (fake) Coupa carries them, every
document DTD-valid."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree

from tests.billing_support import CoupaStack as Stack
from tests.billing_support import coupa_stack
from tests.order_support import po_from, post_order, request_approval
from tests.storefront_support import (
    CONTRACT_PAYG,
    create_products,
)
from tests.support import SELLER, admin, dtd_errors

UNITS = {"ANN": "YR", "HUR": "HR"}
SUBSCRIBED_AT = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)


@pytest.fixture
def stack(api: Any, tables: dict[str, Any], clock: Any) -> Iterator[Stack]:
    with coupa_stack(api, tables, clock) as local:
        yield local


def _integration(stack: Stack) -> dict[str, Any]:
    """A live Coupa integration with the buyer's unit codes."""
    created = stack.integration()
    status, body = admin(
        stack.api, "PATCH", f"/admin/integrations/{created['id']}", {"unit_mapping": UNITS}
    )
    assert status == 200, body
    return created


def _po(integration: dict[str, Any], cart: Any, order_id: str, units: dict[str, str]) -> str:
    """The PO approving the cart, with its unit codes replaced as `units` says."""
    document = po_from(integration, cart.lines, order_id=order_id)
    for sent, instead in units.items():
        document = document.replace(
            f"<UnitOfMeasure>{sent}</UnitOfMeasure>", f"<UnitOfMeasure>{instead}</UnitOfMeasure>"
        )
    return document


def test_the_admin_api_shows_the_mapping_and_refuses_a_bad_one(stack: Stack) -> None:
    api = stack.api
    integration = _integration(stack)

    status, view = admin(api, "GET", f"/admin/integrations/{integration['id']}")
    assert status == 200 and view["integration"]["unit_mapping"] == UNITS, view

    status, body = admin(
        api, "PATCH", f"/admin/integrations/{integration['id']}", {"unit_mapping": {"HUR": "h r"}}
    )
    assert status == 400 and body["error"]["field"] == "unit_mapping.HUR", body
    status, view = admin(api, "GET", f"/admin/integrations/{integration['id']}")
    assert view["integration"]["unit_mapping"] == UNITS, "nothing half-written"


def test_cart_po_and_invoice_in_the_buyers_units(stack: Stack) -> None:
    api, fake = stack.api, stack.coupa
    stack.clock.freeze(SUBSCRIBED_AT)
    create_products(api, {**CONTRACT_PAYG, "seller_account": SELLER})
    integration = _integration(stack)

    # When the buyer asks for approval, the cart carries the buyer's units
    cart = request_approval(api, integration)
    assert [line.findtext("ItemDetail/UnitOfMeasure") for line in cart.lines] == ["YR", "HR"]

    # And the PO echoing them is accepted
    answer = post_order(api, _po(integration, cart, "PO-UNITS", {}))
    assert answer.code == 200, answer.message

    # Then the contract invoice delivered to Coupa is in the buyer's unit, DTD-valid
    stack.run_triggers()
    (invoice_id,) = fake.received()
    posted = fake.invoices[invoice_id]
    assert dtd_errors(posted, "InvoiceDetail.dtd") == []
    assert [u.text for u in etree.fromstring(posted).iter("UnitOfMeasure")] == ["YR"]
    # (the admin's summary keeps our code)
    status, body = admin(api, "GET", f"/admin/invoices/{invoice_id}")
    assert status == 200, body
    lines = body["invoice"]["summary"]["lines"]
    assert [line["unit_of_measure"] for line in lines] == ["ANN"]


@pytest.mark.parametrize(
    ("units", "code"),
    [({"YR": "ANN", "HR": "HUR"}, 200), ({"YR": "MON"}, 409)],
    ids=["our codes", "another unit"],
)
def test_a_po_in_our_codes_matches_another_unit_does_not(
    stack: Stack, units: dict[str, str], code: int
) -> None:
    api = stack.api
    create_products(api, {**CONTRACT_PAYG, "seller_account": SELLER})
    integration = _integration(stack)
    cart = request_approval(api, integration)

    answer = post_order(api, _po(integration, cart, "PO-OURS", units))

    assert answer.code == code, answer.message
    if code == 409:
        assert "unit 'MON' differs from the requested 'YR'" in answer.message
