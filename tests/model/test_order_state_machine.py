"""The purchase-order state machine, tested by a model (Hypothesis `RuleBasedStateMachine`).

Random sequences of what buyers and procurement systems really do: punchouts, Request approval
for each pricing model, edit punchouts, purchase orders (new, update, delete) over any subset of
the cart's lines, with wrong prices or quantities, exact resends, conflicting reuses of an
orderID or payloadID, disabling the integration, stale versions, and the outbox's triggers (mail
and contract invoices). Every step goes through the real handlers against moto; a small
reference model in this file says what each answer must be and what must be stored after it:

- a subscription is active iff each of its lines is approved by exactly one live PO line whose
  part, price, currency and quantity rules match the line as requested;
- every 200 answer changed stored state exactly as the model says, or was a true retry (and
  then changed nothing); every refusal changed nothing;
- one mail per activation and per cancellation, each sent once;
- no contract invoice exceeds the contract line its PO approved.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.order_support import order_request, post_order
from tests.storefront_support import (
    CONTRACT_PAYG,
    FREE_TRIAL,
    cart_of,
    create_integration,
    create_products,
    post_form,
    punch_out,
)
from tests.support import admin, coupa_integration, meter, seller_token

CONTRACT_ONLY = {
    "id": "vaultguard",
    "name": "VaultGuard",
    "seller": "Keepsafe Ltd",
    "short_description": "Secrets vault.",
    "product_type": "saas",
    "offers": [
        {
            "id": "yearly",
            "name": "Yearly",
            "currency": "USD",
            "pricing": {"model": "contract", "price": "1200.00", "period": "year", "term": 1},
        }
    ],
}
PAY_AS_YOU_GO = {
    "id": "mailrelay",
    "name": "MailRelay",
    "seller": "Postbox Inc",
    "short_description": "SMTP relay.",
    "product_type": "saas",
    "offers": [
        {
            "id": "volume",
            "name": "Volume",
            "currency": "USD",
            "pricing": {
                "model": "payg",
                "dimensions": [
                    {"key": "emails", "name": "Thousand emails", "unit": "EA", "unit_price": "0.90"}
                ],
            },
        }
    ],
}
OFFERS: dict[str, tuple[str, str, dict[str, str]]] = {
    "contract_payg": ("datastream-pro", "annual", {"estimate.hours": "1000"}),
    "contract": ("vaultguard", "yearly", {}),
    "payg": ("mailrelay", "volume", {"estimate.emails": "300"}),
    "free_trial": ("sentinel-siem-trial", "trial", {}),
}
KINDS = {
    "contract_payg": ("contract", "usage"),
    "contract": ("contract",),
    "payg": ("usage",),
    "free_trial": ("zero",),
}
"""The kind of each cart line an offer's pricing model gives."""
BUYER = ("DUNS", "acme-coupa")
SELLER = "309876543210"  # a demo seller account (local/demo_catalog.json) with a local token
METERED = {"datastream-pro": "hours", "mailrelay": "emails"}
"""The products metered in the model, and their dimension."""
USAGE_OFFERS = {"datastream-pro": ("contract_payg",), "mailrelay": ("payg",)}
AUX = re.compile(r"^(req-[0-9a-f]{16})-\d+$")
PENDING, ACTIVE, CANCELLED, WITHDRAWN = "pending", "active", "cancelled", "withdrawn"
ENDED = (CANCELLED, WITHDRAWN)
TABLES = ("requests", "orders", "subscriptions", "outbox", "invoices", "usage")


# --- the reference model --------------------------------------------------------------------


@dataclass
class Line:
    """A request line as the cart gave it to the procurement system."""

    aux: str
    part: str
    price: Decimal
    currency: str
    quantity: Decimal
    kind: str  # contract | usage | zero
    element: Any  # the cart's ItemIn, to send back in an edit punchout or a PO


