"""Invoices: the cXML document and its JSON summary in S3, the record in DynamoDB.

`create` writes S3 first and the record last, with a "must not exist" condition: a record
always has its documents, and an invoice id (derived from subscription, kind and period) is
recorded once, ever. After that only the delivery state changes (`mark`).

For the delivery worker and the admin API: `get`, `get_many`, `document`, `mark`,
`list_for_integration`, `list_for_subscription`; states `CREATED` → `DELIVERED` | `REJECTED`
(permanent error) | `FAILED` (retries exhausted) | `STORED` (no invoice endpoint: S3 only)."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import PutError, UpdateError

from functions import contracts
from functions.clock import iso, now
from functions.store import invoice_files
from functions.store.batch import get_many as batch_get
from functions.store.errors import storage_errors
from functions.store.models import InvoiceRecord

if TYPE_CHECKING:  # the readers (delivery worker, admin API) need not import invoice building
    from functions.billing import Invoice

CREATED = contracts.INVOICE_CREATED
DELIVERED = contracts.INVOICE_DELIVERED
REJECTED = contracts.INVOICE_REJECTED
FAILED = contracts.INVOICE_FAILED
STORED = contracts.INVOICE_STORED
STATES = contracts.INVOICE_STATES
KEY_PREFIX = "invoice#"
BATCH_KEYS = 100  # BatchGetItem's limit
LIST_LIMIT = 500


@dataclass(frozen=True)
class StoredInvoice:
    """An invoice record as the delivery worker and the admin API read it."""

    invoice_id: str
    kind: str  # "contract" | "usage"
    subscription_id: str
    integration_id: str
    account_id: str
    period: str  # "2026-11"
    state: str
    s3_key: str  # the cXML document
    summary: dict[str, Any]  # billing.summary_json: amounts as strings, lines, budget
    awaiting_budget: bool  # usage beyond the PO line's budget is held (not in this invoice)
    delivery: dict[str, Any]  # attempts, last_code, last_text, delivered_at (worker-defined)
    created_at: str
    updated_at: str
    buyer_status: dict[str, Any] = field(default_factory=dict)  # functions.buyer_status

    @property
    def summary_key(self) -> str:
        """The JSON summary beside the document."""
        return self.s3_key.removesuffix(".xml") + ".json"


def record_key(invoice_id: str) -> str:
    return KEY_PREFIX + invoice_id


def invoice_of(record: InvoiceRecord) -> StoredInvoice:
    return StoredInvoice(
        invoice_id=record.invoice_id,
        kind=record.kind,
        subscription_id=record.subscription_id,
        integration_id=record.integration_id,
        account_id=record.account_id,
        period=record.period,
        state=record.state,
        s3_key=record.s3_key,
        summary=dict(record.summary or {}),
        awaiting_budget=bool(record.awaiting_budget),
        delivery=dict(record.delivery or {}),
        created_at=record.created_at,
        updated_at=record.updated_at,
        buyer_status=dict(record.buyer_status or {}),
    )


def _condition_failed(exc: PutError | UpdateError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


def store_documents(invoice: Invoice, xml: bytes, summary: Mapping[str, Any]) -> str:
    """Put the invoice's cXML and JSON summary in S3 (two puts); the document's key."""
    xml_key = invoice_files.document_key(
        invoice.integration_id, invoice.period, invoice.invoice_id, "xml"
    )
    invoice_files.put(xml_key, xml, invoice_files.XML_TYPE)
    invoice_files.put(
        xml_key.removesuffix(".xml") + ".json",
        json.dumps(summary, indent=2, sort_keys=True).encode(),
        invoice_files.JSON_TYPE,
    )
    return xml_key


def new_record(
    invoice: Invoice, xml_key: str, summary: Mapping[str, Any], at: datetime | None = None
) -> InvoiceRecord:
    """The invoice's record as first written, in state `created` (put only if absent)."""
    moment = iso(at or now())
    return InvoiceRecord(
        record_key(invoice.invoice_id),
        invoice_id=invoice.invoice_id,
        kind=invoice.kind,
        subscription_id=invoice.subscription_id,
        integration_id=invoice.integration_id,
        account_id=invoice.account_id,
        period=invoice.period,
        period_key=f"{invoice.period}#{invoice.invoice_id}",
        state=CREATED,
        s3_key=xml_key,
        summary=summary,
        awaiting_budget=invoice.awaiting_budget,
        delivery={},
        created_at=moment,
        updated_at=moment,
    )


