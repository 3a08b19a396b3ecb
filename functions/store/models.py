"""pynamodb models: the shape of every item we keep. Table names and region are bound once at
start-up by `functions.store.bind` (never read from the environment at import)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from functions import contracts

if TYPE_CHECKING:
    from datetime import datetime

    from functions.subscriptions import Mail

UNBOUND = "unbound-call-functions.store.bind"
INTEGRATION_PREFIX = "integration#"
"""The key prefix of an integration's main item (`integration#<id>`)."""


class AccountIndex(GlobalSecondaryIndex["IntegrationRecord"]):
    """Integrations by the buyer's marketplace account (sparse: main items only)."""

    class Meta:
        index_name = contracts.INTEGRATIONS_BY_ACCOUNT_INDEX
        projection = AllProjection()

    account_key = UnicodeAttribute(hash_key=True)


class IntegrationRecord(Model):
    """One integration, stored twice in one transaction: under `integration#<id>` (admin reads)
    and under `buyer#<credential key>` (the punchout's single lookup by From credential)."""

    class Meta:
        table_name = UNBOUND

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # "integration" | "buyer"
    integration_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    system = UnicodeAttribute()
    buyer_domain = UnicodeAttribute()
    buyer_identity = UnicodeAttribute()
    account_id = UnicodeAttribute()
    account_email = UnicodeAttribute()
    test_mode = BooleanAttribute()
    preapprove_free = BooleanAttribute()
    preapprove_byol = BooleanAttribute()
    cart_field = UnicodeAttribute()
    tax_rate = UnicodeAttribute(default="0")
    tax_description = UnicodeAttribute(default="Zero-rated")
    tax_category = UnicodeAttribute(default="sales")
    tax_location = UnicodeAttribute(default="")
    tax_exemption = UnicodeAttribute(default="zeroRated")
    tax_exemption_reason = UnicodeAttribute(default="")
    buyer_tax_id = UnicodeAttribute(default="")
    remit_to_code = UnicodeAttribute(default="")
    order_confirmations = BooleanAttribute(default=False)
    approval_redirect_url = UnicodeAttribute(null=True)
    enabled = BooleanAttribute()
    secret_digest = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute()
    invoice_delivery = JSONAttribute(null=True)  # Coupa invoice endpoint; holds its secret
    unit_mapping = JSONAttribute(null=True)  # our unit code -> the buyer system's
    account_key = UnicodeAttribute(null=True)  # set on the main item only
    by_account = AccountIndex()


class SessionRecord(Model):
    """A punchout session, keyed by the digest of its URL token. It ends at `ends_at`; DynamoDB
    TTL removes it at `expires_at`, SESSION_REMEMBERED later (records written before `ends_at`
    existed end at `expires_at`)."""

    class Meta:
        table_name = UNBOUND

    pk = UnicodeAttribute(hash_key=True)
    integration_id = UnicodeAttribute()
    integration_name = UnicodeAttribute()
    system = UnicodeAttribute()
    buyer_cookie = UnicodeAttribute()
    browser_form_post_url = UnicodeAttribute(default="")
    operation = UnicodeAttribute()
    deployment_mode = UnicodeAttribute()
    requester = JSONAttribute()
    payload_id = UnicodeAttribute(default="")
    selected_item = JSONAttribute(null=True)
    items_out = JSONAttribute(default=list)
    extrinsics = JSONAttribute(default=dict)
    integration = JSONAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    ends_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute()


class CatalogIndex(GlobalSecondaryIndex["ProductRecord"]):
    """Listed products by name (sparse: unlisted products carry no `catalog` attribute), so a
    catalog page is one Query, never a Scan."""

    class Meta:
        index_name = contracts.PRODUCTS_CATALOG_INDEX
        projection = AllProjection()

    catalog = UnicodeAttribute(hash_key=True)
    name_key = UnicodeAttribute(range_key=True)


class ProductRecord(Model):
    class Meta:
        table_name = UNBOUND

    pk = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    name_key = UnicodeAttribute()
    catalog = UnicodeAttribute(null=True)
    seller = UnicodeAttribute()
    seller_account = UnicodeAttribute(default="")
    product_type = UnicodeAttribute()
    document = JSONAttribute()  # the validated product, as the admin API shows it
    version = NumberAttribute()
    by_catalog = CatalogIndex()


