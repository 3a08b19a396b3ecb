"""The simulator's state (punchouts sent, carts received, purchase orders posted, in memory) and
what the buyer does with it: punch out, receive a cart, approve, resend, delete."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from functions.clock import now
from functions.links import SUBSCRIPTIONS_LINK_LIFETIME, sign_subscriptions_link
from local.simulator.answers import decode_cart, order_answer_of, parse_cart, start_page_of
from local.simulator.documents import (
    new_payload_id,
    now_iso,
    order_request,
    order_total,
    setup_request,
)
from local.simulator.model import (
    BuyerAccount,
    BuyerUser,
    CartLine,
    Punchout,
    ReceivedCart,
    Refused,
    SentOrder,
)
from local.simulator.pages import PREFIX, field_value, headers, html, see_other
from local.stack import HttpAnswer, LocalApi

PUNCHOUT_PATH = "/cxml/punchout"
ORDERS_PATH = "/cxml/orders"
XML_CONTENT_TYPE = "text/xml; charset=utf-8"
OPERATIONS = ("create", "edit", "inspect")
SUPPLIER_FIELDS = (
    "name", "punchout_url", "supplier_domain", "supplier_identity", "buyer_domain",
    "buyer_identity", "shared_secret",
)  # fmt: skip
"""The supplier setup form: a name, then the purchase information the console shows."""
DEMO_USERS = {
    "coupa": ("Peter", "Gibbons", "peter.gibbons@initech.example"),
    "ariba": ("Hank", "Scorpio", "hank.scorpio@globex.example"),
}


@dataclass
class BuyerState:
    """Punchouts sent (by id, in the BrowserFormPost URL) and carts received, in memory."""

    api: LocalApi
    base_url: str
    accounts: tuple[BuyerAccount, ...]
    punchouts: dict[str, Punchout] = field(default_factory=dict)
    carts: list[ReceivedCart] = field(default_factory=list)
    orders: list[SentOrder] = field(default_factory=list)
    orders_issued: int = 0  # SIM-PO-<n>
    lock: threading.Lock = field(default_factory=threading.Lock)
    sending: threading.Lock = field(default_factory=threading.Lock)  # one approval at a time

    def index(self) -> HttpAnswer:
        with self.lock:
            carts, sent = list(self.carts), len(self.orders)
        return html(200, "index.html", title="Buyer simulator", accounts=self.accounts,
                     demo_users=DEMO_USERS, carts=carts, sent=sent)  # fmt: skip

    def add_supplier(self, form: Mapping[str, list[str]]) -> HttpAnswer:
        """What a buyer's admin does in Coupa's or Ariba's supplier punchout setup: paste the
        marketplace's purchase information (the console shows it) under a supplier of their
        own. The new supplier is listed with its punchout form, in memory."""

        def value(name: str) -> str:
            return field_value(form, name)

        system = value("system")
        pasted = {name: value(name) for name in SUPPLIER_FIELDS}
        missing = [name for name, text in pasted.items() if not text]
        if system not in DEMO_USERS or missing:
            raise Refused(f"Choose Coupa or Ariba and fill in {', '.join(missing) or 'the form'}.")
        if pasted["punchout_url"] != f"{self.base_url}{PUNCHOUT_PATH}":
            raise Refused(
                f"This simulator punches out to this server only: {self.base_url}{PUNCHOUT_PATH}"
            )
        with self.lock:
            account = BuyerAccount(
                id=f"sim-{len(self.accounts) + 1}",
                name=pasted["name"],
                system=system,
                buyer_domain=pasted["buyer_domain"],
                buyer_identity=pasted["buyer_identity"],
                supplier_domain=pasted["supplier_domain"],
                supplier_identity=pasted["supplier_identity"],
                shared_secret=pasted["shared_secret"],
            )
            self.accounts = (*self.accounts, account)
        location = f"{PREFIX}#integration-{account.id}"
        return HttpAnswer(303, [("Location", location), *headers("text/plain")], b"")

    def punch_out(self, form: Mapping[str, list[str]]) -> HttpAnswer:
        """Send a PunchOutSetupRequest (in-process, as Coupa's server would over HTTP) and
        send the browser to the StartPage it answers."""

        def value(name: str) -> str:
            return field_value(form, name)

        account = next((a for a in self.accounts if a.id == value("integration")), None)
        operation = value("operation") or "create"
        if account is None or operation not in OPERATIONS:
            raise Refused("Choose one of the listed integrations, and create, edit or inspect.")
        items: tuple[CartLine, ...] = ()
        if value("cart"):
            with self.lock:
                cart = next((c for c in self.carts if str(c.index) == value("cart")), None)
            if cart is None:
                raise Refused(f"No cart #{value('cart')} was received.")
            items = cart.order.lines
        punchout = Punchout(
            id=secrets.token_urlsafe(12),
            account=account,
            operation=operation,
            buyer_cookie=secrets.token_hex(16),
            user=BuyerUser(value("first_name"), value("last_name"), value("email")),
        )
        with self.lock:
            self.punchouts[punchout.id] = punchout
        form_post_url = f"{self.base_url}{PREFIX}/cart/{punchout.id}"
        document = setup_request(punchout, form_post_url, value("selected_item"), items)
        answer = self.api.handle(
            "POST", PUNCHOUT_PATH, headers=[("Content-Type", XML_CONTENT_TYPE)], body=document
        )
        location = start_page_of(answer)
        return HttpAnswer(303, [("Location", location), *headers("text/plain")], b"")

    def receive_cart(self, punchout_id: str, form: Mapping[str, list[str]]) -> HttpAnswer:
        """The cart return the storefront's form posts: kept only if it echoes our cookie."""
        with self.lock:
            punchout = self.punchouts.get(punchout_id)
        if punchout is None:
            raise Refused("This simulator sent no such punchout (was the server restarted?).")
        field_name, document = decode_cart(form)
        order = parse_cart(document)
        if order.buyer_cookie != punchout.buyer_cookie:
            raise Refused(
                f"BuyerCookie {order.buyer_cookie!r} is not the {punchout.buyer_cookie!r} this "
                "punchout sent."
            )
        with self.lock:
            cart = ReceivedCart(
                index=len(self.carts) + 1,
                punchout=punchout,
                field=field_name,
                document=document.decode("utf-8", errors="replace"),
                order=order,
            )
            self.carts.append(cart)
        return self.cart_page(cart)

    # --- approval: the purchase orders -------------------------------------------------------

    def _cart(self, index: int) -> ReceivedCart:
        with self.lock:
            cart = next((c for c in self.carts if c.index == index), None)
        if cart is None:
            raise Refused(f"No cart #{index} was received (was the server restarted?).")
        return cart

    def _deleted(self) -> set[str]:
        """orderIDs a delete was accepted for. Call with the lock held."""
        return {o.order_id for o in self.orders if o.order_type == "delete" and o.accepted}

    def _live(self, cart_index: int) -> list[SentOrder]:
        """The cart's accepted, undeleted POs (first sends only). Call with the lock held."""
        deleted = self._deleted()
        return [
            o
            for o in self.orders
            if o.cart_index == cart_index
            and o.order_type == "new"
            and not o.resend
            and o.accepted
            and o.order_id not in deleted
        ]

    def cart_page(self, cart: ReceivedCart) -> HttpAnswer:
        with self.lock:
            orders = [o for o in self.orders if o.cart_index == cart.index]
            live = self._live(cart.index)
            deleted = self._deleted()
        subscriptions = self.subscriptions_link(cart.punchout.account) if live else ""
        return html(200, "cart.html", title="Requisition from the marketplace", cart=cart,
                     label=cart.punchout.account.label, orders=orders, live=live,
                     deleted=deleted, subscriptions_link=subscriptions)  # fmt: skip

    def subscriptions_link(self, account: BuyerAccount) -> str:
        """The account's "Your subscriptions" page, signed as the success email's link is (the
        local stack knows the link-signing key): where Set up your account hands the buyer over
        to the seller. Empty when either is unknown."""
        key = os.environ.get("LINK_SIGNING_KEY", "")
        if not key or not account.account_id:
            return ""
        expires = now() + SUBSCRIPTIONS_LINK_LIFETIME
        return sign_subscriptions_link(key.encode(), self.base_url, account.account_id, expires)

    def approve(self, index: int, *, split: bool) -> HttpAnswer:
        """The buyer company's approval: one OrderRequest for the requisition, or one per line
        (`split`). Already approved: the same PO(s) again, unchanged."""
        cart = self._cart(index)
        if not cart.approvable:
            raise Refused(
                f"Requisition #{index} has nothing to approve (Status "
                f"{cart.order.status_code}, {len(cart.order.lines)} line(s))."
            )
        with self.sending:
            with self.lock:
                live = self._live(index)
            if live:
                for order in live:
                    self._post(order.cart_index, order.account, order, resend=True)
                return see_other(index)
            lines = list(enumerate(cart.order.lines, start=1))
            for group in [[line] for line in lines] if split else [lines]:
                with self.lock:
                    self.orders_issued += 1
                    order_id = f"SIM-PO-{self.orders_issued}"
                # Each PO numbers its own lines from 1, as the system issuing it does.
                numbered = [(number, line) for number, (_, line) in enumerate(group, start=1)]
                self._send(cart.index, cart.punchout.account, order_id, "new", 1, numbered)
        return see_other(index)

    def resend(self, index: int) -> HttpAnswer:
        """The cart's last PO again: the same document, so the same payloadID."""
        self._cart(index)
        with self.sending:
            with self.lock:
                last = next((o for o in reversed(self.orders) if o.cart_index == index), None)
            if last is None:
                raise Refused(f"No purchase order was sent for requisition #{index} yet.")
            self._post(index, last.account, last, resend=True)
        return see_other(index)

    def delete(self, order_index: int) -> HttpAnswer:
        """Cancel a PO: `type="delete"`, the next orderVersion, the same lines, and a
        DocumentReference to the version it replaces."""
        with self.sending:
            with self.lock:
                order = next((o for o in self.orders if o.index == order_index), None)
                if order is None or order.order_type != "new" or order.resend:
                    raise Refused(f"No purchase order #{order_index} to delete.")
                if order.order_id in self._deleted():
                    raise Refused(f"{order.order_id} was already deleted.")
                versions = [o for o in self.orders if o.order_id == order.order_id and not o.resend]
                latest = max(versions, key=lambda o: o.order_version)
            self._send(order.cart_index, order.account, order.order_id, "delete",
                       latest.order_version + 1, order.lines,
                       previous_payload_id=latest.payload_id)  # fmt: skip
        return see_other(order.cart_index)

    def _send(
        self,
        cart_index: int,
        account: BuyerAccount,
        order_id: str,
        order_type: str,
        version: int,
        lines: Sequence[tuple[int, CartLine]],
        previous_payload_id: str = "",
    ) -> SentOrder:
        payload_id = new_payload_id(account.system)
        document = order_request(account, order_id=order_id, payload_id=payload_id, lines=lines,
                                 order_type=order_type, order_version=version,
                                 previous_payload_id=previous_payload_id)  # fmt: skip
        total, currency = order_total(lines)
        draft = SentOrder(
            index=0, cart_index=cart_index, account=account, order_id=order_id,
            order_type=order_type, order_version=version, payload_id=payload_id,
            previous_payload_id=previous_payload_id, lines=tuple(lines), total=total,
            currency=currency, document=document, resend=False, sent_at="", http_status=0,
            status_code=0, status_text="", status_message="", answer="",
        )  # fmt: skip
        return self._post(cart_index, account, draft, resend=False)

    def _post(
        self, cart_index: int, account: BuyerAccount, order: SentOrder, *, resend: bool
    ) -> SentOrder:
        """Post the document to the order URL (in-process, as the system's server would over
        HTTP) and keep what came back."""
        sent_at = now_iso()
        answer = order_answer_of(
            self.api.handle(
                "POST", ORDERS_PATH, headers=[("Content-Type", XML_CONTENT_TYPE)],
                body=order.document,
            )
        )  # fmt: skip
        with self.lock:
            kept = SentOrder(
                index=len(self.orders) + 1, cart_index=cart_index, account=account,
                order_id=order.order_id, order_type=order.order_type,
                order_version=order.order_version, payload_id=order.payload_id,
                previous_payload_id=order.previous_payload_id, lines=order.lines,
                total=order.total, currency=order.currency, document=order.document,
                resend=resend, sent_at=sent_at, http_status=answer.http_status,
                status_code=answer.code, status_text=answer.text,
                status_message=answer.message, answer=answer.body,
            )  # fmt: skip
            self.orders.append(kept)
        return kept
