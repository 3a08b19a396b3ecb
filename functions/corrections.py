"""Corrections of invoices already issued: credit memos and cancellations (docs/INVOICING.md,
"Corrections"; the protocol facts in docs/PROTOCOL.md §8).

Pure rules over the stored invoice's JSON summary (`billing.summary_json`), which holds every
line as invoiced, so a correction never needs the subscription as it is now:

- **Credit memo**: `purpose="creditMemo"`, its own invoiceID `CM-<what it credits>-<n>`, the
  same PO and PO lines as the invoice it credits, quantity and unit price as there (positive),
  amounts negative, and the original named by `DocumentReference` (payloadID) and
  `InvoiceIDInfo` (invoiceID, invoiceDate). Only an invoice the buyer holds is credited
  (`delivered`, or `stored` for an integration without an endpoint). What all its credits
  take back never exceeds what it charged, per line and in total.
- **Idempotent**: each credit carries a key (the client's, or a digest of its content); the
  same key again answers the credit memo already issued, with other content it is refused.
  The n-th credit of an invoice is `...-n`, written only if absent, so two different credits
  racing cannot both take the same place: the loser is told to read again and retry.
- **Cancellation**: an invoice that never reached the buyer (`created` or `failed` with no
  attempt whose outcome we never learned, `rejected`, `stored`) is marked
  `cancelled`; nothing is sent, since the buyer's system holds nothing to cancel. Its
  `operation="delete"` document (same invoiceID, DTD-valid) is kept beside the original as the
  record. A delivered invoice is credited instead (409 says so)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from functions import contracts, fields
from functions.billing import CREDIT, CreditLine, Invoice, InvoiceLine, period_of
from functions.clock import iso
from functions.errors import BadRequest, Conflict
from functions.invoice_summary import invoice_of_summary, summary_lines

CREDIT_MEMO = "creditMemo"
CREDITABLE = (contracts.INVOICE_DELIVERED, contracts.INVOICE_STORED)
"""States of an invoice the buyer holds (or we keep for them): credited, never cancelled."""
CENT = Decimal("0.01")
MAX_LINES = 100
MAX_AMOUNT = Decimal("100000000")
KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:#")


@dataclass(frozen=True)
class CreditRequest:
    """What to credit: a money `amount`, or quantities of the original's `lines` (invoice
    line number -> quantity), with a reason; `key` makes a retry safe."""

    reason: str
    amount: Decimal | None = None
    lines: tuple[tuple[int, Decimal], ...] = ()
    key: str = ""

    def content(self) -> str:
        """What the request asks for, canonical: the digest key, and the check on a reused key."""
        return json.dumps(
            {"amount": None if self.amount is None else f"{self.amount.quantize(CENT):f}",
             "lines": [[n, f"{q.normalize():f}"] for n, q in self.lines],
             "reason": self.reason},
            sort_keys=True,
        )  # fmt: skip

    @property
    def effective_key(self) -> str:
        return self.key or "content:" + hashlib.sha256(self.content().encode()).hexdigest()[:24]


def _decimal(raw: object, field: str, *, places: int) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (str, int, Decimal)) or len(str(raw)) > 24:
        raise BadRequest(f"'{field}' must be a number written as a string, like \"12.50\".",
                         field=field)  # fmt: skip
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise BadRequest(f"'{field}' is not a number.", field=field) from None
    if not value.is_finite() or value <= 0 or value > MAX_AMOUNT:
        raise BadRequest(f"'{field}' must be more than 0 and at most {MAX_AMOUNT}.", field=field)
    if -value.as_tuple().exponent > places:  # type: ignore[operator]
        raise BadRequest(f"'{field}' has more than {places} decimals.", field=field)
    return value


def credit_request_from_json(body: object) -> CreditRequest:
    """`{"reason": ..., "amount": "12.50"}` or `{"reason": ..., "lines": [{"invoice_line_number":
    1, "quantity": "3"}]}`, optionally `"key"`: refused whole, naming the field, otherwise."""
    if not isinstance(body, Mapping):
        raise BadRequest('The body must be a JSON object like {"amount": "10.00", "reason": ...}.')
    fields.only(body, ("amount", "lines", "reason", "key"))
    reason = fields.text(body, "reason", required=True, limit=200)
    key = fields.text(body, "key", required=False, limit=64, trim=False)
    if key and not KEY_CHARS.issuperset(key):
        raise BadRequest("'key' may hold letters, digits and - _ . : # only.", field="key")
    if ("amount" in body) == ("lines" in body):
        raise BadRequest("Send either 'amount' or 'lines', not both and not neither.",
                         field="amount")  # fmt: skip
    if "amount" in body:
        return CreditRequest(reason, amount=_decimal(body["amount"], "amount", places=2), key=key)
    raw_lines = body["lines"]
    if not isinstance(raw_lines, list) or not 0 < len(raw_lines) <= MAX_LINES:
        raise BadRequest(f"'lines' must be a list of 1 to {MAX_LINES} lines.", field="lines")
    lines: dict[int, Decimal] = {}
    for index, raw in enumerate(raw_lines):
        where = f"lines[{index}]"
        entry = fields.entry(raw, ("invoice_line_number", "quantity"), name=where)
        number = entry.get("invoice_line_number")
        if isinstance(number, bool) or not isinstance(number, int) or not 0 < number < 10**6:
            raise BadRequest(f"'{where}.invoice_line_number' must be a line number.",
                             field=f"{where}.invoice_line_number")  # fmt: skip
        if number in lines:
            raise BadRequest(f"Line {number} is named twice.", field=f"{where}.invoice_line_number")
        lines[number] = _decimal(entry.get("quantity"), f"{where}.quantity", places=6)
    return CreditRequest(reason, lines=tuple(sorted(lines.items())), key=key)


def credit_memo_id(original_id: str, sequence: int) -> str:
    """`CM-U-202611-1A2B3C4D5E6F-1`: the n-th credit of that invoice, never another's."""
    return f"CM-{original_id.removeprefix('INV-')}-{sequence}"


