"""ResolveCustomer and GetEntitlements through the metering Lambda against moto, with
subscriptions real purchase orders activated: what a seller's server gets back for genuine,
expired, forged and foreign registration tokens, and a product's contract entitlements page by
page, filtered, as cancellations and PO updates change them."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions import registration
from tests.order_support import (
    DATASTREAM_ANNUAL,
    only_subscription,
    order_request,
    po_from,
    post_order,
    request_approval,
    subscribe,
)
from tests.storefront_support import CONTRACT_PAYG, create_integration, create_products
from tests.support import ADMIN_TOKEN, SELLER, coupa_integration, seller_token

OTHER_SELLER = "210987654321"  # cloudguard-waf's seller in the demo catalog (has a token)
CUSTOMER = "111122223333"  # coupa_integration()'s account
OTHER_CUSTOMER = "444455556666"
SUBSCRIBED_AT = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
OTHER_PRODUCT = {**CONTRACT_PAYG, "id": "streamline-other", "name": "Other stream"}


def _post(api: Any, path: str, payload: Any, token: str | None) -> tuple[int, Any]:
    headers = [("Content-Type", "application/json")]
    if token is not None:
        headers.append(("Authorization", f"Bearer {token}"))
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    answer = api.handle("POST", path, headers=headers, body=body)
    assert answer.header("Content-Type") == "application/json", answer.headers
    return answer.status, json.loads(answer.body)


def resolve(api: Any, token: Any, caller: str | None = None) -> tuple[int, Any]:
    body = {"RegistrationToken": token}
    return _post(api, "/marketplace/resolve-customer", body, caller or seller_token(SELLER))


def entitlements(api: Any, caller: str | None = None, **request: Any) -> tuple[int, Any]:
    body = {"ProductCode": "datastream-pro", **request}
    return _post(api, "/marketplace/entitlements", body, caller or seller_token(SELLER))


def _link_key() -> bytes:
    return os.environ["LINK_SIGNING_KEY"].encode()


def _token(subscription: dict[str, Any], now: datetime = SUBSCRIBED_AT, **claims: Any) -> str:
    values = {
        "subscription_id": subscription["id"],
        "account_id": subscription["account_id"],
        "product_id": subscription["product_id"],
        "test": subscription["test"],
        **claims,
    }
    return registration.issue(_link_key(), now=now, **values)


@pytest.fixture
def coupa(api: Any, clock: Any) -> dict[str, Any]:
    clock.freeze(SUBSCRIBED_AT)
    create_products(
        api,
        {**CONTRACT_PAYG, "seller_account": SELLER},
        {**OTHER_PRODUCT, "seller_account": OTHER_SELLER},
    )
    return create_integration(api, coupa_integration(test_mode=False))


@pytest.fixture
def subscription(api: Any, tables: dict[str, Any], coupa: dict[str, Any]) -> dict[str, Any]:
    """CUSTOMER's active contract + usage subscription to datastream-pro (offer `annual`)."""
    subscribe(api, coupa)
    return only_subscription(tables)


# --- ResolveCustomer ------------------------------------------------------------------------


def test_a_genuine_token_resolves_to_the_customer_and_product(
    api: Any, subscription: dict[str, Any]
) -> None:
    status, body = resolve(api, _token(subscription))

    assert status == 200, body
    assert body == {
        "CustomerIdentifier": CUSTOMER,
        "CustomerAWSAccountId": CUSTOMER,
        "ProductCode": "datastream-pro",
        "Test": False,
    }


def test_the_admin_token_resolves_any_products_token_and_a_test_token_says_so(
    api: Any, subscription: dict[str, Any]
) -> None:
    status, body = resolve(api, _token(subscription, test=True), caller=ADMIN_TOKEN)

    assert status == 200, body
    assert body["CustomerIdentifier"] == CUSTOMER and body["Test"] is True


def test_a_token_is_good_until_its_expiry_and_expired_after_it(
    api: Any, clock: Any, subscription: dict[str, Any]
) -> None:
    token = _token(subscription)

    clock.freeze(SUBSCRIBED_AT + registration.TOKEN_LIFETIME - timedelta(seconds=1))
    assert resolve(api, token)[0] == 200
    clock.freeze(SUBSCRIBED_AT + registration.TOKEN_LIFETIME)
    status, body = resolve(api, token)

    assert status == 400
    assert body["__type"] == "ExpiredTokenException"
    assert body["error"] == {"status": 400, "message": "The registration token has expired."}


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),  # signature
        lambda token: "v1." + token.split(".")[1][::-1] + "." + token.split(".")[2],  # claims
        lambda token: "v2" + token[2:],  # another version
        lambda token: "",
        lambda token: "x" * 5000,  # over the token limit, under the body limit
        lambda token: 42,
        lambda token: None,
    ],
    ids=["signature", "claims", "version", "empty", "huge", "number", "null"],
)
def test_a_forged_or_malformed_token_is_an_invalid_token_exception(
    api: Any, subscription: dict[str, Any], forge: Any
) -> None:
    status, body = resolve(api, forge(_token(subscription)))

    assert status == 400
    assert body["__type"] == "InvalidTokenException"


