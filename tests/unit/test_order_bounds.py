"""The kept order always fits its DynamoDB item, whatever a (1 MB, 500-line) PO carries:
500 lines with every essential field at its largest and about 2 KB of free text each."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from decimal import Decimal

from functions import orders
from functions.cxml.model import ItemRef, Money
from functions.cxml.parse import OrderLine, PurchaseOrder
from functions.integrations import BuyerIdentity, Integration

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LONG = "x" * 1_000


def _worst_line(number: int) -> OrderLine:
    """Every field at the largest the parser and check_envelope let through."""
    amount = Decimal("99999999999.99999999999999999999")
    return OrderLine(
        line_number=number,
        quantity=amount,
        item=ItemRef("p" * orders.MAX_ID_CHARS, "a" * orders.MAX_ID_CHARS),
        unit_price=Money(amount, "USD"),
        description=LONG[:500],
        unit_of_measure=LONG[:200],
        classification=LONG[:200],
        extrinsics={"CostCenter": LONG[:500], "Project": LONG[:300]},
        accounting=(
            {
                "name": LONG[:50],
                "segments": [{"type": "GL", "id": "1", "description": LONG[:300]}],
                "charge": {"amount": "1.00", "currency": "USD"},
            },
        ),
    )


def test_a_worst_case_500_line_po_keeps_every_line_within_the_item_budget() -> None:
    po = PurchaseOrder(
        order_id="o" * 100,
        order_date=LONG,
        order_type="delete",
        order_version=2,
        total=Money(Decimal("1.00"), "USD"),
        lines=tuple(_worst_line(n) for n in range(1, 501)),
        bill_to={"name": LONG, "street": [LONG] * 10},
        ship_to={"name": LONG, "street": [LONG] * 10},
        extrinsics={f"{n}": LONG[:500] for n in range(50)},
        previous_payload_id=LONG,
    )
    orders.check_envelope(po, "p@b")
    integration = Integration("int_1", "Acme", "coupa", BuyerIdentity("DUNS", "acme"), "1", "a@b.c")
    previous = orders.StoredOrder("int_1", po.order_id, "new", 1, "p0@b", "", "", False, "", "",
                                  lines=())  # fmt: skip
    context = orders.OrderContext(integration, {}, {}, previous)

    outcome = orders.process(po, context, payload_id="p@b", deployment_mode="production",
                             document=os.urandom(500_000), base_url="https://x", now=NOW)  # fmt: skip

    kept = orders.order_json(outcome.order)
    assert len(json.dumps(kept)) <= orders.ORDER_ITEM_BUDGET
    assert outcome.order.truncated is True and outcome.order.document_key
    assert [line["line_number"] for line in kept["lines"]] == list(range(1, 501))
    assert all(line["auxiliary_id"] == "a" * orders.MAX_ID_CHARS for line in kept["lines"])
