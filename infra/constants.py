"""The names and settings of the infrastructure: construct ids, handlers, environment, limits.

What the functions must agree on with it (queue redrive, billing shards, index names, key and
object prefixes) is in `functions/contracts.py`, which both sides import: pure, no CDK."""

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_logs as logs

REPO_ROOT = Path(__file__).resolve().parent.parent

STACK_NAME = "ProcurementGateway"
SERVICE_NAME = "procurement-gateway"
METRICS_NAMESPACE = "ProcurementGateway"
LOG_LEVEL = "INFO"  # the default of the `logLevel` context
LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")  # what Lambda and Python logging both know
SESSION_TTL_SECONDS = 3600

# What Lambda runs: one CPython minor version for the runtime, the layer's and the asset's
# bytecode, the tests and the local stack (the Makefile reads both lines), on one architecture.
LAMBDA_PYTHON_VERSION = "3.13"
LAMBDA_ARCHITECTURE = "arm64"  # Graviton: lower price per ms; every dependency has aarch64 wheels

# CDK context keys (`cdk ... -c key=value`).
CONTEXT_LAYER_DIR = "layerDir"
DEFAULT_LAYER_DIR = "build/layer"
CONTEXT_ASSET_DIR = "assetDir"
DEFAULT_ASSET_DIR = "build/asset"
# Synthesize even without `make layer` (a template to read, never to deploy).
CONTEXT_ALLOW_PLACEHOLDER_LAYER = "allowPlaceholderLayer"
CONTEXT_PUBLIC_BASE_URL = "publicBaseUrl"
CONTEXT_SUPPLIER_DOMAIN = "supplierDomain"
CONTEXT_SUPPLIER_IDENTITY = "supplierIdentity"
# The legal entity invoices name (from, remitTo), context key → environment variable.
SUPPLIER_ENTITY_SETTINGS = (
    ("supplierLegalName", "SUPPLIER_LEGAL_NAME"),
    ("supplierTaxId", "SUPPLIER_TAX_ID"),
    ("remitToStreet", "REMIT_TO_STREET"),
    ("remitToCity", "REMIT_TO_CITY"),
    ("remitToState", "REMIT_TO_STATE"),
    ("remitToPostalCode", "REMIT_TO_POSTAL_CODE"),
    ("remitToCountry", "REMIT_TO_COUNTRY"),
)
# SAP Business Network, for Ariba integrations' invoices: our supplier ANID (unset: they are
# kept `stored`) and the network's cXML URL (default: production, functions/config.py).
CONTEXT_ARIBA_SUPPLIER_ANID = "aribaSupplierAnid"
CONTEXT_ARIBA_INVOICE_URL = "aribaInvoiceUrl"
CONTEXT_EMAIL_SENDER = "emailSender"
DEFAULT_EMAIL_SENDER = "marketplace@example.com"
CONTEXT_ALARM_EMAIL = "alarmEmail"
CONTEXT_LOG_LEVEL = "logLevel"
# AWS accounts of the sellers who may attach rules to the seller events' bus (a list in cdk.json,
# or comma-separated with -c): infra/seller_events.py.
CONTEXT_SELLER_ACCOUNTS = "sellerAccounts"

# The one Lambda asset: the `functions` package at the repository root.
FUNCTIONS_PACKAGE = "functions"
CXML_HANDLER = "functions.handlers.cxml_api.handler"
ADMIN_HANDLER = "functions.handlers.admin_api.handler"
WEB_HANDLER = "functions.handlers.web.handler"
CONSOLE_HANDLER = "functions.handlers.console.handler"
OPENBUY_HANDLER = "functions.handlers.openbuy_api.handler"
ORDERS_HANDLER = "functions.handlers.orders_api.handler"
EMAIL_HANDLER = "functions.handlers.email_worker.handler"
METERING_HANDLER = "functions.handlers.metering_api.handler"
BILLING_HANDLER = "functions.handlers.billing_worker.handler"
BILLING_SCHEDULE_HANDLER = "functions.handlers.billing_schedule.handler"
UNSUBSCRIBE_SWEEP_HANDLER = "functions.handlers.unsubscribe_sweep.handler"
DELIVERY_HANDLER = "functions.handlers.delivery_worker.handler"

