"""Local only: a fake seller application, the other side of issue 14's hand-off. Never deployed.

Each demo seller account (local/demo_catalog.json) gets a registration page, the
`fulfillment_url` the seed gives its products. The buyer's browser posts the registration token
there (form field `x-amzn-marketplace-token`) from **Set up your account**; the page trades it
for the customer through `POST /marketplace/resolve-customer` with that seller's bearer token
(SELLER_TOKENS), in process through `LocalApi.handle`, exactly as a seller's server calls the
API, and shows the customer or the error the API gave. The subscription events the seller's rule
on the bus delivered are kept in memory (local/fake_seller_events.py).

    POST /_local/seller/<seller account>/register        the registration page
    GET  /_local/seller                                  every seller: customers and events
    GET  /_local/seller/<seller account>/registrations   the customers this seller resolved
    GET  /_local/seller/<seller account>/events          the events this seller received
    GET  /_local/seller/registrations.json, events.json  the same, for tests
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from functions.clock import now
from functions.registration import TOKEN_FIELD
from local.stack import HttpAnswer, LocalApi

PREFIX = "/_local/seller"
RESOLVE_CUSTOMER = "/marketplace/resolve-customer"
_SELLER_PATH = re.compile(
    rf"^{PREFIX}/(?P<account>[0-9A-Za-z_-]{{1,64}})/(?P<page>register|registrations|events)$"
)
PAGES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("fake_seller_templates")),
    autoescape=True,
    undefined=StrictUndefined,
)


def registration_url(base_url: str, seller_account: str) -> str:
    """The demo products' `fulfillment_url`: this seller's registration page."""
    return f"{base_url.rstrip('/')}{PREFIX}/{seller_account}/register"


def seller_tokens(setting: str) -> dict[str, str]:
    """SELLER_TOKENS (`<seller account>=<token>,...`) as a mapping."""
    pairs = (entry.split("=", 1) for entry in setting.split(",") if "=" in entry)
    return {account.strip(): token.strip() for account, token in pairs if account.strip()}


@dataclass(frozen=True)
class ResolvedCustomer:
    """What ResolveCustomer answered for one registration."""

    seller_account: str
    customer_identifier: str
    aws_account_id: str
    product_code: str
    test: bool
    resolved_at: str


@dataclass(frozen=True)
class ReceivedEvent:
    """One event the seller's rule delivered: the EventBridge envelope, as its queue got it."""

    seller_account: str
    id: str
    source: str
    detail_type: str
    detail: dict[str, Any]
    time: str
    received_at: str

    @property
    def action(self) -> str:
        return str(self.detail.get("action", ""))


@dataclass(frozen=True)
class Refusal:
    """The API's answer when it did not resolve the token, as the registration page shows it."""

    status: int
    name: str  # InvalidTokenException, ... ("" when the answer names none)
    message: str
    body: str


