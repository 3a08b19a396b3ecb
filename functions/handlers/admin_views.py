"""The admin API's read-only views (a Router included by `functions.handlers.admin_api`):

    GET /admin/subscriptions/{subscription_id}
        the subscription (state, offer, lines with their PO approvals, billing schedule), its
        budget (approved, used, invoiced to date, held per dimension and in money, the budget
        levels mailed: `functions.budgets.Ledger`) and its invoices (the `by-subscription`
        index). Held usage shows here even when no invoice was issued.
    GET /admin/integrations/{integration_id}/orders/{order_id}
        the purchase order as kept (type, version, lines, the subscriptions it approved), the
        buyer's status from StatusUpdateRequests with its history, and the ConfirmationRequest
        sent for it, when the integration confirms orders.

Each is GetItems (and one Query for the invoices); a path id too long or with control
characters is a 400, an unknown one (or another integration's order) a 404, as JSON."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from functions import fields
from functions.errors import NotFound
from functions.handlers import json_edge

router = Router()

MAX_PATH_ID = 200
"""The longest id a view looks up: ours are far shorter, a buyer's orderID rarely near it."""


@dataclass(frozen=True)
class Wiring:
    integration: Callable[[str], Any]  # an integration by id, NotFound when unknown
    invoice_view: Callable[[Any], dict[str, Any]]  # a stored invoice, as the list shows it


_wiring: list[Wiring] = []


def wire(wiring: Wiring) -> None:
    _wiring[:] = [wiring]


def _path_id(value: str, name: str) -> str:
    """The id as sent, refused (400) when it cannot be an id: blank, too long, control chars."""
    return fields.text({name: value}, name, required=True, limit=MAX_PATH_ID, trim=False)


# --- subscriptions ----------------------------------------------------------------------------


def _approval_view(approval: Any) -> dict[str, Any] | None:
    if approval is None:
        return None
    return {
        "order_id": approval.order_id,
        "order_version": approval.order_version,
        "line_number": approval.line_number,
        "quantity": f"{approval.quantity.normalize():f}",
        "approved_at": approval.approved_at,
    }


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}" if value else "0"


def _budget_view(subscription: Any, ledger: Any) -> dict[str, Any] | None:
    """The usage budget as billing keeps it: None for a subscription without usage."""
    from functions import budgets
    from functions.subscriptions import invoiced_line

    if invoiced_line(subscription, budgets.USAGE) is None:
        return None
    ledger = ledger or budgets.Ledger()
    approved = budgets.approved_budget(subscription)
    held = ledger.held
    return {
        "unit": "money" if budgets.money_budget(subscription) else "quantity",
        "currency": subscription.currency,
        "approved": None if approved is None else _plain(approved),
        "used": {d: _plain(q) for d, q in sorted(ledger.accounted.items())},
        "invoiced": {d: _plain(q) for d, q in sorted(ledger.invoiced.items())},
        "invoiced_to_date": _plain(ledger.invoiced_to_date),
        "awaiting_budget": {d: _plain(q) for d, q in held.items()},
        "awaiting_budget_amount": f"{budgets.held_amount(subscription, held):f}",
        "periods": list(ledger.periods),
        "levels_mailed": list(ledger.notified),
    }


@router.get("/admin/subscriptions/<subscription_id>")
def get_subscription(subscription_id: str) -> Response:
    from functions.store import invoices
    from functions.store.budget_ledger import ledger_of
    from functions.store.subscriptions import DynamoSubscriptionStore

    subscription_id = _path_id(subscription_id, "subscription_id")
    subscription = DynamoSubscriptionStore().get(subscription_id)
    if subscription is None:
        raise NotFound(f"No subscription with id {subscription_id!r}.")
    view = {
        "id": subscription.id,
        "state": subscription.state,
        "test": subscription.test,
        "account_id": subscription.account_id,
        "integration_id": subscription.integration_id,
        "product_id": subscription.product_id,
        "offer_id": subscription.offer_id,
        "offer_name": subscription.offer_name,
        "pricing_model": subscription.pricing_model,
        "currency": subscription.currency,
        "billing_schedule": subscription.billing_schedule,
        "created_at": subscription.created_at,
        "activated_at": subscription.activated_at,
        "cancelled_at": subscription.cancelled_at,
        "lines": [
            {
                "auxiliary_id": line.auxiliary_id,
                "kind": line.kind,
                "supplier_part_id": line.supplier_part_id,
                "unit_price": f"{line.unit_price:f}",
                "unit_of_measure": line.unit_of_measure,
                "requested_quantity": f"{line.requested_quantity.normalize():f}",
                "approval": _approval_view(line.approval),
            }
            for line in subscription.lines
        ],
    }
    found = invoices.list_for_subscription(subscription.id)
    invoice_views = [_wiring[0].invoice_view(invoice) for invoice in found]
    return json_edge.json_reply(
        {
            "subscription": view,
            "budget": _budget_view(subscription, ledger_of(subscription.id)),
            "invoices": [
                {k: v[k] for k in ("invoice_id", "kind", "period", "state", "buyer_status")}
                | {"due": v["totals"]["due"], "currency": v["currency"]}
                for v in invoice_views
            ],
        }
    )


# --- orders -----------------------------------------------------------------------------------


@router.get("/admin/integrations/<integration_id>/orders/<order_id>")
def get_order(integration_id: str, order_id: str) -> Response:
    from functions import buyer_status
    from functions.order_confirmations import confirmation_key
    from functions.orders import request_ids_of
    from functions.store.confirmations import DynamoConfirmationLedger
    from functions.store.orders import kept_order_record

    integration_id = _path_id(integration_id, "integration_id")
    order_id = _path_id(order_id, "order_id")
    integration = _wiring[0].integration(integration_id)
    kept = kept_order_record(integration.id, order_id)
    if kept is None:
        raise NotFound(f"No order {order_id!r} from integration {integration_id!r}.")
    order, status = kept
    confirmation: dict[str, Any] | None = None
    if integration.order_confirmations:
        pending = DynamoConfirmationLedger().pending(confirmation_key(order))
        confirmation = {
            "sent": pending is not None,
            "state": pending.state if pending else None,
            "delivery": pending.delivery.to_json() if pending else None,
        }
    return json_edge.json_reply(
        {
            "order": {
                "integration_id": order.integration_id,
                "order_id": order.order_id,
                "order_type": order.order_type,
                "order_version": order.order_version,
                "payload_id": order.payload_id,
                "order_date": order.order_date,
                "received_at": order.received_at,
                "test": order.test,
                "total": order.total,
                "currency": order.currency,
                "lines": list(order.lines),
                "subscriptions": request_ids_of(order),
            },
            "buyer_status": buyer_status.view(status),
            "confirmation": confirmation,
        }
    )
