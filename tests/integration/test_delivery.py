"""Invoice delivery against moto and a real HTTP endpoint: the fake Coupa (local/fake_coupa.py)
on 127.0.0.1, a random port, in a thread, checking credentials and the DTD as Coupa does. The
delivery queue is worked as Lambda's event source mapping does: receive, invoke the worker,
delete what succeeded, make the failures visible again (so ApproximateReceiveCount grows)."""

from __future__ import annotations

import ipaddress
import json
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from functions import billing, billing_run
from functions.config import settings
from functions.cxml.build import response
from functions.cxml.model import Credential
from functions.delivery import MAX_RECEIVES
from functions.delivery_transport import Answer, Send, Unanswered
from functions.metric_names import INVOICES
from functions.store import invoice_files, invoices, queues
from functions.store.integrations import DynamoIntegrationStore
from functions.store.invoice_sender import HttpInvoiceSender
from local.events import LambdaContext
from local.fake_coupa import FakeCoupa, Party, serve
from tests.billing_support import subscription
from tests.log_support import captured_logs, captured_metrics
from tests.support import ADMIN_TOKEN, admin, coupa_integration

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
US = Party("NetworkID", "procurement-gateway")
BUYER = Party("DUNS", "acme-coupa")


@pytest.fixture
def coupa(tables: dict[str, Any]) -> Iterator[tuple[FakeCoupa, str]]:
    fake = FakeCoupa(supplier=US, buyer=BUYER, sender=US)
    with serve(fake) as url:
        yield fake, url


@pytest.fixture
def quick_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.handlers import delivery_worker

    monkeypatch.setattr(delivery_worker, "SEND_TIMEOUT_SECONDS", 0.5)


def _integration(api: Any, invoice_delivery: dict[str, Any] | None) -> str:
    payload = coupa_integration()
    if invoice_delivery is not None:
        payload["invoice_delivery"] = invoice_delivery
    status, body = admin(api, "POST", "/admin/integrations", payload)
    assert status == 201, body
    return str(body["id"])


def _issue(integration_id: str) -> str:
    """A contract invoice stored as the billing worker stores it, and announced."""
    integration = DynamoIntegrationStore().get(integration_id)
    assert integration is not None
    invoice = billing.contract_invoice(subscription(integration_id=integration_id), NOW)
    assert invoice is not None
    supplier = Credential(US.domain, US.identity)
    document = billing_run.document_of(invoice, billing_run.parties_of(integration, supplier))
    assert invoices.create(invoice, document, billing.summary_json(invoice))
    queues.send(settings().delivery_queue_url, [{"invoice_id": invoice.invoice_id}])
    return invoice.invoice_id


def _lambda_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message["Attributes"],
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    }


def work_queue(sqs: Any) -> tuple[list[str], list[str]]:
    """One round of the delivery queue's event source mapping: (done, failed) message bodies'
    invoice ids. Failures are made visible again at once (instead of after the timeout)."""
    from functions.handlers import delivery_worker

    url = settings().delivery_queue_url
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]
    ).get("Messages", [])
    if not messages:
        return [], []
    answer = delivery_worker.handler(
        {"Records": [_lambda_record(m, arn) for m in messages]}, LambdaContext("delivery_worker")
    )
    failed_ids = {f["itemIdentifier"] for f in answer.get("batchItemFailures") or []}
    done, failed = [], []
    for message in messages:
        invoice_id = json.loads(message["Body"]).get("invoice_id", "?")
        if message["MessageId"] in failed_ids:
            sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
            failed.append(invoice_id)
        else:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            done.append(invoice_id)
    return done, failed


def _stored(invoice_id: str) -> invoices.StoredInvoice:
    found = invoices.get(invoice_id, consistent=True)
    assert found is not None
    return found


def _queued(sqs: Any, name: str = "local-delivery") -> list[dict[str, Any]]:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def _wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


# --- the tests ------------------------------------------------------------------------------