# Construct ids, which CloudFormation logical ids and the tests derive from.
INTEGRATIONS_TABLE_ID = "IntegrationsTable"
SESSIONS_TABLE_ID = "SessionsTable"
PRODUCTS_TABLE_ID = "ProductsTable"
REQUESTS_TABLE_ID = "RequestsTable"
ORDERS_TABLE_ID = "OrdersTable"
SUBSCRIPTIONS_TABLE_ID = "SubscriptionsTable"
OUTBOX_TABLE_ID = "OutboxTable"
USAGE_TABLE_ID = "UsageTable"
INVOICES_TABLE_ID = "InvoicesTable"
ACTIVITY_TABLE_ID = "ActivityTable"
INVOICE_BUCKET_ID = "InvoiceBucket"
ACCESS_LOG_BUCKET_ID = "AccessLogBucket"
BILLING_QUEUE_ID = "BillingQueue"
DELIVERY_QUEUE_ID = "DeliveryQueue"
ARIBA_SECRET_ID = "AribaSharedSecret"  # noqa: S105 (a construct id, not a secret)
LINK_SIGNING_KEY_ID = "LinkSigningKey"
INVOICE_SECRET_KEY_ID = "InvoiceSecretKey"  # noqa: S105 (a construct id, not a secret)
CXML_FUNCTION_ID = "CxmlFunction"
ADMIN_FUNCTION_ID = "AdminFunction"
WEB_FUNCTION_ID = "WebFunction"
CONSOLE_FUNCTION_ID = "ConsoleFunction"
OPENBUY_FUNCTION_ID = "OpenBuyFunction"
ORDERS_FUNCTION_ID = "OrdersFunction"
EMAIL_FUNCTION_ID = "EmailFunction"
METERING_FUNCTION_ID = "MeteringFunction"
BILLING_FUNCTION_ID = "BillingFunction"
BILLING_SCHEDULE_FUNCTION_ID = "BillingScheduleFunction"
UNSUBSCRIBE_SWEEP_FUNCTION_ID = "UnsubscribeSweepFunction"
DELIVERY_FUNCTION_ID = "DeliveryFunction"
SELLER_EVENT_BUS_ID = "SellerEventBus"

# Seller events (issue 14): one bus, named so sellers can write its ARN into their rules.
SELLER_EVENT_BUS_NAME = "procurement-gateway-seller-events"
SELLER_EVENT_ARCHIVE_DAYS = 30

# DynamoDB key and TTL attributes.
PARTITION_KEY = "pk"
SORT_KEY = "sk"  # the usage table only: hourly records and totals of one subscription
SESSION_TTL_ATTRIBUTE = "expires_at"
OUTBOX_TTL_ATTRIBUTE = "expires_at"  # sent mail is forgotten after a while
REQUESTS_TTL_ATTRIBUTE = "expires_at"  # set on requests waiting for a punchout only (7 days)
ACTIVITY_TTL_ATTRIBUTE = "expires_at"  # an integration's cXML exchanges, kept 30 days

# Global secondary indexes: functions/contracts.py.

