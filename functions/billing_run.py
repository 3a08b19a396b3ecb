"""The billing run: from "invoice period P" to one stored, announced invoice per subscription
that used something in P (docs/INVOICING.md), through the billing queue, never walking
everything in one Lambda and never scanning.

The messages are `functions.billing_messages`:
- `start_billing_run(P)`: 16 "shard" messages, one per shard of the `billable` index.
- a shard message: one page of its shard, sent on as one "batch" message (its subscription
  ids), plus the next shard message while the shard has more.
- a batch message: the usage totals, the subscriptions, the invoices already issued and the
  integrations, read in batches; each new invoice's cXML and summary stored and its record
  written once (`functions.store.invoices.create`); the new ones announced to the delivery
  queue, ten to a call.
- the outbox item `invoice#<subscription id>#contract` (written by the PO transaction when a
  subscription with a PO-approved contract line activates): its contract invoice, or its first
  instalment; a batch also issues the instalments falling due in its period
  (`functions.schedules`).

Exactly once: invoice ids derive from (subscription, kind, period) and the record is written
with a "must not exist" condition, so a re-run or a concurrent duplicate meets the same id and
issues nothing. A re-run announces nothing either. A *redelivered* message (SQS receive count
above one, or any outbox record: the stream delivers each item once unless a try failed) also
announces those of its invoices still `created`, since the failed try may have stored them
without announcing them: the delivery queue is at least once, as SQS is anyway.

The stored document has From, To and Sender as the integration's `invoice_delivery` names them
when it has one (what Coupa expects), else From = Sender = us (settings `supplier_domain` /
`supplier_identity`) and To = the integration's buyer identity; never a SharedSecret (S3 is no
place for it): the delivery worker adds the secret, and the current credentials, when sending.

Orchestration over ports (`BillingPorts`, implemented by `functions.store.billing_ports`); the
decisions are plain Python."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from functions import billing, budgets, contracts, instalments, schedules
from functions.billing import USAGE, Invoice
from functions.billing_messages import (
    PAGE_SIZE,
    BatchMessage,
    Cursor,
    ShardMessage,
    after_page,
    run_messages,
)
from functions.budgets import Ledger, UsageDecision
from functions.cxml.model import Credential
from functions.integrations import Integration
from functions.invoice_terms import with_terms
from functions.parties import LegalEntity
from functions.subscriptions import Mail, Subscription
from functions.unit_mapping import UnitMapping

NO_ENTITY = LegalEntity()
"""No legal entity configured: invoices then name no from/remitTo partner."""
CREATED = contracts.INVOICE_CREATED
"""The state of an invoice stored but not yet delivered (`functions.store.invoices`)."""

UsageTotals = tuple[dict[str, Decimal], dict[str, Decimal]]
"""(the period's quantity per dimension, all usage so far per dimension)."""


class InvoicesNotIssued(Exception):
    """Some invoices of a message could not be issued; the others were, and were announced.
    Raised so the message is retried (its issued invoices are then found and skipped), and
    after its retries lands in the dead-letter queue for a person to look at."""

    def __init__(self, report: BillingReport) -> None:
        reasons = "; ".join(f"{sid}: {why}" for sid, why in sorted(report.failed.items())[:5])
        super().__init__(f"{len(report.failed)} invoice(s) not issued: {reasons}")
        self.report = report


# --- who the document is from and to -------------------------------------------------------


@dataclass(frozen=True)
class Parties:
    from_credential: Credential
    to_credential: Credential
    sender_credential: Credential


def parties_of(integration: Integration, supplier: Credential) -> Parties:
    """The invoice endpoint's credentials when the integration has one, else ours and the
    buyer's identity. No secret: see the module docstring."""
    delivery = integration.invoice_delivery
    if delivery is not None:
        return Parties(delivery.from_credential, delivery.to_credential, delivery.sender_credential)
    buyer = Credential(integration.buyer.domain, integration.buyer.identity)
    return Parties(supplier, buyer, supplier)


def document_of(
    invoice: Invoice,
    parties: Parties,
    units: UnitMapping | None = None,
    *,
    operation: str = "new",
) -> bytes:
    """The invoice's cXML (with `operation="delete"`, the document cancelling it); with
    `units`, each line's UnitOfMeasure is the buyer system's code (the summary and the records
    keep ours)."""
    if units is not None and units.pairs:
        invoice = replace(invoice, lines=tuple(
            replace(line, unit_of_measure=units.theirs(line.unit_of_measure))
            for line in invoice.lines
        ))  # fmt: skip
    return billing.invoice_document(
        invoice,
        supplier=parties.from_credential,
        buyer=parties.to_credential,
        sender=parties.sender_credential,
        operation=operation,
    )


# --- ports ----------------------------------------------------------------------------------


class BillingPorts(Protocol):
    def billable_page(
        self, shard: str, cursor: Cursor | None, limit: int
    ) -> tuple[list[str], Cursor | None]:
        """One page of subscription ids of the shard, and where the next begins (or None)."""
        ...

    def usage(self, subscription_ids: Sequence[str], period: str) -> dict[str, UsageTotals]:
        """Totals per subscription with any (absent: none)."""
        ...

    def read(
        self, subscription_ids: Sequence[str], invoice_ids: Sequence[str]
    ) -> tuple[dict[str, Subscription], dict[str, str]]:
        """The subscriptions found, and the state of every invoice found, by id."""
        ...

    def integrations(self, integration_ids: Sequence[str]) -> dict[str, Integration]: ...

    def ledgers(self, subscription_ids: Sequence[str]) -> dict[str, Ledger]:
        """The budget ledgers of those subscriptions that have one (`functions.budgets`)."""
        ...

    def create_usage(
        self,
        invoice: Invoice,
        document: bytes,
        summary: Mapping[str, Any],
        decision: UsageDecision,
        mail: Mail | None,
    ) -> bool:
        """`create`, with the new budget ledger (and the budget mail, if any) written in the
        same transaction as the invoice record; False if the invoice already existed."""
        ...

    def hold(self, decision: UsageDecision, mail: Mail | None) -> None:
        """Record usage held without an invoice (the budget is used up): the new ledger, and
        the budget mail if any, in one transaction."""
        ...

    def create(self, invoice: Invoice, document: bytes, summary: Mapping[str, Any]) -> bool:
        """Store the invoice, its cXML and its JSON summary; False if it already existed
        (nothing written then)."""
        ...

    def enqueue(self, bodies: Sequence[Mapping[str, Any]]) -> int:
        """Send messages to the billing queue."""
        ...

    def announce(self, invoice_ids: Sequence[str]) -> int:
        """Send one delivery queue message per invoice."""
        ...


# --- the steps ------------------------------------------------------------------------------


@dataclass
class BillingReport:
    """What one message did, for the logs and the tests."""

    subscriptions: int = 0
    created: list[str] = field(default_factory=list)
    announced: list[str] = field(default_factory=list)
    already_issued: int = 0
    nothing_to_invoice: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    """subscription id → why its invoice was not issued."""

    def as_log(self) -> dict[str, Any]:
        return {  # names clear of logging.LogRecord's own ("created"...)
            "subscriptions": self.subscriptions,
            "invoices_created": len(self.created),
            "invoices_announced": len(self.announced),
            "already_issued": self.already_issued,
            "nothing_to_invoice": self.nothing_to_invoice,
            "not_issued": len(self.failed),
        }


def start(period: str, ports: BillingPorts) -> int:
    """Send the run's first messages; how many (16)."""
    return ports.enqueue([message.body() for message in run_messages(period)])


def walk_shard(message: ShardMessage, ports: BillingPorts, page_size: int = PAGE_SIZE) -> int:
    """One page: its batch and the next page's message, in one send; how many messages."""
    ids, cursor = ports.billable_page(message.shard, message.cursor, page_size)
    follow = after_page(message, ids, cursor)
    return ports.enqueue([m.body() for m in follow]) if follow else 0


def _has_usage(totals: UsageTotals | None) -> bool:
    return totals is not None and any(quantity > 0 for quantity in totals[0].values())


def _issue(
    invoices: Sequence[tuple[str, Invoice]],
    integrations: Mapping[str, Integration],
    supplier: Credential,
    ports: BillingPorts,
    report: BillingReport,
    entity: LegalEntity,
    budget: Mapping[str, tuple[UsageDecision, Mail | None]] | None = None,
) -> None:
    """Store each invoice once; one failing (S3 throttled, integration gone) does not hold
    back the others. A usage invoice with a budget decision is stored with its ledger."""
    for subscription_id, invoice in invoices:
        integration = integrations.get(invoice.integration_id)
        if integration is None:
            report.failed[subscription_id] = f"integration {invoice.integration_id} not found"
            continue
        try:
            invoice = with_terms(invoice, integration, entity)
            parties = parties_of(integration, supplier)
            document = document_of(invoice, parties, integration.unit_mapping)
            summary = billing.summary_json(invoice)
            decided = (budget or {}).get(subscription_id)
            if decided is not None and invoice.kind == USAGE:
                created = ports.create_usage(invoice, document, summary, *decided)
            else:
                created = ports.create(invoice, document, summary)
            if created:
                report.created.append(invoice.invoice_id)
                report.announced.append(invoice.invoice_id)
            else:  # a concurrent duplicate of this message issued it first
                report.already_issued += 1
        except Exception as exc:  # reported, and retried with the message
            report.failed[subscription_id] = f"{type(exc).__name__}: {exc}"


def _finish(report: BillingReport, ports: BillingPorts) -> BillingReport:
    if report.announced:
        ports.announce(report.announced)
    if report.failed:
        raise InvoicesNotIssued(report)
    return report


def bill_batch(
    message: BatchMessage,
    ports: BillingPorts,
    *,
    supplier: Credential,
    now: datetime,
    redelivered: bool = False,
    entity: LegalEntity = NO_ENTITY,
    base_url: str = "",
) -> BillingReport:
    """The period's usage invoices of a batch of subscriptions, each within what remains of
    its PO line's budget, the rest held (`functions.budgets`; subscriptions with held usage
    are billed even in a period without new usage), and the contract instalments falling due
    in it. Raises `InvoicesNotIssued` (after announcing the ones issued) if some could not be.
    `base_url` is the site the budget mail links to (none: no budget mail)."""
    period = message.period
    ids = list(dict.fromkeys(message.subscription_ids))
    report = BillingReport(subscriptions=len(ids))
    totals = ports.usage(ids, period) if ids else {}
    ledgers = ports.ledgers(ids) if ids else {}
    used = [sid for sid in ids if _has_usage(totals.get(sid)) or budgets.holds(ledgers.get(sid))]
    report.nothing_to_invoice = len(ids) - len(used)
    due_instalments = _instalments_due(
        ids, period, ports, now=now, redelivered=redelivered, report=report
    )
    if not used:
        return _finish(_issue_all(due_instalments, supplier, ports, report, entity), ports)
    wanted = {sid: billing.invoice_id(sid, USAGE, period) for sid in used}
    subscriptions, states = ports.read(used, list(wanted.values()))
    to_issue: list[tuple[str, Invoice]] = list(due_instalments)
    decided: dict[str, UsageDecision] = {}
    to_hold: list[str] = []
    for sid in used:
        invoice_id = wanted[sid]
        if invoice_id in states:
            report.already_issued += 1
            if redelivered and states[invoice_id] == CREATED:
                report.announced.append(invoice_id)
            continue
        subscription = subscriptions.get(sid)
        if subscription is None:
            report.failed[sid] = "subscription not found"
            continue
        decision, invoice = budgets.usage_within_budget(
            subscription, period, totals.get(sid), ledgers.get(sid) or Ledger(), now,
            notify=bool(base_url),
        )  # fmt: skip
        if decision is None or (invoice is None and not decision.changed):
            # test, free trial, no PO-approved usage line, no priced dimension, budget used up
            report.nothing_to_invoice += 1
            continue
        decided[sid] = decision
        if invoice is None:  # all of it held: the ledger (and the budget mail) only
            to_hold.append(sid)
            continue
        to_issue.append((sid, invoice))
    if to_issue or to_hold:
        wanted_integrations = {invoice.integration_id for _, invoice in to_issue}
        wanted_integrations |= {subscriptions[sid].integration_id for sid in to_hold}
        integrations = ports.integrations(sorted(wanted_integrations))
        with_mail = {
            sid: (d, budgets.mail_for(subscriptions[sid], d, integrations, base_url))
            for sid, d in decided.items()
        }
        for sid in to_hold:
            try:
                ports.hold(*with_mail[sid])
                report.nothing_to_invoice += 1
            except Exception as exc:  # reported, and retried with the message
                report.failed[sid] = f"{type(exc).__name__}: {exc}"
        _issue(to_issue, integrations, supplier, ports, report, entity, with_mail)
    return _finish(report, ports)


def _instalments_due(
    ids: Sequence[str],
    period: str,
    ports: BillingPorts,
    *,
    now: datetime,
    redelivered: bool,
    report: BillingReport,
) -> list[tuple[str, Invoice]]:
    """The batch's contract instalments due in `period`, not yet issued (scheduled contracts
    are in the billable index, usage or not): two batched reads, subscriptions then invoices."""
    due: dict[str, tuple[str, Invoice]] = {}
    for sid, subscription in (ports.read(ids, [])[0] if ids else {}).items():
        for part in instalments.due_in(subscription, period, now):
            invoice = billing.contract_invoice(
                subscription, _activated(subscription, now), part.number
            )
            if invoice is not None:
                due[invoice.invoice_id] = (sid, invoice)
    states = ports.read([], list(due))[1] if due else {}
    for invoice_id, state in states.items():
        report.already_issued += 1
        if redelivered and state == CREATED:
            report.announced.append(invoice_id)
    return [pair for invoice_id, pair in due.items() if invoice_id not in states]


def _issue_all(
    invoices: Sequence[tuple[str, Invoice]],
    supplier: Credential,
    ports: BillingPorts,
    report: BillingReport,
    entity: LegalEntity,
) -> BillingReport:
    if invoices:
        wanted = sorted({invoice.integration_id for _, invoice in invoices})
        _issue(invoices, ports.integrations(wanted), supplier, ports, report, entity)
    return report


def _activated(subscription: Subscription, now: datetime) -> datetime:
    """The contract is invoiced as of its activation, so a retry builds the same invoice."""
    try:
        return (
            datetime.fromisoformat(subscription.activated_at) if subscription.activated_at else now
        )
    except ValueError:
        return now


def bill_contract(
    subscription_id: str,
    ports: BillingPorts,
    *,
    supplier: Credential,
    now: datetime,
    entity: LegalEntity = NO_ENTITY,
) -> BillingReport:
    """A subscription's contract invoice (its first instalment when scheduled), out of the
    monthly cycle. An invoice already issued but still `created` is announced again (see the
    module docstring). Its id depends on the schedule: both candidates are read at once."""
    report = BillingReport(subscriptions=1)
    candidates = {
        schedule: billing.contract_invoice_id(subscription_id, schedule, 1)
        for schedule in (schedules.UPFRONT, "monthly")  # every scheduled one shares the id
    }
    subscriptions, states = ports.read([subscription_id], list(candidates.values()))
    subscription = subscriptions.get(subscription_id)
    if subscription is None:
        mine = list(candidates.values())
    else:
        scheduled = subscription.billing_schedule != schedules.UPFRONT
        mine = [candidates["monthly" if scheduled else schedules.UPFRONT]]
    issued = [invoice_id for invoice_id in mine if invoice_id in states]
    if issued:
        report.already_issued = 1
        report.announced.extend(i for i in issued if states[i] == CREATED)
        return _finish(report, ports)
    if subscription is None:
        report.failed[subscription_id] = "subscription not found"
        return _finish(report, ports)
    invoice = billing.contract_invoice(subscription, _activated(subscription, now))
    if invoice is None:
        report.nothing_to_invoice = 1
        return report
    _issue(
        [(subscription_id, invoice)],
        ports.integrations([invoice.integration_id]),
        supplier,
        ports,
        report,
        entity,
    )
    return _finish(report, ports)