def test_a_token_signed_with_another_key_is_invalid(api: Any, subscription: dict[str, Any]) -> None:
    token = registration.issue(
        b"another key", subscription_id=subscription["id"], account_id=CUSTOMER,
        product_id="datastream-pro", test=False, now=SUBSCRIBED_AT,
    )  # fmt: skip

    status, body = resolve(api, token)

    assert (status, body["__type"]) == (400, "InvalidTokenException")


def test_another_sellers_token_is_refused_like_a_forged_one(
    api: Any, subscription: dict[str, Any]
) -> None:
    theirs = _token(subscription, product_id=OTHER_PRODUCT["id"])
    forged = _token(subscription)[:-2] + "AA"

    status, body = resolve(api, theirs)

    assert (status, body) == resolve(api, forged)  # word for word: nothing about them
    assert body == {
        "__type": "InvalidTokenException",
        "error": {"status": 400, "message": "The registration token is invalid."},
    }
    assert resolve(api, theirs, caller=seller_token(OTHER_SELLER))[0] == 200


def test_without_a_seller_token_nothing_is_resolved(api: Any, subscription: dict[str, Any]) -> None:
    assert resolve(api, _token(subscription), caller="not-a-token")[0] == 403
    status, _ = _post(api, "/marketplace/resolve-customer", {"RegistrationToken": "x"}, None)
    assert status == 401


# --- GetEntitlements ------------------------------------------------------------------------


def _subscribe(api: Any, integration: dict[str, Any], order: int) -> None:
    subscribe(api, integration, order_id=f"PO-{order}")


def test_a_subscription_is_one_entitlement_with_its_term(
    api: Any, subscription: dict[str, Any]
) -> None:
    status, body = entitlements(api)

    assert status == 200, body
    assert body == {
        "Entitlements": [
            {
                "ProductCode": "datastream-pro",
                "Dimension": "annual",
                "CustomerIdentifier": CUSTOMER,
                "CustomerAWSAccountId": CUSTOMER,
                "Value": {"IntegerValue": 1},
                "ExpirationDate": "2027-11-26T12:30:00+00:00",
                "Test": False,
            }
        ]
    }


def test_max_results_1_walks_three_subscriptions_with_next_token(
    api: Any, coupa: dict[str, Any]
) -> None:
    for order in (1, 2, 3):
        _subscribe(api, coupa, order)

    seen, token, pages = [], None, 0
    while True:
        request: dict[str, Any] = {"MaxResults": 1}
        if token:
            request["NextToken"] = token
        status, body = entitlements(api, **request)
        assert status == 200, body
        pages += 1
        seen.extend(body["Entitlements"])
        token = body.get("NextToken")
        if not token:
            break

    assert len(seen) == 3 and pages in (3, 4)
    assert {e["CustomerIdentifier"] for e in seen} == {CUSTOMER}


def test_a_tampered_or_borrowed_next_token_is_an_invalid_parameter(
    api: Any, coupa: dict[str, Any]
) -> None:
    for order in (1, 2):
        _subscribe(api, coupa, order)
    _, first = entitlements(api, MaxResults=1)
    token = first["NextToken"]
    body_part, mac = token.split(".")

    for hostile in (token[:-2] + ("AA" if mac[-2:] != "AA" else "BB"), body_part + "." + body_part,
                    token + ".x", "%%%", "x" * 5000):  # fmt: skip
        status, body = entitlements(api, MaxResults=1, NextToken=hostile)
        assert (status, body["__type"]) == (400, "InvalidParameterException"), hostile
    # Another caller, or another filter, cannot reuse it.
    status, body = entitlements(api, caller=ADMIN_TOKEN, MaxResults=1, NextToken=token)
    assert (status, body["__type"]) == (400, "InvalidParameterException")
    status, body = entitlements(
        api, MaxResults=1, NextToken=token, Filter={"DIMENSION": ["annual"]}
    )
    assert (status, body["__type"]) == (400, "InvalidParameterException")


