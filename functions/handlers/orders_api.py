"""Lambda: the purchase-order endpoint (`POST /cxml/orders`).

Persist first, answer 200, and let the outbox send the email: the answer never waits for SES.
A retry or a concurrent duplicate of a PO gets 200 again and changes nothing."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import activity, observability, order_intake, orders, store, subscriptions
from functions.clock import now
from functions.config import settings
from functions.cxml import build
from functions.cxml.parse import CxmlRequest, parse_order_request, parse_request
from functions.cxml.status_update import STATUS_UPDATE_REQUEST
from functions.errors import GatewayError, NotImplementedByGateway
from functions.handlers import cxml_edge
from functions.handlers.http import base_url
from functions.observability import logger, metrics
from functions.store import orders as order_store
from functions.store.activity import DynamoActivityLog, activity_record
from functions.store.secrets import AribaSecret

app = APIGatewayRestResolver()
cxml_edge.install(app)


@cache
def _ariba_secret() -> AribaSecret:
    store.bind(settings())
    return AribaSecret(settings())


@app.post("/cxml/orders")
def order_request() -> Response:
    """OrderRequests, and the buyer's StatusUpdateRequests (the ProfileResponse lists this URL
    for both): one URL, authenticated the same way."""
    document = cxml_edge.document_bytes(app)
    try:
        request = parse_request(document)
        if request.request_name != STATUS_UPDATE_REQUEST:
            message = receive_order(document, base_url(app.current_event, settings()), request)
    except GatewayError as refusal:
        outcome = "refused" if refusal.status < 500 else "failed"
        observability.count(
            observability.PURCHASE_ORDERS, outcome=outcome, code=str(refusal.status)
        )
        _record_refusal(document, refusal)
        raise
    if request.request_name == STATUS_UPDATE_REQUEST:
        try:
            message = receive_status_update(request)
        except GatewayError as refusal:
            _record_refusal(document, refusal)
            raise
    return cxml_edge.cxml_reply(build.response(200, message))


def _record_refusal(document: bytes, refusal: GatewayError) -> None:
    """A refusal of a request whose credentials named an integration goes to its activity (one
    PutItem, never raising); an unparsable document or an unknown sender is recorded nowhere."""
    if not refusal.integration_id:
        return
    try:
        request = parse_request(document)
    except GatewayError:
        return
    reference = ""
    if request.request_name == "OrderRequest":
        try:
            reference = parse_order_request(request).order_id
        except GatewayError:
            reference = ""
    refused = activity.refused(request, refusal, now(), reference=reference)
    if refused is not None:
        DynamoActivityLog().record(refused)


def receive_status_update(request: CxmlRequest) -> str:
    """Record one StatusUpdateRequest (`functions.buyer_status`); the Status 200 message."""
    from functions import buyer_status
    from functions.store.buyer_status import DynamoStatusLedger

    logger.append_keys(payload_id=request.payload_id[:120], request_name=request.request_name)
    try:
        recorded = buyer_status.receive(request, DynamoStatusLedger(), _ariba_secret())
    except GatewayError as refusal:
        observability.count(
            observability.BUYER_STATUS_UPDATES, subject="refused", status=str(refusal.status)
        )
        raise
    update, target = recorded.update, recorded.target
    DynamoActivityLog().record(
        activity.answered(
            request,
            recorded.integration.id,
            now(),
            recorded.message,
            reference=target.key if target is not None else "",
        )
    )
    if update is None or target is None:
        observability.count(
            observability.BUYER_STATUS_UPDATES, subject="duplicate", status="duplicate"
        )
        return recorded.message
    # An order's DocumentStatus type is free text: never a metric dimension (cardinality).
    invoice = target.subject == buyer_status.INVOICE
    observability.count(
        observability.BUYER_STATUS_UPDATES,
        subject=target.subject,
        status=update.status if invoice else "recorded",
    )
    extra = {"integration_id": recorded.integration.id, "document": target.key}
    if invoice and update.status == "rejected":
        logger.warning(
            "buyer rejected an invoice",
            extra={
                **extra,
                "comments": update.comments[:500],
                "status_message": update.message[:500],
            },
        )
    else:
        logger.info("buyer status recorded", extra={**extra, "status": update.status})
    return recorded.message


class DynamoOrderIntake:
    """The use case's ports on `functions.store.orders`: its exceptions become values."""

    read = staticmethod(order_store.read_for_order)
    previous_order = staticmethod(order_store.previous_order)
    received_before = staticmethod(order_store.received_before)

    def save(self, outcome: orders.OrderOutcome, moment: datetime) -> order_intake.SaveResult:
        try:
            order_store.archive(outcome)
            entry = activity.order_received(outcome.order, outcome.message, moment)
            order_store.commit(outcome, moment, activity_record(entry))
        except order_store.DuplicateOrder as duplicate:
            logger.info("duplicate purchase order", extra={"marker": duplicate.marker})
            return order_intake.AlreadyReceived(duplicate.marker, duplicate.kept)
        except order_store.ConcurrentChange:
            logger.info("purchase order raced another change; retrying")
            return order_intake.RACED
        return None


def receive_order(document: bytes, public_url: str, request: CxmlRequest | None = None) -> str:
    """Process one OrderRequest; the message for a Status 200, or a GatewayError. Safe to run
    concurrently (nothing here reads the resolver's current event)."""
    ariba_secret = _ariba_secret()
    request = request or parse_request(document)
    # From outside and not yet authenticated: clipped (a 200 KB payloadID is a 200 KB log line).
    logger.append_keys(payload_id=request.payload_id[:120], request_name=request.request_name[:60])
    if request.request_name != "OrderRequest":
        raise NotImplementedByGateway(
            f"{request.request_name} is not accepted at the order URL; it accepts OrderRequest "
            "and StatusUpdateRequest."
        )
    po = parse_order_request(request)
    logger.append_keys(order_id=po.order_id, order_type=po.order_type)
    receipt = order_intake.receive(
        request, po, document, public_url, DynamoOrderIntake(), ariba_secret
    )
    if receipt.accepted is None or receipt.context is None:
        _count_duplicate()  # answered 200 again: one PutItem shows it (not the hot path)
        DynamoActivityLog().record(
            activity.answered(
                request, receipt.integration_id, now(), receipt.message, reference=po.order_id
            )
        )
        return receipt.message
    logger.info(
        "purchase order accepted",
        extra={
            "subscriptions": [s.id for s in receipt.accepted.subscriptions],
            "mails": len(receipt.accepted.mails),
        },
    )
    _count_accepted(receipt.accepted, receipt.context)
    return receipt.message


def _count_duplicate() -> None:
    observability.count(observability.PURCHASE_ORDERS, outcome="duplicate", code="200")


def _count_accepted(outcome: orders.OrderOutcome, context: orders.OrderContext) -> None:
    observability.count(observability.PURCHASE_ORDERS, outcome="accepted", code="200")
    changed = [
        s
        for s in outcome.subscriptions
        if s.state != getattr(context.subscriptions.get(s.id), "state", None)
    ]
    observability.count(
        observability.SUBSCRIPTIONS_ACTIVATED,
        sum(s.state == subscriptions.ACTIVE for s in changed),
    )
    observability.count(
        observability.SUBSCRIPTIONS_CANCELLED,
        sum(s.state == subscriptions.CANCELLED for s in changed),
    )


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
