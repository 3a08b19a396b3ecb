"""Judging one delivery attempt (of an invoice, or of an order confirmation) and the attempt
log kept on its record: what `functions.delivery` and `functions.confirmation_delivery` decide
from. Pure.

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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from functions import contracts
from functions.clock import iso
from functions.cxml.parse import parse_response
from functions.delivery_transport import Answer, Unanswered
from functions.errors import GatewayError
from functions.integrations import System

DELIVERED = contracts.INVOICE_DELIVERED
REJECTED = contracts.INVOICE_REJECTED
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


def clip(text: str) -> str:
    """The text on one line, at most 500 characters: what the admin API shows of an answer."""
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def classify(reply: Answer | Unanswered, history: DeliveryLog, system: System = "coupa") -> Verdict:
    """Judge one attempt. `history` is the invoice's record before it (for the duplicate
    rules), `system` whose answer it is (Coupa directly, or SAP Business Network for Ariba)."""
    if isinstance(reply, Unanswered):
        return Verdict(None, None, clip(f"No answer: {reply}"), answered=False)
    try:
        code, text, message = parse_response(reply.body)
    except GatewayError as exc:
        return Verdict(
            None,
            None,
            clip(f"HTTP {reply.http_status} without a cXML answer ({exc.message})"),
            answered=False,
        )
    said = clip(f"{code} {text}: {message}" if message else f"{code} {text}")
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
