"""Seller API figures: DynamoDB calls for one ResolveCustomer and for GetEntitlements pages
(the first and one reached with a NextToken: each one Query, the seller filtered on the index,
no product read), counted after a warm-up on the subscriptions the order bench made
(datastream-pro, the demo seller)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench.counting import ApiCall, ApiCallCounter, service_total
from bench.stack import BenchStack
from functions import registration
from tests.support import SELLER, seller_token

JSON = (("Content-Type", "application/json"),)


@dataclass(frozen=True)
class SellerApiCalls:
    resolve: list[ApiCall]
    first_page: list[ApiCall]
    next_page: list[ApiCall]

    def dynamodb(self, calls: list[ApiCall]) -> int:
        return service_total(calls, "dynamodb")


def _active_subscription(stack: BenchStack) -> dict[str, Any]:
    items = stack.dynamodb.scan(TableName=os.environ["SUBSCRIPTIONS_TABLE"])["Items"]
    for item in items:
        if item.get("lifecycle_key", {}).get("S", "").startswith("entitlement#"):
            document: dict[str, Any] = json.loads(item["document"]["S"])
            return document
    raise RuntimeError("no active contract subscription to resolve: run the order bench first")


def _post(stack: BenchStack, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    headers = (*JSON, ("Authorization", f"Bearer {seller_token(SELLER)}"))
    answer = stack.api.handle("POST", path, headers=headers, body=json.dumps(payload).encode())
    if answer.status != 200:
        raise RuntimeError(f"{path} failed: HTTP {answer.status}: {answer.text[:300]}")
    body: dict[str, Any] = json.loads(answer.body)
    return body


def count_seller_api_calls(stack: BenchStack) -> SellerApiCalls:
    subscription = _active_subscription(stack)
    token = registration.issue(
        os.environ["LINK_SIGNING_KEY"].encode(),
        subscription_id=subscription["id"],
        account_id=subscription["account_id"],
        product_id=subscription["product_id"],
        test=subscription["test"],
        now=datetime.now(UTC),
    )
    resolve = {"RegistrationToken": token}
    first = {"ProductCode": subscription["product_id"], "MaxResults": 1}
    _post(stack, "/marketplace/resolve-customer", resolve)  # warm-up: imports, key, clients
    _post(stack, "/marketplace/entitlements", first)
    with ApiCallCounter() as counter:
        _post(stack, "/marketplace/resolve-customer", resolve)
        resolved = counter.take()
    with ApiCallCounter() as counter:
        page = _post(stack, "/marketplace/entitlements", first)
        first_calls = counter.take()
    if "NextToken" not in page:
        raise RuntimeError("one entitlement only: the NextToken page cannot be counted")
    with ApiCallCounter() as counter:
        _post(stack, "/marketplace/entitlements", {**first, "NextToken": page["NextToken"]})
        next_calls = counter.take()
    return SellerApiCalls(resolved, first_calls, next_calls)