# Environment variable names read by the functions at start-up.
ENV_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
ENV_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
ENV_LOG_LEVEL = "LOG_LEVEL"
ENV_INTEGRATIONS_TABLE = "INTEGRATIONS_TABLE"
ENV_SESSIONS_TABLE = "SESSIONS_TABLE"
ENV_PRODUCTS_TABLE = "PRODUCTS_TABLE"
ENV_REQUESTS_TABLE = "REQUESTS_TABLE"
ENV_ORDERS_TABLE = "ORDERS_TABLE"
ENV_SUBSCRIPTIONS_TABLE = "SUBSCRIPTIONS_TABLE"
ENV_OUTBOX_TABLE = "OUTBOX_TABLE"
ENV_USAGE_TABLE = "USAGE_TABLE"
ENV_INVOICES_TABLE = "INVOICES_TABLE"
ENV_ACTIVITY_TABLE = "ACTIVITY_TABLE"
ENV_INVOICE_BUCKET = "INVOICE_BUCKET"
ENV_BILLING_QUEUE_URL = "BILLING_QUEUE_URL"
ENV_DELIVERY_QUEUE_URL = "DELIVERY_QUEUE_URL"
ENV_EMAIL_SENDER = "EMAIL_SENDER"
ENV_EVENT_BUS_NAME = "EVENT_BUS_NAME"  # the email worker only: where seller events go
ENV_LINK_KEY_SECRET_ARN = "LINK_KEY_SECRET_ARN"  # noqa: S105 (a variable name)
ENV_SESSION_TTL_SECONDS = "SESSION_TTL_SECONDS"
ENV_PUBLIC_BASE_URL = "PUBLIC_BASE_URL"
ENV_ARIBA_SECRET_ARN = "ARIBA_SECRET_ARN"  # noqa: S105 (a variable name)
ENV_ARIBA_SUPPLIER_ANID = "ARIBA_SUPPLIER_ANID"
ENV_ARIBA_INVOICE_URL = "ARIBA_INVOICE_URL"
ENV_INVOICE_SECRET_KEY = "INVOICE_SECRET_KEY"  # noqa: S105 (a variable name)
ENV_ADMIN_AUTH = "ADMIN_AUTH"
ENV_USER_POOL_ID = "CONSOLE_USER_POOL_ID"  # the console's pool: functions/console_users.py
USER_POOL_ADMIN_ACTIONS = (
    "cognito-idp:AdminCreateUser",  # invite: Cognito sends the invitation email
    "cognito-idp:CreateGroup",  # the account's group, with its first user
    "cognito-idp:AdminAddUserToGroup",  # every user is listed by their account's group
    "cognito-idp:AdminGetUser",  # whose a user is, before removing it or on a duplicate
    "cognito-idp:AdminUserGlobalSignOut",  # a removed user's refresh tokens stop working
    "cognito-idp:AdminDeleteUser",
)
"""What the admin function may do in the buyers' user pool: invite, read and remove users."""
CONSOLE_MEMBERS_ACTIONS = (
    *USER_POOL_ADMIN_ACTIONS,
    "cognito-idp:ListUsersInGroup",  # Members: the account's users, a page at a time
    "cognito-idp:AdminUpdateUserAttributes",  # Members: change a user's custom:role
)
"""What the console function may do in the buyers' user pool, for an account's admins
(docs/CONSOLE.md, "Members"): the operator's actions, listing and role changes."""
ENV_SUPPLIER_DOMAIN = "SUPPLIER_DOMAIN"
ENV_SUPPLIER_IDENTITY = "SUPPLIER_IDENTITY"
ADMIN_AUTH_IAM = "iam"

# Lambda sizing. The cXML functions answer servers: API Gateway cuts at 29 s and Coupa wants a
# purchase order answered within 60 s, so 25 s leaves the gateway time to send a cXML 500.
FUNCTION_MEMORY_MB = 512
CXML_TIMEOUT_SECONDS = 25
ORDERS_TIMEOUT_SECONDS = 25
EMAIL_TIMEOUT_SECONDS = 30  # a batch of up to EMAIL_BATCH_SIZE SES calls
# A metering call is up to 25 records, one transaction each, on hot total items that concurrent
# calls contend for (a cancelled transaction is retried): the cXML functions' budget.
METERING_TIMEOUT_SECONDS = 25
# A "batch" message is up to 100 invoices: batched reads, two S3 puts and one PutItem each.
BILLING_TIMEOUT_SECONDS = 60
# One invoice POSTed to the buyer's endpoint: the client allows 20 s to connect and 20 s to read.
DELIVERY_TIMEOUT_SECONDS = 60
DEFAULT_TIMEOUT_SECONDS = 10
# Capacity. The queue consumers never take more than this many concurrent executions (Lambda's
# SQS scaling would otherwise grow to hundreds during a monthly run and throttle the rest of the
# account); the buyer-facing cXML functions keep this many for themselves whatever else runs
# (reserved concurrency, which is also their ceiling: 20 x ~0.2 s is ~100 punchouts or POs a
# second, twice the stage's throttling rate). Reserving needs the account's concurrency quota
# to keep 100 unreserved: 1000, the default of an established account, is plenty.
BILLING_MAX_CONCURRENCY = 5
DELIVERY_MAX_CONCURRENCY = 5
CXML_RESERVED_CONCURRENCY = 20
# SnapStart: the buyer-facing functions (punchout, storefront pages, purchase orders) start from
# a snapshot of their initialized runtime; API Gateway invokes this alias of the latest version.
LIVE_ALIAS = "live"
ORDERS_RESERVED_CONCURRENCY = 20
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS

