"""One world per fuzz test: products on sale, a Coupa and an Ariba integration, a live punchout
session, an Open Buy token and an approved cart, all made through the API as a user would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree

from tests.fuzz.support import REQUESTS
from tests.order_support import BUYER, order_request, post_order
from tests.storefront_support import (
    CONTRACT_PAYG,
    FREE_AND_BYOL,
    FREE_TRIAL,
    HOSTILE,
    cart_of,
    create_integration,
    create_products,
    post_form,
    punch_out,
)
from tests.support import SELLER, ariba_integration, coupa_integration, openbuy, punchout_setup

NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)


@dataclass
class World:
    api: Any
    aws: dict[str, Any]
    coupa: dict[str, Any]
    ariba: dict[str, Any]
    session: str  # /s/<token>
    openbuy_token: str
    punchout: bytes  # a PunchOutSetupRequest we accept
    order: bytes  # an OrderRequest we accept, for the approved cart

    def __repr__(self) -> str:
        return f"World(session={self.session!r})"

    @property
    def secret(self) -> str:
        return str(self.coupa["purchase_information"]["shared_secret"])


@pytest.fixture
def world(api: Any, tables: dict[str, Any], clock: Any) -> World:
    clock.freeze(NOW)
    create_products(api, {**CONTRACT_PAYG, "seller_account": SELLER}, FREE_TRIAL, FREE_AND_BYOL,
                    HOSTILE)  # fmt: skip
    coupa = create_integration(api, coupa_integration())
    ariba = create_integration(api, ariba_integration())
    secret = coupa["purchase_information"]["shared_secret"]
    session = punch_out(api, coupa)
    form = {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "1000"}
    # One order accepted (an active subscription to meter), one cart left for the fuzz.
    ordered = cart_of(post_form(api, f"{session}/requests", form))
    accepted = order_request(ordered.lines, buyer=BUYER, secret=secret, order_id="PO-FUZZ-0")
    assert post_order(api, accepted).code == 200
    cart = cart_of(post_form(api, f"{punch_out(api, coupa)}/requests", form))
    order = order_request(cart.lines, buyer=BUYER, secret=secret, order_id="PO-FUZZ-1")
    status, body = openbuy(api, "authentication", {"username": coupa["id"], "credentials": secret})
    assert status == 200, body
    return World(
        api=api,
        aws=tables,
        coupa=coupa,
        ariba=ariba,
        session=session,
        openbuy_token=body["token"],
        punchout=punchout_setup(from_credentials=[BUYER], secret=secret).encode(),
        order=order.encode(),
    )


def authenticated(document: bytes, world: World) -> bytes:
    """A sample document from another system, sent as our Coupa buyer would (its From and
    Sender credentials replaced), so mutations reach past authentication."""
    parser = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)
    tree = etree.ElementTree(etree.fromstring(document, parser))
    root = tree.getroot()
    for credential in root.findall("Header/From/Credential"):
        credential.set("domain", BUYER[0])
        identity = credential.find("Identity")
        if identity is not None:
            identity.text = BUYER[1]
    for credential in root.findall("Header/Sender/Credential"):
        secret = credential.find("SharedSecret")
        if secret is None:
            secret = etree.SubElement(credential, "SharedSecret")
        secret.text = world.secret
    return bytes(
        etree.tostring(tree, encoding="UTF-8", xml_declaration=True, doctype=tree.docinfo.doctype)
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Each fuzz test's request count rides on its report (to the xdist controller too)."""
    report = yield
    if call.when == "call":
        report.user_properties.append(("fuzz_requests", REQUESTS.requests))
        REQUESTS.requests = 0
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    sent = sum(
        value
        for key in ("passed", "failed")
        for report in terminalreporter.stats.get(key, [])
        for name, value in getattr(report, "user_properties", [])
        if name == "fuzz_requests"
    )
    if sent:
        terminalreporter.write_line(f"fuzz: {sent} requests sent through the API stand-in")