def test_delivered_with_the_coupa_credentials_and_the_stored_document(
    api: Any, tables: dict[str, Any], coupa: tuple[FakeCoupa, str]
) -> None:
    fake, url = coupa
    invoice_id = _issue(_integration(api, fake.invoice_delivery(url)))

    done, failed = work_queue(tables["sqs"])

    assert (done, failed) == ([invoice_id], [])
    assert fake.received() == [invoice_id], "credentials and DTD accepted by the fake Coupa"
    invoice = _stored(invoice_id)
    assert invoice.state == "delivered"
    assert invoice.delivery["attempts"] == 1 and invoice.delivery["last_code"] == 200
    assert invoice.delivery["delivered_at"]
    posted = etree.fromstring(fake.invoices[invoice_id])
    kept = etree.fromstring(invoice_files.read(invoice.s3_key))
    assert posted.get("payloadID") == kept.get("payloadID")
    assert posted.findtext("Header/Sender/Credential/SharedSecret") == fake.shared_secret
    assert kept.find("Header/Sender/Credential/SharedSecret") is None, "no secret in S3"
    assert work_queue(tables["sqs"]) == ([], []), "the message was consumed"


def test_a_secret_moved_to_another_integration_fails_the_delivery_cleanly(
    api: Any, tables: dict[str, Any], coupa: tuple[FakeCoupa, str]
) -> None:
    # Given two integrations, and the sealed invoice secret of the first copied onto the second
    # (as someone with write access to the table could)
    fake, url = coupa
    first = _integration(api, fake.invoice_delivery(url))
    second_payload = coupa_integration(
        name="Other Coupa", buyer_identity={"domain": "DUNS", "identity": "other-coupa"}
    )
    other_secret = "x" * 20
    second_payload["invoice_delivery"] = {
        **fake.invoice_delivery(url),
        "shared_secret": other_secret,
    }
    status, body = admin(api, "POST", "/admin/integrations", second_payload)
    assert status == 201, body
    second = str(body["id"])
    items = tables["dynamodb"].scan(TableName="local-integrations")["Items"]
    items = [i for i in items if "integration_id" in i]  # the integrations, not their account
    copied = next(i for i in items if i["integration_id"]["S"] == first)["invoice_delivery"]
    for item in items:
        if item["integration_id"]["S"] == second:
            tables["dynamodb"].update_item(
                TableName="local-integrations",
                Key={"pk": item["pk"]},
                UpdateExpression="SET invoice_delivery = :copied",
                ExpressionAttributeValues={":copied": copied},
            )
    invoice_id = _issue(second)

    # When the delivery worker takes the invoice
    with captured_logs() as logs:
        done, failed = work_queue(tables["sqs"])

    # Then nothing reaches Coupa, the invoice fails at once (no retry can help) with a reason
    # the admin can act on, logged as an error, and no secret is in any log line
    assert (done, failed) == ([invoice_id], [])
    assert fake.received() == []
    invoice = _stored(invoice_id)
    assert invoice.state == "failed"
    assert "cannot be decrypted" in invoice.delivery["last_text"]
    assert "invoice_delivery.shared_secret" in invoice.delivery["last_text"]
    errors = [r for r in logs.records() if r["level"] == "ERROR"]
    assert [r["invoice_id"] for r in errors] == [invoice_id]
    assert "cannot be decrypted" in errors[0]["last_text"]
    logged = "\n".join(logs)
    assert fake.shared_secret not in logged and other_secret not in logged


