"""`make run`: the whole API on http://127.0.0.1:$PORT, AWS mocked in-process by moto.

Seeds a demo Coupa and a demo Ariba integration and prints what a buyer's admin would paste
into their procurement system. Local-only pages: the emails the stack sent at /_local/mailbox,
a buyer simulator (Coupa or Ariba punching out) at /_local/simulator, and the demo Coupa's
invoice endpoint at /_local/coupa/cxml/invoices (local/fake_coupa.py: what it received at
/_local/coupa; `POST /_local/coupa/fail?count=N` makes it answer 500 N times), and a fake SAP
Business Network at /_local/ariba/cxml taking the demo Ariba integration's invoices
(local/fake_business_network.py; the same control routes under /_local/ariba), and the demo
sellers' applications at /_local/seller (local/fake_seller.py: registration pages resolving the
token through the API, the customers resolved and the events received). The buyer console at
/console signs in against moto's Cognito (local/cognito.py; its key served at
/_local/cognito/.well-known/jwks.json) as the demo buyer admin the banner prints. A background
thread stands in for the outbox stream's Lambda trigger (local/outbox.py): it runs the email
worker every 0.5 s."""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import boto3
from moto import mock_aws

from local import (
    cognito,
    fake_business_network,
    fake_coupa,
    fake_seller,
    fake_seller_events,
    mailbox,
    simulator,
)
from local.aws import configure_environment, create_resources
from local.fake_business_network import FakeBusinessNetwork
from local.fake_coupa import FakeCoupa, Party
from local.fake_seller import FakeSeller
from local.outbox import OutboxPump
from local.queues import QueuePump
from local.seed import seed
from local.simulator import BuyerSimulator, accounts_from_seed
from local.stack import LocalApi, too_large

MAX_BODY = 12 * 1024 * 1024