@dataclass
class FakeSeller:
    """The seller applications of the demo accounts, sharing one in-memory log."""

    api: LocalApi
    tokens: Mapping[str, str]  # seller account -> its bearer token
    registrations: list[ResolvedCustomer] = field(default_factory=list)
    events: list[ReceivedEvent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def accounts(self) -> list[str]:
        return sorted(self.tokens)

    def handle(self, method: str, path: str, body: bytes) -> HttpAnswer:
        if method == "GET" and path.rstrip("/") == PREFIX:
            return self._page(200, "index.html", title="Fake seller applications",
                              accounts=self.accounts)  # fmt: skip
        if method == "GET" and path == f"{PREFIX}/registrations.json":
            return _json([asdict(r) for r in self._registrations()])
        if method == "GET" and path == f"{PREFIX}/events.json":
            return _json([asdict(e) for e in self._events()])
        found = _SELLER_PATH.match(path)
        if found is None or found.group("account") not in self.tokens:
            return self._page(404, "message.html", title="Not found",
                              message="No fake seller page here.")  # fmt: skip
        account, page = found.group("account"), found.group("page")
        if page == "register" and method == "POST":
            return self.register(account, body)
        if page == "registrations" and method == "GET":
            return self._page(200, "seller.html", title=f"Seller {account}: customers",
                              accounts=[account], show="registrations")  # fmt: skip
        if page == "events" and method == "GET":
            return self._page(200, "seller.html", title=f"Seller {account}: events",
                              accounts=[account], show="events")  # fmt: skip
        return self._page(405, "message.html", title="Method not allowed",
                          message="The registration page takes the marketplace's form post: "
                          "press Set up your account on Your subscriptions.")  # fmt: skip

    def register(self, account: str, body: bytes) -> HttpAnswer:
        """The seller's registration page: resolve the posted token, welcome the customer."""
        form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        token = (form.get(TOKEN_FIELD) or [""])[0]
        answer = self.api.handle(
            "POST",
            RESOLVE_CUSTOMER,
            headers=[
                ("Content-Type", "application/json"),
                ("Authorization", f"Bearer {self.tokens[account]}"),
            ],
            body=json.dumps({"RegistrationToken": token}).encode(),
        )
        customer = _resolved(account, answer)
        if customer is None:
            refusal = _refusal(answer)
            return self._page(400, "register.html", title="Registration refused",
                              account=account, customer=None, refusal=refusal)  # fmt: skip
        with self.lock:
            self.registrations.append(customer)
        return self._page(200, "register.html", title=f"Welcome, customer "
                          f"{customer.customer_identifier}", account=account,
                          customer=customer, refusal=None)  # fmt: skip

    def receive(self, account: str, envelopes: Iterable[Mapping[str, Any]]) -> None:
        """Keep what the seller's queue delivered (the pump calls this)."""
        received_at = now().isoformat()
        kept = [
            ReceivedEvent(
                seller_account=account,
                id=str(e.get("id", "")),
                source=str(e.get("source", "")),
                detail_type=str(e.get("detail-type", "")),
                detail=_detail(e.get("detail")),
                time=str(e.get("time", "")),
                received_at=received_at,
            )
            for e in envelopes
        ]
        with self.lock:
            self.events.extend(kept)

    def _registrations(self, account: str = "") -> list[ResolvedCustomer]:
        with self.lock:
            return [r for r in self.registrations if not account or r.seller_account == account]

    def _events(self, account: str = "") -> list[ReceivedEvent]:
        with self.lock:
            return [e for e in self.events if not account or e.seller_account == account]

    def _page(self, status: int, template: str, **context: Any) -> HttpAnswer:
        shown = context.get("accounts", [])
        text = PAGES.get_template(template).render(
            prefix=PREFIX,
            registrations={a: self._registrations(a) for a in shown},
            events={a: self._events(a) for a in shown},
            **context,
        )
        return HttpAnswer(status, _headers("text/html; charset=utf-8"), text.encode("utf-8"))


def _detail(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _resolved(account: str, answer: HttpAnswer) -> ResolvedCustomer | None:
    """The customer, when the API answered ResolveCustomer's shape with a 200."""
    if answer.status != 200:
        return None
    try:
        payload = json.loads(answer.body)
        identifier = payload["CustomerIdentifier"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(identifier, str) or not identifier:
        return None
    return ResolvedCustomer(
        seller_account=account,
        customer_identifier=identifier,
        aws_account_id=str(payload.get("CustomerAWSAccountId", "")),
        product_code=str(payload.get("ProductCode", "")),
        test=payload.get("Test") is True,  # ResolveCustomer's marker (docs/FULFILLMENT.md)
        resolved_at=now().isoformat(),
    )


def _refusal(answer: HttpAnswer) -> Refusal:
    """What the API said: AWS's exception name (`__type`) and our error's message (README,
    "ResolveCustomer and GetEntitlements"); an answer of another shape is shown as it came."""
    text = answer.body.decode("utf-8", errors="replace")
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    name = message = ""
    if isinstance(payload, dict):
        name = str(payload.get("__type") or "")
        error = payload.get("error")
        message = str(error.get("message") or "") if isinstance(error, dict) else ""
    return Refusal(status=answer.status, name=name, message=message or text[:300],
                   body=text[:2000])  # fmt: skip


def _headers(content_type: str) -> list[tuple[str, str]]:
    return [("Content-Type", content_type), ("Cache-Control", "no-store")]


def _json(payload: Any) -> HttpAnswer:
    return HttpAnswer(200, _headers("application/json"), json.dumps(payload).encode())