def test_bad_credentials_are_rejected_at_once_then_fixed_and_delivered_again(
    api: Any, tables: dict[str, Any], coupa: tuple[FakeCoupa, str]
) -> None:
    fake, url = coupa
    integration_id = _integration(api, {**fake.invoice_delivery(url), "shared_secret": "wrong"})
    invoice_id = _issue(integration_id)

    done, _ = work_queue(tables["sqs"])

    assert done == [invoice_id], "a 401 is not retried"
    invoice = _stored(invoice_id)
    assert invoice.state == "rejected"
    assert invoice.delivery["last_code"] == 401
    assert "Invalid credentials" in invoice.delivery["last_text"]
    assert fake.received() == []

    # When the admin corrects the secret and asks for the invoice again
    status, _ = admin(
        api,
        "PATCH",
        f"/admin/integrations/{integration_id}",
        {"invoice_delivery": fake.invoice_delivery(url)},
    )
    assert status == 200
    status, body = admin(api, "POST", f"/admin/invoices/{invoice_id}/deliver")
    assert status == 202 and body["invoice"]["state"] == "created"
    work_queue(tables["sqs"])

    # Then it is delivered with the new credentials, its log counting both attempts
    invoice = _stored(invoice_id)
    assert (invoice.state, invoice.delivery["attempts"]) == ("delivered", 2)
    assert fake.received() == [invoice_id]


def test_two_server_errors_then_delivered_once(
    api: Any, tables: dict[str, Any], coupa: tuple[FakeCoupa, str]
) -> None:
    fake, url = coupa
    invoice_id = _issue(_integration(api, fake.invoice_delivery(url)))
    fake.fail_next(2)

    rounds = [work_queue(tables["sqs"]) for _ in range(4)]

    assert rounds == [([], [invoice_id]), ([], [invoice_id]), ([invoice_id], []), ([], [])]
    invoice = _stored(invoice_id)
    assert invoice.state == "delivered"
    assert (invoice.delivery["attempts"], invoice.delivery["last_code"]) == (3, 200)
    assert fake.received() == [invoice_id]
    assert [entry.code for entry in fake.log] == [500, 500, 200]


def test_a_timeout_is_retried(
    api: Any, tables: dict[str, Any], coupa: tuple[FakeCoupa, str], quick_timeout: None
) -> None:
    fake, url = coupa
    invoice_id = _issue(_integration(api, fake.invoice_delivery(url)))
    fake.stall_next(1, seconds=10)

    first = work_queue(tables["sqs"])
    after_timeout = _stored(invoice_id)
    second = work_queue(tables["sqs"])

    assert first == ([], [invoice_id])
    assert after_timeout.state == "created"
    assert after_timeout.delivery["last_text"] == "No answer: timed out after 0.5 s"
    assert second == ([invoice_id], [])
    assert _stored(invoice_id).state == "delivered"


def test_a_417_after_a_lost_answer_means_coupa_has_it(
    api: Any, tables: dict[str, Any], coupa: tuple[FakeCoupa, str], quick_timeout: None
) -> None:
    fake, url = coupa
    invoice_id = _issue(_integration(api, fake.invoice_delivery(url)))
    fake.stall_next(1, seconds=10)
    work_queue(tables["sqs"])  # times out...
    fake.release()  # ...but Coupa takes the invoice after all
    _wait_for(lambda: fake.received() == [invoice_id])

    work_queue(tables["sqs"])

    invoice = _stored(invoice_id)
    assert invoice.state == "delivered"
    assert invoice.delivery["last_code"] == 417
    assert "already holding" in invoice.delivery["note"]
    assert [entry.code for entry in fake.log] == [200, 417]


def test_the_last_attempt_marks_failed_and_consumes_the_message(
    api: Any, tables: dict[str, Any], coupa: tuple[FakeCoupa, str]
) -> None:
    fake, url = coupa
    invoice_id = _issue(_integration(api, fake.invoice_delivery(url)))
    fake.fail_next(100)

    rounds = [work_queue(tables["sqs"]) for _ in range(MAX_RECEIVES + 1)]

    assert rounds == [([], [invoice_id])] * (MAX_RECEIVES - 1) + [([invoice_id], []), ([], [])]
    invoice = _stored(invoice_id)
    assert (invoice.state, invoice.delivery["attempts"]) == ("failed", MAX_RECEIVES)
    assert invoice.delivery["last_code"] == 500
    assert _queued(tables["sqs"], "local-delivery-dlq") == []