@dataclass
class Request:
    id: str
    offer: str
    lines: list[Line]
    ordered: bool = False  # some accepted PO named one of its lines: its lines are frozen


@dataclass
class Subscription:
    state: str = PENDING
    approvals: dict[str, tuple[str, int]] = field(default_factory=dict)  # aux -> (order, line)
    mails: set[str] = field(default_factory=set)
    contract_invoice: bool = False
    contract_approved: Decimal | None = None  # what the PO line approving the contract allows


@dataclass
class PoLine:
    line: Line
    number: int
    price: Decimal
    quantity: Decimal

    @property
    def signature(self) -> tuple[str, str, int, str, str]:
        return (self.line.part, self.line.aux, self.number, str(self.price), str(self.quantity))


@dataclass
class Order:
    order_id: str
    version: int
    order_type: str
    payload_id: str
    lines: list[PoLine]
    live: bool = True  # not deleted
    sent: dict[str, str] = field(default_factory=dict)  # payloadID -> its document
    markers: dict[tuple[str, int], tuple[Any, ...]] = field(default_factory=dict)
    """(type, version) -> the content that version was accepted with."""


_ORDER_IDS = itertools.count(1)
SEEN: Counter[str] = Counter()
"""What the runs exercised (printed with `pytest -s`): examples, steps, answers, activations."""
_PAYLOADS = itertools.count(1)


def _payload() -> str:
    return f"model-{next(_PAYLOADS)}@coupa.example"


