"""The activity of an integration: every cXML exchange recorded once under its integration
(refusals too, an unknown sender nowhere), no secret or token in any item, the hot paths'
DynamoDB calls unchanged, and the console page (admins, the account's own integrations,
newest first, at most 100, hostile values escaped and clipped)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions import activity
from functions.clock import CLOCK
from functions.cxml.model import Credential
from functions.store.activity import DynamoActivityLog
from local.events import LambdaContext
from local.fake_coupa import FakeCoupa, Party, serve
from tests.console_support import Browser, console, console_pool, new_user
from tests.order_support import (
    coupa_po,
    po_from,
    post_order,
    post_status,
    status_update,
    table_items,
)
from tests.storefront_support import (
    CONTRACT_PAYG,
    cart_of,
    create_integration,
    create_products,
    post_form,
    punch_out,
)
from tests.support import BASE_URL, admin, coupa_integration, post_cxml, punchout_setup

__all__ = ["console", "console_pool"]  # fixtures

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "999988887777"
US = Party("NetworkID", "procurement-gateway")
BUYER = Party("DUNS", "acme-coupa")


@pytest.fixture
def coupa(api: Any) -> dict[str, Any]:
    create_products(api, CONTRACT_PAYG)
    return create_integration(api, coupa_integration(account_id=ACCOUNT))


@pytest.fixture
def frozen() -> Iterator[datetime]:
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    CLOCK.freeze(at)
    yield at
    CLOCK.unfreeze()


def _entries(tables: dict[str, Any]) -> list[dict[str, Any]]:
    return table_items(tables, "activity")


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {name: next(iter(value.values())) for name, value in item.items()}


def _only(tables: dict[str, Any], document: str) -> dict[str, Any]:
    found = [_plain(i) for i in _entries(tables) if i["document"]["S"] == document]
    assert len(found) == 1, found
    return found[0]


def _setup(integration: dict[str, Any], secret: str | None = None) -> str:
    info = integration["purchase_information"]
    return punchout_setup(
        from_credentials=[(info["buyer_domain"], info["buyer_identity"])],
        secret=secret or info["shared_secret"],
    )


def _assert_no_secrets(tables: dict[str, Any], *secrets: str) -> None:
    stored = json.dumps(_entries(tables))
    for secret in secrets:
        assert secret not in stored
    assert "/s/" not in stored, "no StartPage URL (it carries the session token)"
    assert "<cXML" not in stored and "SharedSecret" not in stored, "no document"


# --- recording -------------------------------------------------------------------------------


def test_a_punchout_is_recorded_once_with_the_requester_and_no_secret_or_token(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    answer = post_cxml(api, _setup(coupa))

    assert answer.code == 200
    entry = _only(tables, "PunchOutSetupRequest")
    assert entry["pk"] == coupa["id"]
    assert (entry["direction"], int(entry["code"])) == ("inbound", 200)
    assert entry["who"] == "Jim Halpert <jim@acme.example>"
    assert entry["payload_id"] == "1700000000.1.test@buyer"
    start_page = answer.find("Response/PunchOutSetupResponse/StartPage/URL")
    token = start_page.rsplit("/", 1)[-1]
    _assert_no_secrets(tables, coupa["purchase_information"]["shared_secret"], token, start_page)


def test_the_entry_expires_after_thirty_days(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], frozen: datetime
) -> None:
    post_cxml(api, _setup(coupa))

    entry = _only(tables, "PunchOutSetupRequest")
    assert int(entry["expires_at"]) == int((frozen + timedelta(days=30)).timestamp())
    assert entry["sk"].startswith("2026-12-01T09:00:00.000+00:00#")


def test_a_wrong_shared_secret_is_recorded_under_the_integration_it_names(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    answer = post_cxml(api, _setup(coupa, secret="not-the-secret-at-all"))

    assert answer.code == 401
    entry = _only(tables, "PunchOutSetupRequest")
    assert entry["pk"] == coupa["id"] and int(entry["code"]) == 401
    assert entry["text"].startswith("Shared secret does not match.")
    assert entry["who"] == "DUNS/acme-coupa"
    _assert_no_secrets(
        tables, "not-the-secret-at-all", coupa["purchase_information"]["shared_secret"]
    )


def test_a_disabled_integration_is_recorded_and_an_unknown_sender_nowhere(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    unknown = punchout_setup(from_credentials=[("DUNS", "nobody-we-know")], secret="x")
    assert post_cxml(api, unknown).code == 401
    assert _entries(tables) == [], "a sender naming no integration is recorded nowhere"

    admin(api, "POST", f"/admin/integrations/{coupa['id']}/disable")
    assert post_cxml(api, _setup(coupa)).code == 403

    entry = _only(tables, "PunchOutSetupRequest")
    assert int(entry["code"]) == 403 and "is disabled" in entry["text"]


def test_a_profile_request_is_recorded(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    info = coupa["purchase_information"]
    document = _setup(coupa).replace(
        _setup(coupa)[_setup(coupa).index("<Request") : _setup(coupa).index("</cXML>")],
        "<Request><ProfileRequest/></Request>",
    )
    assert post_cxml(api, document).code == 200

    entry = _only(tables, "ProfileRequest")
    assert (entry["pk"], int(entry["code"])) == (coupa["id"], 200)
    _assert_no_secrets(tables, info["shared_secret"])


def _cart(api: Any, integration: dict[str, Any]) -> Any:
    session = punch_out(api, integration)
    form = {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "1000"}
    return cart_of(post_form(api, f"{session}/requests", form))


def test_a_purchase_order_is_recorded_in_its_transaction_and_a_retry_once_more(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    from bench.counting import ApiCallCounter

    cart = _cart(api, coupa)
    document = coupa_po(coupa, cart.lines, order_id="PO-77", payload_id="po-77@coupa")
    with ApiCallCounter() as counter:
        assert post_order(api, document).code == 200
    calls = [c.name for c in counter.take() if c.service == "dynamodb"]

    assert calls == ["dynamodb.BatchGetItem", "dynamodb.TransactWriteItems"], "no extra call"
    entry = _only(tables, "OrderRequest")
    assert (entry["pk"], int(entry["code"]), entry["reference"]) == (
        coupa["id"],
        200,
        "PO-77 (new)",
    )
    assert entry["payload_id"] == "po-77@coupa"

    assert post_order(api, document).code == 200  # the buyer's retry
    retries = [_plain(i) for i in _entries(tables) if i["document"]["S"] == "OrderRequest"]
    assert len(retries) == 2 and {r["reference"] for r in retries} == {"PO-77 (new)", "PO-77"}
    _assert_no_secrets(tables, coupa["purchase_information"]["shared_secret"])


def test_a_refused_purchase_order_is_recorded_with_its_code_and_order_id(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    cart = _cart(api, coupa)
    refused = post_order(
        api, po_from(coupa, cart.lines, order_id="PO-9", secret="wrong-secret-123")
    )

    assert refused.code == 401
    entry = _only(tables, "OrderRequest")
    assert (int(entry["code"]), entry["reference"]) == (401, "PO-9")
    assert entry["text"].startswith("Shared secret does not match.")
    _assert_no_secrets(tables, "wrong-secret-123")


def test_a_punchout_makes_two_dynamodb_calls_as_before(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    from bench.counting import ApiCallCounter

    with ApiCallCounter() as counter:
        assert post_cxml(api, _setup(coupa)).code == 200
    calls = [c.name for c in counter.take() if c.service == "dynamodb"]

    assert calls == ["dynamodb.BatchGetItem", "dynamodb.TransactWriteItems"]


def _issue(integration_id: str) -> str:
    from functions import billing, billing_run
    from functions.store import invoices
    from functions.store.integrations import DynamoIntegrationStore
    from tests.billing_support import subscription

    integration = DynamoIntegrationStore().get(integration_id)
    assert integration is not None
    invoice = billing.contract_invoice(
        subscription(integration_id=integration_id), datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    )
    assert invoice is not None
    supplier = Credential(US.domain, US.identity)
    document = billing_run.document_of(invoice, billing_run.parties_of(integration, supplier))
    assert invoices.create(invoice, document, billing.summary_json(invoice))
    return invoice.invoice_id


def _deliver(invoice_id: str) -> None:
    from functions.handlers import delivery_worker

    record = {
        "messageId": "m-1", "receiptHandle": "r-1", "md5OfBody": "",
        "body": json.dumps({"invoice_id": invoice_id}),
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
        "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:local-delivery",
        "awsRegion": "us-east-1",
    }  # fmt: skip
    answer = delivery_worker.handler({"Records": [record]}, LambdaContext("delivery_worker"))
    assert not answer.get("batchItemFailures")


def test_an_invoice_sent_and_the_buyers_status_update_are_recorded(
    api: Any, tables: dict[str, Any]
) -> None:
    fake = FakeCoupa(supplier=US, buyer=BUYER, sender=US)
    with serve(fake) as url:
        payload = coupa_integration(account_id=ACCOUNT, invoice_delivery=fake.invoice_delivery(url))
        integration = create_integration(api, payload)
        invoice_id = _issue(integration["id"])
        _deliver(invoice_id)

    sent = _only(tables, "InvoiceDetailRequest")
    assert (sent["pk"], sent["direction"], int(sent["code"])) == (
        integration["id"],
        "outbound",
        200,
    )
    assert sent["reference"] == invoice_id
    secret = integration["purchase_information"]["shared_secret"]
    update = status_update(buyer=("DUNS", "acme-coupa"), secret=secret, invoice_id=invoice_id)
    assert post_status(api, update).code == 200

    received = _only(tables, "StatusUpdateRequest")
    assert (int(received["code"]), received["reference"]) == (200, invoice_id)
    _assert_no_secrets(tables, secret, fake.shared_secret)


def test_a_failing_activity_write_never_changes_the_answer(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.store.activity import ActivityRecord

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("the activity table is unreachable")

    monkeypatch.setattr(ActivityRecord, "save", broken)
    answer = post_cxml(api, _setup(coupa, secret="wrong-secret-456"))

    assert answer.code == 401, "still the refusal, not a 500"


# --- the console page -------------------------------------------------------------------------


def _page(api: Any, console: dict[str, Any], integration_id: str, role: str = "admin",
          account_id: str = ACCOUNT) -> Any:  # fmt: skip
    browser = Browser(api)
    browser.sign_in(new_user(console, account_id, role))
    return browser.get(f"/console/integrations/{integration_id}/activity")


def test_the_page_lists_the_newest_hundred_first(
    api: Any, console: dict[str, Any], coupa: dict[str, Any]
) -> None:
    log = DynamoActivityLog()
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for n in range(105):
        log.record(
            activity.entry(coupa["id"], start + timedelta(minutes=n), activity.INBOUND,
                           "OrderRequest", f"p-{n}", 200, "OK", reference=f"PO-{n:03d}")
        )  # fmt: skip

    page = _page(api, console, coupa["id"])

    assert page.status == 200
    shown = [n for n in range(105) if f"PO-{n:03d}<" in page.text]
    assert shown == list(range(5, 105)), "the newest 100"
    assert page.text.index("PO-104<") < page.text.index("PO-005<"), "newest first"
    assert page.text.count('<tr data-code="200"') == 100
    assert (
        "Acme Coupa" in page.text and f"{BASE_URL}/console/integrations/{coupa['id']}" in page.text
    )


def test_errors_are_marked_and_hostile_values_escaped_and_clipped(
    api: Any, console: dict[str, Any], coupa: dict[str, Any]
) -> None:
    DynamoActivityLog().record(
        activity.entry(
            coupa["id"], datetime(2026, 11, 1, tzinfo=UTC), activity.INBOUND, "OrderRequest",
            "x" * 5000, 401, "Shared secret does not match.", who="<script>alert(1)</script>",
        )
    )  # fmt: skip

    page = _page(api, console, coupa["id"])

    assert page.status == 200
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)" in page.text
    assert "x" * activity.MAX_PAYLOAD_ID not in page.text and "x" * 150 in page.text
    assert 'class="failed"' in page.text and "Error 401" in page.text


def test_members_get_403_and_another_accounts_integration_404(
    api: Any, console: dict[str, Any], coupa: dict[str, Any]
) -> None:
    post_cxml(api, _setup(coupa))

    member = _page(api, console, coupa["id"], role="member")
    other = _page(api, console, coupa["id"], account_id=OTHER_ACCOUNT)
    unknown = _page(api, console, "int_does_not_exist")

    assert member.status == 403 and "Jim Halpert" not in member.text
    assert other.status == 404 and "Jim Halpert" not in other.text
    assert unknown.status == 404
    assert other.text.replace(coupa["id"], "") == unknown.text.replace("int_does_not_exist", "")


def test_signed_out_visitors_are_sent_to_sign_in(api: Any, console: dict[str, Any]) -> None:
    answer = Browser(api).get("/console/integrations/int_x/activity")

    assert answer.status == 303 and answer.header("Location") == f"{BASE_URL}/console/sign-in"
