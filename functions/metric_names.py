"""Metric names and dimensions the functions write (functions/observability.py) and the
dashboard and alarms read (infra/dashboard.py): pure, so both sides import the same names."""

NAMESPACE = "ProcurementGateway"

# name: its dimensions besides `service` (Powertools adds the service name to every record).
PUNCHOUTS = "Punchouts"  # system, outcome (the cXML code answered)
CARTS_RETURNED = "CartsReturned"  # system
PURCHASE_ORDERS = "PurchaseOrders"  # outcome (accepted, duplicate, refused, failed), code
SUBSCRIPTIONS_ACTIVATED = "SubscriptionsActivated"
SUBSCRIPTIONS_CANCELLED = "SubscriptionsCancelled"
MAILS_SENT = "MailsSent"
MAILS_FAILED = "MailsFailed"
SELLER_EVENTS_PUBLISHED = "SellerEventsPublished"  # action (subscribe-success, ...)
SELLER_EVENTS_FAILED = "SellerEventsFailed"
INVOICES = "Invoices"  # outcome: created, delivered, rejected, failed
METERING_RECORDS = "MeteringRecords"  # result: BatchMeterUsage's per-record status
BILLING_MESSAGE_DURATION = "BillingMessageDuration"  # kind: shard or batch; milliseconds
BUYER_STATUS_UPDATES = "BuyerStatusUpdates"  # subject (invoice, order, duplicate, refused), status
# (the invoice status; "recorded" for orders; the cXML code when refused)

DIMENSIONS: dict[str, tuple[str, ...]] = {
    PUNCHOUTS: ("system", "outcome"),
    CARTS_RETURNED: ("system",),
    PURCHASE_ORDERS: ("outcome", "code"),
    SUBSCRIPTIONS_ACTIVATED: (),
    SUBSCRIPTIONS_CANCELLED: (),
    MAILS_SENT: (),
    MAILS_FAILED: (),
    SELLER_EVENTS_PUBLISHED: ("action",),
    SELLER_EVENTS_FAILED: (),
    INVOICES: ("outcome",),
    METERING_RECORDS: ("result",),
    BILLING_MESSAGE_DURATION: ("kind",),
    BUYER_STATUS_UPDATES: ("subject", "status"),
}