# REST API.
API_NAME = "procurement-gateway"
API_STAGE = "prod"
PUNCHOUT_PATH = "/cxml/punchout"
ORDERS_PATH = "/cxml/orders"
# Coupa Open Buy: the versioned JSON operations Coupa calls (docs/PROTOCOL.md §9).
OPENBUY_OPERATIONS = ("authentication", "search", "detail", "checkout")
OPENBUY_VERSION = "v1.0.0"
# Stage-wide defaults: far above punchout traffic (people clicking), low enough to bound abuse.
THROTTLING_RATE_LIMIT = 50
THROTTLING_BURST_LIMIT = 100
# Form posts (cxml-urlencoded / cxml-base64 carts, storefront forms) arrive base64-encoded, and
# so do XML bodies: cXML declares its own encoding (ISO-8859-1 is seen), so the parser needs the
# exact bytes, not API Gateway's UTF-8 text rendering of them.
BINARY_MEDIA_TYPES = [
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/xml",
    "application/xml",
]

CXML_DTD_URL = "http://xml.cxml.org/schemas/cXML/1.2.071/cXML.dtd"

# The "Your subscriptions" links are signed with this key (HMAC); they expire after 30 days.
LINK_SIGNING_KEY_LENGTH = 64

# The email and billing workers read the outbox table's stream (each its own key prefix). A
# failing record is retried (the batch is split to isolate it) until RETRY_ATTEMPTS or
# MAX_RECORD_AGE (within the stream's 24 h), then its stream coordinates go to the worker's
# dead-letter queue (kept DLQ_RETENTION) and an alarm fires.
OUTBOX_BATCH_SIZE = 10
OUTBOX_RETRY_ATTEMPTS = 8
OUTBOX_MAX_RECORD_AGE = Duration.hours(6)
OUTBOX_DLQ_RETENTION = Duration.days(14)

# Alarms: evaluated over one period; any failure is worth a look.
ALARM_PERIOD = Duration.minutes(5)

# Invoicing (docs/INVOICING.md). The queues redrive a message to their dead-letter queue after
# MAX_RECEIVES receives (functions/contracts.py); a message stays invisible while a consumer
# works on it for VISIBILITY_TIMEOUT_FACTOR times the consumer's timeout, as AWS advises for
# Lambda (retries of throttled invocations happen within that window).
VISIBILITY_TIMEOUT_FACTOR = 6
# SQS counts retention from the first enqueue, also in the dead-letter queue: it must keep
# messages longer than the queue does.
INVOICING_QUEUE_RETENTION = Duration.days(4)
INVOICING_DLQ_RETENTION = Duration.days(14)
# One billing message per invocation: a "batch" message alone can take most of the 60 s.
BILLING_BATCH_SIZE = 1
# One invoice per invocation: a slow buyer endpoint delays no other buyer's invoice.
DELIVERY_BATCH_SIZE = 1
# The monthly run starts at 02:00 UTC on the 1st, for the month that just ended.
BILLING_SCHEDULE_CRON = {"minute": "0", "hour": "2", "day": "1", "month": "*", "year": "*"}
# The unsubscribe sweep runs hourly: `unsubscribe-success` within an hour of the metering
# window's close (6 hours after the cancellation).
UNSUBSCRIBE_SWEEP_RATE = Duration.hours(1)
# Outbox key prefixes and the invoice bucket's object prefixes: functions/contracts.py.
# An overwritten invoice object stays recoverable this long; access logs are kept a year.
INVOICE_NONCURRENT_VERSION_EXPIRATION = Duration.days(90)
ACCESS_LOG_EXPIRATION = Duration.days(365)