class OrderStateMachine(RuleBasedStateMachine):
    """The orders path against moto, one fresh set of tables per example."""

    requests = Bundle("requests")
    orders = Bundle("orders")

    def __init__(self, aws: dict[str, Any], api: Any) -> None:
        super().__init__()
        self.aws = aws
        self.api = api
        _empty_tables(keep=("products",))
        self.model_requests: dict[str, Request] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.model_orders: dict[str, Order] = {}
        SEEN["examples"] += 1
        self.metered: Counter[str] = Counter()
        self.billed = False
        self.enabled = True
        self._applying: Order | None = None
        self.sent_mails = 0
        from local.outbox import OutboxPump, streams_client

        self.outbox = OutboxPump("local-outbox", dynamodb=aws["dynamodb"], streams=streams_client())
        from functions.config import settings
        from local.queues import QueuePump

        config = settings()
        self.queues = QueuePump(
            config.billing_queue_url,
            config.delivery_queue_url,
            sqs=aws["sqs"],
            visibility_seconds=0,
        )

    # -- set-up and tear-down

    @initialize()
    def coupa_integration(self) -> None:
        self.integration = create_integration(self.api, coupa_integration(test_mode=False))
        self.secret = self.integration["purchase_information"]["shared_secret"]

    # -- what is stored

    def _items(self, table: str) -> list[dict[str, Any]]:
        """A table's items as DynamoDB JSON, read from moto's backend directly: the model reads
        everything after every step, and moto's response serializer would be most of the run."""
        found = _moto_tables()[f"local-{table}"]
        return [item.to_json()["Attributes"] for item in found.all_items()]

    def _digest(self, markers: bool = True) -> str:
        """Everything stored that a purchase order or a request may change; without the
        orders' exactly-once markers when `markers` is False."""
        content = {
            table: sorted(
                json.dumps(item, sort_keys=True)
                for item in self._items(table)
                if markers or not item["pk"]["S"].startswith(("payload#", "seen#"))
            )
            for table in TABLES
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()

    def _stored_subscriptions(self) -> dict[str, dict[str, Any]]:
        found = {}
        for item in self._items("subscriptions"):
            if "document" in item:
                document = json.loads(item["document"]["S"])
                found[document["id"]] = document
        return found

    # -- Request approval and edit punchouts

    @precondition(lambda self: self.enabled)
    @rule(target=requests, offer=st.sampled_from(sorted(OFFERS)))
    def request_approval(self, offer: str) -> str:
        product, offer_id, estimates = OFFERS[offer]
        session = punch_out(self.api, self.integration)
        cart = cart_of(
            post_form(
                self.api,
                f"{session}/requests",
                {"product_id": product, "offer_id": offer_id, **estimates},
            )
        )
        request = self._request_of(cart, offer)
        self.model_requests[request.id] = request
        note(f"request {request.id}: {offer}, {[line.aux for line in request.lines]}")
        return request.id

    def _request_of(self, cart: Any, offer: str) -> Request:
        kinds = KINDS[offer]
        assert len(kinds) == len(cart.lines), (offer, len(cart.lines))
        lines = [_line(element, kind) for element, kind in zip(cart.lines, kinds, strict=True)]
        (request_id,) = {AUX.match(line.aux).group(1) for line in lines}  # type: ignore[union-attr]
        return Request(request_id, offer, lines)

    @precondition(lambda self: self.enabled)
    @rule(target=requests, request_id=requests, offer=st.sampled_from(sorted(OFFERS)))
    def edit_request(self, request_id: str, offer: str) -> Any:
        """An edit punchout reopens the request and asks for another product or estimate."""
        request = self.model_requests[request_id]
        product, offer_id, estimates = OFFERS[offer]
        if "estimate.hours" in estimates:
            estimates = {"estimate.hours": "2000"}
        session = punch_out(
            self.api, self.integration, operation="edit", extra=_item_out(request.lines)
        )
        before = self._digest()
        page = post_form(
            self.api,
            f"{session}/requests",
            {"product_id": product, "offer_id": offer_id, "request_id": request_id, **estimates},
        )
        if 'id="cart-return"' not in page.text:
            assert request.ordered, f"an unordered request could not be edited: {page.text}"
            assert page.status < 500 and "<html" in page.text.lower()
            assert self._digest() == before, "a refused edit changed nothing"
            return multiple()
        edited = self._request_of(cart_of(page), offer)
        if edited.id != request_id:  # the ordered request stays; the change is a new request
            assert request.ordered, "an unordered request is edited in place"
            assert edited.id not in self.model_requests
            self.model_requests[edited.id] = edited
            return edited.id
        if request.ordered:  # the same terms again: the same cart, nothing saved
            same = [(x.aux, x.part, x.price, x.quantity) for x in request.lines]
            assert [(x.aux, x.part, x.price, x.quantity) for x in edited.lines] == same, (
                "a request a PO approved lines of must never change"
            )
            assert self._digest() == before
            return multiple()
        self.model_requests[request_id] = edited
        return multiple()

    # -- purchase orders

    def _document(self, order: Order) -> str:
        return order_request(
            [po_line.line.element for po_line in order.lines],
            buyer=BUYER,
            secret=self.secret,
            order_id=order.order_id,
            order_type=order.order_type,
            version=order.version,
            payload_id=order.payload_id,
            quantities={i: str(x.quantity) for i, x in enumerate(order.lines)},
            prices={i: str(x.price) for i, x in enumerate(order.lines)},
            line_numbers=[x.number for x in order.lines],
        )

    def _pick_lines(self, data: st.DataObject) -> list[PoLine]:
        """Any subset of the known lines, sometimes with a price or quantity the cart never had."""
        every = [line for r in self.model_requests.values() for line in r.lines]
        chosen = data.draw(st.lists(st.sampled_from(every), min_size=1, max_size=4, unique_by=id))
        po_lines = []
        for number, line in enumerate(chosen, start=1):
            tweak = data.draw(st.sampled_from(["as-is"] * 12 + ["price", "quantity", "budget"]))
            price, quantity = line.price, line.quantity
            if tweak == "price":
                price = price + Decimal("1.00")
            elif tweak == "quantity":
                quantity = quantity + 1
            elif tweak == "budget":
                quantity = quantity * 2  # a buyer raising a usage budget
            po_lines.append(PoLine(line, number, price, quantity))
        return po_lines

    def _request_of_line(self, line: Line) -> Request:
        return next(r for r in self.model_requests.values() if line in r.lines)

    def _refusal(self, order: Order, previous: Order | None) -> str | None:
        """Why the model refuses these lines under this order, or None to accept them."""
        if not self.enabled:
            return "integration disabled"
        seen: set[str] = set()
        for po_line in order.lines:
            line = po_line.line
            if line.aux in seen:
                return f"{line.aux} twice"
            seen.add(line.aux)
            if po_line.price != line.price:
                return f"{line.aux}: price"
            if line.kind != "usage" and po_line.quantity != line.quantity:
                return f"{line.aux}: quantity"
            request = self._request_of_line(line)
            subscription = self.subscriptions.get(request.id)
            if subscription is None:
                continue
            if subscription.state in ENDED:
                return f"{request.id}: subscription ended"
            approval = subscription.approvals.get(line.aux)
            if approval is not None and approval[0] != order.order_id:
                return f"{line.aux}: already approved by {approval[0]}"
        return None

    @property
    def _order_lines(self) -> dict[str, list[PoLine]]:
        lines = {order_id: order.lines for order_id, order in self.model_orders.items()}
        if self._applying is not None:
            lines[self._applying.order_id] = self._applying.lines
        return lines

    def _apply(self, order: Order, previous: Order | None) -> None:
        """What an accepted new or update order does to the model."""
        self._applying = order
        if previous is not None:
            for po_line in previous.lines:
                request = self._request_of_line(po_line.line)
                subscription = self.subscriptions[request.id]
                if subscription.approvals.get(po_line.line.aux, ("",))[0] == order.order_id:
                    del subscription.approvals[po_line.line.aux]
        for po_line in order.lines:
            request = self._request_of_line(po_line.line)
            request.ordered = True
            subscription = self.subscriptions.setdefault(request.id, Subscription())
            subscription.approvals[po_line.line.aux] = (order.order_id, po_line.number)
        touched = {self._request_of_line(x.line).id for x in order.lines}
        if previous is not None:
            touched |= {self._request_of_line(x.line).id for x in previous.lines}
        for request_id in touched:
            self._settle(request_id)

    def _settle(self, request_id: str) -> None:
        request = self.model_requests[request_id]
        subscription = self.subscriptions[request_id]
        approved = all(line.aux in subscription.approvals for line in request.lines)
        if subscription.state == PENDING and approved:
            SEEN["activations"] += 1
            subscription.state = ACTIVE
            subscription.mails.add("ready")
            contract = next((x for x in request.lines if x.kind == "contract"), None)
            if contract is not None:
                subscription.contract_invoice = True
                order_id, number = subscription.approvals[contract.aux]
                (po_line,) = [x for x in self._order_lines[order_id] if x.number == number]
                subscription.contract_approved = po_line.price * po_line.quantity
        elif subscription.state == ACTIVE and not approved:
            subscription.state = CANCELLED
            subscription.mails.add("cancelled")

    def _send(self, order: Order) -> Any:
        document = self._document(order)
        order.sent[order.payload_id] = document
        answer = post_order(self.api, document)
        note(
            f"{order.order_type} {order.order_id} v{order.version}: {answer.code} {answer.message}"
        )
        assert answer.code != 500 and answer.http_status < 500, answer.message
        SEEN[f"{order.order_type} PO answered {answer.code}"] += 1
        return answer

    def _expect(self, order: Order, previous: Order | None) -> Any:
        """Send `order`; the model decides whether it must be accepted or refused."""
        before = self._digest()
        reason = self._refusal(order, previous)
        answer = self._send(order)
        if reason is not None:
            assert answer.code >= 400, f"accepted although {reason}: {answer.message}"
            assert self._digest() == before, f"a refusal ({reason}) changed stored state"
            return None
        assert answer.code == 200, f"refused: {answer.message}"
        self._apply(order, previous)
        order.markers[(order.order_type, order.version)] = _content(order)
        return answer

    @precondition(lambda self: self.model_requests)
    @rule(target=orders, data=st.data())
    def purchase_order(self, data: st.DataObject) -> Any:
        order = Order(f"PO-{next(_ORDER_IDS)}", 1, "new", _payload(), self._pick_lines(data))
        if self._expect(order, None) is None:
            return multiple()
        self.model_orders[order.order_id] = order
        return order.order_id

    @rule(target=orders, request_id=requests)
    def purchase_order_for_the_cart(self, request_id: str) -> Any:
        """What usually happens: the company approves the cart as it was requested."""
        lines = self.model_requests[request_id].lines
        po_lines = [PoLine(line, n, line.price, line.quantity) for n, line in enumerate(lines, 1)]
        order = Order(f"PO-{next(_ORDER_IDS)}", 1, "new", _payload(), po_lines)
        if self._expect(order, None) is None:
            return multiple()
        self.model_orders[order.order_id] = order
        return order.order_id

    @rule(order_id=orders)
    def exact_resend(self, order_id: str) -> None:
        """The procurement system did not see our answer and sends the same document again."""
        order = self.model_orders[order_id]
        before = self._digest()
        answer = post_order(self.api, order.sent[order.payload_id])
        if self.enabled:
            assert answer.code == 200, answer.message
            assert "already received" in answer.message
        else:
            assert answer.code >= 400, answer.message
        assert self._digest() == before

    @rule(order_id=orders, data=st.data())
    def order_id_reused(self, order_id: str, data: st.DataObject) -> None:
        """Another document with the same orderID, type and version: refused unless its lines
        are the same (then it is a retry under a new payloadID)."""
        order = self.model_orders[order_id]
        lines = data.draw(st.sampled_from([order.lines, self._pick_lines(data)]))
        again = Order(order.order_id, order.version, order.order_type, _payload(), lines)
        before = self._digest()
        answer = self._send(again)
        if not self.enabled:
            assert answer.code >= 400, answer.message
        elif _content(again) == order.markers[(order.order_type, order.version)]:
            assert answer.code == 200 and "already received" in answer.message, answer.message
        else:
            assert answer.code == 409, f"a conflicting reuse was not refused: {answer.message}"
        assert self._digest() == before

    @rule(order_id=orders, data=st.data())
    def payload_id_reused(self, order_id: str, data: st.DataObject) -> None:
        """The same payloadID with other content is never "already received"."""
        order = self.model_orders[order_id]
        lines = self._pick_lines(data)
        other = Order(f"PO-{next(_ORDER_IDS)}", 1, "new", order.payload_id, lines)
        if _content(other) == _content(order):
            return
        before = self._digest()
        answer = self._send(other)
        refused = answer.code >= 400 if not self.enabled else answer.code == 409
        assert refused, f"a conflicting payloadID reuse was not refused: {answer.message}"
        assert self._digest() == before

    @precondition(lambda self: self.model_requests)
    @rule(order_id=orders, data=st.data())
    def update(self, order_id: str, data: st.DataObject) -> None:
        """The buyer changes the PO: the new version replaces every line of the old one."""
        previous = self.model_orders[order_id]
        order = Order(order_id, previous.version + 1, "update", _payload(), self._pick_lines(data))
        if not previous.live:
            before = self._digest()
            answer = self._send(order)
            assert answer.code >= 400 or "nothing changed" in answer.message, answer.message
            assert self._digest() == before
            return
        if self._expect(order, previous) is not None:
            order.markers = previous.markers | order.markers
            order.sent = previous.sent | order.sent
            self.model_orders[order_id] = order

    @rule(order_id=orders)
    def stale_update(self, order_id: str) -> None:
        """An older version arriving late changes nothing."""
        current = self.model_orders[order_id]
        if current.version < 3:
            return
        stale = Order(order_id, current.version - 1, "update", _payload(), current.lines)
        before = self._digest(markers=False)
        answer = self._send(stale)
        if not self.enabled:
            assert answer.code >= 400, answer.message
        else:
            assert answer.code in (200, 409), answer.message
        assert self._digest(markers=False) == before, "a stale version changes nothing"

    @rule(order_id=orders)
    def delete(self, order_id: str) -> None:
        """A deleted PO ends every subscription it approved a line of."""
        previous = self.model_orders[order_id]
        order = Order(order_id, previous.version + 1, "delete", _payload(), previous.lines)
        before = self._digest()
        answer = self._send(order)
        if not self.enabled:
            assert answer.code >= 400
            assert self._digest() == before
            return
        assert answer.code == 200, answer.message
        for subscription in self.subscriptions.values():
            if order_id in {approval[0] for approval in subscription.approvals.values()}:
                if subscription.state == PENDING:
                    subscription.state = WITHDRAWN
                elif subscription.state == ACTIVE:
                    subscription.state = CANCELLED
                    subscription.mails.add("cancelled")
        order.live = False
        order.markers = previous.markers | {("delete", order.version): _content(order)}
        order.sent = previous.sent | order.sent
        self.model_orders[order_id] = order

    # -- the integration and the outbox

    @rule(enabled=st.sampled_from([True, True, True, False]))
    def switch_integration(self, enabled: bool) -> None:
        action = "enable" if enabled else "disable"
        status, body = admin(
            self.api, "POST", f"/admin/integrations/{self.integration['id']}/{action}"
        )
        assert status == 200, body
        self.enabled = enabled

    @rule()
    def outbox_triggers_run(self) -> None:
        """What the outbox stream triggers by now: each mail sent, each contract invoiced."""
        summary = self.outbox.pump_once()
        note(f"outbox: {summary}")
        assert not self.outbox.dead_letters(), self.outbox.dead_letters()
        sent = _moto_sent_mail()
        expected = sum(len(s.mails) for s in self.subscriptions.values())
        assert len(sent) <= expected, "a mail sent twice, or for nothing"
        self._invoices_within_their_po_lines(self._items("invoices"))

    @rule(product=st.sampled_from(sorted(METERED)), minutes_ago=st.sampled_from([5, 65, 125]),
          quantity=st.integers(min_value=0, max_value=50))  # fmt: skip
    def seller_meters_usage(self, product: str, minutes_ago: int, quantity: int) -> None:
        """The seller's code reports an hour of usage: recorded once against an active
        subscription, refused for an account without one; nothing lost, nothing counted twice."""
        dimension = METERED[product]
        record = {
            "Timestamp": (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat(),
            "CustomerIdentifier": self.integration["integration"]["account_id"],
            "Dimension": dimension,
            "Quantity": quantity,
        }
        status, body = meter(
            self.api,
            {"ProductCode": product, "UsageRecords": [record]},
            token=seller_token(SELLER),
        )
        assert status == 200, body
        (result,) = body["Results"]
        active = any(self._meterable(rid, product) for rid in self.subscriptions)
        SEEN[f"metering {result['Status']}"] += 1
        if not active:
            assert result["Status"] == "CustomerNotSubscribed", result
            return
        assert result["Status"] in ("Success", "DuplicateRecord"), result
        if result["Status"] == "Success":
            self.metered[dimension] += quantity

    @precondition(
        lambda self: not self.billed and any(s.state == ACTIVE for s in self.subscriptions.values())
    )
    @rule()
    def monthly_billing_run(self) -> None:
        """The month's billing run (as the schedule or the admin starts it), drained through
        its queues; a second run of the same period changes nothing."""
        period = datetime.now(UTC).strftime("%Y-%m")
        for attempt in range(2):
            status, body = admin(self.api, "POST", "/admin/billing-runs", {"period": period})
            assert status == 202, body
            self.queues.drain(timeout=60)
            invoices = {item["pk"]["S"]: item for item in self._items("invoices")}
            if attempt == 0:
                first = invoices
            else:
                assert invoices == first, "a re-run of the billing run changed the invoices"
        SEEN["billing runs"] += 1
        self.billed = True  # once per example: a run drains 16 shard messages through moto
        self._invoices_within_their_po_lines(first.values())

    def _invoices_within_their_po_lines(self, invoices: Any) -> None:
        for item in invoices:
            summary = json.loads(item["summary"]["S"])
            subscription = self.subscriptions[summary["subscription_id"]]
            assert summary["order_id"] in self.model_orders, "an invoice for a PO we accepted"
            SEEN[f"{summary['kind']} invoices checked"] += 1
            if summary["kind"] == "contract":
                total = sum(Decimal(line["amount"]) for line in summary["lines"])
                assert subscription.contract_approved is not None
                assert total <= subscription.contract_approved, (total, subscription)

    def _meterable(self, request_id: str, product: str) -> bool:
        """Usage may be metered against a subscription whose usage line a PO approves while it
        is active, and after a cancellation for usage from before it (every record here is at
        least 5 minutes old, older than any cancellation within one example)."""
        request = self.model_requests[request_id]
        subscription = self.subscriptions[request_id]
        if request.offer not in USAGE_OFFERS[product]:
            return False
        usage = next(line for line in request.lines if line.kind == "usage")
        return usage.aux in subscription.approvals and subscription.state in (ACTIVE, CANCELLED)

    # -- invariants, after every step

    @invariant()
    def stored_state_follows_the_model(self) -> None:
        if not hasattr(self, "integration"):
            return
        SEEN["steps"] += 1
        stored = self._stored_subscriptions()
        outbox = {item["pk"]["S"] for item in self._items("outbox")}
        self._subscriptions_match(stored)
        self._active_iff_every_line_approved_by_one_live_po_line()
        self._one_mail_per_activation_and_cancellation(outbox)
        self._usage_recorded_once(self._items("usage"))
        self._contract_invoices_never_exceed_the_approved_contract_line(stored, outbox)

    def _subscriptions_match(self, stored: dict[str, dict[str, Any]]) -> None:
        assert set(stored) == set(self.subscriptions), "a subscription only for an accepted PO"
        for request_id, expected in self.subscriptions.items():
            document = stored[request_id]
            assert document["state"] == expected.state, (request_id, document["state"])
            approvals = {
                line["auxiliary_id"]: (
                    line["approval"]["order_id"],
                    line["approval"]["line_number"],
                )
                for line in document["lines"]
                if line.get("approval")
            }
            if expected.state in (PENDING, ACTIVE):
                assert approvals == expected.approvals, (request_id, approvals)
            request = self.model_requests[request_id]
            frozen = {(x.aux, x.part, str(x.price), str(x.quantity)) for x in request.lines}
            kept = {
                (x["auxiliary_id"], x["supplier_part_id"], x["unit_price"], x["requested_quantity"])
                for x in document["lines"]
            }
            assert kept == frozen, "a subscription's lines are the request's, never changed"

    def _active_iff_every_line_approved_by_one_live_po_line(self) -> None:
        for request_id, subscription in self.subscriptions.items():
            if subscription.state != ACTIVE:
                continue
            request = self.model_requests[request_id]
            for line in request.lines:
                order_id, number = subscription.approvals[line.aux]
                order = self.model_orders[order_id]
                assert order.live
                (po_line,) = [x for x in order.lines if x.number == number]
                assert po_line.line is line and po_line.price == line.price
                assert line.kind == "usage" or po_line.quantity == line.quantity

    def _usage_recorded_once(self, usage: list[dict[str, Any]]) -> None:
        """The all-time totals hold exactly what was answered Success: nothing lost or doubled."""
        for dimension, expected in self.metered.items():
            recorded = sum(
                Decimal(item[f"q_{dimension}"]["N"])
                for item in usage
                if item["sk"]["S"] == "total#all" and f"q_{dimension}" in item
            )
            assert recorded == expected, (dimension, recorded, expected)

    def _one_mail_per_activation_and_cancellation(self, outbox: set[str]) -> None:
        expected_mail = {
            f"email#{rid}#{event}" for rid, s in self.subscriptions.items() for event in s.mails
        }
        assert {key for key in outbox if key.startswith("email#")} == expected_mail
        expected_invoices = {
            f"invoice#{rid}#contract" for rid, s in self.subscriptions.items() if s.contract_invoice
        }
        assert {key for key in outbox if key.startswith("invoice#")} == expected_invoices

    def _contract_invoices_never_exceed_the_approved_contract_line(
        self, stored: dict[str, dict[str, Any]], outbox: set[str]
    ) -> None:
        for key in outbox:
            if not key.startswith("invoice#"):
                continue
            request_id = key.split("#")[1]
            contract = next(x for x in stored[request_id]["lines"] if x["kind"] == "contract")
            approved = self.subscriptions[request_id].contract_approved
            assert approved is not None
            price = Decimal(contract["unit_price"]) * Decimal(contract["requested_quantity"])
            assert price <= approved, "the contract asked of a PO is what its line approved"


def _line(element: Any, kind: str) -> Line:
    price = element.find("ItemDetail/UnitPrice/Money")
    aux = element.findtext("ItemID/SupplierPartAuxiliaryID")
    return Line(
        aux,
        element.findtext("ItemID/SupplierPartID"),
        Decimal(price.text),
        price.get("currency"),
        Decimal(element.get("quantity")),
        kind,
        element,
    )


def _item_out(lines: list[Line]) -> str:
    return "".join(
        f'<ItemOut quantity="{line.quantity}" lineNumber="{number}"><ItemID>'
        f"<SupplierPartID>{line.part}</SupplierPartID>"
        f"<SupplierPartAuxiliaryID>{line.aux}</SupplierPartAuxiliaryID></ItemID>"
        f'<ItemDetail><UnitPrice><Money currency="{line.currency}">{line.price}</Money>'
        '</UnitPrice><Description xml:lang="en">x</Description><UnitOfMeasure>EA'
        '</UnitOfMeasure><Classification domain="UNSPSC">unknown</Classification></ItemDetail>'
        "</ItemOut>"
        for number, line in enumerate(lines, start=1)
    )


def _content(order: Order) -> tuple[Any, ...]:
    return tuple(sorted(x.signature for x in order.lines))


def _moto_tables() -> dict[str, Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables  # type: ignore[no-any-return]


def _moto_sent_mail() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages  # type: ignore[no-any-return]


def _empty_tables(keep: tuple[str, ...]) -> None:
    """A fresh start for each example, in microseconds: tables emptied in moto's backend (its
    indexes are computed from the items), instead of created and deleted through the API."""
    for name, table in _moto_tables().items():
        if name.removeprefix("local-") not in keep:
            table.items.clear()
            if table.stream_shard is not None:
                table.stream_shard.items.clear()
    del _moto_sent_mail()[:]


def test_purchase_orders_follow_the_model(api: Any, tables: dict[str, Any]) -> None:
    create_products(
        api,
        {**CONTRACT_PAYG, "seller_account": SELLER},
        FREE_TRIAL,
        CONTRACT_ONLY,
        {**PAY_AS_YOU_GO, "seller_account": SELLER},
    )

    SEEN.clear()
    run_state_machine_as_test(lambda: OrderStateMachine(tables, api), settings=settings())
    print(f"\nmodel-based run: {dict(sorted(SEEN.items()))}")