class PendingIndex(GlobalSecondaryIndex["RequestRecord"]):
    """Requests waiting for their integration's next punchout (sparse), newest last."""

    class Meta:
        index_name = contracts.REQUESTS_AWAITING_PUNCHOUT_INDEX
        projection = AllProjection()

    awaiting_integration = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class RequestRecord(Model):
    """A subscription request and its cart lines, keyed by request id."""

    class Meta:
        table_name = UNBOUND

    pk = UnicodeAttribute(hash_key=True)
    integration_id = UnicodeAttribute()
    state = UnicodeAttribute()
    awaiting_integration = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    document = JSONAttribute()
    version = NumberAttribute()
    expires_at = TTLAttribute(null=True)  # requests waiting for a punchout only: 7 days
    by_pending = PendingIndex()


class OrderRecord(Model):
    """Purchase orders and their de-duplication markers, one table:
    `order#<integration>#<orderID>` the PO as it stands (update/delete replace it),
    `seen#<integration>#<orderID>#<type>#<version>` and `payload#<integration>#<payloadID>`
    written in the same transaction with "must not exist" conditions: a retry, or a concurrent
    duplicate, finds them and changes nothing."""

    class Meta:
        table_name = UNBOUND

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # "order" | "seen" | "payload"
    integration_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    document = JSONAttribute(null=True)  # the kept PO (kind "order" only)
    received_at = UnicodeAttribute()
    buyer_status = JSONAttribute(null=True)  # StatusUpdateRequests (kind "order" only)


class AccountSubscriptionsIndex(GlobalSecondaryIndex["SubscriptionRecord"]):
    """An account's subscriptions, newest last (the "Your subscriptions" page)."""

    class Meta:
        index_name = contracts.SUBSCRIPTIONS_BY_ACCOUNT_INDEX
        projection = AllProjection()

    account_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class BillableIndex(GlobalSecondaryIndex["SubscriptionRecord"]):
    """Subscriptions with a usage line a real PO approved (sparse), spread over shards so a
    billing run reads them page by page in parallel, never with a Scan."""

    class Meta:
        index_name = contracts.SUBSCRIPTIONS_BILLABLE_INDEX
        projection = AllProjection()

    billing_shard = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class AccountProductIndex(GlobalSecondaryIndex["SubscriptionRecord"]):
    """An account's subscriptions to one product (`account_product` = `<account>#<product>`),
    oldest first: metering finds the subscription a record belongs to in one Query, however
    many subscriptions the account holds."""

    class Meta:
        index_name = contracts.SUBSCRIPTIONS_BY_ACCOUNT_PRODUCT_INDEX
        projection = AllProjection()

    account_product = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class LifecycleIndex(GlobalSecondaryIndex["SubscriptionRecord"]):
    """One sparse index overloaded for two exclusive states (contracts.py says why one): an
    active subscription's contract entitlement under `entitlement#<product>` by
    `<customer>#<subscription>` (a GetEntitlements page is one Query), and a cancelled one not
    yet announced unsubscribed under `unsubscribing` by when its metering window closes (the
    hourly sweep's one Query). `functions.store.subscriptions.subscription_record` sets it."""

    class Meta:
        index_name = contracts.SUBSCRIPTIONS_LIFECYCLE_INDEX
        projection = AllProjection()

    lifecycle_key = UnicodeAttribute(hash_key=True)
    lifecycle_sort = UnicodeAttribute(range_key=True)


class SubscriptionRecord(Model):
    """A subscription, keyed by the id of the request it came from (one request, one
    subscription), so a PO line's aux ID leads straight to it."""

    class Meta:
        table_name = UNBOUND

    pk = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    integration_id = UnicodeAttribute()
    state = UnicodeAttribute()
    created_at = UnicodeAttribute()
    document = JSONAttribute()
    version = NumberAttribute()
    billing_shard = UnicodeAttribute(null=True)  # set while usage may be invoiced
    account_product = UnicodeAttribute(null=True)  # `<account>#<product>`
    lifecycle_key = UnicodeAttribute(null=True)  # `entitlement#<product>` or `unsubscribing`
    lifecycle_sort = UnicodeAttribute(null=True)  # `<account>#<subscription>` or window close
    lifecycle_seller = UnicodeAttribute(null=True)  # the seller it sold: a seller's filter
    entitled_dimension = UnicodeAttribute(null=True)  # the offer id: GetEntitlements' DIMENSION
    by_account = AccountSubscriptionsIndex()
    by_account_product = AccountProductIndex()
    by_billing_shard = BillableIndex()
    by_lifecycle = LifecycleIndex()


