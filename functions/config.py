"""Environment read once, validated, in one place. Deploy-time values come from CDK; the local
stack (local/server.py) sets the same variables."""

from __future__ import annotations

import os
from functools import cache
from typing import NamedTuple

ARIBA_PRODUCTION_URL = "https://service.ariba.com/service/transaction/cxml.asp"
"""SAP Business Network's cXML endpoint for documents suppliers send (InvoiceDetailRequest
among them), production and test accounts alike (test accounts are `-T` ANIDs)."""


class ConfigurationError(RuntimeError):
    """A deployment mistake (missing table name...): fail loudly, it is not the caller's fault."""


class Settings(NamedTuple):
    """Immutable, read once. A NamedTuple rather than a dataclass: every handler imports this
    at cold start, and a 30-field dataclass costs a millisecond or two to create."""

    region: str
    integrations_table: str
    sessions_table: str
    products_table: str
    requests_table: str
    orders_table: str
    subscriptions_table: str
    outbox_table: str
    usage_table: str
    invoices_table: str
    activity_table: str  # the integrations' cXML exchanges (functions/activity.py)
    invoice_bucket: str
    billing_queue_url: str
    delivery_queue_url: str
    email_sender: str
    link_signing_key: str | None  # local only; deployed it lives in Secrets Manager
    link_key_secret_arn: str | None
    session_ttl_seconds: int
    public_base_url: str | None
    admin_auth: str  # "iam" deployed (API Gateway checks SigV4) or "token" locally
    admin_token: str | None
    ariba_shared_secret: str | None  # local only; deployed it lives in Secrets Manager
    ariba_secret_arn: str | None
    supplier_domain: str
    supplier_identity: str
    invoice_delivery_local_http: bool = False
    """Local stack only: invoice endpoints may be plain http on 127.0.0.1/localhost (the fake
    Coupa). Deployed, every invoice endpoint is https."""
    invoice_secret_key: str | None = None
    """The KMS key (ARN, or an alias name locally) sealing the invoice endpoints' shared secrets;
    set for the admin function (encrypt) and the delivery worker (decrypt) only."""
    supplier_legal_name: str = ""
    """The marketplace operator's legal entity as its invoices name it (from, remitTo)."""
    supplier_tax_id: str = ""
    """Its tax registration number (VAT, GST or federal tax number)."""
    remit_to: tuple[str, str, str, str, str] = ("", "", "", "", "")
    """Where payments go: (street, city, state, postal code, ISO country); street lines are
    separated by `|` in REMIT_TO_STREET."""
    seller_tokens: tuple[tuple[str, str], ...] = ()
    """Local only (ADMIN_AUTH=token): (seller account, bearer token) pairs that may meter that
    seller's products. Deployed, API Gateway checks IAM and the caller's account is the seller."""
    ariba_invoice_url: str = ARIBA_PRODUCTION_URL
    """Where Ariba integrations' invoices are posted: SAP Business Network's cXML endpoint
    (docs/PROTOCOL.md §8); the local stack points it at its fake network."""
    fulfillment_local_http: bool = False
    """Local stack only (FULFILLMENT_LOCAL_HTTP=1): a product's fulfillment URL may be plain http
    on 127.0.0.1/localhost (the fake seller). Deployed, every fulfillment URL is https."""
    ariba_supplier_anid: str | None = None
    """Our supplier ANID on SAP Business Network (From and Sender of Ariba invoices); unset,
    Ariba invoices stay `stored` with a note saying so."""
    user_pool_id: str | None = None
    """The console's Cognito user pool (CONSOLE_USER_POOL_ID): the admin API invites into it."""
    event_bus_name: str | None = None
    """The EventBridge bus seller events are published on (the email worker only)."""


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


def _seller_tokens(raw: str) -> tuple[tuple[str, str], ...]:
    """`SELLER_TOKENS="<seller account>=<token>,..."`."""
    pairs = []
    for entry in raw.split(","):
        if not entry.strip():
            continue
        account, separator, token = (part.strip() for part in entry.partition("="))
        if not separator or not account or not token:
            raise ConfigurationError("SELLER_TOKENS must read '<seller account>=<token>,...'")
        pairs.append((account, token))
    return tuple(pairs)


