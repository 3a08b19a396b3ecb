"""Storefront figures: DynamoDB calls for Request approval and for a catalog search, against
the demo catalog (16 products) seeded through the admin API, the same as `make run`."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from bench.counting import ApiCall, ApiCallCounter, by_operation, service_total
from bench.stack import BenchStack
from local.seed import seed_catalog
from tests.support import ADMIN_TOKEN, BASE_URL

FORM = (("Content-Type", "application/x-www-form-urlencoded"),)
REQUEST = {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "1000"}


@dataclass(frozen=True)
class StorefrontCalls:
    request_approval: list[ApiCall]
    session_search: list[ApiCall]
    public_search: list[ApiCall]

    def summary(self) -> dict[str, dict[str, int]]:
        return {
            name: {f"{n}": c for (n, _), c in by_operation(calls).items()}
            for name, calls in (
                ("request_approval", self.request_approval),
                ("session_search", self.session_search),
                ("public_search", self.public_search),
            )
        }

    def dynamodb(self, name: str) -> int:
        calls: list[ApiCall] = getattr(self, name)
        return service_total(calls, "dynamodb")


def _session_path(stack: BenchStack) -> str:
    answer = stack.post_punchout().decode()
    start = answer.split("<URL>", 1)[1].split("</URL>", 1)[0]
    return start.removeprefix(BASE_URL)


def count_storefront_calls(stack: BenchStack) -> StorefrontCalls:
    seed_catalog(stack.api, ADMIN_TOKEN)
    session = _session_path(stack)
    body = urlencode(REQUEST).encode()

    def approve() -> None:
        answer = stack.api.handle("POST", f"{session}/requests", headers=FORM, body=body)
        if answer.status != 200 or "cart-return" not in answer.text:
            raise RuntimeError(
                f"Request approval failed: HTTP {answer.status}: {answer.text[:300]}"
            )

    def search(path: str) -> None:
        answer = stack.api.handle("GET", path, query="q=data")
        if answer.status != 200 or "DataStream Pro" not in answer.text:
            raise RuntimeError(f"catalog search failed: HTTP {answer.status}")

    approve()  # warm-ups: the web function's first request binds tables and clients
    search(f"{session}/catalog")
    search("/catalog")
    with ApiCallCounter() as counter:
        approve()
        approval = counter.take()
        search(f"{session}/catalog")
        session_search = counter.take()
        search("/catalog")
        public_search = counter.take()
    return StorefrontCalls(approval, session_search, public_search)
