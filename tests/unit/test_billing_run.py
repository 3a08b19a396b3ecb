"""The billing run, pure: how a shard is paged, and what a batch or a contract
request issues and announces, against in-memory ports."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from functions import billing, billing_run
from functions.billing import CONTRACT, USAGE
from functions.billing_messages import BatchMessage, ShardMessage, message_of
from functions.cxml.model import Credential
from functions.errors import BadRequest
from functions.handlers.billing_schedule import period_to_bill
from functions.integrations import InvoiceDelivery
from functions.store.subscriptions import BILLING_SHARDS
from functions.subscriptions import Subscription
from tests.billing_support import FakePorts, fake_integration, subscription
from tests.support import dtd_errors

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
US = Credential("NetworkID", "procurement-gateway")
PERIOD = "2026-11"


def _usage(
    hours: str, all_time: str | None = None
) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    return {"hours": Decimal(hours)}, {"hours": Decimal(all_time or hours)}


def _ports(*subscriptions: Subscription, **totals: str) -> FakePorts:
    ports = FakePorts(integrations_by_id={"int_1": fake_integration()})
    for value in subscriptions:
        ports.subscriptions[value.id] = value
    for sid, hours in totals.items():
        ports.totals[sid.replace("_", "-")] = _usage(hours)
    return ports


def _batch(*ids: str) -> BatchMessage:
    return BatchMessage(PERIOD, ids)


def _bill(ports: FakePorts, *ids: str, redelivered: bool = False) -> billing_run.BillingReport:
    return billing_run.bill_batch(
        _batch(*ids), ports, supplier=US, now=NOW, redelivered=redelivered
    )


# --- messages -------------------------------------------------------------------------------


def test_a_run_starts_with_one_message_per_shard() -> None:
    ports = FakePorts()

    sent = billing_run.start(PERIOD, ports)

    assert sent == BILLING_SHARDS == 16
    assert ports.billing_queue == [
        {"kind": "shard", "period": PERIOD, "shard": str(n), "cursor": None} for n in range(16)
    ]


def test_walking_a_shard_visits_every_page_once() -> None:
    # Given a shard of 7 subscriptions and pages of 3
    ids = [f"req-{n}" for n in range(7)]
    ports = FakePorts(shards={"5": ids})
    queue = [ShardMessage(PERIOD, "5").body()]
    batches: list[list[str]] = []

    # When every shard message is handled as the worker does, until none is left
    while queue:
        message = message_of(queue.pop(0))
        if isinstance(message, BatchMessage):
            batches.append(list(message.subscription_ids))
            continue
        billing_run.walk_shard(message, ports, page_size=3)
        queue.extend(ports.billing_queue)
        ports.billing_queue.clear()

    # Then the pages are read in order and every id lands in exactly one batch
    assert batches == [ids[0:3], ids[3:6], ids[6:7]]
    assert [cursor["pk"] if cursor else None for _, cursor in ports.page_reads] == [
        None, "req-2", "req-5",
    ]  # fmt: skip


def test_the_schedule_bills_the_month_just_ended_unless_told_which(clock: Any) -> None:
    clock.freeze(datetime(2027, 1, 1, 2, 0, tzinfo=UTC))

    assert period_to_bill({"source": "aws.events"}) == "2026-12"
    assert period_to_bill({"period": "2026-10"}) == "2026-10"
    with pytest.raises(BadRequest):
        period_to_bill({"period": "last month"})


# --- batches --------------------------------------------------------------------------------


def test_a_batch_invoices_what_was_used_and_announces_each_new_invoice_once() -> None:
    used, idle, other = (subscription(f"req-{n}", "int_1") for n in "abc")
    ports = _ports(used, idle, other, req_a="250", req_c="0")

    report = _bill(ports, "req-a", "req-b", "req-c")

    expected = billing.invoice_id("req-a", USAGE, PERIOD)
    assert report.created == [expected] and ports.delivery_queue == [expected]
    assert report.nothing_to_invoice == 2
    invoice, document, _ = ports.invoices[expected]
    assert (invoice.due, invoice.lines[0].quantity) == (Decimal("20.00"), Decimal(250))
    assert dtd_errors(document, "InvoiceDetail.dtd") == []
    assert b"<SharedSecret>" not in document


def test_test_free_trial_and_unapproved_subscriptions_are_never_invoiced() -> None:
    test = subscription("req-t", "int_1", test=True)
    trial = subscription("req-f", "int_1", pricing_model="free_trial")
    ports = _ports(test, trial, req_t="10", req_f="10")

    report = _bill(ports, "req-t", "req-f")

    assert (report.created, report.nothing_to_invoice, ports.delivery_queue) == ([], 2, [])


def test_a_cancelled_subscription_is_invoiced_for_what_it_used_before() -> None:
    cancelled = subscription("req-x", "int_1", state="cancelled",
                             cancelled_at="2026-11-20T00:00:00+00:00")  # fmt: skip
    ports = _ports(cancelled, req_x="5")

    assert len(_bill(ports, "req-x").created) == 1


def test_a_rerun_issues_and_announces_nothing_but_a_redelivery_reannounces_created_ones() -> None:
    ports = _ports(subscription("req-a", "int_1"), subscription("req-b", "int_1"),
                   req_a="1", req_b="2")  # fmt: skip
    first = _bill(ports, "req-a", "req-b")
    delivered = billing.invoice_id("req-b", USAGE, PERIOD)
    invoice, document, _ = ports.invoices[delivered]
    ports.invoices[delivered] = (invoice, document, "delivered")

    rerun = _bill(ports, "req-a", "req-b")
    redelivery = _bill(ports, "req-a", "req-b", redelivered=True)

    assert len(first.announced) == 2
    assert (rerun.created, rerun.announced, rerun.already_issued) == ([], [], 2)
    assert redelivery.announced == [billing.invoice_id("req-a", USAGE, PERIOD)]
    assert len(ports.invoices) == 2 and len(ports.delivery_queue) == 3


def test_one_invoice_failing_holds_back_no_other_and_fails_the_message() -> None:
    ports = _ports(subscription("req-a", "int_1"), subscription("req-b", "int_1"),
                   subscription("req-c", "int_gone"), req_a="1", req_b="2", req_c="3")  # fmt: skip
    ports.failing_subscriptions.add("req-a")

    with pytest.raises(billing_run.InvoicesNotIssued, match="2 invoice") as failure:
        _bill(ports, "req-a", "req-b", "req-c")

    assert set(failure.value.report.failed) == {"req-a", "req-c"}
    assert "integration int_gone not found" in str(failure.value)
    assert ports.delivery_queue == [billing.invoice_id("req-b", USAGE, PERIOD)]


def test_the_document_is_addressed_as_the_invoice_endpoint_expects_when_there_is_one() -> None:
    delivery = InvoiceDelivery(
        "https://acme.coupahost.com/cxml/invoices", Credential("DUNS", "supplier-at-acme"),
        Credential("DUNS", "acme"), Credential("DUNS", "supplier-at-acme"), "coupa-secret",
    )  # fmt: skip
    plain = billing_run.parties_of(fake_integration(), US)
    configured = billing_run.parties_of(fake_integration(invoice_delivery=delivery), US)

    assert (plain.from_credential, plain.to_credential, plain.sender_credential) == (
        US, Credential("DUNS", "acme-coupa"), US,
    )  # fmt: skip
    assert configured.to_credential == Credential("DUNS", "acme")
    ports = _ports(subscription("req-a", "int_1"), req_a="1")
    ports.integrations_by_id["int_1"] = fake_integration(invoice_delivery=delivery)
    _bill(ports, "req-a")
    ((_, document, _),) = ports.invoices.values()
    assert b"supplier-at-acme" in document and b"coupa-secret" not in document


# --- contract invoices ----------------------------------------------------------------------


def test_the_contract_is_invoiced_once_as_of_its_activation() -> None:
    activated = subscription("req-a", "int_1", activated_at="2026-11-26T12:00:00+00:00")
    ports = _ports(activated)

    first = billing_run.bill_contract("req-a", ports, supplier=US, now=NOW)
    again = billing_run.bill_contract("req-a", ports, supplier=US, now=NOW)

    contract_id = billing.invoice_id("req-a", CONTRACT, "")
    assert first.created == [contract_id]
    invoice, _, _ = ports.invoices[contract_id]
    assert (invoice.period, invoice.invoice_date) == ("2026-11", "2026-11-26T12:00:00+00:00")
    assert invoice.due == Decimal("15000.00")
    # the stream delivered the item again: the earlier try may have died before announcing
    assert again.created == [] and again.announced == [contract_id]


def test_no_contract_invoice_for_a_test_subscription() -> None:
    ports = _ports(subscription("req-a", "int_1", test=True))

    report = billing_run.bill_contract("req-a", ports, supplier=US, now=NOW)

    assert (report.nothing_to_invoice, ports.invoices, ports.delivery_queue) == (1, {}, [])


def test_invoices_carry_the_integrations_tax() -> None:
    ports = _ports(subscription("req-a", "int_1"), req_a="250")  # 250 h x 0.08 = 20.00
    ports.integrations_by_id["int_1"] = fake_integration(tax_rate="0.2", tax_description="VAT 20%")

    _bill(ports, "req-a")

    ((invoice, document, _),) = ports.invoices.values()
    assert (invoice.subtotal, invoice.tax, invoice.due) == (
        Decimal("20.00"), Decimal("4.00"), Decimal("24.00"),
    )  # fmt: skip
    assert dtd_errors(document, "InvoiceDetail.dtd") == []
    assert b'<Description xml:lang="en">VAT 20%</Description>' in document
    assert b'<DueAmount><Money currency="USD">24.00</Money></DueAmount>' in document
