"""The admin API's invoice side against moto: the invoice endpoint setting on integrations,
listing and reading invoices, asking for delivery again, starting a billing run."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from functions import billing, billing_run
from functions.config import settings
from functions.cxml.model import Credential
from functions.integrations import SealedSecret
from functions.store import invoices
from functions.store.integrations import DynamoIntegrationStore
from functions.store.kms import KmsSecretBox
from tests.billing_support import subscription
from tests.support import ADMIN_TOKEN, INVOICE_DELIVERY, admin, ariba_integration, coupa_integration

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def _items(tables: dict[str, Any]) -> list[dict[str, Any]]:
    items = tables["dynamodb"].scan(TableName="local-integrations")["Items"]
    return [item for item in items if not item["pk"]["S"].startswith("account#")]  # no accounts


def _secret_box() -> KmsSecretBox:
    return KmsSecretBox(settings().invoice_secret_key, settings().region)


def _opened(tables: dict[str, Any], integration_id: str, ciphertext: str) -> str:
    """What KMS decrypts a stored ciphertext to, under the integration's encryption context."""
    blob = base64.b64decode(ciphertext)
    answer = tables["kms"].decrypt(
        CiphertextBlob=blob, EncryptionContext={"integration_id": integration_id}
    )
    return bytes(answer["Plaintext"]).decode()


def _get(api: Any, path: str, query: str = "", token: str | None = ADMIN_TOKEN) -> tuple[int, Any]:
    headers = [("Authorization", f"Bearer {token}")] if token else []
    answer = api.handle("GET", path, query=query, headers=headers)
    assert answer.header("Content-Type") == "application/json", answer.headers
    return answer.status, json.loads(answer.body)


def _queued(tables: dict[str, Any], url: str) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while True:
        answer = tables["sqs"].receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        messages = answer.get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            tables["sqs"].delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


# --- the invoice endpoint setting ---------------------------------------------------------------


def test_the_setting_is_kept_on_both_items_and_shown_without_its_secret(
    api: Any, tables: dict[str, Any]
) -> None:
    status, created = admin(
        api, "POST", "/admin/integrations", coupa_integration(invoice_delivery=INVOICE_DELIVERY)
    )

    assert status == 201
    assert created["integration"]["invoice_delivery"] == {
        **INVOICE_DELIVERY,
        "shared_secret": "set",
    }
    stored = _items(tables)
    assert len(stored) == 2
    assert "coupa-supplier-secret" not in json.dumps(stored), "only sealed, on either item"
    sealed = {json.loads(item["invoice_delivery"]["S"])["sealed_shared_secret"] for item in stored}
    assert len(sealed) == 1, "both copies, written in one transaction"
    assert _opened(tables, created["id"], sealed.pop()) == "coupa-supplier-secret"
    _, fetched = admin(api, "GET", f"/admin/integrations/{created['id']}")
    _, listed = admin(api, "GET", "/admin/integrations")
    assert "coupa-supplier-secret" not in json.dumps([fetched, listed])


def test_patch_keeps_replaces_or_removes_the_setting(api: Any, tables: dict[str, Any]) -> None:
    _, created = admin(
        api, "POST", "/admin/integrations", coupa_integration(invoice_delivery=INVOICE_DELIVERY)
    )
    path = f"/admin/integrations/{created['id']}"
    moved = {k: v for k, v in INVOICE_DELIVERY.items() if k != "shared_secret"}
    moved["url"] = "https://acme-eu.coupahost.com/cxml/invoices"

    status, patched = admin(api, "PATCH", path, {"invoice_delivery": moved})
    assert status == 200
    assert patched["integration"]["invoice_delivery"]["url"] == moved["url"]
    kept = DynamoIntegrationStore().get(created["id"])
    assert kept is not None and kept.invoice_delivery is not None
    assert isinstance(kept.invoice_delivery.shared_secret, SealedSecret)
    assert _secret_box().open(created["id"], kept.invoice_delivery.shared_secret) == (
        "coupa-supplier-secret"
    )

    status, removed = admin(api, "PATCH", path, {"invoice_delivery": None})
    assert status == 200 and removed["integration"]["invoice_delivery"] is None
    assert all("invoice_delivery" not in item for item in _items(tables))


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (coupa_integration(invoice_delivery={**INVOICE_DELIVERY, "url": "http://acme.example/x"}),
         "invoice_delivery.url"),
        (coupa_integration(invoice_delivery={**INVOICE_DELIVERY, "to": {"domain": "DUNS"}}),
         "invoice_delivery.to.identity"),
        (ariba_integration(invoice_delivery=INVOICE_DELIVERY), "invoice_delivery"),
    ],
)  # fmt: skip
def test_a_bad_setting_is_refused_naming_the_field(
    api: Any, tables: dict[str, Any], payload: dict[str, Any], field: str
) -> None:
    status, body = admin(api, "POST", "/admin/integrations", payload)

    assert status == 400 and body["error"]["field"] == field
    assert _items(tables) == []