def _remit_to() -> tuple[str, str, str, str, str]:
    street, city, state, postal_code, country = (
        " ".join(os.environ.get(f"REMIT_TO_{part}", "").split())
        for part in ("STREET", "CITY", "STATE", "POSTAL_CODE", "COUNTRY")
    )
    if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise ConfigurationError("REMIT_TO_COUNTRY must be an ISO 3166 code like US or GB")
    if (street or city or postal_code or state) and not (street and city and country):
        raise ConfigurationError("a remit-to address needs REMIT_TO_STREET, _CITY and _COUNTRY")
    return street, city, state, postal_code, country.upper()


@cache
def settings() -> Settings:
    admin_auth = os.environ.get("ADMIN_AUTH", "iam").strip().lower()
    if admin_auth not in {"iam", "token"}:
        raise ConfigurationError("ADMIN_AUTH must be 'iam' or 'token'")
    admin_token = os.environ.get("ADMIN_TOKEN") or None
    if admin_auth == "token" and not admin_token:
        raise ConfigurationError("ADMIN_AUTH=token needs ADMIN_TOKEN")
    base_url = (os.environ.get("PUBLIC_BASE_URL") or "").strip().rstrip("/") or None
    return Settings(
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        integrations_table=_required("INTEGRATIONS_TABLE"),
        sessions_table=_required("SESSIONS_TABLE"),
        products_table=_required("PRODUCTS_TABLE"),
        requests_table=_required("REQUESTS_TABLE"),
        orders_table=_required("ORDERS_TABLE"),
        subscriptions_table=_required("SUBSCRIPTIONS_TABLE"),
        outbox_table=_required("OUTBOX_TABLE"),
        usage_table=_required("USAGE_TABLE"),
        invoices_table=_required("INVOICES_TABLE"),
        activity_table=_required("ACTIVITY_TABLE"),
        invoice_bucket=_required("INVOICE_BUCKET"),
        billing_queue_url=_required("BILLING_QUEUE_URL"),
        delivery_queue_url=_required("DELIVERY_QUEUE_URL"),
        email_sender=os.environ.get("EMAIL_SENDER", "marketplace@example.com"),
        link_signing_key=os.environ.get("LINK_SIGNING_KEY") or None,
        link_key_secret_arn=os.environ.get("LINK_KEY_SECRET_ARN") or None,
        session_ttl_seconds=int(os.environ.get("SESSION_TTL_SECONDS", "3600")),
        public_base_url=base_url,
        admin_auth=admin_auth,
        admin_token=admin_token,
        ariba_shared_secret=os.environ.get("ARIBA_SHARED_SECRET") or None,
        ariba_secret_arn=os.environ.get("ARIBA_SECRET_ARN") or None,
        supplier_domain=os.environ.get("SUPPLIER_DOMAIN", "NetworkID"),
        supplier_identity=os.environ.get("SUPPLIER_IDENTITY", "procurement-gateway"),
        invoice_secret_key=os.environ.get("INVOICE_SECRET_KEY") or None,
        seller_tokens=_seller_tokens(os.environ.get("SELLER_TOKENS", "")),
        supplier_legal_name=" ".join(os.environ.get("SUPPLIER_LEGAL_NAME", "").split()),
        supplier_tax_id=" ".join(os.environ.get("SUPPLIER_TAX_ID", "").split()),
        remit_to=_remit_to(),
        ariba_invoice_url=(os.environ.get("ARIBA_INVOICE_URL") or "").strip()
        or ARIBA_PRODUCTION_URL,
        ariba_supplier_anid=(os.environ.get("ARIBA_SUPPLIER_ANID") or "").strip() or None,
        event_bus_name=(os.environ.get("EVENT_BUS_NAME") or "").strip() or None,
        invoice_delivery_local_http=os.environ.get("INVOICE_DELIVERY_LOCAL_HTTP", "")
        .strip()
        .lower()
        in {"1", "true", "yes"},
        fulfillment_local_http=os.environ.get("FULFILLMENT_LOCAL_HTTP", "").strip().lower()
        in {"1", "true", "yes"},
        user_pool_id=(os.environ.get("CONSOLE_USER_POOL_ID") or "").strip() or None,
    )