def test_the_customer_filter_and_the_dimension_filter(api: Any, coupa: dict[str, Any]) -> None:
    _subscribe(api, coupa, 1)
    other = create_integration(
        api,
        coupa_integration(
            name="Initech Coupa", test_mode=False, account_id=OTHER_CUSTOMER,
            account_email="it@initech.example",
            buyer_identity={"domain": "DUNS", "identity": "initech-coupa"},
        ),
    )  # fmt: skip
    _subscribe(api, other, 2)

    _, everyone = entitlements(api)
    _, theirs = entitlements(api, Filter={"CUSTOMER_IDENTIFIER": [OTHER_CUSTOMER]})
    _, both = entitlements(api, Filter={"CUSTOMER_IDENTIFIER": [OTHER_CUSTOMER, CUSTOMER]})
    _, annual = entitlements(api, Filter={"DIMENSION": ["annual"]})
    _, monthly = entitlements(api, Filter={"DIMENSION": ["monthly"]})

    customers = sorted(e["CustomerIdentifier"] for e in everyone["Entitlements"])
    assert customers == [CUSTOMER, OTHER_CUSTOMER]
    assert [e["CustomerIdentifier"] for e in theirs["Entitlements"]] == [OTHER_CUSTOMER]
    assert len(both["Entitlements"]) == 2 and len(annual["Entitlements"]) == 2
    assert monthly == {"Entitlements": []}


def test_another_sellers_product_leaks_nothing_and_reads_like_an_unknown_one(
    api: Any, coupa: dict[str, Any]
) -> None:
    # Given OTHER_SELLER's product with an active subscription (its seller snapshot theirs)
    cart = request_approval(api, coupa, {**DATASTREAM_ANNUAL, "product_id": OTHER_PRODUCT["id"]})
    assert post_order(api, po_from(coupa, cart.lines)).code == 200

    # When SELLER asks about it, and about a product that does not exist
    theirs = entitlements(api, ProductCode=OTHER_PRODUCT["id"])
    unknown = entitlements(api, ProductCode="no-such-product")

    # Then both are the same empty page; its seller and the admin see the entitlement
    assert theirs == unknown == (200, {"Entitlements": []})
    for caller in (seller_token(OTHER_SELLER), ADMIN_TOKEN):
        status, body = entitlements(api, caller=caller, ProductCode=OTHER_PRODUCT["id"])
        assert status == 200, body
        assert [e["ProductCode"] for e in body["Entitlements"]] == [OTHER_PRODUCT["id"]]


def test_every_page_is_one_query_and_reads_no_product(api: Any, coupa: dict[str, Any]) -> None:
    from bench.counting import ApiCallCounter

    for order in (1, 2):
        _subscribe(api, coupa, order)
    entitlements(api, MaxResults=1)  # warm: the link-signing key is read once per container

    with ApiCallCounter() as counter:
        _, first = entitlements(api, MaxResults=1)
        first_calls = [c.name for c in counter.take()]
        _, second = entitlements(api, MaxResults=1, NextToken=first["NextToken"])
        next_calls = [c.name for c in counter.take()]

    assert len(first["Entitlements"]) == len(second["Entitlements"]) == 1
    assert first_calls == next_calls == ["dynamodb.Query"]


def test_a_cancelled_subscription_drops_out_at_once(
    api: Any, tables: dict[str, Any], clock: Any, coupa: dict[str, Any]
) -> None:
    lines, secret = subscribe(api, coupa)
    assert len(entitlements(api)[1]["Entitlements"]) == 1

    clock.advance(timedelta(days=3))
    answer = post_order(
        api,
        order_request(lines, buyer=("DUNS", "acme-coupa"), secret=secret,
                      order_type="delete", version=2),
    )  # fmt: skip

    assert answer.code == 200, answer.message
    assert only_subscription(tables)["state"] == "cancelled"
    assert entitlements(api)[1] == {"Entitlements": []}


