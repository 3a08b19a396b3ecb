"""Money-path integrity of purchase orders (issue 8): an ordered line is frozen, one line is
approved by one PO, a reused orderID or payloadID is a retry only when the content is the same,
and any PO up to the body limit is stored (large originals in S3, bounded items). Assertions
are on the cXML Status code (`answer.code`), never on the HTTP status."""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree.ElementTree import Element

import pytest
from defusedxml.ElementTree import fromstring

from tests.order_support import (
    coupa_po,
    item_out,
    only_subscription,
    post_order,
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
from tests.support import coupa_integration

MAILRELAY = {
    "id": "mailrelay-smtp",
    "name": "MailRelay Transactional Email",
    "seller": "Postmark Lane",
    "short_description": "Transactional email.",
    "product_type": "saas",
    "offers": [
        {"id": "starter", "name": "Starter (free)", "currency": "USD", "pricing": {"model": "free"}}
    ],
}
AUX = re.compile(r"^(req-[0-9a-f]{16})-\d$")


@pytest.fixture
def coupa(api: Any) -> dict[str, Any]:
    create_products(api, CONTRACT_PAYG, MAILRELAY)
    return create_integration(api, coupa_integration(test_mode=False))


def _session_and_cart(api: Any, integration: dict[str, Any]) -> tuple[str, Any]:
    session = punch_out(api, integration)
    form = {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "1000"}
    return session, cart_of(post_form(api, f"{session}/requests", form))


def _outbox_keys(tables: dict[str, Any]) -> list[str]:
    return sorted(item["pk"]["S"] for item in table_items(tables, "outbox"))


def _state(tables: dict[str, Any]) -> tuple[Any, ...]:
    """Everything a refusal must leave as it was."""
    return tuple(
        sorted(json.dumps(item, sort_keys=True) for item in table_items(tables, table))
        for table in ("requests", "subscriptions", "orders", "outbox")
    )


def _request_id(cart: Any) -> str:
    match = AUX.match(cart.lines[0].findtext("ItemID/SupplierPartAuxiliaryID"))
    assert match
    return match.group(1)


def _line(part: str, aux: str, price: str, quantity: str = "1", uom: str = "EA") -> Element:
    """A cart line (ItemIn) the marketplace never produced: what a tampered cart would hold."""
    return fromstring(
        f'<ItemIn quantity="{quantity}"><ItemID><SupplierPartID>{part}</SupplierPartID>'
        f"<SupplierPartAuxiliaryID>{aux}</SupplierPartAuxiliaryID></ItemID><ItemDetail>"
        f'<UnitPrice><Money currency="USD">{price}</Money></UnitPrice><Description xml:lang="en">'
        f"<ShortName>x</ShortName></Description><UnitOfMeasure>{uom}</UnitOfMeasure>"
        "</ItemDetail></ItemIn>"
    )


# --- 1. an ordered line is frozen -----------------------------------------------------------


def test_an_edit_that_would_change_an_ordered_request_is_refused_with_a_clear_page(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    # Given DataStream Pro annual (contract + usage) whose usage line PO 1 approved
    _, cart = _session_and_cart(api, coupa)
    contract, usage = cart.lines
    assert post_order(api, coupa_po(coupa, [usage], order_id="PO-1")).code == 200
    before = _state(tables)
    request_id = _request_id(cart)

    # When the buyer opens it again in an edit punchout
    edit = punch_out(api, coupa, operation="edit", extra=item_out(cart))
    shown = api.handle("GET", f"{edit}/requests/{request_id}")

    # Then only its usage budget may change (a PO update, issue 13), saying why
    assert shown.status == 200
    assert "only its usage budget can change here" in shown.text
    assert "Request approval</button>" not in shown.text

    # When the edit tries anyway to turn it into MailRelay Starter (free)
    page = post_form(
        api,
        f"{edit}/requests",
        {"product_id": "mailrelay-smtp", "offer_id": "starter", "request_id": request_id},
    )

    # Then a page says why, and nothing changed
    assert page.status == 409
    assert "This request was already ordered" in page.text
    assert "its lines can no longer change" in page.text
    assert "start a new request from the marketplace catalog" in page.text
    assert _state(tables) == before

    # while a different usage estimate (the budget a PO update may change) returns the cart
    # with that usage quantity, the other lines as ordered, and saves nothing
    more = cart_of(
        post_form(
            api,
            f"{edit}/requests",
            {"product_id": "datastream-pro", "offer_id": "annual", "request_id": request_id,
             "estimate.hours": "2000"},
        )
    )  # fmt: skip
    assert [x.get("quantity") for x in more.lines] == ["1", "2000"]
    assert _state(tables) == before

    # while re-submitting it unchanged returns the same cart and saves nothing
    same = cart_of(
        post_form(
            api,
            f"{edit}/requests",
            {"product_id": "datastream-pro", "offer_id": "annual", "request_id": request_id,
             "estimate.hours": "1000"},
        )
    )  # fmt: skip
    aux_ids = [x.findtext("ItemID/SupplierPartAuxiliaryID") for x in same.lines]
    assert aux_ids == [x.findtext("ItemID/SupplierPartAuxiliaryID") for x in (contract, usage)]
    assert _state(tables) == before


def test_a_zero_line_cannot_activate_datastream_pro_nor_bill_its_contract(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    """The reported sequence: PO 1 approves the usage line; the request is then changed into
    MailRelay Starter (as the old edit did, written here straight into the table); PO 2
    approves line 1 as a 0.00 MailRelay line. The PO line is checked against the subscription
    line it would approve, so PO 2 is refused and no contract invoice is asked for."""
    _, cart = _session_and_cart(api, coupa)
    _, usage = cart.lines
    assert post_order(api, coupa_po(coupa, [usage], order_id="PO-1")).code == 200
    request_id = _request_id(cart)
    aux = f"{request_id}-1"
    (stored,) = table_items(tables, "requests")
    document = json.loads(stored["document"]["S"])
    document.update(product_id="mailrelay-smtp", offer_id="starter", pricing_model="free")
    document["lines"] = [
        {**document["lines"][0], "supplier_part_id": "mailrelay-smtp/starter", "kind": "zero",
         "unit_price": "0.00", "quantity": "1", "unit_of_measure": "EA"}
    ]  # fmt: skip
    stored["document"] = {"S": json.dumps(document)}
    tables["dynamodb"].put_item(TableName="local-requests", Item=stored)
    before = _state(tables)

    answer = post_order(
        api, coupa_po(coupa, [_line("mailrelay-smtp/starter", aux, "0.00")], order_id="PO-2")
    )

    assert answer.code == 409
    assert "Line 1 (mailrelay-smtp/starter)" in answer.message
    assert "differs from 'datastream-pro/annual'" in answer.message
    assert _state(tables) == before
    subscription = only_subscription(tables)
    assert subscription["state"] == "pending"
    assert [x["supplier_part_id"] for x in subscription["lines"]] == ["datastream-pro/annual"] * 2
    assert not any(key.startswith("invoice#") for key in _outbox_keys(tables))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"prices": {0: "0.00"}}, "unit price 0.00 USD differs from the requested 15000.00 USD"),
        ({"quantities": {0: "3"}}, "quantity 3 differs from the requested 1"),
    ],
)
def test_a_second_po_for_the_contract_line_must_match_it_as_first_ordered(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], change: dict[str, Any], words: str
) -> None:
    _, cart = _session_and_cart(api, coupa)
    contract, usage = cart.lines
    post_order(api, coupa_po(coupa, [usage], order_id="PO-1"))

    answer = post_order(api, coupa_po(coupa, [contract], order_id="PO-2", **change))

    assert answer.code == 409 and words in answer.message
    assert only_subscription(tables)["state"] == "pending"


