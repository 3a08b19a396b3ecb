"""Invoice delivery: post a stored invoice to the buyer's Coupa instance, or to SAP Business
Network for an Ariba buyer, and judge the answer.

Plain Python; the invoice ledger, the stored documents, the integrations and the HTTP sender are
passed in (adapters in `functions.store`), so every rule here is unit-tested without AWS or a
network. What is posted, re-addressed to the integration's endpoint, and what can come back:
`functions.delivery_transport`. Decisions (docs/INVOICING.md has the states and the message):

- **Answers.** A cXML Status 2xx is `delivered`. A 4xx (Coupa: 401 credentials, 403 invoicing
  not enabled, 406 DTD, 417 reference or reused number, 450 version) is permanent: `rejected`,
  kept on the invoice record and logged for the admin. A 5xx, a timeout, a connection or TLS
  failure, or an answer that is not cXML is transient: the message is retried by SQS; the
  last attempt (the queue's fifth receive, after which it would go to the DLQ) marks `failed`.
- **417 after a lost answer.** Coupa answers a reused invoice number with 417 "Invalid
  attributes in document", the same code it uses for a bad PO reference. When an earlier
  attempt of this invoice may have reached Coupa without us learning the outcome (a timeout, a
  dropped connection, a non-cXML answer), or the invoice was delivered before, a 417 that does
  not name the reference is taken as Coupa already holding our invoice: `delivered`, with a
  note saying so. Otherwise a 417 is `rejected`.
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

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from functions import contracts
from functions.business_network import BusinessNetwork, NotConfigured
from functions.clock import iso
from functions.cxml.parse import parse_response
from functions.delivery_transport import (
    TIMEOUT_SECONDS,
    Answer,
    EndpointRefused,
    Sender,
    Unanswered,
    build_send,
    check_endpoint,
)
from functions.errors import GatewayError
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
_MAX_TEXT = 500


@dataclass(frozen=True)
class Verdict:
    """How one attempt ended: `state` DELIVERED or REJECTED, or None for "try again"."""

    state: str | None
    code: int | None
    text: str
    note: str = ""
    answered: bool = True  # False: we never learned whether the invoice arrived

    @property
    def retry(self) -> bool:
        return self.state is None


@dataclass(frozen=True)
class DeliveryLog:
    """The invoice record's `delivery` JSON: what the admin API shows of the attempts."""

    attempts: int = 0
    last_code: int | None = None
    last_text: str = ""
    delivered_at: str | None = None
    last_attempt_at: str | None = None
    unanswered: int = 0  # attempts whose outcome we never learned (the invoice may have arrived)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "last_code": self.last_code,
            "last_text": self.last_text,
            "delivered_at": self.delivered_at,
            "last_attempt_at": self.last_attempt_at,
            "unanswered": self.unanswered,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> DeliveryLog:
        data = data or {}
        code = data.get("last_code")
        return cls(
            attempts=int(data.get("attempts") or 0),
            last_code=int(code) if code is not None else None,
            last_text=str(data.get("last_text") or ""),
            delivered_at=data.get("delivered_at") or None,
            last_attempt_at=data.get("last_attempt_at") or None,
            unanswered=int(data.get("unanswered") or 0),
            note=str(data.get("note") or ""),
        )

    @property
    def may_have_arrived(self) -> bool:
        """An earlier attempt may have reached the buyer's system."""
        return self.delivered_at is not None or self.unanswered > 0


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def classify(reply: Answer | Unanswered, history: DeliveryLog, system: System = "coupa") -> Verdict:
    """Judge one attempt. `history` is the invoice's record before it (for the duplicate
    rules), `system` whose answer it is (Coupa directly, or SAP Business Network for Ariba)."""
    if isinstance(reply, Unanswered):
        return Verdict(None, None, _clip(f"No answer: {reply}"), answered=False)
    try:
        code, text, message = parse_response(reply.body)
    except GatewayError as exc:
        return Verdict(
            None,
            None,
            _clip(f"HTTP {reply.http_status} without a cXML answer ({exc.message})"),
            answered=False,
        )
    said = _clip(f"{code} {text}: {message}" if message else f"{code} {text}")
    if 200 <= code < 300:
        return Verdict(DELIVERED, code, said)
    held = _already_held(system, code, message, said) if history.may_have_arrived else None
    if held:
        return Verdict(DELIVERED, code, said, note=held)
    if 400 <= code < 500:
        return Verdict(REJECTED, code, said)
    return Verdict(None, code, said)


def _already_held(system: System, code: int, message: str, said: str) -> str | None:
    """The note when an answer says the buyer's side already holds this invoice number (after
    an attempt that may have arrived, so the holder is this very invoice), else None."""
    if system == "coupa" and code == 417 and "reference" not in message.lower():
        return (
            "Coupa answered 417 after an earlier attempt that may have arrived: taken as "
            "Coupa already holding this invoice number. Check the invoice in Coupa."
        )
    if system == "ariba" and 400 <= code < 500 and "INVOICE_DUPLICATE" in said.upper():
        return (
            "SAP Business Network answered INVOICE_DUPLICATE after an earlier attempt that may "
            "have arrived: taken as the network already holding this invoice. Check it there."
        )
    return None


def after(log: DeliveryLog, verdict: Verdict, at: datetime) -> DeliveryLog:
    """The log once `verdict`'s attempt is counted."""
    stamp = iso(at)
    return replace(
        log,
        attempts=log.attempts + 1,
        last_code=verdict.code,
        last_text=verdict.text,
        last_attempt_at=stamp,
        unanswered=log.unanswered + (0 if verdict.answered else 1),
        delivered_at=stamp
        if verdict.state == DELIVERED and not log.delivered_at
        else log.delivered_at,
        note=verdict.note or log.note,
    )


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
        return _record(ports, invoice, STORED, kept, sent=False)
    try:
        check_endpoint(endpoint, allow_local_http=ports.allow_local_http)
        endpoint = opened_endpoint(endpoint, invoice.integration_id, ports.secrets)
        send = build_send(ports.documents.read(invoice.s3_key), endpoint, ports.timeout)
        reply: Answer | Unanswered = ports.sender.post(send)
    except Unanswered as exc:
        reply = exc
    except EndpointRefused as exc:
        verdict = Verdict(FAILED, None, _clip(str(exc)))
        log = after(invoice.delivery, verdict, now)
        state = DELIVERED if resend else FAILED
        return _record(ports, invoice, state, log, sent=False, verdict=verdict)
    verdict = classify(reply, invoice.delivery, system)
    log = after(invoice.delivery, verdict, now)
    if resend:
        # Whatever the re-send met, the invoice was delivered before: the log shows the
        # re-send's answer; nothing is retried.
        state = DELIVERED
    elif verdict.state is not None:
        state = verdict.state
    else:
        state = FAILED if receive_count >= MAX_RECEIVES else CREATED
    outcome = _record(ports, invoice, state, log, sent=True, verdict=verdict)
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


def _record(
    ports: Ports,
    invoice: PendingInvoice,
    state: str,
    log: DeliveryLog,
    *,
    sent: bool,
    verdict: Verdict | None = None,
) -> Outcome:
    if ports.ledger.record(invoice.invoice_id, state, log, expected=invoice.state):
        return Outcome(invoice.invoice_id, state, log, sent=sent, verdict=verdict)
    # Another copy of the message got there first: report what it left, retry nothing.
    current = ports.ledger.pending(invoice.invoice_id)
    now_state = current.state if current else invoice.state
    return Outcome(
        invoice.invoice_id,
        now_state,
        current.delivery if current else log,
        sent=sent,
        verdict=verdict,
        superseded=True,
    )
