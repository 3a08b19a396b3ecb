"""Each subscription's budget ledger (`functions.budgets.Ledger`) in the usage table, beside
the usage it accounts for: `pk = "usage#<subscription id>"`, `sk = "ledger"`.

It only changes in the transaction that issues the invoice it accounts for (the invoice
record's "must not exist" put, the ledger's put conditioned on the version read, and the budget
mail's outbox put when usage first becomes held at that budget level): one TransactWriteItems,
so an invoice and the ledger never disagree, and a re-run or a concurrent duplicate of a batch
message fails the condition and counts nothing twice. Reads are BatchGetItem, 100 keys a call."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from functions.budgets import Ledger, UsageDecision
from functions.clock import iso, now
from functions.errors import Transient
from functions.store.batch import connection_of
from functions.store.errors import storage_errors
from functions.store.models import BudgetLedgerRecord, InvoiceRecord, OutboxRecord
from functions.subscriptions import Mail

LEDGER_SORT_KEY = "ledger"
OUTBOX_KEPT = timedelta(days=30)


def _key(subscription_id: str) -> str:
    return f"usage#{subscription_id}"


class LedgerChanged(Transient):
    """Another billing message changed the ledger since it was read: retry the message (it
    reads the ledger again, and finds an invoice it issued meanwhile)."""


def ledgers_for(subscription_ids: Iterable[str]) -> dict[str, Ledger]:
    """The ledgers of those subscriptions that have one (none yet: nothing billed)."""
    wanted = list(dict.fromkeys(subscription_ids))
    found: dict[str, Ledger] = {}
    with storage_errors("reading budget ledgers"):
        for record in BudgetLedgerRecord.batch_get(
            [(_key(sid), LEDGER_SORT_KEY) for sid in wanted], consistent_read=True
        ):
            sid = record.pk.removeprefix("usage#")
            found[sid] = Ledger.from_json(record.ledger, int(record.version))
    return found


def record_decision(
    decision: UsageDecision,
    mail: Mail | None,
    invoice: InvoiceRecord | None = None,
    *,
    at: datetime | None = None,
) -> bool:
    """Write the new ledger, with `invoice`'s record (put only if absent) and the budget mail
    when there is one, in one transaction. False if the invoice already existed (nothing
    written); `LedgerChanged` if the ledger moved on since it was read."""
    moment = at or now()
    before = decision.before
    record = BudgetLedgerRecord(
        _key(decision.subscription_id),
        LEDGER_SORT_KEY,
        ledger=decision.after.to_json(),
        version=before.version + 1,
        updated_at=iso(moment),
    )
    condition = (
        BudgetLedgerRecord.pk.does_not_exist()
        if before.version == 0
        else BudgetLedgerRecord.version == before.version
    )
    with storage_errors("recording the invoice and its budget"):
        try:
            with TransactWrite(connection=connection_of(BudgetLedgerRecord)) as tx:
                if invoice is not None:
                    tx.save(invoice, condition=InvoiceRecord.pk.does_not_exist())
                tx.save(record, condition=condition)
                if mail is not None:
                    tx.save(
                        OutboxRecord.pending(mail, iso(moment), moment + OUTBOX_KEPT),
                        condition=OutboxRecord.pk.does_not_exist(),
                    )
        except TransactWriteError as exc:
            codes = [r.code if r else None for r in (exc.cancellation_reasons or [])]
            if invoice is not None and codes[:1] == ["ConditionalCheckFailed"]:
                return False
            if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
                raise LedgerChanged(
                    f"The budget ledger of subscription {decision.subscription_id} changed "
                    "while it was being billed; the message will be retried."
                ) from exc
            raise
    return True


def ledger_of(subscription_id: str) -> Ledger | None:
    """One subscription's ledger (a GetItem: the admin view), None before anything billed."""
    with storage_errors("reading the budget ledger"):
        try:
            record = BudgetLedgerRecord.get(_key(subscription_id), LEDGER_SORT_KEY)
        except BudgetLedgerRecord.DoesNotExist:
            return None
    return Ledger.from_json(record.ledger, int(record.version))