def credited_so_far(credits: Sequence[Mapping[str, Any]]) -> tuple[Decimal, dict[int, Decimal]]:
    """What earlier credit memos took back (positive): in total, and per original line."""
    total, per_line = Decimal("0.00"), dict[int, Decimal]()
    for credit in credits:
        numbers = credit.get("credited_lines") or []
        for line, number in zip(credit.get("lines") or [], numbers, strict=False):
            amount = -Decimal(line["amount"])
            total += amount
            per_line[int(number)] = per_line.get(int(number), Decimal("0.00")) + amount
    return total, per_line


def _lines_to_credit(request: CreditRequest, originals: list[InvoiceLine]) -> list[CreditLine]:
    by_number = {line.invoice_line_number: line for line in originals}
    wanted: list[tuple[InvoiceLine, Decimal, Decimal]] = []  # (line credited, quantity, price)
    if request.amount is not None:  # one line against the first line's PO line, 1 x the amount
        wanted.append((originals[0], Decimal(1), request.amount))
    for number, quantity in request.lines:
        line = by_number.get(number)
        if line is None:
            raise BadRequest(f"The invoice has no line {number}.", field="lines")
        if quantity > line.quantity:
            raise Conflict(f"Line {number} invoiced {line.quantity:f}; {quantity:f} cannot be "
                           "credited.", field="lines")  # fmt: skip
        wanted.append((line, quantity, line.unit_price))
    return [
        CreditLine(
            invoice_line_number=index,
            po_line_number=line.po_line_number,
            supplier_part_id=line.supplier_part_id,
            auxiliary_id=line.auxiliary_id,
            description=f"Credit: {line.description}"[:200],
            quantity=quantity,
            unit_price=price,
            unit_of_measure=line.unit_of_measure,
            dimension=line.dimension,
            credited_line=line.invoice_line_number,
        )
        for index, (line, quantity, price) in enumerate(wanted, start=1)
    ]