def make_handler(
    api: LocalApi,
    buyer: BuyerSimulator,
    pump: OutboxPump,
    coupa: FakeCoupa,
    network: FakeBusinessNetwork | None = None,
    seller: FakeSeller | None = None,
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "ProcurementGatewayLocal/1"
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.close_connection = True  # the body is left unread
                answer = too_large()
                self._write(answer.status, answer.headers, answer.body)
                return
            body = self.rfile.read(length) if length else b""
            url = urlsplit(self.path)
            if url.path == simulator.PREFIX or url.path.startswith(f"{simulator.PREFIX}/"):
                answer = buyer.handle(self.command, url.path, body)
                self._write(answer.status, answer.headers, answer.body)
                return
            if url.path == fake_coupa.CONTROL or url.path.startswith(f"{fake_coupa.CONTROL}/"):
                status, content_type, document = fake_coupa.handle(
                    coupa, self.command, url.path, url.query, body
                )
                self._write(status, [("Content-Type", content_type)], document)
                return
            control = fake_business_network.CONTROL
            if network is not None and (url.path == control or url.path.startswith(control + "/")):
                status, content_type, document = fake_business_network.handle(
                    network, self.command, url.path, url.query, body
                )
                self._write(status, [("Content-Type", content_type)], document)
                return
            if seller is not None and (
                url.path == fake_seller.PREFIX or url.path.startswith(fake_seller.PREFIX + "/")
            ):
                answer = seller.handle(self.command, url.path, body)
                self._write(answer.status, answer.headers, answer.body)
                return
            if url.path == cognito.JWKS_PATH:  # what the console's verifier reads
                self._write(200, [("Content-Type", "application/json")], cognito.public_jwks())
                return
            if url.path.startswith("/_local/"):
                status, content_type, text = mailbox.page(url.path, pump.dead_letters())
                self._write(status, [("Content-Type", content_type)], text.encode())
                return
            answer = api.handle(self.command, url.path, url.query, list(self.headers.items()), body)
            self._write(answer.status, answer.headers, answer.body)

        def _write(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return Handler


def main() -> None:
    port = int(os.environ.get("PORT", "8080"))
    host = os.environ.get("HOST", "127.0.0.1")
    base_url = os.environ.get("PUBLIC_BASE_URL") or f"http://{host}:{port}"
    # Ariba invoices go to the fake SAP Business Network below, from a demo supplier ANID.
    env = configure_environment(
        base_url,
        ARIBA_INVOICE_URL=f"http://127.0.0.1:{port}{fake_business_network.PATH}",
        ARIBA_SUPPLIER_ANID=os.environ.get("ARIBA_SUPPLIER_ANID") or "AN02000000001-T",
    )
    with mock_aws():
        # The console's user pool (moto's Cognito) and the demo buyer admin (local/cognito.py).
        users = boto3.client("cognito-idp", region_name=env["AWS_REGION"])
        pool = cognito.create_console_pool(users, f"{base_url}/console")
        os.environ.update(pool, CONSOLE_JWKS_URL=f"http://127.0.0.1:{port}{cognito.JWKS_PATH}")
        console_admin = cognito.seed_demo_admin(users, pool["CONSOLE_USER_POOL_ID"])
        cognito.install_invitation_mail(f"{base_url}/console", env["AWS_REGION"])  # to the mailbox
        create_resources(
            boto3.client("dynamodb", region_name=env["AWS_REGION"]),
            boto3.client("ses", region_name=env["AWS_REGION"]),
            boto3.client("s3", region_name=env["AWS_REGION"]),
            boto3.client("sqs", region_name=env["AWS_REGION"]),
            boto3.client("kms", region_name=env["AWS_REGION"]),
        )
        api = LocalApi(host=f"{host}:{port}")
        # The delivery worker runs in this process: it reaches the fake Coupa over loopback
        # (plain http is allowed there only: INVOICE_DELIVERY_LOCAL_HTTP in local/aws.py).
        coupa_url = f"http://127.0.0.1:{port}{fake_coupa.PATH}"
        us = Party(os.environ.get("SUPPLIER_DOMAIN", "NetworkID"),
                   os.environ.get("SUPPLIER_IDENTITY", "procurement-gateway"))  # fmt: skip
        coupa = fake_coupa.demo(us, Party(**_demo_coupa_buyer()))
        demo = seed(
            api,
            env["ADMIN_TOKEN"],
            coupa_invoice_delivery=coupa.invoice_delivery(coupa_url),
            fulfillment_base_url=base_url,
        )
        seller = FakeSeller(api, fake_seller.seller_tokens(env["SELLER_TOKENS"]))
        network = FakeBusinessNetwork(
            env["ARIBA_SUPPLIER_ANID"], env["ARIBA_SHARED_SECRET"], _demo_ariba_buyers()
        )
        buyer = BuyerSimulator(api, base_url, accounts_from_seed(demo, env["ARIBA_SHARED_SECRET"]))
        pump = OutboxPump(env["OUTBOX_TABLE"], env["AWS_REGION"])
        queues = QueuePump(env["BILLING_QUEUE_URL"], env["DELIVERY_QUEUE_URL"], env["AWS_REGION"])
        server = ThreadingHTTPServer(
            (host, port), make_handler(api, buyer, pump, coupa, network, seller)
        )
        print(json.dumps({
            "api": base_url,
            "admin_token": env["ADMIN_TOKEN"],
            "ariba_shared_secret": env["ARIBA_SHARED_SECRET"],
            "mailbox": f"{base_url}/_local/mailbox",
            "simulator": f"{base_url}{simulator.PREFIX}",
            "fake_coupa_invoices": f"{base_url}{fake_coupa.CONTROL}",
            "fake_business_network": f"{base_url}{fake_business_network.CONTROL}",
            "fake_seller": f"{base_url}{fake_seller.PREFIX}",
            "seller_tokens": env.get("SELLER_TOKENS", ""),
            "console": {"sign_in": f"{base_url}/console/sign-in", **console_admin},
            "integrations": demo,
        }, indent=2), flush=True)  # fmt: skip
        print(f"Procurement Gateway (local) listening on {base_url}", flush=True)
        pump.start()  # after the banner: the worker's log lines never interleave with it
        queues.start()  # billing runs and invoice deliveries, like the SQS event sources
        # each fake seller's rule on the seller events' bus, its queue pumped into its log
        seller_events = fake_seller_events.start(seller, env["AWS_REGION"], env["EVENT_BUS_NAME"])
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            pump.stop()
            queues.stop()
            seller_events.stop()
            server.server_close()


def _demo_coupa_buyer() -> dict[str, str]:
    """The demo Coupa integration's buyer identity: the To credential its invoices carry."""
    from local.seed import DEMO_INTEGRATIONS

    coupa = next(i for i in DEMO_INTEGRATIONS if i["system"] == "coupa")
    return dict(coupa["buyer_identity"])


def _demo_ariba_buyers() -> set[str]:
    """The demo Ariba integrations' buyer ANIDs: the buyers the fake network trades with."""
    from local.seed import DEMO_INTEGRATIONS

    return {i["buyer_identity"]["identity"] for i in DEMO_INTEGRATIONS if i["system"] == "ariba"}


if __name__ == "__main__":
    main()