def create(
    invoice: Invoice, xml: bytes, summary: Mapping[str, Any], *, at: datetime | None = None
) -> bool:
    """Store `invoice`: its cXML, then its JSON summary (S3; `billing.summary_json`, built by
    the domain), then its record, in state `created`. False if the record already existed (a
    re-run, or a concurrent duplicate): no second record, and the caller announces nothing.
    Three AWS calls (two S3 puts, one PutItem).

    A duplicate that loses the race has overwritten the documents with its own (same lines and
    amounts, another invoiceDate and payloadID); the versioned bucket keeps the first."""
    record = new_record(invoice, store_documents(invoice, xml, summary), summary, at)
    with storage_errors("recording the invoice"):
        try:
            record.save(condition=InvoiceRecord.pk.does_not_exist())
        except PutError as exc:
            if _condition_failed(exc):
                return False
            raise
    return True


def get(invoice_id: str, *, consistent: bool = False) -> StoredInvoice | None:
    with storage_errors("reading the invoice"):
        try:
            return invoice_of(InvoiceRecord.get(record_key(invoice_id), consistent_read=consistent))
        except InvoiceRecord.DoesNotExist:
            return None


def get_many(invoice_ids: Sequence[str]) -> dict[str, StoredInvoice]:
    """The invoices found among `invoice_ids`, by id: one BatchGetItem per 100."""
    unique = list(dict.fromkeys(invoice_ids))
    found: dict[str, StoredInvoice] = {}
    for start in range(0, len(unique), BATCH_KEYS):
        chunk = unique[start : start + BATCH_KEYS]
        for record in batch_get(*((InvoiceRecord, record_key(i)) for i in chunk)):
            if record is not None:
                found[record.invoice_id] = invoice_of(record)
    return found


def document(invoice: StoredInvoice) -> bytes:
    """The stored cXML InvoiceDetailRequest (no SharedSecret: the sender adds it)."""
    return invoice_files.read(invoice.s3_key)


def list_for_integration(
    integration_id: str, period: str | None = None, *, limit: int = LIST_LIMIT
) -> list[StoredInvoice]:
    """An integration's invoices, newest period first; only `period`'s when given (YYYY-MM)."""
    condition = None if period is None else InvoiceRecord.period_key.startswith(f"{period}#")
    with storage_errors("listing the integration's invoices"):
        records = InvoiceRecord.by_integration.query(
            integration_id, condition, scan_index_forward=False, limit=limit
        )
        return [invoice_of(r) for r in records]


def list_for_subscription(subscription_id: str, *, limit: int = LIST_LIMIT) -> list[StoredInvoice]:
    """A subscription's invoices, newest period first."""
    with storage_errors("listing the subscription's invoices"):
        records = InvoiceRecord.by_subscription.query(
            subscription_id, scan_index_forward=False, limit=limit
        )
        return [invoice_of(r) for r in records]


def mark(
    invoice_id: str,
    state: str,
    delivery: Mapping[str, Any],
    *,
    expected: str | Collection[str] = CREATED,
    at: datetime | None = None,
) -> bool:
    """Set the invoice's state and delivery details (replacing `delivery` whole) if its state
    is `expected` (one state or several); False otherwise, or if there is no such invoice.
    `mark(id, CREATED, {...attempts...})` records a failed attempt without leaving `created`;
    an admin's "deliver again" is `mark(id, CREATED, {...}, expected=(FAILED, REJECTED))`."""
    if state not in STATES:
        raise ValueError(f"no invoice state {state!r}")
    wanted = [expected] if isinstance(expected, str) else list(expected)
    condition = InvoiceRecord.pk.exists() & InvoiceRecord.state.is_in(*wanted)
    with storage_errors("updating the invoice"):
        try:
            InvoiceRecord(record_key(invoice_id)).update(
                actions=[
                    InvoiceRecord.state.set(state),
                    InvoiceRecord.delivery.set(dict(delivery)),
                    InvoiceRecord.updated_at.set(iso(at or now())),
                ],
                condition=condition,
            )
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise
    return True
