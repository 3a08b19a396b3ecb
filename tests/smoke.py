"""`make smoke BASE_URL=...`: after a deployment (or against `make run`), walk the buyer's path
over real HTTP with a fresh test-mode integration, and stop at the first step that fails.

Health, a ProfileRequest, a punchout, the storefront page, a cart returned by a form post, a
test-mode purchase order, and (locally, where the mailbox is visible) the mail it announced.
Only public routes, plus the admin API to create the integration: a bearer token with
ADMIN_TOKEN=... (make run), else SigV4 with the shell's AWS credentials (a deployed stage).
Test mode means nothing is invoiced; the integration is disabled at the end."""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import requests

from tests.order_support import order_request
from tests.storefront_support import cart_of
from tests.support import punchout_setup, read_cxml

TIMEOUT = 20
MAIL_WAIT_SECONDS = 30
CART_MODELS = ("contract", "free_trial", "free", "byol")
"""Offers that go to the cart with no usage estimate to fill in."""


class SmokeFailed(Exception):
    pass


class Admin:
    def __init__(self, base: str, token: str | None) -> None:
        self.base = base
        self.token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        else:
            headers = self._signed(method, self.base + path, data, headers)
        reply = requests.request(
            method, self.base + path, data=data, headers=headers, timeout=TIMEOUT
        )
        if reply.status_code >= 300:
            raise SmokeFailed(f"{method} {path}: HTTP {reply.status_code} {reply.text[:300]}")
        return reply.json()

    @staticmethod
    def _signed(method: str, url: str, data: bytes | None, headers: dict[str, str]) -> Any:
        import boto3
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        session = boto3.Session()
        host = urlsplit(url).hostname or ""
        region = session.region_name or (host.split(".")[2] if ".execute-api." in host else None)
        credentials = session.get_credentials()
        if credentials is None or not region:
            raise SmokeFailed("SigV4 needs AWS credentials and a region (or set ADMIN_TOKEN)")
        request = AWSRequest(method=method, url=url, data=data, headers=headers)
        SigV4Auth(credentials, "execute-api", region).add_auth(request)
        return dict(request.headers)


def run(base: str, admin_token: str | None, say: Callable[[str], None]) -> None:
    base = base.rstrip("/")
    admin = Admin(base, admin_token)

    health = requests.get(f"{base}/health", timeout=TIMEOUT)
    _check(health.status_code == 200, f"GET /health: HTTP {health.status_code}")
    say("health: 200")

    products = admin.call("GET", "/admin/products")["products"]
    offer = next(
        (
            (p["id"], o["id"])
            for p in products
            for o in p["offers"]
            if p.get("listed", True) and o["pricing"]["model"] in CART_MODELS
        ),
        None,
    )
    _check(offer is not None, "the catalog has no listed product with a contract or free offer")
    assert offer is not None
    identity = f"smoke-{secrets.token_hex(4)}"
    email = os.environ.get("SMOKE_EMAIL") or f"{identity}@smoke.example"
    account_id = str(100000000000 + secrets.randbelow(899999999999))
    # Integrations belong to an existing buyer account: the operator creates it first.
    admin.call(
        "POST",
        "/admin/accounts",
        {"id": account_id, "name": f"Smoke test {identity}", "contact_email": email},
    )
    say(f"account {account_id} created")
    created = admin.call(
        "POST",
        "/admin/integrations",
        {
            "name": f"Smoke test {identity}",
            "system": "coupa",
            "buyer_identity": {"domain": "DUNS", "identity": identity},
            "account_id": account_id,
            "account_email": email,
            "test_mode": True,
        },
    )
    integration_id = created["integration"]["id"]
    info = created["purchase_information"]
    say(f"integration {integration_id} (test mode) created")
    try:
        _buyer_path(base, info, offer, identity, email, say)
    finally:
        admin.call("POST", f"/admin/integrations/{integration_id}/disable")
        say(f"integration {integration_id} disabled")


def _buyer_path(
    base: str, info: dict[str, Any], offer: tuple[str, str], identity: str, email: str, say: Any
) -> None:
    buyer = (info["buyer_domain"], info["buyer_identity"])

    def setup() -> str:  # the requester is the smoke address too: the mail goes to it alone
        document = punchout_setup(from_credentials=[buyer], secret=info["shared_secret"])
        return document.replace("jim@acme.example", email)

    profile = re.sub(
        r"<PunchOutSetupRequest .*</PunchOutSetupRequest>",
        "<ProfileRequest/>",
        setup(),
        flags=re.S,
    )
    answer = _cxml(info["punchout_url"], profile)
    _check(answer.code == 200, f"ProfileRequest: cXML {answer.code} {answer.message}")
    say("ProfileRequest: 200")

    answer = _cxml(info["punchout_url"], setup())
    _check(answer.code == 200, f"PunchOutSetupRequest: cXML {answer.code} {answer.message}")
    start = answer.find("Response/PunchOutSetupResponse/StartPage/URL")
    say("PunchOutSetupRequest: 200, StartPage received")

    page = requests.get(start, timeout=TIMEOUT)
    _check(page.status_code == 200 and "<html" in page.text.lower(), "the StartPage")
    say("storefront: 200")

    product_id, offer_id = offer
    reply = requests.post(
        f"{start}/requests",
        data={"product_id": product_id, "offer_id": offer_id},
        timeout=TIMEOUT,
    )
    cart = cart_of(SimpleNamespace(status=reply.status_code, text=reply.text))
    say(f"cart returned: {len(cart.lines)} line(s) of {product_id}/{offer_id}")

    po = order_request(
        cart.lines,
        buyer=buyer,
        secret=info["shared_secret"],
        order_id=f"PO-{identity}",
        deployment_mode="test",
    )
    answer = _cxml(info["order_url"], po)
    _check(answer.code == 200, f"OrderRequest: cXML {answer.code} {answer.message}")
    say(f"test-mode purchase order: 200 ({answer.message})")

    mailbox = f"{base}/_local/mailbox.json"
    if requests.get(mailbox, timeout=TIMEOUT).status_code != 200:
        say("mail: not visible on a deployed stage (SES); check the recipient's inbox")
        return
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while time.monotonic() < deadline:
        if email in requests.get(mailbox, timeout=TIMEOUT).text:
            say("mail: recorded in the local mailbox")
            return
        time.sleep(0.5)
    raise SmokeFailed(f"no mail to {email} within {MAIL_WAIT_SECONDS} s")


def _cxml(url: str, document: str) -> Any:
    reply = requests.post(
        url, data=document.encode(), headers={"Content-Type": "text/xml"}, timeout=TIMEOUT
    )
    return read_cxml(reply.status_code, reply.content, reply.headers.get("Content-Type"))


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise SmokeFailed(what)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.smoke", description=__doc__)
    parser.add_argument("base_url", help="e.g. http://127.0.0.1:8080 or the stage's ApiUrl")
    args = parser.parse_args(argv)
    try:
        run(args.base_url, os.environ.get("ADMIN_TOKEN"), lambda line: print(f"smoke: {line}"))
    except (SmokeFailed, AssertionError, requests.RequestException) as failure:
        print(f"smoke: FAILED: {failure}", file=sys.stderr)
        return 1
    print("smoke: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
