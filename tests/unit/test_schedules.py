"""Contract billing schedules (issue 13 part 2): which schedules an offer may have, how a
contract line is cut into instalments, which fall due in a billing period, the invoices they
make, and the words the storefront shows."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from functions import billing, instalments, schedules
from functions.billing import CONTRACT, contract_invoice
from functions.catalog_input import product_from_json
from functions.store.subscriptions import billing_shard
from functions.subscriptions import Subscription, SubscriptionLine
from tests.billing_support import acme_document, approval, subscription
from tests.catalog_support import product_payload, refusal_of
from tests.support import dtd_errors

START = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)


def _contract(term: int, schedule: str, **overrides: Any) -> Subscription:
    """A contract-only subscription: `term` months at 1,000.00 USD a month, all approved by
    line 1 of PO-7, activated on 31 January 2026."""
    line = SubscriptionLine("req-0123456789abcdef-1", "contract", "ops-desk/monthly",
                            Decimal("1000.00"), "USD", "MON", Decimal(term),
                            approval(1, str(term)))  # fmt: skip
    base = subscription(pricing_model="contract", lines=(line,), rates={},
                        billing_schedule=schedule, activated_at=START.isoformat())  # fmt: skip
    return replace(base, **overrides)


def _with_pricing(**pricing: Any) -> dict[str, Any]:
    payload = product_payload()
    offer = copy.deepcopy(payload["offers"][0])
    offer["pricing"] = {"model": "contract", "price": "100.00", "term": 12, **pricing}
    payload["offers"] = [offer]
    return payload


# --- what the catalog accepts ---------------------------------------------------------------


def test_a_schedule_must_be_a_whole_number_of_the_priced_period() -> None:
    assert schedules.allowed("month") == ("upfront", "monthly", "quarterly", "annual")
    assert schedules.allowed("year") == ("upfront", "annual")

    refused = refusal_of(_with_pricing(period="year", schedule="monthly"))
    unknown = refusal_of(_with_pricing(period="month", schedule="weekly"))
    not_text = refusal_of(_with_pricing(period="month", schedule=["monthly"]))

    assert refused.field == "offers[0].pricing.schedule"
    assert "upfront, annual" in refused.message and "per year" in refused.message
    assert unknown.field == not_text.field == "offers[0].pricing.schedule"


def test_an_offer_without_a_schedule_stays_upfront_and_one_with_it_keeps_it() -> None:
    old = product_from_json(_with_pricing(period="month")).offers[0]
    quarterly = product_from_json(_with_pricing(period="month", schedule="quarterly")).offers[0]

    assert old.pricing.schedule == "upfront"
    assert quarterly.pricing.schedule == "quarterly"


# --- instalments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "quantity", "uom", "expected"),
    [
        ("upfront", "12", "MON", ["12"]),
        ("monthly", "12", "MON", ["1"] * 12),
        ("quarterly", "12", "MON", ["3"] * 4),
        ("quarterly", "7", "MON", ["3", "3", "1"]),  # the last is what remains
        ("annual", "18", "MON", ["12", "6"]),
        ("annual", "3", "ANN", ["1", "1", "1"]),
        ("monthly", "2", "ANN", ["2"]),  # never priced so (refused above): the whole line
    ],
)
def test_instalments_add_up_to_the_line_in_its_own_unit(
    schedule: str, quantity: str, uom: str, expected: list[str]
) -> None:
    parts = instalments.instalments(schedule, START, Decimal(quantity), uom)

    assert [str(p.quantity) for p in parts] == expected
    assert sum(p.quantity for p in parts) == Decimal(quantity)
    assert [p.number for p in parts] == list(range(1, len(parts) + 1))
    assert {p.of for p in parts} == {len(parts)}


def test_each_instalment_falls_due_when_its_interval_starts() -> None:
    parts = instalments.instalments("monthly", START, Decimal(4), "MON")

    # 31 January + 1 month is the last day of February; + 2 months is 31 March again
    assert [p.due.date().isoformat() for p in parts] == [
        "2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30",
    ]  # fmt: skip


def test_quarterly_instalments_invoice_three_months_at_the_po_unit_price() -> None:
    monthly_priced = _contract(7, "quarterly")

    invoices = [contract_invoice(monthly_priced, START, n) for n in (1, 2, 3, 4)]

    assert invoices[3] is None  # only three instalments
    issued = [i for i in invoices if i is not None]
    assert [(i.lines[0].quantity, i.lines[0].unit_price) for i in issued] == [
        (Decimal(3), Decimal("1000.00")), (Decimal(3), Decimal("1000.00")),
        (Decimal(1), Decimal("1000.00")),
    ]  # fmt: skip
    assert sum(i.due for i in issued) == Decimal("7000.00")  # the PO line, no more
    assert [i.period for i in issued] == ["2026-01", "2026-04", "2026-07"]
    assert [i.instalment for i in issued] == [(1, 3), (2, 3), (3, 3)]
    assert len({i.invoice_id for i in issued}) == 3
    for invoice in issued:
        assert invoice.lines[0].unit_of_measure == "MON" and invoice.lines[0].po_line_number == 1
        assert dtd_errors(acme_document(invoice), "InvoiceDetail.dtd") == []


def test_instalment_ids_are_unique_per_number_and_upfront_keeps_its_id() -> None:
    ids = {billing.contract_invoice_id("req-a", "monthly", n) for n in range(1, 61)}

    assert len(ids) == 60
    assert billing.contract_invoice_id("req-a", "monthly", 2).startswith("INV-C-I02-")
    assert billing.contract_invoice_id("req-a", "quarterly", 2) == (
        billing.contract_invoice_id("req-a", "monthly", 2)
    )
    assert billing.contract_invoice_id("req-a", "upfront", 1) == (
        billing.invoice_id("req-a", CONTRACT, "")
    )


# --- which fall due in a billing run --------------------------------------------------------


def test_the_run_for_a_month_issues_the_instalment_starting_in_it_once_due() -> None:
    contract = _contract(12, "monthly")
    after = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)

    assert [p.number for p in instalments.due_in(contract, "2026-03", after)] == [3]
    assert [p.number for p in instalments.due_in(contract, "2026-01", after)] == [1]
    # a run started early (10 March) does not invoice what falls due on the 31st
    assert instalments.due_in(contract, "2026-03", datetime(2026, 3, 10, tzinfo=UTC)) == []
    assert instalments.due_in(contract, "2027-02", datetime(2027, 3, 1, tzinfo=UTC)) == []


def test_no_instalment_falls_due_after_a_cancellation_or_for_what_is_never_invoiced() -> None:
    after = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
    cancelled = _contract(12, "monthly", state="cancelled",
                          cancelled_at="2026-03-30T00:00:00+00:00")  # fmt: skip

    assert instalments.due_in(cancelled, "2026-02", after) != []  # before: still owed
    assert instalments.due_in(cancelled, "2026-03", after) == []  # due the 31st: after it
    for never in (
        _contract(12, "monthly", test=True),
        _contract(12, "monthly", pricing_model="free_trial"),
        _contract(12, "monthly", state="withdrawn"),
        _contract(12, "upfront"),  # issued on activation only
    ):
        assert instalments.due_in(never, "2026-03", after) == []


@pytest.mark.parametrize("schedule", ["upfront", "monthly"])
def test_a_contract_that_never_started_is_never_invoiced(schedule: str) -> None:
    """A PO approving the contract line of a two-line request leaves it pending: a contract
    invoice request reaching the worker then (a replayed stream record) issues nothing."""
    pending = _contract(12, schedule, state="pending", activated_at="")
    withdrawn = _contract(12, schedule, state="withdrawn", activated_at="")

    assert contract_invoice(pending, START) is None
    assert contract_invoice(withdrawn, START) is None


def test_scheduled_contracts_enter_the_billable_index_upfront_ones_do_not() -> None:
    assert billing_shard(_contract(12, "monthly")) is not None
    assert billing_shard(_contract(12, "upfront")) is None
    assert billing_shard(_contract(12, "monthly", test=True)) is None


# --- the words --------------------------------------------------------------------------------


def test_the_schedule_in_words() -> None:
    usd = "USD"
    assert schedules.billed("monthly", Decimal("1000"), "month", 12, usd) == (
        "billed monthly: 12 instalments of 1,000.00 USD"
    )
    assert schedules.billed("quarterly", Decimal("100"), "month", 7, usd) == (
        "billed quarterly: 3 instalments, 2 of 300.00 USD and a last one of 100.00 USD"
    )
    assert schedules.billed("annual", Decimal("7200"), "year", 3, usd) == (
        "billed yearly: 3 instalments of 7,200.00 USD"
    )
    assert schedules.billed("annual", Decimal("100"), "month", 6, usd) == (
        "billed yearly: one instalment of 600.00 USD"
    )
    assert schedules.billed("upfront", Decimal("100"), "month", 6, usd) == ""


def test_the_subscribe_page_cart_and_subscription_say_how_a_scheduled_contract_is_invoiced(
    clock: Any,
) -> None:
    from functions.commitments import invoicing
    from functions.instalments import subscription_invoicing
    from functions.subscription_requests import cart_lines

    payload = _with_pricing(period="month", price="299.00", schedule="monthly")
    product = product_from_json(payload)
    offer = product.offers[0]

    (line,) = cart_lines("req-0123456789abcdef", product, offer, {})
    page = invoicing(offer.pricing, offer.currency)

    assert "299.00 USD per month for 12 months, billed monthly: 12 instalments of 299.00 USD." in (
        line.description
    )
    assert page == (
        "Billed monthly: 12 instalments of 299.00 USD (3,588.00 USD for 12 months in all): the "
        "first when your company's purchase order is accepted, then one as each month of the "
        "term starts; none after a cancellation."
    )
    assert "in full" not in page
    assert subscription_invoicing(_contract(12, "quarterly")) == (
        "Billed quarterly: 4 instalments of 3,000.00 USD (12,000.00 USD for 12 months in all): "
        "the first when your company's purchase order is accepted, then one as each quarter of "
        "the term starts; none after a cancellation."
    )
    assert subscription_invoicing(_contract(12, "upfront")).startswith("The whole contract")


def test_a_quarterly_instalment_cancelled_in_its_first_month_refunds_its_two_unbegun_months() -> (
    None
):
    """The refund rule counts an instalment's periods from the start of what it charges (its
    `service_start`), not from the activation: the second quarter, cancelled a week into it,
    gives back its second and third months; the first quarter, all begun, gives back nothing."""
    from functions.refunds import refund_request

    cancelled = _contract(7, "quarterly", cancelled_at="2026-05-07T09:00:00+00:00")
    first, second = (contract_invoice(cancelled, START, n) for n in (1, 2))
    assert first is not None and second is not None

    refunds = [refund_request(cancelled, billing.summary_json(i)) for i in (first, second)]

    assert second.service_start == "2026-04-30T09:00:00+00:00"
    assert refunds[0] is None
    assert refunds[1] is not None
    assert [(line, quantity) for line, quantity in refunds[1].lines] == [(1, Decimal(2))]
