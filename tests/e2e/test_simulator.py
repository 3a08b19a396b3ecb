"""The buyer simulator itself: it must send what Coupa and Ariba send, and refuse a cart a real
procurement system would refuse."""

from __future__ import annotations

import base64
import html
import re
from typing import Any

import requests

from local.simulator import BuyerAccount, BuyerUser, CartLine, Punchout, setup_request
from tests.support import dtd_errors

ACCOUNTS = {
    "coupa": BuyerAccount("int_1", "Acme Coupa", "coupa", "DUNS", "acme", "NetworkID", "pg", "s1"),
    "ariba": BuyerAccount(
        "int_2", "Globex", "ariba", "NetworkID", "AN01-T", "NetworkID", "pg", "s2"
    ),
}
LINE = CartLine(
    supplier_part_id="qa-insights-pro/three-year",
    supplier_part_auxiliary_id="req-0123456789abcdef-1",
    quantity="3",
    unit_price="7200.00",
    currency="USD",
    unit_of_measure="ANN",
    unspsc="81162000",
    description='Q&A "Insights" <Pro> / Zürich',
    short_name='Q&A "Insights" <Pro>',
)


def test_setup_requests_for_coupa_and_ariba_are_valid_cxml() -> None:
    for system, account in ACCOUNTS.items():
        for operation, items in (("create", ()), ("edit", (LINE,)), ("inspect", (LINE,))):
            punchout = Punchout(
                "p1", account, operation, "c00k1e", BuyerUser("Zoë", "O'Neil", "z@x")
            )
            document = setup_request(punchout, "http://127.0.0.1/cart/p1", "datastream-pro", items)
            assert dtd_errors(document) == [], (system, operation)


def test_ariba_sends_the_marketplace_secret_as_ariba_network() -> None:
    punchout = Punchout("p1", ACCOUNTS["ariba"], "create", "c", BuyerUser("A", "B", "a@b"))
    document = setup_request(punchout, "http://127.0.0.1/cart/p1").decode()
    assert "<Identity>AN01-T</Identity>" in document.split("<To>")[0]
    sender = document.split("<Sender>")[1]
    assert "<Identity>sysadmin@ariba.com</Identity><SharedSecret>s2</SharedSecret>" in sender


def _cancel_form(stack: dict[str, Any]) -> tuple[str, str, str]:
    """Punch out as Coupa and press Cancel: the cart return form's action, field and value."""
    simulator = f"{stack['base']}/_local/simulator"
    index = requests.get(simulator, timeout=10).text
    coupa = re.search(r'data-system="coupa">.*?name="integration" value="([^"]+)"', index, re.S)
    assert coupa
    started = requests.post(
        f"{simulator}/punchout",
        data={"integration": coupa.group(1), "operation": "create", "email": "a@b.example"},
        allow_redirects=False,
        timeout=10,
    )
    assert started.status_code == 303
    page = requests.post(f"{started.headers['Location']}/cancel", timeout=10).text
    form = re.search(r'<form id="cart-return" method="post" action="([^"]+)">', page)
    field = re.search(r'<input type="hidden" name="([^"]+)" value="([^"]+)">', page)
    assert form and field
    return html.unescape(form.group(1)), field.group(1), html.unescape(field.group(2))


def test_a_cart_with_another_buyer_cookie_is_refused_and_not_kept(stack: dict[str, Any]) -> None:
    action, field, value = _cancel_form(stack)
    assert field == "cxml-base64"
    document = base64.b64decode(value).decode()
    forged = re.sub(
        r"<BuyerCookie>[^<]*</BuyerCookie>", "<BuyerCookie>forged</BuyerCookie>", document
    )
    carts = f"{stack['base']}/_local/simulator/carts.json"
    before = len(requests.get(carts, timeout=10).json())

    refused = requests.post(action, data={field: base64.b64encode(forged.encode())}, timeout=10)
    accepted = requests.post(action, data={field: value}, timeout=10)

    assert refused.status_code == 400
    assert "BuyerCookie 'forged' is not the" in html.unescape(refused.text)
    assert accepted.status_code == 200
    assert 'data-code="204"' in accepted.text
    assert len(requests.get(carts, timeout=10).json()) == before + 1


def test_a_cart_for_an_unknown_punchout_is_refused(stack: dict[str, Any]) -> None:
    answer = requests.post(
        f"{stack['base']}/_local/simulator/cart/nosuchpunchout",
        data={"cxml-base64": "PGNYTUwvPg=="},
        timeout=10,
    )
    assert answer.status_code == 400
    assert "no such punchout" in answer.text