def test_a_po_update_taking_the_contract_line_away_ends_the_entitlement(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    lines, secret = subscribe(api, coupa)

    usage_only = [line for line in lines if "contract" not in (line.findtext(
        "ItemDetail/Description") or "")]  # fmt: skip
    answer = post_order(
        api,
        order_request(usage_only, buyer=("DUNS", "acme-coupa"), secret=secret,
                      order_type="update", version=2, line_numbers=[2]),
    )  # fmt: skip

    assert answer.code == 200, answer.message
    assert only_subscription(tables)["state"] == "cancelled"
    assert entitlements(api)[1] == {"Entitlements": []}


@pytest.mark.parametrize(
    "request_body",
    [
        {},
        {"ProductCode": ""},
        {"ProductCode": ["datastream-pro"]},
        {"ProductCode": "datastream-pro", "MaxResults": 0},
        {"ProductCode": "datastream-pro", "MaxResults": 26},
        {"ProductCode": "datastream-pro", "MaxResults": "5"},
        {"ProductCode": "datastream-pro", "MaxResults": 1.5},
        {"ProductCode": "datastream-pro", "MaxResults": True},
        {"ProductCode": "datastream-pro", "Filter": {"REGION": ["x"]}},
        {"ProductCode": "datastream-pro", "Filter": {"DIMENSION": "annual"}},
        {"ProductCode": "datastream-pro", "Filter": {"DIMENSION": []}},
        {"ProductCode": "datastream-pro", "Filter": {"DIMENSION": [1]}},
        {"ProductCode": "datastream-pro", "Filter": {"CUSTOMER_IDENTIFIER": ["a#b"]}},
        {"ProductCode": "datastream-pro", "Filter": {"CUSTOMER_IDENTIFIER": ["x"] * 26}},
        {"ProductCode": "datastream-pro", "Filter": []},
        {"ProductCode": "datastream-pro", "NextToken": 7},
        [],
    ],
)
def test_hostile_requests_are_an_invalid_parameter_never_a_5xx(
    api: Any, subscription: dict[str, Any], request_body: Any
) -> None:
    status, body = _post(api, "/marketplace/entitlements", request_body, seller_token(SELLER))

    assert status == 400, body
    assert body["__type"] == "InvalidParameterException"


@pytest.mark.parametrize("raw", [b"", b"{", b"[" * 40 + b"]" * 40, b"\xff\xfe"])
def test_unreadable_bodies_are_a_400_on_both_routes(
    api: Any, subscription: dict[str, Any], raw: bytes
) -> None:
    for path in ("/marketplace/entitlements", "/marketplace/resolve-customer"):
        status, body = _post(api, path, raw, seller_token(SELLER))
        assert status == 400 and "error" in body


def test_the_backfill_indexes_subscriptions_stored_before_the_index_or_the_seller_snapshot(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    from bench.counting import ApiCallCounter
    from functions.store.backfill import backfill_entitlements

    # Given two subscriptions stored before the lifecycle index and the seller snapshot
    for order in (1, 2):
        _subscribe(api, coupa, order)
    dynamodb, table = tables["dynamodb"], os.environ["SUBSCRIPTIONS_TABLE"]
    for item in dynamodb.scan(TableName=table, FilterExpression="attribute_exists(account_id)")[
        "Items"
    ]:
        document = json.loads(item["document"]["S"])
        dynamodb.update_item(
            TableName=table, Key={"pk": item["pk"]},
            UpdateExpression="SET #document = :doc REMOVE lifecycle_key, lifecycle_sort, "
            "lifecycle_seller, entitled_dimension",
            ExpressionAttributeNames={"#document": "document"},
            ExpressionAttributeValues={
                ":doc": {"S": json.dumps({**document, "seller_account": ""})}
            },
        )  # fmt: skip
    assert entitlements(api)[1] == {"Entitlements": []}
    assert entitlements(api, caller=ADMIN_TOKEN)[1] == {"Entitlements": []}

    # When the operator runs the backfill (twice: the second changes nothing)
    with ApiCallCounter() as counter:
        first = backfill_entitlements(dynamodb, table, os.environ["PRODUCTS_TABLE"])
    second = backfill_entitlements(dynamodb, table, os.environ["PRODUCTS_TABLE"])

    # Then the seller finds both, their snapshot is the product's seller, and the one product
    # was read once
    assert (first, second) == (2, 0)
    listed = entitlements(api)[1]["Entitlements"]
    assert [(e["CustomerIdentifier"], e["Dimension"]) for e in listed] == [(CUSTOMER, "annual")] * 2
    assert {s["seller_account"] for s in _subscriptions(tables)} == {SELLER}
    assert [c.name for c in counter.take()].count("dynamodb.GetItem") == 1


def _subscriptions(tables: dict[str, Any]) -> list[dict[str, Any]]:
    items = tables["dynamodb"].scan(
        TableName=os.environ["SUBSCRIPTIONS_TABLE"], FilterExpression="attribute_exists(account_id)"
    )["Items"]
    return [json.loads(item["document"]["S"]) for item in items]