def test_a_document_coupa_finds_dtd_invalid_is_rejected(
    api: Any, tables: dict[str, Any], coupa: tuple[FakeCoupa, str]
) -> None:
    fake, url = coupa
    invoice_id = _issue(_integration(api, fake.invoice_delivery(url)))
    key = _stored(invoice_id).s3_key
    document = invoice_files.read(key)
    broken = document.replace(b"<InvoiceDetailSummary>", b"<InvoiceDetailSummary><Oops/>")
    invoice_files.put(key, broken, invoice_files.XML_TYPE)

    work_queue(tables["sqs"])

    invoice = _stored(invoice_id)
    assert (invoice.state, invoice.delivery["last_code"]) == ("rejected", 406)
    assert "DTD" in invoice.delivery["last_text"]


def test_without_an_endpoint_the_invoice_is_stored_until_one_is_set(
    api: Any, tables: dict[str, Any], coupa: tuple[FakeCoupa, str]
) -> None:
    fake, url = coupa
    integration_id = _integration(api, None)
    invoice_id = _issue(integration_id)

    work_queue(tables["sqs"])

    assert _stored(invoice_id).state == "stored"
    status, body = admin(api, "POST", f"/admin/invoices/{invoice_id}/deliver")
    assert status == 409 and body["error"]["field"] == "invoice_delivery"

    admin(
        api,
        "PATCH",
        f"/admin/integrations/{integration_id}",
        {"invoice_delivery": fake.invoice_delivery(url)},
    )
    status, _ = admin(api, "POST", f"/admin/invoices/{invoice_id}/deliver")
    assert status == 202
    work_queue(tables["sqs"])
    assert _stored(invoice_id).state == "delivered"
    assert fake.received() == [invoice_id]


def test_redelivering_a_delivered_invoice_needs_force_and_keeps_it_delivered(
    api: Any, tables: dict[str, Any], coupa: tuple[FakeCoupa, str]
) -> None:
    fake, url = coupa
    invoice_id = _issue(_integration(api, fake.invoice_delivery(url)))
    work_queue(tables["sqs"])

    status, body = admin(api, "POST", f"/admin/invoices/{invoice_id}/deliver")
    assert status == 409 and "force=true" in body["error"]["message"]
    assert _queued(tables["sqs"]) == []

    answer = api.handle(
        "POST",
        f"/admin/invoices/{invoice_id}/deliver",
        query="force=true",
        headers=[("Authorization", f"Bearer {ADMIN_TOKEN}")],
    )
    assert answer.status == 202 and json.loads(answer.body)["queued"] is True
    work_queue(tables["sqs"])

    invoice = _stored(invoice_id)
    assert invoice.state == "delivered"
    assert (invoice.delivery["attempts"], invoice.delivery["last_code"]) == (2, 417)
    assert fake.received() == [invoice_id], "Coupa keeps one invoice per number"


def test_a_duplicate_message_sends_nothing_more(
    api: Any, tables: dict[str, Any], coupa: tuple[FakeCoupa, str]
) -> None:
    fake, url = coupa
    invoice_id = _issue(_integration(api, fake.invoice_delivery(url)))
    queues.send(settings().delivery_queue_url, [{"invoice_id": invoice_id}])

    work_queue(tables["sqs"])

    assert [entry.code for entry in fake.log] == [200]
    assert _stored(invoice_id).delivery["attempts"] == 1


def test_an_unreadable_message_fails_alone(
    api: Any, tables: dict[str, Any], coupa: tuple[FakeCoupa, str]
) -> None:
    fake, url = coupa
    invoice_id = _issue(_integration(api, fake.invoice_delivery(url)))
    queues.send(settings().delivery_queue_url, [{"invoice": "x"}, {"invoice_id": "INV-NONE"}])

    done, failed = work_queue(tables["sqs"])

    assert done == [invoice_id]
    assert sorted(failed) == ["?", "INV-NONE"]
    assert _stored(invoice_id).state == "delivered"


