"""Usage within the PO's budget, pure: what a run bills, what it holds, when it tells the buyer,
and a batch of the billing run doing it against in-memory ports."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from functions import billing, billing_run, budgets
from functions.billing import USAGE
from functions.billing_messages import BatchMessage
from functions.budgets import Ledger, decide
from functions.notifications import render_email
from functions.subscriptions import Requester, Subscription
from tests.billing_support import US, FakePorts, approval, fake_integration, subscription
from tests.support import dtd_errors

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
HOURS = "hours"


def _budget(hours: str, value: Subscription | None = None) -> Subscription:
    """The usual subscription (0.08 USD an hour) with a usage line approving `hours`."""
    base = value or subscription()
    lines = tuple(
        replace(line, approval=approval(2, hours)) if line.kind == USAGE else line
        for line in base.lines
    )
    return replace(base, lines=lines)


def _usage(hours: str) -> dict[str, Decimal]:
    return {HOURS: Decimal(hours)}


def _decide(sub: Subscription, period: str, hours: str, ledger: Ledger) -> budgets.UsageDecision:
    decision = decide(sub, period, _usage(hours), ledger)
    assert decision is not None
    return decision


def test_usage_beyond_the_budget_is_held_not_invoiced() -> None:
    # Given a 1,000-hour budget and 1,200 hours used in November
    # When November is billed
    decision = _decide(_budget("1000"), "2026-11", "1200", Ledger())

    # Then 1,000 hours are billed, 200 held, and the buyer is to be told (once)
    assert decision.bill == {HOURS: Decimal(1000)}
    assert decision.held == {HOURS: Decimal(200)}
    assert decision.after.invoiced_to_date == Decimal(1000)
    assert decision.notify and decision.after.notified == ("1000",)


def test_a_period_already_taken_in_adds_nothing_again() -> None:
    first = _decide(_budget("1000"), "2026-11", "1200", Ledger())

    again = _decide(_budget("1000"), "2026-11", "1200", first.after)

    assert again.bill == {} and not again.changed and not again.notify


def test_a_raised_budget_releases_the_held_usage_even_without_new_usage() -> None:
    november = _decide(_budget("1000"), "2026-11", "1200", Ledger())

    december = _decide(_budget("1500"), "2026-12", "0", november.after)

    assert december.bill == {HOURS: Decimal(200)} and december.held == {}
    assert december.after.invoiced_to_date == Decimal(1200)


def test_a_raise_short_of_the_usage_releases_what_it_allows_and_tells_the_buyer_again() -> None:
    november = _decide(_budget("1000"), "2026-11", "1200", Ledger())

    december = _decide(_budget("1100"), "2026-12", "50", november.after)

    assert december.bill == {HOURS: Decimal(100)}
    assert december.held == {HOURS: Decimal(150)}
    assert december.notify and december.after.notified == ("1000", "1100")


def test_the_buyer_is_told_once_per_budget_level() -> None:
    november = _decide(_budget("1000"), "2026-11", "1200", Ledger())

    december = _decide(_budget("1000"), "2026-12", "300", november.after)

    assert december.bill == {} and december.held == {HOURS: Decimal(500)}
    assert not december.notify


def test_a_budget_lowered_below_what_was_invoiced_invoices_nothing_more() -> None:
    november = _decide(_budget("1000"), "2026-11", "900", Ledger())

    december = _decide(_budget("500"), "2026-12", "100", november.after)

    assert december.bill == {} and december.held == {HOURS: Decimal(100)}
    assert december.after.invoiced_to_date == Decimal(900)


def test_a_money_budget_caps_the_amount_across_dimensions() -> None:
    # Given two dimensions, so the usage line approves money: 100.00 USD
    rates = {
        "gb": {"name": "Data", "unit": "GB", "unit_price": "0.50"},
        HOURS: {"name": "Broker hours", "unit": "HUR", "unit_price": "0.08"},
    }
    sub = _budget("100", replace(subscription(), rates=rates))

    # When 150 GB (75.00) and 500 hours (40.00) are billed
    decision = decide(sub, "2026-11", {"gb": Decimal(150), HOURS: Decimal(500)}, Ledger())

    # Then the invoice stays within 100.00: all the GB, 312 hours (24.96); 188 hours held
    assert decision is not None
    assert decision.bill == {"gb": Decimal(150), HOURS: Decimal(312)}
    assert decision.after.invoiced_to_date == Decimal("99.96") <= Decimal(100)
    assert decision.held == {HOURS: Decimal(188)}
    assert budgets.held_amount(sub, decision.held) == Decimal("15.04")


def test_the_suggested_estimate_covers_the_usage_so_far_with_headroom() -> None:
    november = _decide(_budget("1000"), "2026-11", "1201", Ledger())

    assert budgets.suggested_estimates(november.after) == {HOURS: Decimal(1502)}
    assert budgets.suggested_budget(_budget("1000"), november.after) == Decimal(1502)


def test_the_ledger_survives_its_json() -> None:
    decision = _decide(_budget("1000"), "2026-11", "1200", Ledger())

    assert Ledger.from_json(decision.after.to_json(), 0) == decision.after


# --- a batch of the billing run -------------------------------------------------------------


def _run(ports: FakePorts, period: str) -> billing_run.BillingReport:
    return billing_run.bill_batch(
        BatchMessage(period, ("req-a",)), ports, supplier=US, now=NOW, base_url="https://gw.example"
    )


def test_a_batch_caps_the_invoice_holds_the_rest_and_releases_it_after_a_raise() -> None:
    # Given 1,200 hours used in November against a 1,000-hour budget
    ports = FakePorts(integrations_by_id={"int_1": fake_integration()})
    ports.subscriptions["req-a"] = _budget("1000", subscription("req-a"))
    ports.totals["req-a"] = (_usage("1200"), _usage("1200"))

    # When November is billed (twice: a re-run)
    _run(ports, "2026-11")
    rerun = _run(ports, "2026-11")

    # Then one invoice of 1,000 hours, its summary stating the held 200 hours
    november = billing.invoice_id("req-a", USAGE, "2026-11")
    invoice, document, _ = ports.invoices[november]
    assert [line.quantity for line in invoice.lines] == [Decimal(1000)]
    assert invoice.due == Decimal("80.00")
    summary = billing.summary_json(invoice)
    assert summary["approved_budget"] == "1000" and summary["invoiced_to_date"] == "1000"
    assert summary["awaiting_budget"] == {HOURS: "200"}
    assert summary["awaiting_budget_amount"] == "16.00"
    assert dtd_errors(document, "InvoiceDetail.dtd") == []
    assert rerun.created == [] and len(ports.invoices) == 1
    # and one budget mail, to the account
    (mail,) = ports.mails
    assert mail.key == "email#req-a#budget#1000" and mail.recipients == ("it@acme.example",)

    # When the PO raises the budget to 1,500 and December (no usage) is billed
    ports.subscriptions["req-a"] = _budget("1500", subscription("req-a"))
    ports.totals.pop("req-a")
    _run(ports, "2026-12")

    # Then the held 200 hours are invoiced, nothing stays held, no further mail
    december, _, _ = ports.invoices[billing.invoice_id("req-a", USAGE, "2026-12")]
    assert [line.quantity for line in december.lines] == [Decimal(200)]
    assert billing.summary_json(december)["awaiting_budget"] == {}
    assert len(ports.mails) == 1


def test_usage_all_held_writes_the_ledger_and_the_mail_but_no_invoice() -> None:
    # Given the budget used up in November, and 300 more hours in December
    ports = FakePorts(integrations_by_id={"int_1": fake_integration()})
    ports.subscriptions["req-a"] = _budget("1000", subscription("req-a"))
    ports.totals["req-a"] = (_usage("1000"), _usage("1000"))
    _run(ports, "2026-11")
    ports.totals["req-a"] = (_usage("300"), _usage("1300"))

    # When December is billed
    report = _run(ports, "2026-12")

    # Then no invoice, 300 hours held, and the buyer told
    assert report.created == [] and len(ports.invoices) == 1
    assert ports.ledger["req-a"].held == {HOURS: Decimal(300)}
    assert [m.key for m in ports.mails] == ["email#req-a#budget#1000"]


def test_the_budget_mail_says_what_is_held_and_how_to_raise_the_budget() -> None:
    # Given usage held on a 1,000-hour budget
    sub = replace(
        _budget("1000", subscription("req-a")),
        requester=Requester(email="jim@acme.example", first_name="Jim"),
    )
    decision = _decide(sub, "2026-11", "1200", Ledger())

    # When its mail is composed and rendered
    mail = budgets.mail_for(sub, decision, {"int_1": fake_integration()}, "https://gw.example")
    assert mail is not None
    email = render_email(mail.template, mail.context, "https://gw.example/subscriptions/1?s=x", NOW)

    # Then the account and the requester read the held hours, the budget to ask for and the link
    assert mail.recipients == ("it@acme.example", "jim@acme.example")
    assert "usage is held until the purchase order's budget is raised" in email.subject
    for text in (email.text, email.html):
        assert "200 hours" in text and "16.00 USD" in text
        assert "1,000 hours" in text and "1,500 hours" in text, "approved, and suggested"
        assert "Edit" in text and "PO-7" in text
        assert "https://gw.example/subscriptions/1?s=x#subscription-req-a" in text
