"""The purchase-order state machine, tested by a model (Hypothesis `RuleBasedStateMachine`).

Random sequences of what buyers and procurement systems really do: punchouts, Request approval
for each pricing model, edit punchouts, purchase orders (new, update, delete) over any subset of
the cart's lines, with wrong prices or quantities, exact resends, conflicting reuses of an
orderID or payloadID, disabling the integration, stale versions, and the outbox's triggers (mail
and contract invoices). Every step goes through the real handlers against moto; a small
reference model (`reference.py`, plain Python) says what each answer must be and what must be
stored after it; `support.py` holds the offers, the cart and PO builders and moto's tables:

- a subscription is active iff each of its lines is approved by exactly one live PO line whose
  part, price, currency and quantity rules match the line as requested;
- every 200 answer changed stored state exactly as the model says, or was a true retry (and
  then changed nothing); every refusal changed nothing;
- one mail per activation and per cancellation, each sent once;
- no contract invoice exceeds the contract line its PO approved: with a billing schedule, the
  sum of a subscription's instalments, however many months go by; none falls due after a
  cancellation.
- no usage invoice exceeds what its PO line approved: across PO updates raising or lowering
  the usage budget and billing runs of successive months, each usage invoice states the budget
  its live PO line approves, brings what was invoiced against it to no more than that, and the
  invoices of a subscription add up to what they state (nothing counted twice); budget mails
  are one per subscription and budget level.
"""

from __future__ import annotations

import json
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

from tests.model.reference import (
    ACTIVE,
    PENDING,
    SEEN,
    WITHDRAWN,
    Order,
    PoLine,
    ReferenceModel,
    content,
)
from tests.model.support import (
    CONTRACT_ONLY,
    METERED,
    OFFERS,
    PAY_AS_YOU_GO,
    SELLER,
    digest,
    empty_tables,
    item_out,
    items,
    moto_sent_mail,
    next_order_id,
    next_payload_id,
    po_document,
    request_of_cart,
    stored_subscriptions,
)
from tests.order_support import post_order
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

MAX_BILLING_RUNS = 2
"""Billing runs an example may make (each drains 16 shard messages through moto)."""


