"""Usage within the PO, end to end (issue 13 part 1): over-budget usage → invoice capped at the
approved budget, the rest held → the budget email, once → its link's page → an edit punchout
with the higher estimate → the PO update raising the budget → the next run invoices the held
usage. Every part is the real handler on moto; invoices go to the fake Coupa, which checks the
credentials and InvoiceDetail.dtd, and every cXML is checked against its DTD here too."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from functions.subscription_requests import request_id_of
from tests.billing_support import CoupaStack as Stack
from tests.billing_support import invoicing_stack, meter_hours, stored_document
from tests.conftest import _sent_messages
from tests.order_support import item_out, post_accepted_po
from tests.storefront_support import (
    cart_of,
    post_form,
    punch_out,
)
from tests.support import dtd_errors

_LINK = re.compile(r"https?://[^\s\"<>]+/subscriptions/[^\s\"<>#]+")


@pytest.fixture
def stack(api: Any, tables: dict[str, Any], clock: Any) -> Iterator[Stack]:
    with invoicing_stack(api, tables, clock) as local:
        yield local


def _budget_mails() -> list[Any]:
    return [m for m in _sent_messages() if "budget is raised" in m.subject]


def test_held_usage_is_mailed_raised_by_an_edit_and_a_po_update_then_invoiced(
    stack: Stack,
) -> None:
    coupa = stack.integration()
    integration_id = coupa["id"]

    # Given DataStream Pro with a 1,000-hour usage budget approved by PO-1001
    session = punch_out(stack.api, coupa)
    form = {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "1000"}
    cart = cart_of(post_form(stack.api, f"{session}/requests", form))
    request_id = request_id_of(cart.lines[0].findtext("ItemID/SupplierPartAuxiliaryID") or "")
    assert request_id
    post_accepted_po(stack.api, coupa, cart.lines, order_id="PO-1001")
    stack.run_triggers()  # the contract invoice, the "ready" mail
    # and 1,200 hours used in November
    assert meter_hours(stack, [400, 500, 300]) == ["Success"] * 3

    # When November is billed (and billed again: a re-run)
    stack.clock.freeze(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    stack.billing_run("2026-11")
    stack.billing_run("2026-11")

    # Then one usage invoice of 1,000 hours (80.00), delivered, DTD-valid, its 200 hours held
    (november,) = [i for i in stack.invoices(integration_id) if i["kind"] == "usage"]
    assert november["state"] == "delivered" and november["totals"]["due"] == "80.00"
    assert november["awaiting_budget"] is True
    assert november["budget"] == {
        "approved_budget": "1000", "invoiced_to_date": "1000",
        "awaiting_budget": {"hours": "200"}, "awaiting_budget_amount": "16.00",
    }  # fmt: skip
    assert dtd_errors(stored_document(november), "InvoiceDetail.dtd") == []
    # and the account and the requester got one budget mail, with a link to the page
    (mail,) = _budget_mails()
    assert "it@acme.example" in mail.destinations["ToAddresses"]
    assert "200 hours" in mail.body and "1,500 hours" in mail.body
    link = urlsplit(html.unescape(_LINK.findall(mail.body)[0]))

    # When the buyer follows the link
    page = stack.api.handle("GET", link.path, query=link.query)

    # Then the page shows the held usage and how to raise the budget
    assert page.status == 200
    assert "Awaiting budget: 200 hours" in page.text
    assert "1,500 hours, filled in for you" in page.text

    # When they Edit the line in Coupa: the edit punchout opens with the higher estimate
    edit = punch_out(stack.api, coupa, operation="edit", extra=item_out(cart))
    shown = stack.api.handle("GET", f"{edit}/requests/{request_id}")
    assert shown.status == 200 and 'value="1500"' in shown.text
    assert "Update usage budget</button>" in shown.text
    raised = cart_of(
        post_form(stack.api, f"{edit}/requests", {**form, "request_id": request_id,
                                                   "estimate.hours": "1500"})
    )  # fmt: skip
    assert [line.get("quantity") for line in raised.lines] == ["1", "1500"]
    # and Coupa sends the PO update approving it
    post_accepted_po(
        stack.api, coupa, raised.lines, order_id="PO-1001", order_type="update", version=2
    )

    # When December (no new usage) is billed
    stack.clock.freeze(datetime(2027, 1, 1, 2, 0, tzinfo=UTC))
    stack.billing_run("2026-12")

    # Then the held 200 hours are invoiced (16.00), nothing stays held, no further mail
    december = next(i for i in stack.invoices(integration_id) if i["period"] == "2026-12")
    assert december["state"] == "delivered" and december["totals"]["due"] == "16.00"
    assert december["awaiting_budget"] is False
    assert december["budget"]["invoiced_to_date"] == "1200"
    assert december["budget"]["approved_budget"] == "1500"
    assert dtd_errors(stored_document(december), "InvoiceDetail.dtd") == []
    assert len(_budget_mails()) == 1
    assert stack.coupa.received()[-2:] == [november["invoice_id"], december["invoice_id"]]
