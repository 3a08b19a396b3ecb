"""The simulator's routes: each path of the module docstring to one action of the buyer."""

from __future__ import annotations

import json
import re

from local.simulator.buyer import BuyerState
from local.simulator.model import Refused
from local.simulator.pages import PREFIX, field_value, form_fields, headers, html
from local.stack import HttpAnswer

_CART_PATH = re.compile(rf"^{PREFIX}/cart/(?P<id>[A-Za-z0-9_-]{{1,64}})$")
_REQUISITION_PATH = re.compile(
    rf"^{PREFIX}/requisitions/(?P<index>[0-9]{{1,9}})(?:/(?P<action>approve|resend))?$"
)
_DELETE_PATH = re.compile(rf"^{PREFIX}/orders/(?P<index>[0-9]{{1,9}})/delete$")


class BuyerSimulator(BuyerState):
    """The buyer's state, answering the browser."""

    def handle(self, method: str, path: str, body: bytes) -> HttpAnswer:
        try:
            if method == "GET" and path.rstrip("/") == PREFIX:
                return self.index()
            if method == "GET" and path == f"{PREFIX}/carts.json":
                with self.lock:
                    carts = [cart.as_json() for cart in self.carts]
                return HttpAnswer(200, headers("application/json"), json.dumps(carts).encode())
            if method == "GET" and path == f"{PREFIX}/orders.json":
                with self.lock:
                    orders = [order.as_json() for order in self.orders]
                return HttpAnswer(200, headers("application/json"), json.dumps(orders).encode())
            if method == "POST" and path == f"{PREFIX}/suppliers":
                return self.add_supplier(form_fields(body))
            if method == "POST" and path == f"{PREFIX}/punchout":
                return self.punch_out(form_fields(body))
            found = _CART_PATH.match(path)
            if method == "POST" and found:
                return self.receive_cart(found.group("id"), form_fields(body))
            requisition = _REQUISITION_PATH.match(path)
            if requisition:
                index, action = int(requisition.group("index")), requisition.group("action")
                if method == "GET" and action is None:
                    return self.cart_page(self._cart(index))
                if method == "POST" and action == "approve":
                    return self.approve(
                        index, split=field_value(form_fields(body), "split") == "lines"
                    )
                if method == "POST" and action == "resend":
                    return self.resend(index)
            delete = _DELETE_PATH.match(path)
            if method == "POST" and delete:
                return self.delete(int(delete.group("index")))
            return html(404, "message.html", title="Not found", message="No simulator page here.")
        except Refused as problem:
            return html(400, "message.html", title="Refused", message=str(problem))
