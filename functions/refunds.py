"""The refund rule when a subscription is cancelled mid-term (a PO delete, or an update that
takes its approved line away): what its contract invoices charged for whole periods that had
not begun at `cancelled_at` is credited; the period in progress is kept, and usage is never
refunded (it is invoiced in arrears, only as used). docs/INVOICING.md, "Corrections".

Written over the contract invoices as stored (their summaries), not over the subscription's
lines, so it holds for one upfront invoice of N periods (credits the unused ones) and for
instalments of one period each (credits those whose period begins after the cancellation).
Each credit's key is `refund#<invoice id>`, so the outbox record handled twice credits once.

Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from functions.billing import CONTRACT
from functions.corrections import CreditRequest
from functions.invoice_summary import summary_lines
from functions.subscriptions import PERIOD_MONTHS, Subscription, term_end

RULE = "prorated by whole unused periods of the contract line's unit (MON, ANN); none for usage"
SERVICE_START_KEYS = ("service_start", "period_start")
"""Where a contract invoice's summary may say when the periods it charges begin (an instalment);
without one, its periods begin when the subscription activated (the upfront invoice)."""


def unused_periods(start: datetime, count: int, unit: str, cancelled_at: datetime) -> int:
    """How many of the `count` periods beginning at `start` had not begun at `cancelled_at`."""
    if unit not in PERIOD_MONTHS or count <= 0:
        return 0
    begun = sum(1 for k in range(count) if term_end(start, k, unit) <= cancelled_at)
    return count - begun


def refund_key(invoice_id: str) -> str:
    """The refund credit's key: one per contract invoice, ever."""
    return f"refund#{invoice_id}"


def _when(raw: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def refund_request(
    subscription: Subscription,
    invoice: Mapping[str, Any],
    credited: Mapping[int, Decimal] | None = None,
) -> CreditRequest | None:
    """The credit one contract invoice owes a cancelled subscription, or None. `credited` is
    what earlier credits already took back per line (money): the refund never goes past what
    is left of a line, in whole periods."""
    cancelled_at = _when(subscription.cancelled_at)
    if invoice.get("kind") != CONTRACT or cancelled_at is None:
        return None
    start = next(
        (w for key in SERVICE_START_KEYS if (w := _when(invoice.get(key))) is not None),
        _when(subscription.activated_at),
    )
    if start is None:
        return None
    lines: list[tuple[int, Decimal]] = []
    for line in summary_lines(invoice):
        whole = line.quantity == line.quantity.to_integral_value()
        unused = unused_periods(start, int(line.quantity), line.unit_of_measure, cancelled_at)
        left = line.amount - (credited or {}).get(line.invoice_line_number, Decimal(0))
        if line.unit_price > 0:
            unused = min(unused, int(left // line.unit_price))
        if whole and unused > 0:
            lines.append((line.invoice_line_number, Decimal(unused)))
    if not lines:
        return None
    periods = sum(quantity for _, quantity in lines)
    return CreditRequest(
        reason=(
            f"Subscription cancelled on {cancelled_at.date().isoformat()}: {periods:f} unused "
            f"period(s) of the contract credited ({RULE})."
        ),
        lines=tuple(lines),
        key=refund_key(str(invoice["invoice_id"])),
    )
