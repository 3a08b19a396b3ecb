"""Purchase orders through the orders handler against moto: the approved PO completes the
subscription exactly once, keeps what invoices need, and refuses what does not match."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from tests.order_support import (
    BUYER,
    coupa_po,
    only_subscription,
    order_request,
    post_order,
    table_items,
)
from tests.storefront_support import (
    CONTRACT_PAYG,
    FREE_TRIAL,
    cart_of,
    create_integration,
    create_products,
    post_form,
    punch_out,
)
from tests.support import coupa_integration, sample


@pytest.fixture
def coupa(api: Any) -> dict[str, Any]:
    create_products(api, CONTRACT_PAYG, FREE_TRIAL)
    return create_integration(api, coupa_integration(test_mode=False))


def _cart(api: Any, integration: dict[str, Any], product: str = "datastream-pro",
          offer: str = "annual", **fields: str) -> Any:  # fmt: skip
    session = punch_out(api, integration)
    form = {"product_id": product, "offer_id": offer, **fields}
    if product == "datastream-pro" and not fields:
        form["estimate.hours"] = "1000"
    return cart_of(post_form(api, f"{session}/requests", form))


def _outbox(tables: dict[str, Any]) -> list[dict[str, Any]]:
    """The outbox mail (the outbox also holds contract-invoice requests: `invoice#...`)."""
    return [item for item in table_items(tables, "outbox") if item["pk"]["S"].startswith("email#")]


def _invoice_requests(tables: dict[str, Any]) -> list[str]:
    return [
        item["pk"]["S"]
        for item in table_items(tables, "outbox")
        if item["pk"]["S"].startswith("invoice#")
    ]


def test_an_approved_po_activates_the_subscription_and_queues_one_email(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    cart = _cart(api, coupa)

    answer = post_order(api, coupa_po(coupa, cart.lines, payload_id="p-1@coupa"))

    assert (answer.code, answer.http_status) == (200, 200)
    assert "DataStream Pro: subscription active." in answer.message
    subscription = only_subscription(tables)
    assert subscription["state"] == "active" and subscription["test"] is False
    assert subscription["account_id"] == "111122223333"
    approvals = [line["approval"] for line in subscription["lines"]]
    assert [(a["order_id"], a["payload_id"], a["line_number"]) for a in approvals] == [
        ("PO-1001", "p-1@coupa", 1),
        ("PO-1001", "p-1@coupa", 2),
    ]
    (mail,) = _outbox(tables)
    assert mail["pk"]["S"] == f"email#{subscription['id']}#ready"
    assert mail["status"]["S"] == "pending"
    assert json.loads(mail["recipients"]["S"]) == ["it@acme.example", "jim@acme.example"]
    context = json.loads(mail["context"]["S"])
    assert (context["order_id"], context["product_name"], context["test"]) == (
        "PO-1001", "DataStream Pro", False,
    )  # fmt: skip
    (request,) = table_items(tables, "requests")
    assert request["state"]["S"] == "ordered"
    # and, in the same transaction, the request for the contract invoice
    assert _invoice_requests(tables) == [f"invoice#{subscription['id']}#contract"]


def test_the_po_is_kept_with_what_invoices_need(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    post_order(api, coupa_po(coupa, _cart(api, coupa).lines, payload_id="p-keep@coupa"))

    orders = {item["pk"]["S"]: item for item in table_items(tables, "orders")}
    order_key = f"order#{coupa['id']}#PO-1001"
    assert set(orders) == {
        order_key,
        f"payload#{coupa['id']}#p-keep@coupa",
        f"seen#{coupa['id']}#PO-1001#new#1",
    }
    kept = json.loads(orders[order_key]["document"]["S"])
    assert (kept["order_id"], kept["payload_id"], kept["order_type"]) == (
        "PO-1001", "p-keep@coupa", "new",
    )  # fmt: skip
    assert kept["bill_to"]["name"] == "Acme Accounts Payable"
    assert kept["bill_to"]["postal_code"] == "62701"
    assert kept["ship_to"]["city"] == "Springfield"
    assert kept["extrinsics"] == {"CostCenter": "CC-42"}
    first = kept["lines"][0]
    assert (first["line_number"], first["classification"]) == (1, "unknown")
    assert first["extrinsics"] == {"LineType": "Quantity"}
    assert first["accounting"][0]["segments"] == [
        {"type": "Cost Center", "id": "CC-42", "description": "Platform"}
    ]
    assert kept["document"], "the original document is kept (compressed)"


def test_contract_payg_in_two_pos_stays_pending_until_both_lines_are_approved(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    contract, usage = _cart(api, coupa).lines

    first = post_order(api, coupa_po(coupa, [contract], order_id="PO-A"))

    assert first.code == 200
    assert "pending until line(s)" in first.message and "-2" in first.message
    assert only_subscription(tables)["state"] == "pending"
    assert _outbox(tables) == []

    second = post_order(api, coupa_po(coupa, [usage], order_id="PO-B", quantities={0: "5000"}))

    assert "subscription active" in second.message
    subscription = only_subscription(tables)
    assert subscription["state"] == "active"
    assert [line["approval"]["order_id"] for line in subscription["lines"]] == ["PO-A", "PO-B"]
    assert subscription["lines"][1]["approval"]["quantity"] == "5000", "the approved budget"
    assert len(_outbox(tables)) == 1


@pytest.mark.parametrize("variant", ["same-payload", "same-order-new-payload"])
def test_a_retried_po_gets_200_and_changes_nothing(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], variant: str
) -> None:
    lines = _cart(api, coupa).lines
    post_order(api, coupa_po(coupa, lines, payload_id="p-once@coupa"))
    before = (only_subscription(tables), table_items(tables, "orders"), _outbox(tables))

    retry = post_order(
        api,
        coupa_po(coupa, lines, payload_id="p-once@coupa" if variant == "same-payload" else None),
    )

    assert (retry.code, retry.http_status) == (200, 200)
    assert "already received" in retry.message
    assert (only_subscription(tables), table_items(tables, "orders"), _outbox(tables)) == before


def test_twenty_concurrent_duplicates_make_one_subscription_and_one_email(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], atomic_moto: None
) -> None:
    from functions.handlers.orders_api import receive_order

    document = coupa_po(coupa, _cart(api, coupa).lines, payload_id="p-storm@coupa").encode()
    answers: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(20)

    def send() -> None:
        start.wait()
        try:
            answers.append(receive_order(document, "https://gateway.test"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(answers) == 20
    assert sum("subscription active" in a for a in answers) == 1
    assert len(table_items(tables, "subscriptions")) == 1
    assert len(_outbox(tables)) == 1


def test_update_changes_the_budget_without_a_second_email(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    lines = _cart(api, coupa).lines
    post_order(api, coupa_po(coupa, lines))

    update = post_order(
        api, coupa_po(coupa, lines, order_type="update", version=2, quantities={1: "2500"})
    )

    assert update.code == 200
    subscription = only_subscription(tables)
    assert subscription["state"] == "active"
    assert subscription["lines"][1]["approval"]["quantity"] == "2500"
    assert subscription["lines"][1]["approval"]["order_version"] == 2
    assert len(_outbox(tables)) == 1
    stale = post_order(
        api, coupa_po(coupa, lines, order_type="update", version=1, payload_id="old@c")
    )
    assert stale.code == 200 and "older than version 2" in stale.message
    assert only_subscription(tables)["lines"][1]["approval"]["quantity"] == "2500"


def test_delete_cancels_an_active_subscription_from_that_moment(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    lines = _cart(api, coupa).lines
    post_order(api, coupa_po(coupa, lines))

    deleted = post_order(api, coupa_po(coupa, lines, order_type="delete", version=2))

    assert deleted.code == 200 and "cancelled" in deleted.message
    subscription = only_subscription(tables)
    assert subscription["state"] == "cancelled" and subscription["cancelled_at"]
    keys = sorted(item["pk"]["S"] for item in _outbox(tables))
    assert keys == [f"email#{subscription['id']}#cancelled", f"email#{subscription['id']}#ready"]


def test_delete_withdraws_a_pending_subscription(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    contract, _ = _cart(api, coupa).lines
    post_order(api, coupa_po(coupa, [contract], order_id="PO-A"))

    post_order(api, coupa_po(coupa, [contract], order_id="PO-A", order_type="delete", version=2))

    assert only_subscription(tables)["state"] == "withdrawn"
    assert _outbox(tables) == []


def test_deleting_an_order_never_received_is_412(api: Any, coupa: dict[str, Any]) -> None:
    lines = _cart(api, coupa).lines
    answer = post_order(api, coupa_po(coupa, lines, order_id="PO-NEVER", order_type="delete"))
    assert (answer.code, answer.http_status) == (412, 200)


def test_test_mode_records_everything_and_says_so(api: Any, tables: dict[str, Any]) -> None:
    create_products(api, FREE_TRIAL)
    integration = create_integration(api, coupa_integration())  # test_mode defaults to true

    answer = post_order(
        api, coupa_po(integration, _cart(api, integration, "sentinel-siem-trial", "trial").lines)
    )

    assert answer.code == 200 and "Test order recorded" in answer.message
    # and the answer does not contradict itself: a test subscription is never "active"
    assert "Sentinel SIEM: test subscription recorded." in answer.message
    assert "subscription active" not in answer.message
    subscription = only_subscription(tables)
    assert subscription["test"] is True
    assert json.loads(_outbox(tables)[0]["context"]["S"])["test"] is True


def test_deployment_mode_test_also_means_test(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    answer = post_order(api, coupa_po(coupa, _cart(api, coupa).lines, deployment_mode="test"))
    assert "Test order recorded" in answer.message
    assert only_subscription(tables)["test"] is True


def test_free_trial_activates_with_its_trial_end(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    post_order(api, coupa_po(coupa, _cart(api, coupa, "sentinel-siem-trial", "trial").lines))
    subscription = only_subscription(tables)
    assert subscription["state"] == "active"
    assert subscription["trial_ends_at"] > subscription["activated_at"]


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        (
            {"prices": {0: "14999.99"}},
            409,
            "unit price 14999.99 USD differs from the requested 15000.00 USD",
        ),
        ({"quantities": {0: "2"}}, 409, "quantity 2 differs"),
    ],
)
def test_a_po_that_does_not_match_the_request_is_refused_and_changes_nothing(
    api: Any,
    tables: dict[str, Any],
    coupa: dict[str, Any],
    change: dict[str, Any],
    code: int,
    words: str,
) -> None:
    answer = post_order(api, coupa_po(coupa, _cart(api, coupa).lines, **change))

    assert answer.code == code
    assert words in answer.message
    assert "Line 1 (datastream-pro/annual)" in answer.message
    assert table_items(tables, "subscriptions") == [] and table_items(tables, "orders") == []


def test_a_usage_budget_may_differ_from_the_estimate(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    answer = post_order(api, coupa_po(coupa, _cart(api, coupa).lines, quantities={1: "123.5"}))
    assert answer.code == 200
    assert only_subscription(tables)["lines"][1]["approval"]["quantity"] == "123.5"


def test_another_integrations_request_is_refused(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    lines = _cart(api, coupa).lines
    other = create_integration(
        api, coupa_integration(name="Other", buyer_identity={"domain": "DUNS", "identity": "other"})
    )

    answer = post_order(
        api,
        order_request(lines, buyer=("DUNS", "other"),
                      secret=other["purchase_information"]["shared_secret"]),
    )  # fmt: skip

    assert answer.code == 403
    assert "belongs to another procurement integration" in answer.message
    assert table_items(tables, "subscriptions") == []


def test_real_coupa_po_for_lines_not_from_our_cart_is_400_not_5xx(
    api: Any, coupa: dict[str, Any]
) -> None:
    staging = create_integration(
        api,
        coupa_integration(
            name="Staging", buyer_identity={"domain": "NetworkID", "identity": "kasdflkjasdf"}
        ),
    )
    secret = staging["purchase_information"]["shared_secret"].encode()
    document = sample("spec_fixtures_order_request.xml").replace(
        b"alsdkfjalksdjflaksjdfklj", secret
    )

    answer = post_order(api, document.decode())

    assert answer.code == 400
    assert "product-requisition:6236" in answer.message
    assert "does not name a request made on this marketplace" in answer.message


def test_wrong_secret_unknown_buyer_and_wrong_document_kind(
    api: Any, coupa: dict[str, Any]
) -> None:
    lines = _cart(api, coupa).lines
    assert post_order(api, order_request(lines, buyer=BUYER, secret="nope")).code == 401
    assert post_order(api, order_request(lines, buyer=("DUNS", "x"), secret="nope")).code == 401
    setup = post_order(api, sample("punch_out_setup_request_doc_coupa.xml").decode())
    assert setup.code == 450


def test_storage_failure_before_persisting_is_a_retryable_500(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    lines = _cart(api, coupa).lines
    tables["dynamodb"].delete_table(TableName="local-outbox")

    answer = post_order(api, coupa_po(coupa, lines, payload_id="p-retry@coupa"))

    assert (answer.code, answer.http_status) == (500, 500)
    assert table_items(tables, "subscriptions") == [] and table_items(tables, "orders") == []
    from local.aws import create_resources

    create_resources(tables["dynamodb"]) if False else None
    tables["dynamodb"].create_table(
        TableName="local-outbox",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    retried = post_order(api, coupa_po(coupa, lines, payload_id="p-retry@coupa"))
    assert retried.code == 200 and "subscription active" in retried.message


def test_two_pos_racing_on_one_subscription_both_count(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], atomic_moto: None
) -> None:
    """The contract PO and the usage PO of one contract_payg request arrive at once: one
    commit wins, the other reads again and retries; the subscription ends active, one email."""
    from functions.handlers.orders_api import receive_order

    contract, usage = _cart(api, coupa).lines
    documents = [
        coupa_po(coupa, [contract], order_id="PO-A").encode(),
        coupa_po(coupa, [usage], order_id="PO-B").encode(),
    ] * 5
    start = threading.Barrier(len(documents))
    errors: list[BaseException] = []

    def send(document: bytes) -> None:
        start.wait()
        try:
            receive_order(document, "https://gateway.test")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(d,)) for d in documents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    subscription = only_subscription(tables)
    assert subscription["state"] == "active"
    assert sorted(line["approval"]["order_id"] for line in subscription["lines"]) == [
        "PO-A",
        "PO-B",
    ]
    assert len(_outbox(tables)) == 1


def test_your_subscriptions_from_a_session_and_from_the_signed_link(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], clock: Any
) -> None:
    from datetime import timedelta

    from functions.links import sign_subscriptions_link

    post_order(api, coupa_po(coupa, _cart(api, coupa).lines, order_id="PO-777"))
    session = punch_out(api, coupa)

    page = api.handle("GET", f"{session}/subscriptions")
    assert page.status == 200
    assert "DataStream Pro — Annual + usage" in page.text
    assert 'data-state="active"' in page.text and "PO-777" in page.text
    assert "Getting started" in page.text

    from functions.config import settings

    key = (settings().link_signing_key or "").encode()  # the local key, as the worker signs
    expires = clock.now() + timedelta(days=30)
    link = sign_subscriptions_link(key, "https://gateway.test", "111122223333", expires)
    path, _, query = link.removeprefix("https://gateway.test").partition("?")
    good = api.handle("GET", path, query=query)
    other = api.handle("GET", "/subscriptions/999999999999", query=query)
    forged = api.handle("GET", path, query=query.replace("signature=", "signature=0"))
    clock.advance(timedelta(days=31))
    expired = api.handle("GET", path, query=query)

    assert good.status == 200 and "PO-777" in good.text
    assert "frame-ancestors 'none'" in (good.header("Content-Security-Policy") or "")
    for refused in (other, forged, expired):
        assert refused.status == 403
        assert "PO-777" not in refused.text


def test_ses_down_the_po_still_succeeds_and_the_email_goes_out_once_ses_is_back(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    from local.aws import LOCAL_ENV
    from local.outbox import OutboxPump
    from tests.conftest import _sent_messages

    sender = LOCAL_ENV["EMAIL_SENDER"]
    tables["ses"].delete_identity(Identity=sender)  # SES refuses the sender: "down" for us
    pump = OutboxPump("local-outbox", dynamodb=tables["dynamodb"])

    answer = post_order(api, coupa_po(coupa, _cart(api, coupa).lines))
    pump.pump_once()

    assert answer.code == 200 and "subscription active" in answer.message
    assert _sent_messages() == []
    assert _outbox(tables)[0]["status"]["S"] == "pending"

    tables["ses"].verify_email_identity(EmailAddress=sender)
    pump.pump_once()
    pump.pump_once()

    (sent,) = _sent_messages()
    assert set(sent.destinations["ToAddresses"]) == {"it@acme.example", "jim@acme.example"}
    assert "PO-1001" in sent.body
    assert _outbox(tables)[0]["status"]["S"] == "sent"


def test_your_subscriptions_flags_usage_beyond_the_approved_budget_before_it_is_billed(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], clock: Any
) -> None:
    from tests.support import meter

    post_order(api, coupa_po(coupa, _cart(api, coupa).lines))  # 1,000 hours approved
    hour = clock.now().replace(minute=0, second=0, microsecond=0).isoformat()
    status, body = meter(api, {"ProductCode": "datastream-pro", "UsageRecords": [
        {"Timestamp": hour, "CustomerIdentifier": "111122223333", "Dimension": "hours",
         "Quantity": 1200}]})  # fmt: skip
    assert status == 200 and body["Results"][0]["Status"] == "Success", body

    page = api.handle("GET", f"{punch_out(api, coupa)}/subscriptions")

    assert 'data-usage="1200" data-budget="1000"' in page.text
    assert "over the approved budget" in page.text and "will be held, not invoiced" in page.text