# --- invoices -----------------------------------------------------------------------------------


def _integration(api: Any) -> str:
    _, created = admin(api, "POST", "/admin/integrations", coupa_integration())
    return str(created["id"])


def _issue(integration_id: str, *, subscription_id: str, period: str | None = None) -> str:
    integration = DynamoIntegrationStore().get(integration_id)
    assert integration is not None
    subscribed = subscription(id=subscription_id, integration_id=integration_id)
    if period is None:
        invoice = billing.contract_invoice(subscribed, NOW)
    else:
        invoice = billing.usage_invoice(
            subscribed,
            period,
            {"hours": Decimal(1500)},
            {"hours": Decimal(1500)},
            NOW,
        )
    assert invoice is not None
    parties = billing_run.parties_of(integration, Credential("NetworkID", "procurement-gateway"))
    document = billing_run.document_of(invoice, parties)
    assert invoices.create(invoice, document, billing.summary_json(invoice))
    return invoice.invoice_id


def test_invoices_listed_by_integration_period_and_subscription(
    api: Any, tables: dict[str, Any]
) -> None:
    integration_id = _integration(api)
    other = _integration_other(api)
    contract = _issue(integration_id, subscription_id="req-aaaa")
    october = _issue(integration_id, subscription_id="req-aaaa", period="2026-10")
    november = _issue(integration_id, subscription_id="req-bbbb", period="2026-11")
    _issue(other, subscription_id="req-cccc", period="2026-11")

    status, everything = _get(api, "/admin/invoices", f"integration_id={integration_id}")
    _, one_period = _get(api, "/admin/invoices", f"integration_id={integration_id}&period=2026-11")
    _, one_subscription = _get(
        api, "/admin/invoices", f"integration_id={integration_id}&subscription_id=req-aaaa"
    )

    assert status == 200
    assert [i["invoice_id"] for i in everything["invoices"]] == [contract, november, october]
    assert [i["invoice_id"] for i in one_period["invoices"]] == [november]
    assert {i["invoice_id"] for i in one_subscription["invoices"]} == {contract, october}
    shown = next(i for i in everything["invoices"] if i["invoice_id"] == october)
    assert shown["state"] == "created"
    assert shown["location"] == (
        f"s3://local-invoices/invoices/{integration_id}/2026-10/{october}.xml"
    )
    assert shown["totals"] == {
        "subtotal": "120.00",
        "tax": "0.00",
        "net": "120.00",
        "due": "120.00",
    }
    assert shown["currency"] == "USD" and shown["order_id"] == "PO-7"
    assert shown["awaiting_budget"] is False
    assert shown["budget"]["approved_budget"] == "1000"
    assert shown["delivery"]["attempts"] == 0


def _integration_other(api: Any) -> str:
    _, created = admin(
        api,
        "POST",
        "/admin/integrations",
        coupa_integration(name="Other", buyer_identity={"domain": "DUNS", "identity": "other"}),
    )
    return str(created["id"])


def test_one_invoice_with_its_lines(api: Any, tables: dict[str, Any]) -> None:
    integration_id = _integration(api)
    invoice_id = _issue(integration_id, subscription_id="req-aaaa", period="2026-11")

    status, body = _get(api, f"/admin/invoices/{invoice_id}")

    assert status == 200
    invoice = body["invoice"]
    assert invoice["summary_location"].endswith(f"/2026-11/{invoice_id}.json")
    assert [line["quantity"] for line in invoice["summary"]["lines"]] == ["1500"]
    assert invoice["summary"]["approved_budget"] == "1000"


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("", 400, "integration_id"),
        ("integration_id=int_nope", 404, None),
        ("integration_id={id}&period=2026-13", 400, "period"),
    ],
)
def test_listing_needs_a_known_integration_and_a_real_period(
    api: Any, tables: dict[str, Any], query: str, status: int, field: str | None
) -> None:
    integration_id = _integration(api)

    answer_status, body = _get(api, "/admin/invoices", query.format(id=integration_id))

    assert answer_status == status
    assert body["error"].get("field") == field


def test_unknown_invoices_and_missing_tokens(api: Any, tables: dict[str, Any]) -> None:
    assert _get(api, "/admin/invoices/INV-NOPE")[0] == 404
    assert admin(api, "POST", "/admin/invoices/INV-NOPE/deliver")[0] == 404
    assert _get(api, "/admin/invoices", "integration_id=x", token=None)[0] == 401
    assert admin(api, "POST", "/admin/billing-runs", {"period": "2026-11"}, token=None)[0] == 401


