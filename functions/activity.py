"""The activity of an integration: one entry per cXML exchange (docs/CONSOLE.md "Activity"), so
a buyer's admin sees why Coupa or Ariba reports an error without asking anyone.

Plain Python: what an entry holds and how long it is kept. An entry keeps facts about the
exchange (time, direction, document type, payloadID, status code and text, who, reference),
never the document, a shared secret, a session token or a StartPage URL; every text is
clipped, since most of it comes from outside."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from functions import ids

if TYPE_CHECKING:
    from functions.cxml.model import Header
    from functions.cxml.parse import CxmlRequest
    from functions.errors import GatewayError
    from functions.orders import StoredOrder
    from functions.sessions import PunchOutSession

KEPT = timedelta(days=30)
"""DynamoDB TTL removes an entry this long after the exchange."""
SHOWN = 100
"""The console shows the newest entries, at most this many."""

INBOUND = "inbound"
OUTBOUND = "outbound"

MAX_DOCUMENT = 60
MAX_PAYLOAD_ID = 200
MAX_TEXT = 500
MAX_WHO = 200
MAX_REFERENCE = 120

OK_TEXT = "OK"


def clip(text: str | None, limit: int) -> str:
    """One line of at most `limit` characters (an ellipsis marks a cut)."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class ActivityEntry:
    integration_id: str
    at: datetime
    direction: str  # INBOUND | OUTBOUND
    document: str  # PunchOutSetupRequest, OrderRequest, InvoiceDetailRequest...
    payload_id: str
    code: int | None  # our cXML status (inbound) or theirs (outbound); None: no answer
    text: str
    who: str = ""
    reference: str = ""  # orderID, invoiceID
    entry_id: str = ""

    @property
    def failed(self) -> bool:
        return self.code is None or not 200 <= self.code < 300

    @property
    def expires_at(self) -> datetime:
        return self.at + KEPT


def entry(
    integration_id: str,
    at: datetime,
    direction: str,
    document: str,
    payload_id: str,
    code: int | None,
    text: str,
    who: str = "",
    reference: str = "",
) -> ActivityEntry:
    """The one way to make an entry: every value clipped, an id so two exchanges in the same
    millisecond are two entries."""
    return ActivityEntry(
        integration_id=integration_id,
        at=at,
        direction=direction,
        document=clip(document, MAX_DOCUMENT),
        payload_id=clip(payload_id, MAX_PAYLOAD_ID),
        code=code,
        text=clip(text, MAX_TEXT),
        who=clip(who, MAX_WHO),
        reference=clip(reference, MAX_REFERENCE),
        entry_id=ids.record_id("act"),
    )


def sender_of(header: Header) -> str:
    """Who sent a request, as its From credential names it (domain/identity): never the
    Sender's SharedSecret."""
    credential = next(iter(header.from_credentials), None)
    if credential is None:
        return ""
    return f"{credential.domain or '(no domain)'}/{credential.identity}"


def person(email: str, name: str = "") -> str:
    """`Name <email>`, or whichever of the two is known."""
    email, name = email.strip(), name.strip()
    if email and name:
        return f"{name} <{email}>"
    return email or name


def punchout_started(session: PunchOutSession) -> ActivityEntry:
    """A PunchOutSetupRequest answered 200: who punched out (the requester), never the
    session's token or StartPage URL."""
    requester = session.requester
    name = " ".join(p for p in (requester.first_name, requester.last_name) if p)
    who = person(requester.email, name or requester.name or requester.unique_name)
    return entry(
        session.integration_id,
        session.created_at,
        INBOUND,
        "PunchOutSetupRequest",
        session.payload_id,
        200,
        f"{OK_TEXT} ({session.operation})",
        who,
    )


def order_received(order: StoredOrder, message: str, at: datetime) -> ActivityEntry:
    """An OrderRequest we accepted: who is the PO's ship-to contact where it names one."""
    ship_to = order.ship_to or {}
    deliver_to = ship_to.get("deliver_to") or []
    name = deliver_to[0] if isinstance(deliver_to, list) and deliver_to else ""
    return entry(
        order.integration_id,
        at,
        INBOUND,
        "OrderRequest",
        order.payload_id,
        200,
        message,
        person(str(ship_to.get("email") or ""), str(name)),
        f"{order.order_id} ({order.order_type})",
    )


def answered(
    request: CxmlRequest,
    integration_id: str,
    at: datetime,
    text: str = OK_TEXT,
    *,
    who: str = "",
    reference: str = "",
) -> ActivityEntry:
    """An inbound request we answered 200."""
    return entry(
        integration_id,
        at,
        INBOUND,
        request.request_name,
        request.payload_id,
        200,
        text,
        who or sender_of(request.header),
        reference,
    )


def sent(
    integration_id: str,
    document: str,
    code: int | None,
    text: str,
    at: datetime,
    *,
    reference: str = "",
    payload_id: str = "",
) -> ActivityEntry:
    """An outbound document we posted (an invoice, an order confirmation): the buyer system's
    answer code and text, None when it never answered (a timeout, no cXML)."""
    return entry(
        integration_id,
        at,
        OUTBOUND,
        document,
        payload_id,
        code,
        text or ("No answer" if code is None else ""),
        "The marketplace",
        reference,
    )


def refused(
    request: CxmlRequest, refusal: GatewayError, at: datetime, *, reference: str = ""
) -> ActivityEntry | None:
    """An inbound request refused after its credentials named an integration (a wrong shared
    secret, a disabled integration, a bad cart...): the entry, or None when no integration is
    known (nothing is recorded for a sender we cannot place). The text is what the buyer was
    answered, plus our reason when the answer hides it on purpose ("Shared secret does not
    match"): the admin reading it is the integration's own."""
    from functions.cxml.status import cxml_code

    if not refusal.integration_id:
        return None
    text = refusal.message
    if refusal.admin_reason:
        text = f"{refusal.admin_reason}. {text}"
    return entry(
        refusal.integration_id,
        at,
        INBOUND,
        request.request_name,
        request.payload_id,
        cxml_code(refusal.status),
        text,
        sender_of(request.header),
        reference,
    )


class ActivityLog(Protocol):
    def record(self, entry: ActivityEntry) -> None:
        """Keep one entry; never raises (an exchange's answer does not depend on it)."""
        ...
