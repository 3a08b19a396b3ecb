"""The billing run's ports (`functions.billing_run.BillingPorts`) on DynamoDB, S3 and SQS.

Reads are batched: a page of the `billable` index is one Query (ids only); subscriptions and
the invoices they may already have are read together, 100 keys per BatchGetItem; usage
totals through `functions.store.usage.usage_for`; integrations in one BatchGetItem."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from functions import billing_run, contracts, store
from functions.billing import Invoice
from functions.billing_messages import Cursor, delivery_message
from functions.billing_run import UsageTotals
from functions.budgets import Ledger, UsageDecision
from functions.config import Settings, settings
from functions.integrations import Integration
from functions.store import invoices, queues
from functions.store.batch import connection_of, get_many
from functions.store.errors import storage_errors
from functions.store.integrations import MAIN, integration_of
from functions.store.models import IntegrationRecord, InvoiceRecord, SubscriptionRecord
from functions.store.subscriptions import subscription_of
from functions.subscriptions import Mail, Subscription

BILLABLE_INDEX = contracts.SUBSCRIPTIONS_BILLABLE_INDEX
KEYS_PER_READ = 100  # BatchGetItem's limit


@dataclass(frozen=True)
class DynamoBillingPorts:
    billing_queue_url: str
    delivery_queue_url: str

    def billable_page(
        self, shard: str, cursor: Cursor | None, limit: int
    ) -> tuple[list[str], Cursor | None]:
        request: dict[str, Any] = {
            "TableName": SubscriptionRecord.Meta.table_name,
            "IndexName": BILLABLE_INDEX,
            "KeyConditionExpression": "billing_shard = :shard",
            "ExpressionAttributeValues": {":shard": {"S": shard}},
            "ProjectionExpression": "pk",
            "Limit": limit,
        }
        if cursor:
            request["ExclusiveStartKey"] = {
                "pk": {"S": cursor["pk"]},
                "billing_shard": {"S": shard},
                "created_at": {"S": cursor["created_at"]},
            }
        client = connection_of(SubscriptionRecord).client
        with storage_errors("reading a page of billable subscriptions"):
            answer = client.query(**request)
        ids = [item["pk"]["S"] for item in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        following = {"pk": last["pk"]["S"], "created_at": last["created_at"]["S"]} if last else None
        return ids, following

    def usage(self, subscription_ids: Sequence[str], period: str) -> dict[str, UsageTotals]:
        from functions.store.usage import usage_for

        return usage_for(list(subscription_ids), period)

    def read(
        self, subscription_ids: Sequence[str], invoice_ids: Sequence[str]
    ) -> tuple[dict[str, Subscription], dict[str, str]]:
        wanted: list[tuple[Any, str]] = [(SubscriptionRecord, sid) for sid in subscription_ids]
        wanted += [(InvoiceRecord, invoices.record_key(iid)) for iid in invoice_ids]
        subscriptions: dict[str, Subscription] = {}
        states: dict[str, str] = {}
        for start in range(0, len(wanted), KEYS_PER_READ):
            for record in get_many(*wanted[start : start + KEYS_PER_READ]):
                if isinstance(record, SubscriptionRecord):
                    subscriptions[record.pk] = subscription_of(record)
                elif isinstance(record, InvoiceRecord):
                    states[record.invoice_id] = record.state
        return subscriptions, states

    def integrations(self, integration_ids: Sequence[str]) -> dict[str, Integration]:
        found: dict[str, Integration] = {}
        unique = list(dict.fromkeys(integration_ids))
        for start in range(0, len(unique), KEYS_PER_READ):
            chunk = unique[start : start + KEYS_PER_READ]
            for record in get_many(*((IntegrationRecord, MAIN + i) for i in chunk)):
                if record is not None:
                    found[record.integration_id] = integration_of(record)
        return found

    def create(self, invoice: Invoice, document: bytes, summary: Mapping[str, Any]) -> bool:
        return invoices.create(invoice, document, summary)

    def ledgers(self, subscription_ids: Sequence[str]) -> dict[str, Ledger]:
        from functions.store.budget_ledger import ledgers_for

        return ledgers_for(subscription_ids)

    def create_usage(
        self,
        invoice: Invoice,
        document: bytes,
        summary: Mapping[str, Any],
        decision: UsageDecision,
        mail: Mail | None,
    ) -> bool:
        """Two S3 puts and one TransactWriteItems (record, ledger, mail): three AWS writes."""
        from functions.store.budget_ledger import record_decision

        xml_key = invoices.store_documents(invoice, document, summary)
        record = invoices.new_record(invoice, xml_key, summary)
        return record_decision(decision, mail, record)

    def hold(self, decision: UsageDecision, mail: Mail | None) -> None:
        from functions.store.budget_ledger import record_decision

        record_decision(decision, mail)

    def enqueue(self, bodies: Sequence[Mapping[str, Any]]) -> int:
        return queues.send(self.billing_queue_url, bodies)

    def announce(self, invoice_ids: Sequence[str]) -> int:
        return queues.send(self.delivery_queue_url, [delivery_message(i) for i in invoice_ids])


def ports_for(config: Settings) -> DynamoBillingPorts:
    return DynamoBillingPorts(config.billing_queue_url, config.delivery_queue_url)


def configured_ports() -> DynamoBillingPorts:
    """The ports as deployed, store bound (idempotent): for callers outside the worker."""
    config = settings()
    store.bind(config)
    return ports_for(config)


def start_billing_run(period: str) -> int:
    """Start invoicing `period` (`YYYY-MM`): sends the 16 shard messages, returns how many.
    What the monthly schedule and `POST /admin/billing-runs` call: the domain's `start` with
    the ports as deployed. Raises `BadRequest` for a period that is not a month."""
    return billing_run.start(period, configured_ports())
