"""Purchase-order figures: DynamoDB calls for a new 2-line OrderRequest, and the handler's
median time for it as a ratio to the PunchOutSetupRequest handler's, measured in the same
run against the same moto (so moto's speed cancels out)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlencode

from defusedxml import ElementTree

from bench.counting import ApiCall, ApiCallCounter, service_total
from bench.stack import HOST, PUNCHOUT_PATH, XML_HEADERS, BenchStack
from local.events import LambdaContext, rest_event
from local.routes import match
from tests.order_support import order_request
from tests.storefront_support import cart_of
from tests.support import BASE_URL

ORDERS_PATH = "/cxml/orders"
FORM = (("Content-Type", "application/x-www-form-urlencoded"),)


@dataclass(frozen=True)
class OrderFigures:
    calls: list[ApiCall]
    order_ms: float
    punchout_ms: float
    iterations: int
    order_own_ms: float
    """Median handler time outside AWS calls: our code, without moto's share (moto snapshots
    whole tables in TransactWriteItems, so its time grows with the tables)."""
    punchout_own_ms: float

    @property
    def dynamodb_calls(self) -> int:
        return service_total(self.calls, "dynamodb")

    @property
    def ratio(self) -> float:
        return self.order_ms / self.punchout_ms

    @property
    def own_ratio(self) -> float:
        return self.order_own_ms / self.punchout_own_ms


def _two_line_carts(stack: BenchStack, count: int) -> list[list[Any]]:
    """Fresh contract + pay-as-you-go requests (two cart lines each), one per PO to time: a
    PO for an already ordered request would measure the duplicate path instead."""
    answer = stack.post_punchout().decode()
    session = answer.split("<URL>", 1)[1].split("</URL>", 1)[0].removeprefix(BASE_URL)
    body = urlencode(
        {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "1000"}
    ).encode()
    carts = []
    for _ in range(count):
        page = stack.api.handle("POST", f"{session}/requests", headers=FORM, body=body)
        carts.append(cart_of(page).lines)
    return carts


def _event(path: str, body: bytes) -> dict[str, Any]:
    route = match("POST", path)
    assert route is not None, path
    return rest_event(method="POST", path=path, query="", headers=XML_HEADERS, body=body,
                      resource=route.resource, path_parameters=route.path_parameters,
                      host=HOST)  # fmt: skip


def measure_orders(stack: BenchStack, iterations: int, warmup: int) -> OrderFigures:
    from functions.handlers import cxml_api, orders_api

    buyer = stack.buyer
    carts = _two_line_carts(stack, warmup + iterations + 1)
    documents = [
        order_request(lines, buyer=buyer, secret=stack.secret, order_id=f"BENCH-{n}").encode()
        for n, lines in enumerate(carts)
    ]
    counted_document, documents = documents[0], documents[1:]
    with ApiCallCounter() as counter:
        answer = orders_api.handler(_event(ORDERS_PATH, counted_document), _context("orders"))
        calls = counter.take()
    _check(answer)

    order_s: list[float] = []
    punchout_s: list[float] = []
    own: dict[str, list[float]] = {"order": [], "punchout": []}
    split = len(documents) // 2  # the first half timed plainly, the second with the counter
    for n, document in enumerate(documents):
        keep = n >= warmup
        pairs = [
            (orders_api, _event(ORDERS_PATH, document), order_s, "order"),
            (cxml_api, _event(PUNCHOUT_PATH, stack.document), punchout_s, "punchout"),
        ]
        for module, event, samples, name in pairs if n % 2 else reversed(pairs):
            if n < split or not keep:
                started = time.perf_counter()
                result = module.handler(event, _context(module.__name__))
                elapsed = time.perf_counter() - started
                if keep:
                    samples.append(elapsed)
            else:
                with ApiCallCounter() as counter:
                    started = time.perf_counter()
                    result = module.handler(event, _context(module.__name__))
                    elapsed = time.perf_counter() - started
                    inside = sum(call.seconds for call in counter.take())
                own[name].append(elapsed - inside)
            if result["statusCode"] != 200:
                raise RuntimeError(f"{module.__name__} failed while timing: {result['body'][:300]}")
    return OrderFigures(
        calls=calls,
        order_ms=statistics.median(order_s) * 1000,
        punchout_ms=statistics.median(punchout_s) * 1000,
        iterations=len(order_s),
        order_own_ms=statistics.median(own["order"]) * 1000,
        punchout_own_ms=statistics.median(own["punchout"]) * 1000,
    )


def _context(name: str) -> Any:
    return cast(Any, LambdaContext(name.rsplit(".", 1)[-1]))


def _completed(text: str) -> bool:
    """The PO completed its subscription: live ("subscription active") or, through a test-mode
    integration, "test subscription recorded"."""
    return "subscription active" in text or "test subscription recorded" in text


def _check(answer: dict[str, Any]) -> None:
    status = ElementTree.fromstring(answer["body"].encode()).find("Response/Status")
    if answer["statusCode"] != 200 or status is None or not _completed(status.text or ""):
        raise RuntimeError(f"the counted OrderRequest was not accepted: {answer['body'][:400]}")


@dataclass(frozen=True)
class LargeOrderFigures:
    """A 900 KB PO (20 Distributions x 5 Accounting segments per line): its original goes to
    S3, so its S3 puts are reported apart from the DynamoDB budget."""

    calls: list[ApiCall]
    document_bytes: int

    @property
    def dynamodb_calls(self) -> int:
        return service_total(self.calls, "dynamodb")

    @property
    def s3_puts(self) -> int:
        return sum(1 for call in self.calls if call.name == "s3.PutObject")


def measure_large_order(stack: BenchStack) -> LargeOrderFigures:
    from functions.handlers import orders_api
    from tests.order_support import with_distributions

    (lines,) = _two_line_carts(stack, 1)
    document = with_distributions(
        order_request(lines, buyer=stack.buyer, secret=stack.secret, order_id="BENCH-LARGE")
    ).encode()
    with ApiCallCounter() as counter:
        answer = orders_api.handler(_event(ORDERS_PATH, document), _context("orders"))
        calls = counter.take()
    _check(answer)
    return LargeOrderFigures(calls, len(document))
