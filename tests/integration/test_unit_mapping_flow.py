"""Units the buyer's system knows, through the real handlers: the admin sets a Coupa
integration's unit mapping; the cart carries the buyer's units, the PO comes back in them (or
in ours) and is accepted, and the invoice delivered to the (fake) Coupa carries them, every
document DTD-valid."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree

from functions.config import settings
from local.fake_coupa import FakeCoupa, Party, serve
from local.outbox import OutboxPump, streams_client
from local.queues import QueuePump
from tests.order_support import order_request, post_order
from tests.storefront_support import (
    CONTRACT_PAYG,
    cart_of,
    create_integration,
    create_products,
    post_form,
    punch_out,
)
from tests.support import ADMIN_TOKEN, SELLER, admin, coupa_integration, dtd_errors

US = Party("NetworkID", "procurement-gateway")
UNITS = {"ANN": "YR", "HUR": "HR"}
SUBSCRIBED_AT = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)


@pytest.fixture
def coupa(tables: dict[str, Any]) -> Iterator[tuple[FakeCoupa, str]]:
    fake = FakeCoupa(supplier=US, buyer=Party("DUNS", "acme-coupa"), sender=US)
    with serve(fake) as url:
        yield fake, url


def _integration(api: Any, fake: FakeCoupa, url: str) -> dict[str, Any]:
    created = create_integration(
        api, coupa_integration(test_mode=False, invoice_delivery=fake.invoice_delivery(url))
    )
    status, body = admin(
        api, "PATCH", f"/admin/integrations/{created['id']}", {"unit_mapping": UNITS}
    )
    assert status == 200, body
    return created


def _cart(api: Any, integration: dict[str, Any]) -> Any:
    session = punch_out(api, integration)
    form = {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "1000"}
    return cart_of(post_form(api, f"{session}/requests", form))  # checks the DTD


def _po(integration: dict[str, Any], cart: Any, order_id: str, units: dict[str, str]) -> str:
    info = integration["purchase_information"]
    document = order_request(
        cart.lines,
        buyer=(info["buyer_domain"], info["buyer_identity"]),
        secret=info["shared_secret"],
        order_id=order_id,
    )
    for sent, instead in units.items():
        document = document.replace(
            f"<UnitOfMeasure>{sent}</UnitOfMeasure>", f"<UnitOfMeasure>{instead}</UnitOfMeasure>"
        )
    return document


def test_the_admin_api_shows_the_mapping_and_refuses_a_bad_one(
    api: Any, coupa: tuple[FakeCoupa, str]
) -> None:
    integration = _integration(api, *coupa)

    status, view = admin(api, "GET", f"/admin/integrations/{integration['id']}")
    assert status == 200 and view["integration"]["unit_mapping"] == UNITS, view

    status, body = admin(
        api, "PATCH", f"/admin/integrations/{integration['id']}", {"unit_mapping": {"HUR": "h r"}}
    )
    assert status == 400 and body["error"]["field"] == "unit_mapping.HUR", body
    status, view = admin(api, "GET", f"/admin/integrations/{integration['id']}")
    assert view["integration"]["unit_mapping"] == UNITS, "nothing half-written"


def test_cart_po_and_invoice_in_the_buyers_units(
    api: Any, tables: dict[str, Any], clock: Any, coupa: tuple[FakeCoupa, str]
) -> None:
    clock.freeze(SUBSCRIBED_AT)
    create_products(api, {**CONTRACT_PAYG, "seller_account": SELLER})
    fake, url = coupa
    integration = _integration(api, fake, url)

    # When the buyer asks for approval, the cart carries the buyer's units
    cart = _cart(api, integration)
    assert [line.findtext("ItemDetail/UnitOfMeasure") for line in cart.lines] == ["YR", "HR"]

    # And the PO echoing them is accepted
    answer = post_order(api, _po(integration, cart, "PO-UNITS", {}))
    assert answer.code == 200, answer.message

    # Then the contract invoice delivered to Coupa is in the buyer's unit, DTD-valid
    config = settings()
    OutboxPump(
        config.outbox_table, dynamodb=tables["dynamodb"], streams=streams_client("us-east-1")
    ).pump_once()
    QueuePump(
        config.billing_queue_url, config.delivery_queue_url, sqs=tables["sqs"], visibility_seconds=0
    ).drain(timeout=60)
    (invoice_id,) = fake.received()
    posted = fake.invoices[invoice_id]
    assert dtd_errors(posted, "InvoiceDetail.dtd") == []
    assert [u.text for u in etree.fromstring(posted).iter("UnitOfMeasure")] == ["YR"]
    # (the admin's summary keeps our code)
    answer = api.handle(
        "GET", f"/admin/invoices/{invoice_id}", headers=[("Authorization", f"Bearer {ADMIN_TOKEN}")]
    )
    lines = json.loads(answer.body)["invoice"]["summary"]["lines"]
    assert [line["unit_of_measure"] for line in lines] == ["ANN"]


@pytest.mark.parametrize(
    ("units", "code"),
    [({"YR": "ANN", "HR": "HUR"}, 200), ({"YR": "MON"}, 409)],
    ids=["our codes", "another unit"],
)
def test_a_po_in_our_codes_matches_another_unit_does_not(
    api: Any, coupa: tuple[FakeCoupa, str], units: dict[str, str], code: int
) -> None:
    create_products(api, {**CONTRACT_PAYG, "seller_account": SELLER})
    integration = _integration(api, *coupa)
    cart = _cart(api, integration)

    answer = post_order(api, _po(integration, cart, "PO-OURS", units))

    assert answer.code == code, answer.message
    if code == 409:
        assert "unit 'MON' differs from the requested 'YR'" in answer.message
