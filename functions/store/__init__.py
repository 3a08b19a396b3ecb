"""The only code touching AWS: pynamodb models and adapters that turn items into domain values.

`bind` points every model at its table once, at start-up, from the validated settings."""

from __future__ import annotations

from pynamodb.models import Model

from functions.config import Settings
from functions.store import invoice_files, queues, timeouts
from functions.store.accounts import AccountRecord
from functions.store.activity import ActivityRecord
from functions.store.models import (
    BudgetLedgerRecord,
    IntegrationRecord,
    InvoiceRecord,
    OrderRecord,
    OutboxRecord,
    PreapprovalRecord,
    ProductRecord,
    RequestRecord,
    SessionRecord,
    SubscriptionRecord,
)
from functions.store.openbuy import OpenBuyTokenRecord


def bind(settings: Settings) -> None:
    tables: tuple[tuple[type[Model], str], ...] = (
        (IntegrationRecord, settings.integrations_table),
        (AccountRecord, settings.integrations_table),
        (SessionRecord, settings.sessions_table),
        (OpenBuyTokenRecord, settings.sessions_table),
        (ProductRecord, settings.products_table),
        (RequestRecord, settings.requests_table),
        (OrderRecord, settings.orders_table),
        (SubscriptionRecord, settings.subscriptions_table),
        (PreapprovalRecord, settings.subscriptions_table),
        (OutboxRecord, settings.outbox_table),
        (InvoiceRecord, settings.invoices_table),
        (BudgetLedgerRecord, settings.usage_table),
        (ActivityRecord, settings.activity_table),
    )
    for model, table in tables:
        model.Meta.table_name = table
        model.Meta.region = settings.region
        timeouts.apply_to_model(model.Meta)
    invoice_files.bind(settings.invoice_bucket, settings.region)
    queues.bind(settings.region)