# --- the HTTP adapter on its own ----------------------------------------------------------------


@contextmanager
def _server(answer: tuple[int, list[tuple[str, str]], bytes], tls: bool = False) -> Iterator[str]:
    """A one-answer HTTP(S) server on 127.0.0.1, in a thread, stopped on the way out."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, headers, body = answer
            self.send_response(status)
            for name, value in [*headers, ("Content-Length", str(len(body)))]:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as directory:
            cert, key = _self_signed(Path(directory))
            context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}/cxml/invoices"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _self_signed(directory: Path) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.now(UTC) - timedelta(days=1))
        .not_valid_after(datetime.now(UTC) + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def test_the_sender_checks_certificates() -> None:
    answer = (200, [("Content-Type", "text/xml")], response(200))
    with _server(answer, tls=True) as url, pytest.raises(Unanswered, match="TLS failure") as no:
        HttpInvoiceSender().post(Send(url, b"<cXML/>", timeout=5))

    assert "CERTIFICATE_VERIFY_FAILED" in str(no.value)


def test_the_sender_follows_no_redirect_and_hands_back_error_answers() -> None:
    moved = (302, [("Location", "https://elsewhere.example/")], b"moved")
    refused = (401, [("Content-Type", "text/xml")], response(401, "Invalid credentials."))
    sender = HttpInvoiceSender(allow_local_http=True)

    with _server(moved) as url:
        assert sender.post(Send(url, b"<cXML/>", timeout=5)) == Answer(302, b"moved")
    with _server(refused) as url:
        assert sender.post(Send(url, b"<cXML/>", timeout=5)) == Answer(401, refused[2])


def test_the_sender_reports_a_closed_port_as_no_answer() -> None:
    with _server((200, [], b"")) as url:
        pass  # stopped: nothing listens there any more

    with pytest.raises(Unanswered, match="could not connect"):
        HttpInvoiceSender(allow_local_http=True).post(Send(url, b"<cXML/>", timeout=5))


def test_invoices_are_counted_rejected_and_delivered_never_while_retried(
    api: Any, tables: dict[str, Any], coupa: tuple[FakeCoupa, str]
) -> None:
    # Given an invoice for an integration whose invoice secret is wrong
    fake, url = coupa
    integration_id = _integration(api, {**fake.invoice_delivery(url), "shared_secret": "wrong"})
    invoice_id = _issue(integration_id)

    # When Coupa rejects it, the admin fixes the secret and redelivers, and Coupa fails once
    with captured_metrics() as emitted:
        work_queue(tables["sqs"])
        admin(
            api,
            "PATCH",
            f"/admin/integrations/{integration_id}",
            {"invoice_delivery": fake.invoice_delivery(url)},
        )
        admin(api, "POST", f"/admin/invoices/{invoice_id}/deliver")
        fake.fail_next(1)
        rounds = [work_queue(tables["sqs"]) for _ in range(2)]

    # Then the operator sees one rejection and one delivery; the retried 500 is no outcome
    assert rounds == [([], [invoice_id]), ([invoice_id], [])]
    assert _stored(invoice_id).state == "delivered"
    assert emitted.by(INVOICES, "outcome") == {"rejected": 1, "delivered": 1}


def test_an_invoice_out_of_attempts_is_counted_failed_once(
    api: Any, tables: dict[str, Any], coupa: tuple[FakeCoupa, str]
) -> None:
    # Given an invoice whose buyer system answers 500 to every attempt
    fake, url = coupa
    invoice_id = _issue(_integration(api, fake.invoice_delivery(url)))
    fake.fail_next(100)

    # When the queue retries it until its last attempt
    with captured_metrics() as emitted:
        for _ in range(MAX_RECEIVES):
            work_queue(tables["sqs"])

    # Then it is failed, and counted so once (the alarm on failed invoices fires on it)
    assert _stored(invoice_id).state == "failed"
    assert emitted.by(INVOICES, "outcome") == {"failed": 1}
