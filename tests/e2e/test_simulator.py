"""The buyer simulator itself: it must send what Coupa and Ariba send, and refuse a cart a real
procurement system would refuse."""

from __future__ import annotations

import base64
import html
import re
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
import requests
from lxml import etree

from functions.cxml.parse import parse_order_request, parse_request
from local.simulator import (
    BuyerAccount,
    BuyerUser,
    CartLine,
    Punchout,
    Refused,
    order_request,
    setup_request,
)
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
USAGE = replace(
    LINE,
    supplier_part_auxiliary_id="req-0123456789abcdef-2",
    quantity="2500",
    unit_price="0.08",
    unit_of_measure="HUR",
    short_name="usage",
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


@pytest.mark.parametrize("system", ["coupa", "ariba"])
@pytest.mark.parametrize(
    ("order_type", "version", "previous"),
    [("new", 1, ""), ("update", 2, "1.2.first@sim"), ("delete", 2, "1.2.first@sim")],
)
def test_order_requests_are_valid_cxml(
    system: str, order_type: str, version: int, previous: str
) -> None:
    document = order_request(
        ACCOUNTS[system],
        order_id="SIM-PO-7",
        payload_id="1.2.po@sim",
        lines=[(1, LINE), (2, USAGE)],
        order_type=order_type,
        order_version=version,
        previous_payload_id=previous,
    )
    assert dtd_errors(document) == []


def test_an_order_request_echoes_the_cart_lines_as_the_marketplace_reads_them() -> None:
    document = order_request(
        ACCOUNTS["coupa"],
        order_id="SIM-PO-7",
        payload_id="1.2.po@sim",
        lines=[(1, LINE), (2, USAGE)],
    )

    request = parse_request(document)
    po = parse_order_request(request)
    assert (request.payload_id, request.deployment_mode) == ("1.2.po@sim", "production")
    assert (po.order_id, po.order_type, po.order_version) == ("SIM-PO-7", "new", 1)
    assert po.total is not None
    assert (po.total.amount, po.total.currency) == (
        Decimal("21800.00"),
        "USD",
    )  # 3*7200 + 2500*0.08
    assert po.bill_to["name"] and po.bill_to["country"] == "US"
    assert po.ship_to["city"] and po.extrinsics == {"CostCenter": "CC-4100"}
    first, second = po.lines
    assert (first.line_number, second.line_number) == (1, 2)
    assert first.item.supplier_part_id == LINE.supplier_part_id
    assert first.item.supplier_part_auxiliary_id == LINE.supplier_part_auxiliary_id
    assert second.item.supplier_part_auxiliary_id == USAGE.supplier_part_auxiliary_id
    assert (first.quantity, second.quantity) == (Decimal(3), Decimal(2500))
    assert first.unit_price is not None and second.unit_price is not None
    assert (first.unit_price.amount, second.unit_price.amount) == (
        Decimal("7200.00"),
        Decimal("0.08"),
    )
    assert first.description.startswith(LINE.description)
    assert (first.unit_of_measure, first.classification) == ("ANN", "81162000")
    root = etree.fromstring(document, etree.XMLParser(load_dtd=False, no_network=True))
    classification = root.find(".//ItemOut/ItemDetail/Classification")
    assert classification is not None and classification.get("domain") == "UNSPSC"


def test_a_delete_names_the_version_it_replaces_and_ariba_sends_it_as_ariba_network() -> None:
    document = order_request(
        ACCOUNTS["ariba"],
        order_id="SIM-PO-7",
        payload_id="1.2.delete@sim",
        lines=[(1, LINE)],
        order_type="delete",
        order_version=2,
        previous_payload_id="1.2.po@sim",
    )

    po = parse_order_request(parse_request(document))
    assert (po.order_type, po.order_version, po.previous_payload_id) == ("delete", 2, "1.2.po@sim")
    text = document.decode()
    assert "<Identity>AN01-T</Identity>" in text.split("<To>")[0]
    sender = text.split("<Sender>")[1]
    assert "<Identity>sysadmin@ariba.com</Identity><SharedSecret>s2</SharedSecret>" in sender


def test_an_order_request_refuses_lines_in_two_currencies() -> None:
    with pytest.raises(Refused, match="mix currencies"):
        order_request(
            ACCOUNTS["coupa"],
            order_id="SIM-PO-7",
            payload_id="p",
            lines=[(1, LINE), (2, replace(USAGE, currency="EUR"))],
        )


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