# --- 2. one line, one PO --------------------------------------------------------------------


def test_a_line_already_approved_is_refused_to_every_other_po(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    _, cart = _session_and_cart(api, coupa)
    assert post_order(api, coupa_po(coupa, cart.lines, order_id="PO-A")).code == 200
    before = _state(tables)
    aux = cart.lines[0].findtext("ItemID/SupplierPartAuxiliaryID")

    answers = [
        post_order(api, coupa_po(coupa, cart.lines, order_id=f"PO-X{n}", order_type=kind))
        for n, kind in enumerate(["new"] * 9 + ["update"])
    ]

    assert {a.code for a in answers} == {409}
    assert all(f"line {aux} is already approved by PO PO-A" in a.message for a in answers)
    assert all("only an update or delete of PO PO-A may change it" in a.message for a in answers)
    assert _state(tables) == before
    approvals = [x["approval"]["order_id"] for x in only_subscription(tables)["lines"]]
    assert approvals == ["PO-A", "PO-A"]


def test_the_approving_po_may_update_and_then_delete_its_lines(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    _, cart = _session_and_cart(api, coupa)
    post_order(api, coupa_po(coupa, cart.lines, order_id="PO-A"))

    update = post_order(
        api, coupa_po(coupa, cart.lines, order_id="PO-A", order_type="update", version=2,
                 quantities={1: "3000"})
    )  # fmt: skip
    delete = post_order(
        api, coupa_po(coupa, cart.lines, order_id="PO-A", order_type="delete", version=3)
    )
    revived = post_order(api, coupa_po(coupa, cart.lines, order_id="PO-B"))

    assert (update.code, delete.code) == (200, 200)
    assert only_subscription(tables)["state"] == "cancelled"
    assert revived.code == 409 and "an ended subscription never restarts" in revived.message


def test_an_update_that_no_longer_names_a_request_cancels_its_subscription(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    """Found by the model-based test: the update was read with only the requests its own
    lines name, so a subscription it dropped entirely stayed active on a PO that no longer
    paid for it."""
    _, first = _session_and_cart(api, coupa)
    _, second = _session_and_cart(api, coupa)
    assert post_order(api, coupa_po(coupa, first.lines, order_id="PO-A")).code == 200

    update = post_order(
        api, coupa_po(coupa, second.lines, order_id="PO-A", order_type="update", version=2)
    )

    assert update.code == 200, update.message
    states = {
        document["id"]: document["state"]
        for item in table_items(tables, "subscriptions")
        if "document" in item
        for document in [json.loads(item["document"]["S"])]
    }
    first_id = AUX.match(first.lines[0].findtext("ItemID/SupplierPartAuxiliaryID")).group(1)
    second_id = AUX.match(second.lines[0].findtext("ItemID/SupplierPartAuxiliaryID")).group(1)
    assert states == {first_id: "cancelled", second_id: "active"}
    assert f"email#{first_id}#cancelled" in _outbox_keys(tables)


def test_a_deleted_po_is_never_updated_back_to_life(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    """Found by the model-based test: an update after a delete approved new lines."""
    _, first = _session_and_cart(api, coupa)
    _, second = _session_and_cart(api, coupa)
    post_order(api, coupa_po(coupa, first.lines, order_id="PO-A"))
    post_order(api, coupa_po(coupa, first.lines, order_id="PO-A", order_type="delete", version=2))
    before = _state(tables)

    update = post_order(
        api, coupa_po(coupa, second.lines, order_id="PO-A", order_type="update", version=3)
    )

    assert update.code == 409 and "was deleted" in update.message, update.message
    assert _state(tables) == before


def test_one_po_may_not_approve_the_same_line_twice(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    _, cart = _session_and_cart(api, coupa)
    contract, usage = cart.lines

    answer = post_order(api, coupa_po(coupa, [contract, usage, usage]))

    assert answer.code == 400 and "is already approved by line 2 of this order" in answer.message
    assert table_items(tables, "subscriptions") == []


# --- 3. a reused orderID or payloadID -------------------------------------------------------


def test_a_new_po_reusing_an_order_id_with_other_lines_is_409_naming_the_difference(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    _, first = _session_and_cart(api, coupa)
    _, second = _session_and_cart(api, coupa)
    assert (
        post_order(api, coupa_po(coupa, first.lines, order_id="PO-9", payload_id="p-1@c")).code
        == 200
    )
    before = _state(tables)

    other_lines = post_order(
        api, coupa_po(coupa, second.lines, order_id="PO-9", payload_id="p-2@c")
    )
    other_budget = post_order(
        api, coupa_po(coupa, first.lines, order_id="PO-9", payload_id="p-3@c", quantities={1: "7"})
    )
    same_payload = post_order(
        api, coupa_po(coupa, first.lines, order_id="PO-9", payload_id="p-1@c", quantities={1: "7"})
    )
    other_version = post_order(
        api, coupa_po(coupa, first.lines, order_id="PO-9", payload_id="p-4@c", version=2)
    )

    assert other_lines.code == 409
    assert "Order PO-9 type 'new' version 1 was already received with other content" in (
        other_lines.message
    )
    assert "line(s) 1, 2 differ in part, aux ID, quantity, price or currency" in other_lines.message
    assert 'type="update" with orderVersion 2' in other_lines.message
    assert other_budget.code == 409
    assert "line(s) 2 differ" in other_budget.message and "line(s) 1" not in other_budget.message
    assert same_payload.code == 409
    assert "payloadID 'p-1@c' was already received for order PO-9 with other content" in (
        same_payload.message
    )
    assert other_version.code == 409
    assert "a new document for it must be" in other_version.message
    assert _state(tables) == before


def test_true_retries_get_200_even_after_the_order_changed(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    _, cart = _session_and_cart(api, coupa)
    original = coupa_po(coupa, cart.lines, order_id="PO-5", payload_id="p-5@c")
    post_order(api, original)
    post_order(api, coupa_po(coupa, cart.lines, order_id="PO-5", order_type="delete", version=2))
    before = _state(tables)

    same_payload = post_order(api, original)
    new_payload = post_order(api, coupa_po(coupa, cart.lines, order_id="PO-5", payload_id="p-6@c"))
    reused = post_order(
        api, coupa_po(coupa, cart.lines, order_id="PO-5", payload_id="p-5@c", quantities={1: "9"})
    )

    assert (same_payload.code, new_payload.code) == (200, 200)
    assert "already received" in same_payload.message and "already received" in new_payload.message
    assert reused.code == 409 and "with other content (line(s) 2 differ" in reused.message
    assert _state(tables) == before


def test_telling_a_retry_from_a_reuse_reads_nothing_more(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    from bench.counting import ApiCallCounter

    _, cart = _session_and_cart(api, coupa)
    post_order(api, coupa_po(coupa, cart.lines, order_id="PO-7", payload_id="p-7@c"))

    with ApiCallCounter() as counter:
        retry = post_order(api, coupa_po(coupa, cart.lines, order_id="PO-7", payload_id="p-7@c"))
        reuse = post_order(
            api,
            coupa_po(coupa, cart.lines, order_id="PO-7", payload_id="p-8@c", quantities={1: "2"}),
        )
    calls = [c.name for c in counter.take() if c.service == "dynamodb"]

    assert (retry.code, reuse.code) == (200, 409)
    # Each answer is also one PutItem in the integration's activity (not on the hot path).
    answered = ["dynamodb.BatchGetItem", "dynamodb.TransactWriteItems", "dynamodb.PutItem"]
    assert calls == answered * 2


# --- 5. any PO up to the body limit ---------------------------------------------------------

DYNAMODB_ITEM_LIMIT = 400 * 1024


def _item_size(item: dict[str, Any]) -> int:
    """An upper bound of DynamoDB's item size: names plus the UTF-8 of every value."""
    return sum(len(name) + len(json.dumps(value).encode()) for name, value in item.items())


def test_a_900_kb_po_is_accepted_with_its_original_in_s3_and_a_bounded_item(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    from functions.config import settings
    from tests.order_support import with_distributions

    _, cart = _session_and_cart(api, coupa)
    secret = coupa["purchase_information"]["shared_secret"]
    document = with_distributions(coupa_po(coupa, cart.lines, order_id="PO-BIG"))
    assert 850_000 < len(document.encode()) < 1024 * 1024

    answer = post_order(api, document)

    assert answer.code == 200 and "subscription active" in answer.message
    order_item = next(i for i in table_items(tables, "orders") if i["pk"]["S"].startswith("order#"))
    assert _item_size(order_item) < DYNAMODB_ITEM_LIMIT
    kept = json.loads(order_item["document"]["S"])
    assert kept["truncated"] is True and kept["document"] == ""
    assert [(x["line_number"], x["quantity"], x["unit_price"]) for x in kept["lines"]] == [
        (1, "1", "15000.00"), (2, "1000", "0.08"),
    ]  # fmt: skip
    key = kept["document_key"]
    assert key.startswith(f"orders/{coupa['id']}/") and key.endswith(".xml")
    s3 = tables["s3"]
    original = s3.get_object(Bucket=settings().invoice_bucket, Key=key)["Body"].read()
    assert len(original) > 850_000, "the whole document, every Distribution"
    assert secret.encode() not in original
    assert b"<SharedSecret>[removed]</SharedSecret>" in original
    assert post_order(api, document).code == 200, "a retry is still a retry"


def test_a_small_po_keeps_its_original_inline_without_credentials(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    import base64
    import zlib

    _, cart = _session_and_cart(api, coupa)
    secret = coupa["purchase_information"]["shared_secret"]

    post_order(api, coupa_po(coupa, cart.lines))

    order_item = next(i for i in table_items(tables, "orders") if i["pk"]["S"].startswith("order#"))
    kept = json.loads(order_item["document"]["S"])
    original = zlib.decompress(base64.b64decode(kept["document"]))
    assert kept["document_key"] == "" and kept["truncated"] is False
    assert b"<OrderRequest>" in original and secret.encode() not in original
    assert b"<SharedSecret>[removed]</SharedSecret>" in original


@pytest.mark.parametrize(
    ("make", "code", "words"),
    [
        (lambda lines: {"payload_id": "p" * 300}, 400, "payloadID must have 1 to 250"),
        (lambda lines: {"quantities": {1: "1" * 14}}, 400, "the quantity must be below 10^12"),
    ],
)
def test_what_storage_could_never_take_is_a_4xx_not_a_retryable_500(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], make: Any, code: int, words: str
) -> None:
    _, cart = _session_and_cart(api, coupa)

    answer = post_order(api, coupa_po(coupa, cart.lines, **make(cart.lines)))

    assert answer.code == code and words in answer.message
    assert table_items(tables, "orders") == []


def test_an_order_naming_too_many_requests_is_refused_before_any_storage_call(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    lines = [_line("x/y", f"req-{n:016x}-1", "1.00") for n in range(20)]

    answer = post_order(api, coupa_po(coupa, lines))

    assert answer.code == 400 and "one order may approve at most 19" in answer.message


def test_a_write_dynamodb_refuses_as_invalid_is_a_4xx_and_changes_nothing(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should a bound ever be wrong, DynamoDB's ValidationException (item too large) must not
    be answered as a 500 the buyer retries for hours."""
    from functions.orders import model
    from tests.order_support import with_distributions

    monkeypatch.setattr(model, "ORDER_ITEM_BUDGET", 10**8)
    monkeypatch.setattr(model, "_CUTS", ((None, None),))
    _, cart = _session_and_cart(api, coupa)

    answer = post_order(api, with_distributions(coupa_po(coupa, cart.lines)))

    assert answer.code == 400 and "a retry will not change that" in answer.message
    assert table_items(tables, "orders") == [] and table_items(tables, "subscriptions") == []
