"""Fuzz: a storage failure (DynamoDB, S3, SES) injected at any AWS call of a valid request. A
5xx is then the right answer (retry later), still in the route's format (cXML 500 on cXML
routes, JSON, an HTML page) and without a trace."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import botocore.client
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import World
from tests.fuzz.support import Exchange, check, fuzz_settings, send
from tests.support import ADMIN_TOKEN

FORM = [("Content-Type", "application/x-www-form-urlencoded")]
JSON = [("Content-Type", "application/json")]
XML = [("Content-Type", "text/xml")]
REQUESTS: dict[str, Callable[[World], Exchange]] = {
    "punchout": lambda w: Exchange("cxml", "POST", "/cxml/punchout", "", XML, w.punchout),
    "order": lambda w: Exchange("cxml", "POST", "/cxml/orders", "", XML, w.order),
    "request approval": lambda w: Exchange(
        "html", "POST", f"{w.session}/requests", "", FORM,
        b"product_id=datastream-pro&offer_id=annual&estimate.hours=10",
    ),
    "catalog": lambda w: Exchange("html", "GET", f"{w.session}/catalog", "q=siem", [], b""),
    "public request": lambda w: Exchange(
        "html", "POST", "/catalog/requests", "", FORM,
        b"product_id=sentinel-siem-trial&offer_id=trial&account_id=111122223333",
    ),
    "create product": lambda w: Exchange(
        "json", "POST", "/admin/products", "",
        [*JSON, ("Authorization", f"Bearer {ADMIN_TOKEN}")],
        json.dumps({"id": "faulty", "name": "Faulty", "seller": "S", "short_description": "d",
                    "product_type": "saas", "offers": [{"id": "free", "name": "Free",
                    "currency": "USD", "pricing": {"model": "free"}}]}).encode(),
    ),
    "open buy search": lambda w: Exchange(
        "json", "POST", "/openbuy/search/v1.0.0", "",
        [*JSON, ("Authorization", f"Bearer {w.openbuy_token}")], b'{"query": "siem"}',
    ),
}  # fmt: skip


@contextmanager
def failing_call(number: int, code: str) -> Iterator[list[str]]:
    """The `number`-th AWS call (from 0) fails with `code`; the list names the failed call."""
    original = botocore.client.BaseClient._make_api_call
    calls: list[str] = []
    failed: list[str] = []

    def maybe_fail(client: Any, operation: str, params: Any) -> Any:
        calls.append(operation)
        if len(calls) - 1 == number:
            failed.append(operation)
            raise ClientError({"Error": {"Code": code, "Message": "injected fault"}}, operation)
        return original(client, operation, params)

    botocore.client.BaseClient._make_api_call = maybe_fail  # type: ignore[method-assign]
    try:
        yield failed
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


@fuzz_settings(examples=60)
@given(
    name=st.sampled_from(sorted(REQUESTS)),
    number=st.integers(0, 6),
    code=st.sampled_from(
        ["InternalServerError", "ProvisionedThroughputExceededException", "ServiceUnavailable",
         "ThrottlingException", "RequestLimitExceeded", "SlowDown"]
    ),
)  # fmt: skip
def test_a_storage_fault_is_a_retryable_answer_in_the_routes_format(
    world: World, name: str, number: int, code: str
) -> None:
    exchange = REQUESTS[name](world)
    with failing_call(number, code) as failed:
        send(world.api, exchange)

    check(exchange, fault=bool(failed))
    if failed and exchange.kind == "cxml":
        assert exchange.cxml_code in {500, 200, 201, 204, 409}, str(exchange)