def _within_what_was_charged(
    new: list[CreditLine], originals: list[InvoiceLine], credits: Sequence[Mapping[str, Any]]
) -> None:
    """A credit never exceeds what the original charged less what was already credited."""
    total, per_line = credited_so_far(credits)
    charged = sum((line.amount for line in originals), Decimal("0.00"))
    asked = -sum((line.amount for line in new), Decimal("0.00"))
    if asked <= 0:
        raise BadRequest("The credit comes to 0.00 once rounded to cents.", field="amount")
    if total + asked > charged:
        raise Conflict(
            f"The invoice charged {charged:f} and {total:f} is already credited: at most "
            f"{charged - total:f} can be credited, not {asked:f}.",
            field="amount",
        )
    by_number = {line.invoice_line_number: line for line in originals}
    for line in new:
        left = by_number[line.credited_line].amount - per_line.get(line.credited_line, 0)
        if -line.amount > left:
            raise Conflict(
                f"Line {line.credited_line} has {left:f} left to credit, not {-line.amount:f}.",
                field="lines",
            )


def existing_credit(
    request: CreditRequest, credits: Sequence[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The credit memo this request already made (a retry), or None; the same key with other
    content is refused."""
    key = request.effective_key
    for credit in credits:
        if credit.get("credit_key") == key:
            if credit.get("credit_content") not in (None, request.content()):
                raise Conflict(
                    f"Key {key!r} was used for credit memo {credit.get('invoice_id')} with other "
                    "content; use a new key for a new credit.",
                    field="key",
                )
            return credit
    return None


def credit_memo(
    original: Mapping[str, Any],
    state: str,
    original_payload_id: str,
    request: CreditRequest,
    credits: Sequence[Mapping[str, Any]],
    now: datetime,
    *,
    sequence: int,
) -> Invoice:
    """The credit memo `request` asks for against the invoice summarised in `original`, or a
    4xx saying why not. `credits` are the summaries of its earlier credit memos still
    standing (cancelled ones gave nothing back); `sequence` is its place among all of them."""
    invoice_id = str(original["invoice_id"])
    if original.get("kind") == CREDIT:
        raise Conflict(f"{invoice_id} is a credit memo: credit the invoice it corrects.")
    if state not in CREDITABLE:
        raise Conflict(
            f"Invoice {invoice_id} is '{state}': the buyer does not hold it, so there is "
            "nothing to credit. Cancel it instead (POST .../cancel), or wait for its delivery."
        )
    originals = summary_lines(original)
    if not originals:
        raise Conflict(f"Invoice {invoice_id} has no lines to credit.")
    lines = _lines_to_credit(request, originals)
    _within_what_was_charged(lines, originals, credits)
    return replace(
        invoice_of_summary(original),
        invoice_id=credit_memo_id(invoice_id, sequence),
        kind=CREDIT,
        period=period_of(now),
        invoice_date=iso(now),
        lines=tuple(lines),
        purpose=CREDIT_MEMO,
        original_invoice_id=invoice_id,
        original_invoice_date=str(original["invoice_date"]),
        original_payload_id=original_payload_id,
        reason=request.reason,
        credit_key=request.effective_key,
    )


def check_cancellable(invoice_id: str, state: str, may_have_arrived: bool) -> None:
    """Raise a Conflict saying why this invoice cannot be cancelled, or return."""
    if state == contracts.INVOICE_CANCELLED:
        raise Conflict(f"Invoice {invoice_id} is already cancelled.")
    if state == contracts.INVOICE_DELIVERED:
        raise Conflict(
            f"Invoice {invoice_id} was delivered: the buyer holds it, so it cannot be "
            "cancelled. Credit it instead (POST .../credit-memos)."
        )
    if may_have_arrived and state in (contracts.INVOICE_CREATED, contracts.INVOICE_FAILED):
        raise Conflict(
            f"Invoice {invoice_id} may have reached the buyer (an attempt went unanswered): "
            "deliver it again to learn the outcome, then credit it if it was received."
        )
