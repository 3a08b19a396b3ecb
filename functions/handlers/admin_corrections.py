"""The admin API's invoice corrections (a Router included by `functions.handlers.admin_api`):
credit memos and cancellations, the rules in `functions.corrections`.

    POST /admin/invoices/{id}/credit-memos  {"amount": "10.00" | "lines": [...], "reason",
                                             "key"?}: 201 with the credit memo; 200 with the
                                             same one when the request is a retry
    POST /admin/invoices/{id}/cancel        200 with the invoice, now `cancelled`

Refusals are the JSON errors of the admin API's edge (400 a field, 404, 409 with the reason).
The admin API wires in what the routes share with its own (`wire`): no import back to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.api_gateway import (
    APIGatewayRestResolver,
    Response,
    Router,
)

from functions.config import settings
from functions.cxml.model import Credential
from functions.handlers import json_edge
from functions.observability import logger

if TYPE_CHECKING:
    from functions.parties import LegalEntity

router = Router()


@dataclass(frozen=True)
class Wiring:
    app: APIGatewayRestResolver
    integrations: Callable[[], Any]  # the function's integration store
    invoice_view: Callable[[str], dict[str, Any]]  # an invoice by id, as the admin API shows it


_wiring: list[Wiring] = []


def wire(wiring: Wiring) -> None:
    _wiring[:] = [wiring]


@cache
def _ports() -> Any:
    from functions.store.corrections import ports_for

    return ports_for(settings(), _wiring[0].integrations())


def _supplier() -> Credential:
    config = settings()
    return Credential(config.supplier_domain, config.supplier_identity)


def _entity() -> LegalEntity:
    from functions.invoice_terms import legal_entity

    return legal_entity(settings())


def credit_memo_views(invoice_id: str) -> list[dict[str, Any]]:
    """An invoice's credit memos as its view lists them."""
    return [
        {
            "invoice_id": credit.invoice_id,
            "state": credit.state,
            "due": credit.summary.get("due"),
            "reason": credit.summary.get("reason"),
            "created_at": credit.created_at,
        }
        for credit in _ports().credits(invoice_id)
    ]


@router.post("/admin/invoices/<invoice_id>/credit-memos")
def credit_invoice(invoice_id: str) -> Response:
    from functions import corrections, invoice_corrections
    from functions.clock import now

    request = corrections.credit_request_from_json(json_edge.json_body(_wiring[0].app))
    credited = invoice_corrections.issue_credit(
        invoice_id, request, _ports(), supplier=_supplier(), now=now(), entity=_entity()
    )
    logger.info(
        "credit memo issued" if credited.created else "credit memo already issued",
        extra={"invoice_id": invoice_id, "credit_memo_id": credited.invoice_id},
    )
    view = _wiring[0].invoice_view(credited.invoice_id)
    return json_edge.json_reply({"credit_memo": view}, 201 if credited.created else 200)


@router.post("/admin/invoices/<invoice_id>/cancel")
def cancel_invoice(invoice_id: str) -> Response:
    from functions import invoice_corrections

    invoice_corrections.cancel(invoice_id, _ports(), supplier=_supplier(), entity=_entity())
    logger.info("invoice cancelled", extra={"invoice_id": invoice_id})
    return json_edge.json_reply({"invoice": _wiring[0].invoice_view(invoice_id)})
