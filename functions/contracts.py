"""What the infrastructure and the functions must agree on, defined once.

Pure (standard library only, no CDK): `infra/` reads it through `infra/constants.py`, the
functions and `local/` import it directly, and tests/infra checks the synthesized template uses
the same values."""

# The billing and delivery queues redrive a message to their dead-letter queue after this many
# receives, so the receive with this count is a consumer's last attempt.
MAX_RECEIVES = 5

# The encryption context key naming the integration an invoice endpoint's shared secret is
# sealed for (functions/store/kms.py); the KMS grants require it (infra/functions.py).
INVOICE_SECRET_CONTEXT_KEY = "integration_id"  # noqa: S105 (a key name, not a secret)

# A billing run starts one page walk per shard of the `billable` index, in parallel.
BILLING_SHARDS = 16

# Metering accepts usage up to this many hours old (functions/metering_input.py), so a
# cancelled subscription's usage may arrive this long after its cancellation; the unsubscribe
# sweep announces `unsubscribe-success` once it has passed (functions/unsubscribes.py).
METERING_WINDOW_HOURS = 6

# Global secondary indexes (functions/store/models.py queries them by these names). All are
# sparse and project every attribute; keys are strings.
INTEGRATIONS_BY_ACCOUNT_INDEX = "by-account"  # integrations of a buyer's marketplace account
PRODUCTS_CATALOG_INDEX = "catalog"  # listed products, by name
REQUESTS_AWAITING_PUNCHOUT_INDEX = "awaiting-punchout"  # started outside a punchout, by age
SUBSCRIPTIONS_BY_ACCOUNT_INDEX = "by-account"  # an account's subscriptions, by age
SUBSCRIPTIONS_BILLABLE_INDEX = "billable"  # invoiceable subscriptions, in BILLING_SHARDS, by age
SUBSCRIPTIONS_BY_ACCOUNT_PRODUCT_INDEX = "by-account-product"  # metering's lookup, by age
# One overloaded sparse index for two exclusive states (CloudFormation adds or deletes at most
# one GSI per table in an update, so each release adds at most one): an active subscription
# holding a contract entitlement is under `entitlement#<product>`, by `<customer>#<subscription>`
# (GetEntitlements, functions/entitlements.py); a cancelled one not yet announced unsubscribed is
# under `unsubscribing`, by when its metering window closes (the sweep, functions/unsubscribes.py).
SUBSCRIPTIONS_LIFECYCLE_INDEX = "lifecycle"
INVOICES_BY_INTEGRATION_INDEX = "by-integration"  # an integration's invoices, by period
INVOICES_BY_SUBSCRIPTION_INDEX = "by-subscription"  # a subscription's invoices, by period
INTEGRATIONS_INDEXES: dict[str, tuple[str, str | None]] = {
    INTEGRATIONS_BY_ACCOUNT_INDEX: ("account_key", None),
}
PRODUCTS_INDEXES: dict[str, tuple[str, str | None]] = {
    PRODUCTS_CATALOG_INDEX: ("catalog", "name_key"),
}
REQUESTS_INDEXES: dict[str, tuple[str, str | None]] = {
    REQUESTS_AWAITING_PUNCHOUT_INDEX: ("awaiting_integration", "created_at"),
}
SUBSCRIPTIONS_INDEXES: dict[str, tuple[str, str | None]] = {
    SUBSCRIPTIONS_BY_ACCOUNT_INDEX: ("account_id", "created_at"),
    SUBSCRIPTIONS_BILLABLE_INDEX: ("billing_shard", "created_at"),
    SUBSCRIPTIONS_BY_ACCOUNT_PRODUCT_INDEX: ("account_product", "created_at"),
    SUBSCRIPTIONS_LIFECYCLE_INDEX: ("lifecycle_key", "lifecycle_sort"),
}
INVOICES_INDEXES: dict[str, tuple[str, str | None]] = {
    INVOICES_BY_INTEGRATION_INDEX: ("integration_id", "period_key"),
    INVOICES_BY_SUBSCRIPTION_INDEX: ("subscription_id", "period_key"),
}
"""Index name -> (partition key, sort key or None), per table; local/aws.py's TABLES use them."""

# The states of a stored invoice: `created` until delivered, then `delivered`, `rejected`
# (permanent error), `failed` (MAX_RECEIVES exhausted) or `stored` (no endpoint: S3 only);
# `cancelled` when the admin cancels one that never reached the buyer (functions/corrections.py).
INVOICE_CREATED = "created"
INVOICE_DELIVERED = "delivered"
INVOICE_REJECTED = "rejected"
INVOICE_FAILED = "failed"
INVOICE_STORED = "stored"
INVOICE_CANCELLED = "cancelled"
INVOICE_STATES = (
    INVOICE_CREATED,
    INVOICE_DELIVERED,
    INVOICE_REJECTED,
    INVOICE_FAILED,
    INVOICE_STORED,
    INVOICE_CANCELLED,
)

# Outbox items are routed by key prefix (a stream filter per worker): the email worker sends
# mail, the billing worker makes the contract invoice of a subscription just become active.
OUTBOX_EMAIL_PREFIX = "email#"
OUTBOX_CONTRACT_INVOICE_PREFIX = "invoice#"
# Order confirmations (functions/order_confirmations.py): the billing worker reads them too and
# queues them for the delivery worker, so the stream keeps two readers.
OUTBOX_CONFIRMATION_PREFIX = "confirmation#"
# Seller events (functions/seller_events.py): the notification (email) worker publishes them on
# the EventBridge bus; the stream keeps two readers (DynamoDB Streams' advice per shard).
OUTBOX_EVENT_PREFIX = "event#"
# What the email (notification) worker's stream mapping passes it: mail, and seller events.
EMAIL_WORKER_PREFIXES = (OUTBOX_EMAIL_PREFIX, OUTBOX_EVENT_PREFIX)

# Objects in the invoice bucket: invoices/<integration>/<YYYY-MM>/<invoice id>.xml|.json, and
# purchase orders too large to keep inline, credentials removed: orders/<integration>/<sha256>.xml.
INVOICE_OBJECT_PREFIX = "invoices/"
ORDER_OBJECT_PREFIX = "orders/"
