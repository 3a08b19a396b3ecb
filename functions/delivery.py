"""Invoice delivery: post a stored invoice to the buyer's Coupa instance, or to SAP Business
Network for an Ariba buyer, and judge the answer.

Plain Python; the invoice ledger, the stored documents, the integrations and the HTTP sender are
passed in (adapters in `functions.store`), so every rule here is unit-tested without AWS or a
network. What is posted, re-addressed to the integration's endpoint, and what can come back:
`functions.delivery_transport`. Decisions (docs/INVOICING.md has the states and the message):

- **Answers** and the attempt log: `functions.delivery_verdict` (2xx delivered, 4xx
  rejected, 5xx and no cXML answer retried, the last receive `failed`; a duplicate answer
  after an attempt that may have arrived is `delivered` with a note).
- **Only `created` invoices are sent** (the admin API puts a rejected, failed or stored invoice
  back to `created` before queueing it again), so a duplicate message for a finished invoice
  sends nothing. A `delivered` invoice is sent again only when the admin forces it (the message
  then says `"force": true`), and stays `delivered` whatever that re-send meets.
- **Ariba integrations** post to SAP Business Network (`functions.business_network`): the
  same states and retries; a duplicate (`INVOICE_DUPLICATE`) after an attempt that may have
  arrived is `delivered` with a note, as Coupa's 417 is. A marketplace without its supplier
  ANID or Ariba secret keeps the invoice `stored`, the note saying what to set.
- **No endpoint** (a Coupa integration without `invoice_delivery`): `stored`, kept in S3 only.
- **Each state change is conditional on the state read**, so two copies of a message racing
  cannot turn a delivered invoice back into anything else. One window is left: two copies
  posting at once, the second answered 417 and recorded before the first's 200 is. The admin
  API refuses a second message for an invoice still on its way, which leaves SQS's rare
  duplicates only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from functions import contracts
from functions.business_network import BusinessNetwork, NotConfigured
from functions.delivery_transport import (
    TIMEOUT_SECONDS,
    Answer,
    EndpointRefused,
    Sender,
    Unanswered,
    build_send,
    check_endpoint,
)
from functions.delivery_verdict import DeliveryLog, Verdict, after, classify, clip
from functions.integrations import (
    Integration,
    InvoiceDelivery,
    SealedSecret,
    SecretBox,
    SecretUnreadable,
    System,
)

CREATED = contracts.INVOICE_CREATED
DELIVERED = contracts.INVOICE_DELIVERED
REJECTED = contracts.INVOICE_REJECTED
FAILED = contracts.INVOICE_FAILED
STORED = contracts.INVOICE_STORED
STATES = contracts.INVOICE_STATES

MAX_RECEIVES = contracts.MAX_RECEIVES
"""The delivery queue's redrive: after this many receives a message goes to the DLQ, so the
receive with this count is the last attempt."""


def endpoint_of(
    integration: Integration | None, network: BusinessNetwork | None = None
) -> InvoiceDelivery | None:
    """Where this integration's invoices go: a Coupa integration's own `invoice_delivery`, an
    Ariba integration's SAP Business Network (raises NotConfigured when the marketplace lacks
    the ANID or secret); None: kept in S3 only."""
    if integration is None:
        return None
    if integration.system == "ariba":
        return network.endpoint_for(integration) if network is not None else None
    return integration.invoice_delivery


# --- one delivery, through ports ----------------------------------------------------------


@dataclass(frozen=True)
class PendingInvoice:
    """What delivery needs of an invoice record."""

    invoice_id: str
    integration_id: str
    state: str
    s3_key: str
    delivery: DeliveryLog


class InvoiceLedger(Protocol):
    def pending(self, invoice_id: str) -> PendingInvoice | None: ...

    def record(self, invoice_id: str, state: str, delivery: DeliveryLog, expected: str) -> bool:
        """Set state and log if the state is still `expected`; False if it is not."""
        ...


class DocumentStore(Protocol):
    def read(self, key: str) -> bytes: ...


class IntegrationLookup(Protocol):
    def get(self, integration_id: str) -> Integration | None: ...


class RetryLater(Exception):
    """The attempt failed transiently: let the queue deliver the message again."""


class InvoiceMissing(Exception):
    """The message names an invoice the ledger does not have."""


@dataclass(frozen=True)
class Outcome:
    invoice_id: str
    state: str
    delivery: DeliveryLog
    sent: bool  # False: nothing was posted (already delivered, no endpoint)
    verdict: Verdict | None = None
    superseded: bool = False  # the state had changed meanwhile: this attempt recorded nothing


@dataclass(frozen=True)
class Ports:
    ledger: InvoiceLedger
    documents: DocumentStore
    integrations: IntegrationLookup
    sender: Sender
    secrets: SecretBox | None = None  # opens the endpoint's sealed shared secret
    network: BusinessNetwork | None = None  # where Ariba integrations' invoices go
    allow_local_http: bool = False
    timeout: float = TIMEOUT_SECONDS


def deliver(
    invoice_id: str, *, receive_count: int, force: bool, ports: Ports, now: datetime
) -> Outcome:
    """Deliver one invoice once; raise RetryLater for a transient failure before the last
    attempt (the attempt is recorded; the state stays `created`)."""
    invoice = ports.ledger.pending(invoice_id)
    if invoice is None:
        raise InvoiceMissing(f"No invoice {invoice_id!r} to deliver.")
    resend = invoice.state == DELIVERED and force
    if invoice.state != CREATED and not resend:
        return Outcome(invoice_id, invoice.state, invoice.delivery, sent=False)
    integration = ports.integrations.get(invoice.integration_id)
    system: System = integration.system if integration is not None else "coupa"
    kept = invoice.delivery
    try:
        endpoint = endpoint_of(integration, ports.network)
    except NotConfigured as exc:  # the marketplace's network account is incomplete
        endpoint, kept = None, replace(invoice.delivery, note=str(exc))
    if endpoint is None:
        if resend:
            return Outcome(invoice_id, DELIVERED, invoice.delivery, sent=False)
        return settle(ports.ledger, invoice_id, invoice, STORED, kept, sent=False)
    try:
        check_endpoint(endpoint, allow_local_http=ports.allow_local_http)
        endpoint = opened_endpoint(endpoint, invoice.integration_id, ports.secrets)
        send = build_send(ports.documents.read(invoice.s3_key), endpoint, ports.timeout)
        reply: Answer | Unanswered = ports.sender.post(send)
    except Unanswered as exc:
        reply = exc
    except EndpointRefused as exc:
        verdict = Verdict(FAILED, None, clip(str(exc)))
        log = after(invoice.delivery, verdict, now)
        state = DELIVERED if resend else FAILED
        return settle(ports.ledger, invoice_id, invoice, state, log, sent=False, verdict=verdict)
    verdict = classify(reply, invoice.delivery, system)
    log = after(invoice.delivery, verdict, now)
    # A re-send: whatever it met, the invoice was delivered before (the log shows the re-send's
    # answer; nothing is retried).
    state = DELIVERED if resend else next_state(verdict, receive_count)
    outcome = settle(ports.ledger, invoice_id, invoice, state, log, sent=True, verdict=verdict)
    if outcome.state == CREATED and not outcome.superseded:
        raise RetryLater(f"Invoice {invoice_id}: {verdict.text}")
    return outcome


def opened_endpoint(
    endpoint: InvoiceDelivery, integration_id: str, secrets: SecretBox | None
) -> InvoiceDelivery:
    """The endpoint with its shared secret in clear, for this one send (never stored, never
    logged). A secret that does not open for this integration is a configuration problem no
    retry fixes: refused, naming what the admin must do."""
    sealed = endpoint.shared_secret
    if not isinstance(sealed, SealedSecret):
        return endpoint
    try:
        if secrets is None:
            raise SecretUnreadable("no key to open it with")
        clear = secrets.open(integration_id, sealed)
    except SecretUnreadable as exc:
        raise EndpointRefused(
            f"The invoice endpoint's shared secret of integration {integration_id!r} cannot be "
            f"decrypted for it ({exc}): set 'invoice_delivery.shared_secret' again."
        ) from None
    return replace(endpoint, shared_secret=clear)


class _Attempted(Protocol):
    @property
    def state(self) -> str: ...
    @property
    def delivery(self) -> DeliveryLog: ...


class AttemptLedger(Protocol):
    """What `settle` needs: the invoice ledger, or the order confirmations' one."""

    def pending(self, key: str, /) -> _Attempted | None: ...

    def record(self, key: str, state: str, log: DeliveryLog, expected: str, /) -> bool: ...


def settle(
    ledger: AttemptLedger,
    key: str,
    read: _Attempted,
    state: str,
    log: DeliveryLog,
    *,
    sent: bool,
    verdict: Verdict | None = None,
) -> Outcome:
    """Record the attempt if the document's state is still the one `read`; otherwise another
    copy of the message got there first: report what it left, retry nothing."""
    if ledger.record(key, state, log, read.state):
        return Outcome(key, state, log, sent=sent, verdict=verdict)
    current = ledger.pending(key)
    return Outcome(
        key,
        current.state if current else read.state,
        current.delivery if current else log,
        sent=sent,
        verdict=verdict,
        superseded=True,
    )


def next_state(verdict: Verdict, receive_count: int) -> str:
    """The verdict's state; for "try again", `failed` on the queue's last receive."""
    if verdict.state is not None:
        return verdict.state
    return FAILED if receive_count >= MAX_RECEIVES else CREATED
