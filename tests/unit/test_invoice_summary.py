"""The stored invoice summary read back (`functions.invoice_summary`): what corrections start
from is what was invoiced, for an invoice and for a credit memo of it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from functions import billing
from functions.billing import contract_invoice
from functions.corrections import CreditRequest, credit_memo
from functions.invoice_summary import invoice_of_summary
from functions.taxes import TaxRule
from tests.billing_support import subscription

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
VAT = TaxRule(rate=Decimal("0.19"), category="vat", description="VAT 19%", location="DE")


def test_an_invoice_read_back_from_its_summary_is_the_invoice_issued() -> None:
    # Given a taxed contract invoice, stored as its summary
    issued = contract_invoice(subscription(), NOW)
    assert issued is not None
    issued = replace(issued, tax_rule=VAT)
    # When it is read back
    stored = invoice_of_summary(billing.summary_json(issued))
    # Then lines, tax and totals are as issued
    assert stored.lines == issued.lines
    assert (stored.subtotal, stored.tax, stored.due) == (issued.subtotal, issued.tax, issued.due)
    assert stored.tax_rule == issued.tax_rule
    assert (stored.order_id, stored.product_name) == (issued.order_id, issued.product_name)


def test_a_credit_memo_names_what_it_credits_and_reads_back_as_issued() -> None:
    # Given a delivered invoice and a credit memo of 100.00 against it
    issued = contract_invoice(subscription(), NOW)
    assert issued is not None
    summary = billing.summary_json(issued)
    request = CreditRequest("Goodwill", amount=Decimal("100.00"))
    memo = credit_memo(summary, "delivered", "p@us", request, [], NOW, sequence=1)
    # Then it keeps the order, product and currency of the invoice, and credits its first line
    assert (memo.order_id, memo.product_name, memo.currency) == (
        issued.order_id, issued.product_name, issued.currency,
    )  # fmt: skip
    assert memo.original_invoice_id == issued.invoice_id
    assert memo.subtotal == Decimal("-100.00")
    # And read back from its own summary it is the same credit memo
    back = invoice_of_summary(billing.summary_json(memo))
    assert back.lines == memo.lines and back.due == memo.due