class OrderStateMachine(RuleBasedStateMachine):
    """The orders path against moto, one fresh set of tables per example."""

    requests = Bundle("requests")
    orders = Bundle("orders")

    def __init__(self, aws: dict[str, Any], api: Any) -> None:
        super().__init__()
        self.aws = aws
        self.api = api
        empty_tables(keep=("products",))
        self.model = ReferenceModel()
        SEEN["examples"] += 1
        self.billed = False
        self.months_billed = 0
        self.billing_runs = 0
        self.recorded: set[str] = set()
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

    # -- Request approval and edit punchouts

    @precondition(lambda self: self.model.enabled)
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
        request = request_of_cart(cart, offer)
        self.model.requests[request.id] = request
        note(f"request {request.id}: {offer}, {[line.aux for line in request.lines]}")
        return request.id

    @precondition(lambda self: self.model.enabled)
    @rule(target=requests, request_id=requests, offer=st.sampled_from(sorted(OFFERS)))
    def edit_request(self, request_id: str, offer: str) -> Any:
        """An edit punchout reopens the request and asks for another product or estimate."""
        request = self.model.requests[request_id]
        product, offer_id, estimates = OFFERS[offer]
        if "estimate.hours" in estimates:
            estimates = {"estimate.hours": "2000"}
        session = punch_out(
            self.api, self.integration, operation="edit", extra=item_out(request.lines)
        )
        before = digest()
        page = post_form(
            self.api,
            f"{session}/requests",
            {"product_id": product, "offer_id": offer_id, "request_id": request_id, **estimates},
        )
        if 'id="cart-return"' not in page.text:
            assert request.ordered, f"an unordered request could not be edited: {page.text}"
            assert page.status < 500 and "<html" in page.text.lower()
            assert digest() == before, "a refused edit changed nothing"
            return multiple()
        edited = request_of_cart(cart_of(page), offer)
        if edited.id != request_id:  # the ordered request stays; the change is a new request
            assert request.ordered, "an unordered request is edited in place"
            assert edited.id not in self.model.requests
            self.model.requests[edited.id] = edited
            return edited.id
        if request.ordered:  # the same terms, or only the usage budget: the cart, nothing saved

            def fixed(lines: Any) -> list[Any]:  # a usage budget may change (by a PO update)
                return [(x.aux, x.part, x.price, x.kind == "usage" or x.quantity) for x in lines]

            assert fixed(edited.lines) == fixed(request.lines), (
                "a request a PO approved lines of must never change but for its usage budget"
            )
            assert digest() == before
            return multiple()
        self.model.requests[request_id] = edited
        return multiple()

    # -- purchase orders

    def _pick_lines(self, data: st.DataObject) -> list[PoLine]:
        """Any subset of the known lines, sometimes with a price or quantity the cart never had."""
        every = [line for r in self.model.requests.values() for line in r.lines]
        chosen = data.draw(st.lists(st.sampled_from(every), min_size=1, max_size=4, unique_by=id))
        po_lines = []
        for number, line in enumerate(chosen, start=1):
            tweak = data.draw(
                st.sampled_from(["as-is"] * 12 + ["price", "quantity", "budget", "lower"])
            )
            price, quantity = line.price, line.quantity
            if tweak == "price":
                price = price + Decimal("1.00")
            elif tweak == "quantity":
                quantity = quantity + 1
            elif tweak == "budget":
                quantity = quantity * 2  # a buyer raising a usage budget
            elif tweak == "lower" and line.kind == "usage":
                quantity = Decimal(30)  # or lowering it, below what was used
            po_lines.append(PoLine(line, number, price, quantity))
        return po_lines

    def _send(self, order: Order) -> Any:
        document = po_document(order, self.secret)
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
        before = digest()
        reason = self.model.refusal(order, previous)
        answer = self._send(order)
        if reason is not None:
            assert answer.code >= 400, f"accepted although {reason}: {answer.message}"
            assert digest() == before, f"a refusal ({reason}) changed stored state"
            return None
        assert answer.code == 200, f"refused: {answer.message}"
        self.model.apply(order, previous)
        order.markers[(order.order_type, order.version)] = content(order)
        return answer

    @precondition(lambda self: self.model.requests)
    @rule(target=orders, data=st.data())
    def purchase_order(self, data: st.DataObject) -> Any:
        order = Order(next_order_id(), 1, "new", next_payload_id(), self._pick_lines(data))
        if self._expect(order, None) is None:
            return multiple()
        self.model.orders[order.order_id] = order
        return order.order_id

    @rule(target=orders, request_id=requests)
    def purchase_order_for_the_cart(self, request_id: str) -> Any:
        """What usually happens: the company approves the cart as it was requested."""
        lines = self.model.requests[request_id].lines
        po_lines = [PoLine(line, n, line.price, line.quantity) for n, line in enumerate(lines, 1)]
        order = Order(next_order_id(), 1, "new", next_payload_id(), po_lines)
        if self._expect(order, None) is None:
            return multiple()
        self.model.orders[order.order_id] = order
        return order.order_id

    @precondition(lambda self: self.model.enabled)
    @rule(target=orders, offer=st.sampled_from(["contract_payg", "payg"]))
    def metered_subscription(self, offer: str) -> Any:
        """A metered offer requested and approved as requested: its usage budget is what PO
        updates then raise or lower, and billing runs invoice within."""
        return self.purchase_order_for_the_cart(self.request_approval(offer))

    @rule(order_id=orders)
    def exact_resend(self, order_id: str) -> None:
        """The procurement system did not see our answer and sends the same document again."""
        order = self.model.orders[order_id]
        before = digest()
        answer = post_order(self.api, order.sent[order.payload_id])
        if self.model.enabled:
            assert answer.code == 200, answer.message
            assert "already received" in answer.message
        else:
            assert answer.code >= 400, answer.message
        assert digest() == before

    @rule(order_id=orders, data=st.data())
    def order_id_reused(self, order_id: str, data: st.DataObject) -> None:
        """Another document with the same orderID, type and version: refused unless its lines
        are the same (then it is a retry under a new payloadID)."""
        order = self.model.orders[order_id]
        lines = data.draw(st.sampled_from([order.lines, self._pick_lines(data)]))
        again = Order(order.order_id, order.version, order.order_type, next_payload_id(), lines)
        before = digest()
        answer = self._send(again)
        if not self.model.enabled:
            assert answer.code >= 400, answer.message
        elif content(again) == order.markers[(order.order_type, order.version)]:
            assert answer.code == 200 and "already received" in answer.message, answer.message
        else:
            assert answer.code == 409, f"a conflicting reuse was not refused: {answer.message}"
        assert digest() == before

    @rule(order_id=orders, data=st.data())
    def payload_id_reused(self, order_id: str, data: st.DataObject) -> None:
        """The same payloadID with other content is never "already received"."""
        order = self.model.orders[order_id]
        lines = self._pick_lines(data)
        other = Order(next_order_id(), 1, "new", order.payload_id, lines)
        if content(other) == content(order):
            return
        before = digest()
        answer = self._send(other)
        refused = answer.code >= 400 if not self.model.enabled else answer.code == 409
        assert refused, f"a conflicting payloadID reuse was not refused: {answer.message}"
        assert digest() == before

    @precondition(lambda self: self.model.requests)
    @rule(order_id=orders, data=st.data())
    def update(self, order_id: str, data: st.DataObject) -> None:
        """The buyer changes the PO: the new version replaces every line of the old one."""
        previous = self.model.orders[order_id]
        order = Order(
            order_id, previous.version + 1, "update", next_payload_id(), self._pick_lines(data)
        )
        if not previous.live:
            before = digest()
            answer = self._send(order)
            assert answer.code >= 400 or "nothing changed" in answer.message, answer.message
            assert digest() == before
            return
        if self._expect(order, previous) is not None:
            order.markers = previous.markers | order.markers
            order.sent = previous.sent | order.sent
            self.model.orders[order_id] = order

    @rule(order_id=orders)
    def stale_update(self, order_id: str) -> None:
        """An older version arriving late changes nothing."""
        current = self.model.orders[order_id]
        if current.version < 3:
            return
        stale = Order(order_id, current.version - 1, "update", next_payload_id(), current.lines)
        before = digest(markers=False)
        answer = self._send(stale)
        if not self.model.enabled:
            assert answer.code >= 400, answer.message
        else:
            assert answer.code in (200, 409), answer.message
        assert digest(markers=False) == before, "a stale version changes nothing"

    @rule(order_id=orders)
    def delete(self, order_id: str) -> None:
        """A deleted PO ends every subscription it approved a line of."""
        previous = self.model.orders[order_id]
        order = Order(order_id, previous.version + 1, "delete", next_payload_id(), previous.lines)
        before = digest()
        answer = self._send(order)
        if not self.model.enabled:
            assert answer.code >= 400
            assert digest() == before
            return
        assert answer.code == 200, answer.message
        self.model.delete(order, previous)

    # -- the integration and the outbox

    @rule(enabled=st.sampled_from([True, True, True, False]))
    def switch_integration(self, enabled: bool) -> None:
        action = "enable" if enabled else "disable"
        status, body = admin(
            self.api, "POST", f"/admin/integrations/{self.integration['id']}/{action}"
        )
        assert status == 200, body
        self.model.enabled = enabled

    @rule()
    def outbox_triggers_run(self) -> None:
        """What the outbox stream triggers by now: each mail sent, each contract invoiced."""
        summary = self.outbox.pump_once()
        note(f"outbox: {summary}")
        assert not self.outbox.dead_letters(), self.outbox.dead_letters()
        sent = moto_sent_mail()
        expected = sum(len(s.mails) for s in self.model.subscriptions.values())
        expected += sum(1 for item in items("outbox") if "#budget#" in item["pk"]["S"])
        assert len(sent) <= expected, "a mail sent twice, or for nothing"
        self._invoices_within_their_po_lines(items("invoices"))

    @rule(product=st.sampled_from(sorted(METERED)), minutes_ago=st.sampled_from([5, 65, 125]),
          quantity=st.integers(min_value=0, max_value=50))  # fmt: skip
    def seller_meters_usage(self, product: str, minutes_ago: int, quantity: int) -> None:
        """The seller's code reports an hour of usage: recorded once against an active
        subscription, refused for an account without one; nothing lost, nothing counted twice."""
        dimension = METERED[product]
        moment = datetime.now(UTC) - timedelta(minutes=minutes_ago)
        record = {
            "Timestamp": moment.isoformat(),
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
        active = any(self.model.meterable(rid, product) for rid in self.model.subscriptions)
        SEEN[f"metering {result['Status']}"] += 1
        if not active:
            assert result["Status"] == "CustomerNotSubscribed", result
            return
        assert result["Status"] in ("Success", "DuplicateRecord"), result
        # The same record again (same hour and quantity, landing on the same subscription) is
        # a Success that counts nothing a second time: it answers the first record's id.
        record_id = result.get("MeteringRecordId")
        if result["Status"] == "Success" and record_id not in self.recorded:
            self.model.metered[dimension] += quantity
            self.recorded.add(record_id)

    @precondition(
        lambda self: any(
            self.model.meterable(rid, product)
            for rid in self.model.subscriptions
            for product in METERED
        )
    )
    @rule(product=st.sampled_from(sorted(METERED)), minutes_ago=st.sampled_from([5, 65, 125]),
          quantity=st.sampled_from([40, 400, 1500]))  # fmt: skip
    def heavy_usage(self, product: str, minutes_ago: int, quantity: int) -> None:
        """Usage while a metered subscription is active, up to beyond its budget (1,000 hours,
        300 thousand emails, or what a PO update made of it)."""
        self.seller_meters_usage(product, minutes_ago, quantity)

    @precondition(
        lambda self: (
            self.billing_runs < MAX_BILLING_RUNS
            and any(s.state == ACTIVE for s in self.model.subscriptions.values())
        )
    )
    @rule()
    def monthly_billing_run(self) -> None:
        """A month's billing run (as the schedule or the admin starts it), drained through
        its queues; a second run of the same period changes nothing. Successive runs bill
        successive months (this one, then the next: usage held there is released by then if a
        PO update raised the budget)."""
        today = datetime.now(UTC).replace(day=1)
        period = (today + timedelta(days=32 * self.billing_runs)).strftime("%Y-%m")
        for attempt in range(2):
            status, body = admin(self.api, "POST", "/admin/billing-runs", {"period": period})
            assert status == 202, body
            self.queues.drain(timeout=60)
            invoices = {item["pk"]["S"]: item for item in items("invoices")}
            if attempt == 0:
                first = invoices
            else:
                assert invoices == first, "a re-run of the billing run changed the invoices"
        SEEN["billing runs"] += 1
        self.billing_runs += 1  # at most twice an example: a run drains 16 shard messages
        self._invoices_within_their_po_lines(first.values())
        for item in first.values():  # this run's: the budget its live PO line approves now
            summary = json.loads(item["summary"]["S"])
            if summary["kind"] == "usage" and summary["period"] == period:
                approved = self._usage_approved(summary["subscription_id"])
                assert Decimal(summary["approved_budget"]) == approved, (summary, approved)
        self._usage_invoices_add_up(first.values())

    @precondition(
        lambda self: (
            self.months_billed < 2
            and any(s.contract_invoice for s in self.model.subscriptions.values())
        )
    )
    @rule(months=st.integers(min_value=0, max_value=3))
    def months_later_the_run_issues_instalments(self, months: int) -> None:
        """`months` months on, the run for that month (started early the month after) issues
        the contract instalments then due; the clock comes back afterwards. Twice at most per
        example: a run drains 16 shard messages through moto."""
        from functions.clock import CLOCK

        later = datetime.now(UTC) + timedelta(days=31 * months)
        period = later.strftime("%Y-%m")
        following = (later.replace(day=1) + timedelta(days=32)).replace(day=1, hour=2)
        CLOCK.freeze(following)
        try:
            status, body = admin(self.api, "POST", "/admin/billing-runs", {"period": period})
            assert status == 202, body
            self.queues.drain(timeout=60)
        finally:
            CLOCK.unfreeze()
        self.months_billed += 1
        SEEN["instalment runs"] += 1
        stored = stored_subscriptions()
        invoices = items("invoices")
        self._invoices_within_their_po_lines(invoices)
        for item in invoices:
            summary = json.loads(item["summary"]["S"])
            ended = stored[summary["subscription_id"]].get("cancelled_at")
            if summary["kind"] == "contract" and summary.get("instalment") and ended:
                assert summary["invoice_date"] < ended, "an instalment after the cancellation"

    def _invoices_within_their_po_lines(self, invoices: Any) -> None:
        contract_totals: dict[str, Decimal] = {}
        for item in invoices:
            summary = json.loads(item["summary"]["S"])
            subscription = self.model.subscriptions[summary["subscription_id"]]
            assert summary["order_id"] in self.model.orders, "an invoice for a PO we accepted"
            SEEN[f"{summary['kind']} invoices checked"] += 1
            if summary["kind"] == "contract":
                total = sum(Decimal(line["amount"]) for line in summary["lines"])
                sid = summary["subscription_id"]
                contract_totals[sid] = contract_totals.get(sid, Decimal(0)) + total
                if (summary.get("instalment") or [0])[0] > 1:
                    SEEN["later instalments checked"] += 1
                assert subscription.contract_approved is not None
                assert contract_totals[sid] <= subscription.contract_approved, (
                    contract_totals[sid], subscription,
                )  # fmt: skip

    def _usage_approved(self, request_id: str) -> Decimal | None:
        """The quantity of the live PO line approving the request's usage line (its budget)."""
        request = self.model.requests[request_id]
        usage = next(line for line in request.lines if line.kind == "usage")
        approval = self.model.subscriptions[request_id].approvals.get(usage.aux)
        if approval is None:
            return None
        order_id, number = approval
        (po_line,) = [x for x in self.model.order_lines[order_id] if x.number == number]
        return po_line.quantity

    def _usage_invoices_add_up(self, invoices: Any) -> None:
        """Per subscription, month by month, the usage invoiced (every offer here has one
        dimension: the budget is in its unit) adds up to what each invoice states as invoiced
        to date, never above the budget it states; nothing is invoiced that was not metered."""
        by_subscription: dict[str, list[dict[str, Any]]] = {}
        for item in invoices:
            summary = json.loads(item["summary"]["S"])
            if summary["kind"] == "usage":
                by_subscription.setdefault(summary["subscription_id"], []).append(summary)
        invoiced_by_dimension: dict[str, Decimal] = {}
        for summaries in by_subscription.values():
            total = Decimal(0)
            for summary in sorted(summaries, key=lambda x: x["period"]):
                for line in summary["lines"]:
                    total += Decimal(line["quantity"])
                    dimension = line["dimension"]
                    invoiced_by_dimension[dimension] = invoiced_by_dimension.get(
                        dimension, Decimal(0)
                    ) + Decimal(line["quantity"])
                assert Decimal(summary["invoiced_to_date"]) == total, (summary, total)
                assert total <= Decimal(summary["approved_budget"]), summary
                SEEN["usage invoices within budget"] += 1
                if summary["awaiting_budget"]:
                    SEEN["usage invoices with usage held"] += 1
        for dimension, invoiced in invoiced_by_dimension.items():
            assert invoiced <= self.model.metered[dimension], (dimension, invoiced)

    # -- invariants, after every step

    @invariant()
    def stored_state_follows_the_model(self) -> None:
        if not hasattr(self, "integration"):
            return
        SEEN["steps"] += 1
        stored = stored_subscriptions()
        outbox = {item["pk"]["S"] for item in items("outbox")}
        self._subscriptions_match(stored)
        self._active_iff_every_line_approved_by_one_live_po_line()
        self._one_mail_per_activation_and_cancellation(outbox)
        self._one_seller_event_per_change(outbox)
        self._usage_recorded_once(items("usage"))
        self._contract_invoices_never_exceed_the_approved_contract_line(stored, outbox)

    def _subscriptions_match(self, stored: dict[str, dict[str, Any]]) -> None:
        assert set(stored) == set(self.model.subscriptions), (
            "a subscription only for an accepted PO"
        )
        for request_id, expected in self.model.subscriptions.items():
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
            request = self.model.requests[request_id]
            frozen = {(x.aux, x.part, str(x.price), str(x.quantity)) for x in request.lines}
            kept = {
                (x["auxiliary_id"], x["supplier_part_id"], x["unit_price"], x["requested_quantity"])
                for x in document["lines"]
            }
            assert kept == frozen, "a subscription's lines are the request's, never changed"

    def _active_iff_every_line_approved_by_one_live_po_line(self) -> None:
        for request_id, subscription in self.model.subscriptions.items():
            if subscription.state != ACTIVE:
                continue
            request = self.model.requests[request_id]
            for line in request.lines:
                order_id, number = subscription.approvals[line.aux]
                order = self.model.orders[order_id]
                assert order.live
                (po_line,) = [x for x in order.lines if x.number == number]
                assert po_line.line is line and po_line.price == line.price
                assert line.kind == "usage" or po_line.quantity == line.quantity

    def _usage_recorded_once(self, usage: list[dict[str, Any]]) -> None:
        """The all-time totals hold exactly what was answered Success: nothing lost or doubled."""
        for dimension, expected in self.model.metered.items():
            recorded = sum(
                Decimal(item[f"q_{dimension}"]["N"])
                for item in usage
                if item["sk"]["S"] == "total#all" and f"q_{dimension}" in item
            )
            assert recorded == expected, (dimension, recorded, expected)

    def _one_mail_per_activation_and_cancellation(self, outbox: set[str]) -> None:
        expected_mail = {
            f"email#{rid}#{event}"
            for rid, s in self.model.subscriptions.items()
            for event in s.mails
        }
        mails = {key for key in outbox if key.startswith("email#") and "#budget#" not in key}
        assert mails == expected_mail
        expected_invoices = {
            f"invoice#{rid}#contract"
            for rid, s in self.model.subscriptions.items()
            if s.contract_invoice
        } | {f"invoice#{rid}#refund" for rid, s in self.model.subscriptions.items() if s.refund}
        assert {key for key in outbox if key.startswith("invoice#")} == expected_invoices

    def _one_seller_event_per_change(self, outbox: set[str]) -> None:
        """subscribe-success iff it was ever active, unsubscribe-pending iff cancelled while
        active, subscribe-fail iff withdrawn; entitlement-updated only for a subscription there
        is (once per PO version: its key names it)."""
        expected = set()
        for rid, subscription in self.model.subscriptions.items():
            if "ready" in subscription.mails:
                expected.add(f"event#{rid}#subscribe-success")
            if "cancelled" in subscription.mails:
                expected.add(f"event#{rid}#unsubscribe-pending")
            if subscription.state == WITHDRAWN:
                expected.add(f"event#{rid}#subscribe-fail")
        events = {key for key in outbox if key.startswith("event#")}
        assert {key for key in events if "#entitlement-updated#" not in key} == expected
        assert {key.split("#")[1] for key in events} <= set(self.model.subscriptions)

    def _contract_invoices_never_exceed_the_approved_contract_line(
        self, stored: dict[str, dict[str, Any]], outbox: set[str]
    ) -> None:
        for key in outbox:
            if not key.startswith("invoice#"):
                continue
            request_id = key.split("#")[1]
            contract = next(x for x in stored[request_id]["lines"] if x["kind"] == "contract")
            approved = self.model.subscriptions[request_id].contract_approved
            assert approved is not None
            price = Decimal(contract["unit_price"]) * Decimal(contract["requested_quantity"])
            assert price <= approved, "the contract asked of a PO is what its line approved"


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