def test_redelivery_puts_a_finished_invoice_back_in_the_queue(
    api: Any, tables: dict[str, Any]
) -> None:
    _, created = admin(
        api, "POST", "/admin/integrations", coupa_integration(invoice_delivery=INVOICE_DELIVERY)
    )
    invoice_id = _issue(created["id"], subscription_id="req-aaaa", period="2026-11")
    log = {"attempts": 5, "last_code": 500, "last_text": "500 Internal Server Error"}
    assert invoices.mark(invoice_id, "failed", log)

    status, body = admin(api, "POST", f"/admin/invoices/{invoice_id}/deliver")

    assert status == 202 and body["queued"] is True
    assert body["invoice"]["state"] == "created"
    assert body["invoice"]["delivery"]["attempts"] == 5, "the log is kept"
    assert _queued(tables, settings().delivery_queue_url) == [{"invoice_id": invoice_id}]


def test_redelivery_force_must_be_a_flag(api: Any, tables: dict[str, Any]) -> None:
    _, created = admin(
        api, "POST", "/admin/integrations", coupa_integration(invoice_delivery=INVOICE_DELIVERY)
    )
    invoice_id = _issue(created["id"], subscription_id="req-aaaa")

    answer = api.handle(
        "POST",
        f"/admin/invoices/{invoice_id}/deliver",
        query="force=maybe",
        headers=[("Authorization", f"Bearer {ADMIN_TOKEN}")],
    )

    assert answer.status == 400 and json.loads(answer.body)["error"]["field"] == "force"


# --- billing runs -------------------------------------------------------------------------------


def test_a_billing_run_starts_one_walk_per_shard(api: Any, tables: dict[str, Any]) -> None:
    status, body = admin(api, "POST", "/admin/billing-runs", {"period": "2026-11"})

    assert status == 202
    assert body == {"period": "2026-11", "shards": 16}
    queued = _queued(tables, settings().billing_queue_url)
    assert sorted(int(m["shard"]) for m in queued) == list(range(16))
    assert {(m["kind"], m["period"]) for m in queued} == {("shard", "2026-11")}


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"period": "2026-13"}, "period"), ({}, "period"), ({"period": "2026-11", "x": 1}, "x")],
)
def test_a_billing_run_needs_a_month(
    api: Any, tables: dict[str, Any], payload: dict[str, Any], field: str
) -> None:
    status, body = admin(api, "POST", "/admin/billing-runs", payload)

    assert status == 400 and body["error"]["field"] == field
    assert _queued(tables, settings().billing_queue_url) == []


def test_an_invoice_on_its_way_is_queued_again_only_when_forced(
    api: Any, tables: dict[str, Any]
) -> None:
    _, created = admin(
        api, "POST", "/admin/integrations", coupa_integration(invoice_delivery=INVOICE_DELIVERY)
    )
    invoice_id = _issue(created["id"], subscription_id="req-aaaa")

    status, body = admin(api, "POST", f"/admin/invoices/{invoice_id}/deliver")
    assert status == 409 and "already on its way" in body["error"]["message"]
    assert _queued(tables, settings().delivery_queue_url) == []

    answer = api.handle(
        "POST",
        f"/admin/invoices/{invoice_id}/deliver",
        query="force=true",
        headers=[("Authorization", f"Bearer {ADMIN_TOKEN}")],
    )
    assert answer.status == 202
    assert _queued(tables, settings().delivery_queue_url) == [{"invoice_id": invoice_id}]


def test_secrets_stored_in_clear_before_sealing_are_sealed_by_the_backfill(
    api: Any, tables: dict[str, Any]
) -> None:
    from functions.store.backfill import seal_invoice_secrets

    # Given an integration written before secrets were sealed: its items hold the clear secret
    _, created = admin(
        api, "POST", "/admin/integrations", coupa_integration(invoice_delivery=INVOICE_DELIVERY)
    )
    clear = json.dumps({**INVOICE_DELIVERY, "shared_secret": "coupa-supplier-secret"})
    for item in _items(tables):
        tables["dynamodb"].update_item(
            TableName="local-integrations",
            Key={"pk": item["pk"]},
            UpdateExpression="SET invoice_delivery = :clear",
            ExpressionAttributeValues={":clear": {"S": clear}},
        )
    read = DynamoIntegrationStore().get(created["id"])
    assert read is not None and read.invoice_delivery is not None
    assert read.invoice_delivery.shared_secret == "coupa-supplier-secret", "still readable"

    # When the operator runs the backfill (twice: the second changes nothing)
    first = seal_invoice_secrets(DynamoIntegrationStore(_secret_box()))
    second = seal_invoice_secrets(DynamoIntegrationStore(_secret_box()))

    # Then no item holds the clear secret any more, and the sealed one opens to it
    assert (first, second) == (1, 0)
    stored = _items(tables)
    assert len(stored) == 2 and "coupa-supplier-secret" not in json.dumps(stored)
    sealed = {json.loads(item["invoice_delivery"]["S"])["sealed_shared_secret"] for item in stored}
    assert _opened(tables, created["id"], sealed.pop()) == "coupa-supplier-secret"
