"""Status coming back (issue 13 part 6): a buyer's StatusUpdateRequest posted to the order URL
is authenticated like a PO, recorded on our invoice or order, shown in the admin API and
counted; duplicates change nothing; hostile or wrong references get a cXML 4xx."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from functions import billing, billing_run
from functions.buyer_status import MAX_HISTORY
from functions.cxml.model import Credential
from functions.store import invoices
from functions.store.integrations import DynamoIntegrationStore
from tests.billing_support import subscription
from tests.log_support import captured_metrics
from tests.order_support import BUYER, post_status, status_update, subscribe, table_items
from tests.storefront_support import CONTRACT_PAYG, create_integration, create_products
from tests.support import (
    ADMIN_TOKEN,
    ARIBA_SECRET,
    XXE,
    admin,
    ariba_integration,
    coupa_integration,
)

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
_PAYLOADS = itertools.count(1)
ARIBA_BUYER = ("NetworkID", "AN01000000001-T")


def _integration(api: Any, payload: dict[str, Any]) -> dict[str, Any]:
    status, created = admin(api, "POST", "/admin/integrations", payload)
    assert status == 201, created
    return dict(created)


def _issue(integration_id: str, subscription_id: str = "req-aaaa") -> str:
    integration = DynamoIntegrationStore().get(integration_id)
    assert integration is not None
    invoice = billing.contract_invoice(
        subscription(id=subscription_id, integration_id=integration_id), NOW
    )
    assert invoice is not None
    parties = billing_run.parties_of(integration, Credential("NetworkID", "procurement-gateway"))
    document = billing_run.document_of(invoice, parties)
    assert invoices.create(invoice, document, billing.summary_json(invoice))
    return invoice.invoice_id


def _invoice_view(api: Any, invoice_id: str) -> dict[str, Any]:
    answer = api.handle(
        "GET", f"/admin/invoices/{invoice_id}", headers=[("Authorization", f"Bearer {ADMIN_TOKEN}")]
    )
    assert answer.status == 200
    invoice: dict[str, Any] = json.loads(answer.body)["invoice"]
    return invoice


@pytest.fixture
def coupa(api: Any) -> dict[str, Any]:
    create_products(api, CONTRACT_PAYG)
    return create_integration(api, coupa_integration(test_mode=False))


def _secret(integration: dict[str, Any]) -> str:
    return str(integration["purchase_information"]["shared_secret"])


# --- invoices ----------------------------------------------------------------------------------


def test_a_rejection_is_recorded_shown_in_the_admin_api_and_counted(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    # Given an invoice sent to Acme's Coupa
    invoice_id = _issue(coupa["id"])

    # When Coupa posts a StatusUpdateRequest rejecting it
    with captured_metrics() as metrics:
        answer = post_status(
            api, status_update(buyer=BUYER, secret=_secret(coupa), invoice_id=invoice_id)
        )

    # Then it is answered 200, shown on the invoice with its reason, and counted
    assert (answer.http_status, answer.code) == (200, 200), answer.message
    assert invoice_id in answer.message
    shown = _invoice_view(api, invoice_id)["buyer_status"]
    assert shown["status"] == "rejected"
    assert shown["comments"] == "Price does not match the PO line"
    assert [h["status"] for h in shown["history"]] == ["rejected"]
    assert metrics.of("BuyerStatusUpdates", subject="invoice", status="rejected") == 1
    assert metrics.of("PurchaseOrders", outcome="accepted", code="200") == 0


def test_statuses_build_a_bounded_history_and_paid_is_final(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    invoice_id = _issue(coupa["id"])
    secret = _secret(coupa)
    for status in ["processing"] * MAX_HISTORY + ["reconciled", "paying", "paid"]:
        answer = post_status(
            api, status_update(buyer=BUYER, secret=secret, invoice_id=invoice_id, status=status)
        )
        assert answer.code == 200, answer.message

    # When a status arrives after "paid"
    late = post_status(
        api, status_update(buyer=BUYER, secret=secret, invoice_id=invoice_id, status="rejected")
    )

    # Then it is refused naming the state, and the invoice stays paid with a bounded history
    assert (late.http_status, late.code) == (200, 409)
    assert "already paid" in late.message
    shown = _invoice_view(api, invoice_id)["buyer_status"]
    assert shown["status"] == "paid" and shown["updates"] == MAX_HISTORY + 3
    assert len(shown["history"]) == MAX_HISTORY
    assert [h["status"] for h in shown["history"][-3:]] == ["reconciled", "paying", "paid"]


def test_the_same_update_twice_changes_nothing_and_a_reused_payload_id_is_refused(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    invoice_id = _issue(coupa["id"])
    document = status_update(
        buyer=BUYER, secret=_secret(coupa), invoice_id=invoice_id, payload_id="su-1@coupa"
    )
    first = post_status(api, document)
    before = _invoice_view(api, invoice_id)["buyer_status"]

    # When the same document comes again (a retry), and then the payloadID with other content
    again = post_status(api, document)
    reused = post_status(
        api,
        status_update(
            buyer=BUYER, secret=_secret(coupa), invoice_id=invoice_id, payload_id="su-1@coupa",
            status="paid",
        ),
    )  # fmt: skip

    # Then the retry is answered 200 and changes nothing; the reuse is refused with a reason
    assert first.code == 200 and again.code == 200
    assert "already recorded" in again.message
    assert (reused.http_status, reused.code) == (200, 409)
    assert "su-1@coupa" in reused.message and "new payloadID" in reused.message
    assert _invoice_view(api, invoice_id)["buyer_status"] == before
    assert before["updates"] == 1


def test_another_integrations_invoice_is_refused_like_an_unknown_one(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    # Given an invoice of another integration (Globex, through Ariba)
    globex = _integration(api, ariba_integration())
    theirs = _issue(globex["id"], "req-bbbb")

    # When Acme's Coupa posts a status for it, and for an invoice that does not exist
    foreign = post_status(api, status_update(buyer=BUYER, secret=_secret(coupa), invoice_id=theirs))
    unknown = post_status(
        api, status_update(buyer=BUYER, secret=_secret(coupa), invoice_id="INV-X")
    )

    # Then both get the same 417, and Globex's invoice is untouched
    assert (foreign.http_status, foreign.code) == (200, 417)
    assert unknown.code == 417
    assert foreign.message.replace(theirs, "INV-X") == unknown.message
    assert _invoice_view(api, theirs)["buyer_status"]["status"] is None


def test_an_ariba_status_is_authenticated_with_the_marketplace_secret(
    api: Any, tables: dict[str, Any]
) -> None:
    globex = _integration(api, ariba_integration())
    invoice_id = _issue(globex["id"])
    ariba = {"buyer": ARIBA_BUYER, "invoice_id": invoice_id, "sender": "sysadmin@ariba.com"}

    wrong = post_status(api, status_update(secret="not-the-secret", **ariba))  # type: ignore[arg-type]
    right = post_status(api, status_update(secret=ARIBA_SECRET, status="paid", **ariba))  # type: ignore[arg-type]

    assert wrong.code == 401
    assert right.code == 200, right.message
    assert _invoice_view(api, invoice_id)["buyer_status"]["status"] == "paid"


# --- orders ------------------------------------------------------------------------------------


def _order_item(tables: dict[str, Any]) -> dict[str, Any]:
    (item,) = [i for i in table_items(tables, "orders") if i["kind"]["S"] == "order"]
    return item


def test_an_order_status_is_recorded_on_the_order_by_orderid_or_payloadid(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    _, secret = subscribe(api, coupa, order_id="PO-77", payload_id="po-77@coupa")

    with captured_metrics() as metrics:
        by_order_id = post_status(
            api,
            status_update(
                buyer=BUYER, secret=secret,
                body='<Status code="200" text="OK"/><DocumentStatus type="acknowledged">'
                '<DocumentInfo documentID="PO-77" documentType="OrderRequest"/>'
                "<Comments>seen</Comments></DocumentStatus>",
            ),
        )  # fmt: skip
        by_payload = post_status(
            api,
            status_update(
                buyer=BUYER, secret=secret,
                body='<DocumentReference payloadID="po-77@coupa"/>'
                '<Status code="200" text="OK">Forwarded to supplier</Status>',
            ),
        )  # fmt: skip
    unknown = post_status(
        api,
        status_update(
            buyer=BUYER, secret=secret,
            body='<DocumentReference payloadID="nobody@coupa"/><Status code="200" text="OK"/>',
        ),
    )  # fmt: skip

    assert by_order_id.code == 200 and by_payload.code == 200, (by_order_id, by_payload)
    assert metrics.of("BuyerStatusUpdates", subject="order", status="recorded") == 2
    assert unknown.code == 417
    kept = json.loads(_order_item(tables)["buyer_status"]["S"])
    assert [h["status"] for h in kept["history"]] == ["acknowledged", "ok"]
    assert kept["history"][0]["comments"] == "seen"


# --- hostile input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('<Status code="200" text="OK"/><InvoiceStatus type="lost">'
         '<InvoiceIDInfo invoiceID="INV-1"/></InvoiceStatus>', 400),
        ('<Status code="200" text="OK"/><InvoiceStatus type="paid"/>', 400),
        ('<InvoiceStatus type="paid"><InvoiceIDInfo invoiceID="INV-1"/></InvoiceStatus>', 400),
        ('<Status code="2x0" text="OK"/>', 400),
        ('<Status code="200" text="OK"/>', 400),
        ('<Status code="200" text="OK"/><InvoiceStatus type="paid"><InvoiceIDInfo invoiceID="'
         + "9" * 5000 + '"/></InvoiceStatus>', 400),
        ('<Status code="200" text="OK"/><PaymentStatus type="x"/>', 450),
    ],
)  # fmt: skip
def test_malformed_updates_get_a_cxml_4xx_and_change_nothing(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], body: str, code: int
) -> None:
    before = table_items(tables, "orders")

    answer = post_status(api, status_update(buyer=BUYER, secret=_secret(coupa), body=body))

    assert (answer.http_status, answer.code) == (200, code), answer.message
    assert table_items(tables, "orders") == before


def test_hostile_documents_are_refused_before_anything_is_read(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    unauthenticated = post_status(
        api, status_update(buyer=BUYER, secret="wrong", invoice_id="INV-1")
    )
    entity = post_status(api, XXE.decode())

    assert unauthenticated.code == 401
    assert entity.code == 406
    assert table_items(tables, "orders") == []
