"""Operators see what happens through CloudWatch metrics (EMF records in the function logs):
punchouts by system and outcome, carts, purchase orders by cXML code, subscriptions, mails,
invoices, metering records. The dashboard and alarms (infra/dashboard.py) read these names."""

from __future__ import annotations

from typing import Any

import pytest

from functions import observability
from functions.config import settings
from local.outbox import OutboxPump, streams_client
from tests.log_support import captured_metrics
from tests.order_support import order_request, post_order
from tests.storefront_support import (
    CONTRACT_PAYG,
    cart_of,
    create_integration,
    create_products,
    post_form,
    punch_out,
)
from tests.support import coupa_integration

BUYER = ("DUNS", "acme-coupa")


@pytest.fixture
def coupa(api: Any) -> dict[str, Any]:
    create_products(api, CONTRACT_PAYG)
    return create_integration(api, coupa_integration(test_mode=False))


def test_punchouts_are_counted_by_system_and_cxml_outcome(api: Any, coupa: dict[str, Any]) -> None:
    # Given one accepted punchout and one with a wrong shared secret
    with captured_metrics() as counted:
        punch_out(api, coupa)
        with pytest.raises(AssertionError):
            punch_out(api, coupa, secret="not-the-secret")

    assert counted[(observability.PUNCHOUTS, (("outcome", "200"), ("system", "coupa")))] == 1
    refused = [
        dict(dims)["outcome"]
        for (name, dims), n in counted.items()
        if name == observability.PUNCHOUTS and dict(dims)["outcome"] != "200"
    ]
    assert len(refused) == 1 and refused[0].startswith("4")


def test_a_cart_a_po_its_duplicate_and_a_refused_po_are_counted(
    api: Any, coupa: dict[str, Any]
) -> None:
    secret = coupa["purchase_information"]["shared_secret"]
    session = punch_out(api, coupa)
    with captured_metrics() as counted:
        cart = cart_of(
            post_form(
                api,
                f"{session}/requests",
                {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "1000"},
            )
        )
        po = order_request(cart.lines, buyer=BUYER, secret=secret, payload_id="m-1@coupa")

        assert post_order(api, po).code == 200
        assert post_order(api, po).code == 200  # the buyer's retry
        refused = order_request(
            cart.lines, buyer=BUYER, secret=secret, order_id="PO-2", prices={1: "1.00"}
        )
        assert post_order(api, refused).code == 409

    assert counted[(observability.CARTS_RETURNED, (("system", "coupa"),))] == 1
    orders = {
        dict(dims)["outcome"]: (dict(dims)["code"], n)
        for (name, dims), n in counted.items()
        if name == observability.PURCHASE_ORDERS
    }
    assert orders == {
        "accepted": ("200", 1),
        "duplicate": ("200", 1),
        "refused": ("409", 1),
    }
    assert counted[(observability.SUBSCRIPTIONS_ACTIVATED, ())] == 1
    assert counted[(observability.SUBSCRIPTIONS_CANCELLED, ())] == 0


def test_the_mail_a_po_announces_is_counted_as_sent(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    # Given an approved purchase order, whose mail waits in the outbox
    secret = coupa["purchase_information"]["shared_secret"]
    session = punch_out(api, coupa)
    cart = cart_of(
        post_form(
            api,
            f"{session}/requests",
            {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "1000"},
        )
    )
    assert post_order(api, order_request(cart.lines, buyer=BUYER, secret=secret)).code == 200
    streams = streams_client("us-east-1")
    pump = OutboxPump(settings().outbox_table, dynamodb=tables["dynamodb"], streams=streams)

    # When the outbox stream wakes the email worker
    with captured_metrics() as counted:
        pump.pump_once()

    # Then the mail is counted as sent, once
    assert counted[(observability.MAILS_SENT, ())] == 1
    assert counted[(observability.MAILS_FAILED, ())] == 0


def test_a_metric_that_cannot_be_written_never_fails_the_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(**_: Any) -> Any:
        raise RuntimeError("no metrics today")

    monkeypatch.setattr(observability, "single_metric", broken)

    observability.count(observability.MAILS_SENT)  # no exception
