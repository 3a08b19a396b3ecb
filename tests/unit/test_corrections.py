"""Credit memos, cancellations and the refund rule: amounts, ids, references to the original
invoice, and InvoiceDetail.dtd validity for a Coupa and an Ariba buyer."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from functions import billing, corrections, invoice_corrections, refunds
from functions.billing import contract_invoice, usage_invoice
from functions.corrections import CreditRequest, credit_memo, credit_request_from_json
from functions.cxml.model import Credential
from functions.errors import BadRequest, Conflict, NotFound
from functions.integrations import Integration
from functions.invoice_summary import invoice_of_summary
from functions.subscriptions import Subscription
from tests.billing_support import subscription
from tests.support import dtd_errors

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
US = Credential("NetworkID", "procurement-gateway")
COUPA = Credential("DUNS", "acme-coupa")
ARIBA = Credential("NetworkID", "AN01000000001-T")


def _usage_summary() -> dict[str, Any]:
    invoice = usage_invoice(
        subscription(), "2026-11", {"hours": Decimal(1200)}, {"hours": Decimal(1200)}, NOW
    )
    assert invoice is not None
    return billing.summary_json(invoice)  # 1,200 hours at 0.08: 96.00


def _contract_summary(sub: Subscription | None = None, **extra: Any) -> dict[str, Any]:
    """The contract invoice as the billing run issues it: as of the activation."""
    sub = sub or subscription()
    invoice = contract_invoice(
        sub, datetime.fromisoformat(sub.activated_at) if sub.activated_at else NOW
    )
    assert invoice is not None
    return {**billing.summary_json(invoice), **extra}


def _document(invoice: billing.Invoice, buyer: Credential, operation: str = "new") -> bytes:
    return billing.invoice_document(
        invoice, supplier=US, buyer=buyer, sender=US, sender_secret="s3", operation=operation
    )


# --- the request ---------------------------------------------------------------------------


def test_a_credit_is_an_amount_or_lines_with_a_reason() -> None:
    assert credit_request_from_json({"amount": "10.50", "reason": "Goodwill"}).amount == Decimal(
        "10.50"
    )
    lines = credit_request_from_json(
        {"lines": [{"invoice_line_number": 1, "quantity": "200"}], "reason": "Outage"}
    )
    assert lines.lines == ((1, Decimal(200)),)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "10"}, "reason"),
        ({"amount": "10", "lines": [], "reason": "x"}, "amount"),
        ({"reason": "x"}, "amount"),
        ({"amount": "-3", "reason": "x"}, "amount"),
        ({"amount": "1.001", "reason": "x"}, "amount"),
        ({"amount": "NaN", "reason": "x"}, "amount"),
        ({"amount": 1.5, "reason": "x"}, "amount"),
        ({"amount": True, "reason": "x"}, "amount"),
        ({"amount": "1e400", "reason": "x"}, "amount"),
        ({"amount": "10", "reason": "x", "key": "a b"}, "key"),
        ({"amount": "10", "reason": "x", "extra": 1}, "extra"),
        ({"lines": [{"invoice_line_number": "1", "quantity": "2"}], "reason": "x"},
         "lines[0].invoice_line_number"),
        ({"lines": [{"invoice_line_number": 1}], "reason": "x"}, "lines[0].quantity"),
        ({"lines": "all", "reason": "x"}, "lines"),
    ],
)  # fmt: skip
def test_a_bad_credit_request_is_refused_naming_the_field(body: Any, field: str) -> None:
    with pytest.raises(BadRequest) as refused:
        credit_request_from_json(body)

    assert refused.value.field == field


# --- the credit memo -----------------------------------------------------------------------


def test_a_credit_memo_refers_to_the_original_and_its_po_line_with_negative_amounts() -> None:
    original = _usage_summary()
    request = CreditRequest("Outage on 3 Nov", lines=((1, Decimal(200)),))

    memo = credit_memo(original, "delivered", "orig-payload@us", request, [], NOW, sequence=1)

    assert memo.invoice_id == "CM-" + original["invoice_id"].removeprefix("INV-") + "-1"
    assert (memo.purpose, memo.original_invoice_id) == ("creditMemo", original["invoice_id"])
    (line,) = memo.lines
    assert (line.po_line_number, line.quantity, line.unit_price) == (2, 200, Decimal("0.08"))
    assert memo.due == Decimal("-16.00")
    root = etree.fromstring(_document(memo, COUPA))
    header = root.find(".//InvoiceDetailRequestHeader")
    assert (header.get("purpose"), header.get("operation")) == ("creditMemo", "new")
    assert header.find("DocumentReference").get("payloadID") == "orig-payload@us"
    info = header.find("InvoiceIDInfo")
    assert (info.get("invoiceID"), info.get("invoiceDate")) == (
        original["invoice_id"], original["invoice_date"],
    )  # fmt: skip
    assert root.find(".//OrderReference").get("orderID") == original["order_id"]
    assert root.find(".//InvoiceDetailItem").get("quantity") == "200"
    assert root.findtext(".//InvoiceDetailItem/SubtotalAmount/Money") == "-16.00"
    assert root.findtext(".//InvoiceDetailSummary/DueAmount/Money") == "-16.00"


@pytest.mark.parametrize("buyer", [COUPA, ARIBA], ids=["coupa", "ariba"])
def test_credit_memo_and_cancellation_documents_are_dtd_valid(buyer: Credential) -> None:
    original = _contract_summary()
    memo = credit_memo(
        original, "delivered", "p@us", CreditRequest("Goodwill", amount=Decimal("100.00")), [],
        NOW, sequence=1,
    )  # fmt: skip
    assert dtd_errors(_document(memo, buyer), "InvoiceDetail.dtd") == []

    stored = invoice_of_summary(original)
    itself = replace(stored, original_invoice_id=stored.invoice_id,
                     original_invoice_date=stored.invoice_date, original_payload_id="p@us")  # fmt: skip
    cancellation = _document(itself, buyer, operation="delete")
    assert dtd_errors(cancellation, "InvoiceDetail.dtd") == []
    header = etree.fromstring(cancellation).find(".//InvoiceDetailRequestHeader")
    assert (header.get("invoiceID"), header.get("operation")) == (stored.invoice_id, "delete")
    assert header.find("DocumentReference").get("payloadID") == "p@us"


def test_credits_never_exceed_what_the_original_charged() -> None:
    original = _usage_summary()  # 96.00
    first = credit_memo(original, "delivered", "p", CreditRequest("a", amount=Decimal("90.00")),
                        [], NOW, sequence=1)  # fmt: skip
    earlier = [billing.summary_json(first)]

    with pytest.raises(Conflict) as refused:
        credit_memo(original, "delivered", "p", CreditRequest("b", amount=Decimal("6.01")),
                    earlier, NOW, sequence=2)  # fmt: skip
    assert "at most 6.00 can be credited" in refused.value.message
    last = credit_memo(original, "delivered", "p", CreditRequest("b", amount=Decimal("6.00")),
                       earlier, NOW, sequence=2)  # fmt: skip
    assert last.invoice_id.endswith("-2") and last.due == Decimal("-6.00")
    with pytest.raises(Conflict):  # more hours than were invoiced
        credit_memo(original, "delivered", "p", CreditRequest("c", lines=((1, Decimal(1201)),)),
                    [], NOW, sequence=1)  # fmt: skip


@pytest.mark.parametrize("state", ["created", "failed", "rejected", "cancelled"])
def test_only_an_invoice_the_buyer_holds_is_credited(state: str) -> None:
    with pytest.raises(Conflict) as refused:
        credit_memo(_usage_summary(), state, "p", CreditRequest("a", amount=Decimal(1)), [], NOW,
                    sequence=1)  # fmt: skip
    assert "Cancel it instead" in refused.value.message


def test_the_same_key_finds_the_same_credit_and_other_content_is_refused() -> None:
    request = CreditRequest("Goodwill", amount=Decimal("5.00"), key="ticket-42")
    memo = credit_memo(_usage_summary(), "delivered", "p", request, [], NOW, sequence=1)
    stored = {**billing.summary_json(memo), "credit_content": request.content()}

    assert corrections.existing_credit(request, [stored]) == stored
    with pytest.raises(Conflict) as refused:
        corrections.existing_credit(replace(request, amount=Decimal("6.00")), [stored])
    assert refused.value.field == "key"
    unkeyed = CreditRequest("Goodwill", amount=Decimal("5.00"))
    assert unkeyed.effective_key == CreditRequest("Goodwill", amount=Decimal("5")).effective_key


@pytest.mark.parametrize(
    ("state", "log", "allowed"),
    [
        ("created", {}, True),
        ("rejected", {"attempts": 1, "last_code": 406}, True),
        ("stored", {}, True),
        ("failed", {"attempts": 5, "last_code": 500}, True),
        ("failed", {"attempts": 5, "unanswered": 2}, False),
        ("delivered", {"delivered_at": "2026-12-01T00:00:00+00:00"}, False),
        ("cancelled", {}, False),
    ],
)
def test_only_an_invoice_that_never_reached_the_buyer_is_cancelled(
    state: str, log: dict[str, Any], allowed: bool
) -> None:
    from functions.delivery import DeliveryLog

    arrived = DeliveryLog.from_json(log).may_have_arrived
    if allowed:
        corrections.check_cancellable("INV-1", state, arrived)
    else:
        with pytest.raises(Conflict):
            corrections.check_cancellable("INV-1", state, arrived)


# --- the refund rule -----------------------------------------------------------------------


def _cancelled(activated: str, cancelled: str, years: int = 1, unit: str = "ANN") -> Subscription:
    base = subscription()
    approved = base.lines[0].approval
    assert approved is not None
    contract = replace(base.lines[0], unit_of_measure=unit, requested_quantity=Decimal(years),
                       approval=replace(approved, quantity=Decimal(years)))  # fmt: skip
    return replace(base, lines=(contract, base.lines[1]), activated_at=activated,
                   state="cancelled", cancelled_at=cancelled)  # fmt: skip


@pytest.mark.parametrize(
    ("count", "unit", "cancelled", "unused"),
    [
        (3, "ANN", "2027-03-10T00:00:00+00:00", 2),  # in year 2 of 3: year 3 refunded
        (3, "ANN", "2026-10-01T00:00:00+00:00", 2),  # cancelled as it began: year 1 is kept
        (12, "MON", "2026-12-15T00:00:00+00:00", 9),  # Oct, Nov, Dec begun
        (1, "ANN", "2027-03-10T00:00:00+00:00", 0),  # the year in progress is kept
        (3, "EA", "2026-10-02T00:00:00+00:00", 0),  # not a period: no refund
    ],
)
def test_unused_periods(count: int, unit: str, cancelled: str, unused: int) -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    assert refunds.unused_periods(start, count, unit, datetime.fromisoformat(cancelled)) == unused


def test_a_three_year_contract_cancelled_in_year_two_credits_year_three() -> None:
    sub = _cancelled("2026-03-01T00:00:00+00:00", "2027-06-01T00:00:00+00:00", years=3)
    invoice = _contract_summary(sub)

    request = refunds.refund_request(sub, invoice)

    assert request is not None and request.lines == ((1, Decimal(1)),)
    assert request.key == f"refund#{invoice['invoice_id']}"
    assert refunds.refund_request(sub, _usage_summary()) is None  # usage: never refunded
    instalment = _contract_summary(sub, service_start="2027-09-01T00:00:00+00:00")
    assert refunds.refund_request(sub, instalment) is not None  # begins after: all 3 unused


# --- exactly once, through the use case ------------------------------------------------------


@dataclass
class _Stored:
    invoice_id: str
    kind: str
    integration_id: str
    state: str
    summary: dict[str, Any]
    delivery: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakePorts:
    invoices: dict[str, _Stored] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)
    sub: Subscription | None = None

    def invoice(self, invoice_id: str) -> _Stored | None:
        return self.invoices.get(invoice_id)

    def credits(self, invoice_id: str) -> list[_Stored]:
        found, n = [], 1
        while (credit := self.invoices.get(corrections.credit_memo_id(invoice_id, n))) is not None:
            found.append(credit)
            n += 1
        return found

    def payload_id(self, invoice: Any) -> str:
        return f"{invoice.invoice_id}@us"

    def integration(self, integration_id: str) -> Integration | None:
        from tests.billing_support import fake_integration as _integration

        return _integration(id=integration_id)

    def create(self, invoice: billing.Invoice, document: bytes, summary: dict[str, Any]) -> bool:
        if invoice.invoice_id in self.invoices:
            return False
        self.invoices[invoice.invoice_id] = _Stored(
            invoice.invoice_id, invoice.kind, invoice.integration_id, "created", summary
        )
        return True

    def announce(self, invoice_id: str) -> None:
        self.sent.append(invoice_id)

    def cancel(self, invoice: Any, document: bytes) -> bool:
        self.invoices[invoice.invoice_id].state = "cancelled"
        return True

    def subscription(self, subscription_id: str) -> Subscription | None:
        return self.sub

    def contract_invoices(self, subscription_id: str) -> list[_Stored]:
        return [i for i in self.invoices.values() if i.kind == "contract"]


def test_a_refund_handled_twice_credits_once() -> None:
    sub = _cancelled("2026-03-01T00:00:00+00:00", "2027-06-01T00:00:00+00:00", years=3)
    original = _contract_summary(sub)
    ports = FakePorts(sub=sub)
    ports.invoices[original["invoice_id"]] = _Stored(
        original["invoice_id"], "contract", "int_1", "delivered", original
    )

    first = invoice_corrections.refund(sub.id, ports, supplier=US, now=NOW)
    again = invoice_corrections.refund(sub.id, ports, supplier=US, now=NOW)

    assert [c.created for c in first] == [True] and [c.created for c in again] == [False]
    assert first[0].invoice_id == again[0].invoice_id and ports.sent == [first[0].invoice_id]
    memo = ports.invoices[first[0].invoice_id].summary
    assert memo["due"] == "-15000.00" and memo["credited_lines"] == [1]


def test_credit_and_cancel_of_an_unknown_invoice_are_not_found() -> None:
    with pytest.raises(NotFound):
        invoice_corrections.issue_credit(
            "INV-X", CreditRequest("a", amount=Decimal(1)), FakePorts(), supplier=US, now=NOW
        )
    with pytest.raises(NotFound):
        invoice_corrections.cancel("INV-X", FakePorts(), supplier=US)


def test_a_refund_never_takes_back_more_than_earlier_credits_left() -> None:
    sub = _cancelled("2026-03-01T00:00:00+00:00", "2027-06-01T00:00:00+00:00", years=3)
    original = _contract_summary(sub)  # 3 x 15,000.00; year 3 unused
    ports = FakePorts(sub=sub)
    ports.invoices[original["invoice_id"]] = _Stored(
        original["invoice_id"], "contract", "int_1", "delivered", original
    )
    goodwill = CreditRequest("Goodwill", amount=Decimal("40000.00"))
    invoice_corrections.issue_credit(original["invoice_id"], goodwill, ports, supplier=US, now=NOW)

    assert invoice_corrections.refund(sub.id, ports, supplier=US, now=NOW) == []
    assert len(ports.sent) == 1  # the goodwill credit only: 5,000.00 left is less than a year


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30)
    | st.decimals(allow_nan=True, allow_infinity=True) | st.floats(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner,
                                                               max_size=4),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    body=st.fixed_dictionaries(
        {}, optional={"amount": _json, "lines": _json, "reason": _json, "key": _json}
    )
    | _json
)
def test_any_json_body_is_a_credit_request_or_a_bad_request_naming_why(body: Any) -> None:
    try:
        request = credit_request_from_json(body)
    except BadRequest as refused:
        assert refused.message
        return
    assert request.reason and (request.amount is None) != (not request.lines)
    assert request.amount is None or request.amount > 0