class PreapprovalRecord(Model):
    """In the subscriptions table, `preapproved#<account>#<product>#<offer>[#test]`: the
    account's one active pre-approved subscription of that offer. Put with "must not exist" in
    the transaction that creates the subscription, so neither repeated nor concurrent presses
    on Subscribe make a second one. It carries no `account_id`: the account index stays
    subscriptions only."""

    class Meta:
        table_name = UNBOUND

    pk = UnicodeAttribute(hash_key=True)
    subscription_id = UnicodeAttribute()
    created_at = UnicodeAttribute()


class OutboxRecord(Model):
    """Mail to send, written in the same transaction as the change it announces. The table's
    stream triggers the email worker, which retries until SES accepts it (then DLQ)."""

    class Meta:
        table_name = UNBOUND

    pk = UnicodeAttribute(hash_key=True)  # "email#<subscription id>#<event>"
    template = UnicodeAttribute()  # e.g. "subscription_ready"
    recipients = JSONAttribute()  # list of addresses
    context = JSONAttribute()  # what the template needs, plain JSON
    status = UnicodeAttribute()  # "pending" | "sending" | "sent"
    attempts = NumberAttribute(default=0)
    lease_until = NumberAttribute(default=0)
    message_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    sent_at = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    delivery = JSONAttribute(null=True)  # order confirmations: the attempts (delivery.DeliveryLog)

    @classmethod
    def pending(cls, mail: Mail, created_at: str, expires_at: datetime) -> OutboxRecord:
        """A mail to send, as written (once: the caller conditions on its key being new) in
        the transaction of the change it announces."""
        return cls(
            mail.key,
            template=mail.template,
            recipients=list(mail.recipients),
            context=mail.context,
            status="pending",
            created_at=created_at,
            expires_at=expires_at,
        )


class IntegrationInvoicesIndex(GlobalSecondaryIndex["InvoiceRecord"]):
    """An integration's invoices by period (`period_key` = `<YYYY-MM>#<invoice id>`)."""

    class Meta:
        index_name = contracts.INVOICES_BY_INTEGRATION_INDEX
        projection = AllProjection()

    integration_id = UnicodeAttribute(hash_key=True)
    period_key = UnicodeAttribute(range_key=True)


class SubscriptionInvoicesIndex(GlobalSecondaryIndex["InvoiceRecord"]):
    """A subscription's invoices by period."""

    class Meta:
        index_name = contracts.INVOICES_BY_SUBSCRIPTION_INDEX
        projection = AllProjection()

    subscription_id = UnicodeAttribute(hash_key=True)
    period_key = UnicodeAttribute(range_key=True)


class InvoiceRecord(Model):
    """An invoice issued (docs/INVOICING.md): written once, with an "must not exist" condition,
    after its cXML and JSON summary are in S3; then only its delivery state changes."""

    class Meta:
        table_name = UNBOUND

    pk = UnicodeAttribute(hash_key=True)  # "invoice#<invoice id>"
    invoice_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # "contract" | "usage"
    subscription_id = UnicodeAttribute()
    integration_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    period = UnicodeAttribute()
    period_key = UnicodeAttribute()
    state = UnicodeAttribute()  # created | delivered | rejected | failed | stored
    s3_key = UnicodeAttribute()  # the cXML document; the summary is beside it, `.json`
    summary = JSONAttribute()  # billing.summary_json
    awaiting_budget = BooleanAttribute(default=False)  # usage beyond the budget is held
    delivery = JSONAttribute(default=dict)  # attempts, last_code, last_text, delivered_at
    buyer_status = JSONAttribute(null=True)  # the buyer's StatusUpdateRequests (buyer_status.py)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    by_integration = IntegrationInvoicesIndex()
    by_subscription = SubscriptionInvoicesIndex()


class BudgetLedgerRecord(Model):
    """A subscription's budget ledger, in the usage table (`functions.store.budget_ledger`)."""

    class Meta:
        table_name = UNBOUND

    pk = UnicodeAttribute(hash_key=True)  # "usage#<subscription id>"
    sk = UnicodeAttribute(range_key=True)  # "ledger"
    ledger = JSONAttribute()  # `Ledger.to_json()`
    version = NumberAttribute()
    updated_at = UnicodeAttribute()
