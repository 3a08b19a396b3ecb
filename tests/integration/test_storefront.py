"""The storefront inside and outside a punchout session, through the web handler against moto:
catalog, product and subscription pages, Request approval and the cart return."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import botocore.client
import pytest

from tests.order_support import item_out
from tests.storefront_support import (
    CONTRACT_PAYG,
    FREE_AND_BYOL,
    FREE_TRIAL,
    HOSTILE,
    cart_of,
    create_integration,
    create_products,
    post_form,
    punch_out,
)
from tests.support import (
    ARIBA_SECRET,
    BASE_URL,
    admin,
    ariba_integration,
    coupa_integration,
    post_cxml,
    punchout_setup,
)

AUX = re.compile(r"^(req-[0-9a-f]{16})-(\d)$")


@pytest.fixture
def coupa(api: Any) -> dict[str, Any]:
    create_products(api, CONTRACT_PAYG, FREE_TRIAL, FREE_AND_BYOL, HOSTILE)
    return create_integration(
        api, coupa_integration(approval_redirect_url="https://acme.coupahost.com/requisitions/new")
    )


def _requests(tables: dict[str, Any]) -> list[dict[str, Any]]:
    return tables["dynamodb"].scan(TableName="local-requests")["Items"]


def _approve(api: Any, session: str, product: str, offer: str, **estimates: str) -> Any:
    fields = {"product_id": product, "offer_id": offer}
    fields.update({f"estimate.{k}": v for k, v in estimates.items()})
    return post_form(api, f"{session}/requests", fields)


# --- browsing ---------------------------------------------------------------------------------


def test_start_page_is_the_catalog(api: Any, coupa: dict[str, Any]) -> None:
    session = punch_out(api, coupa)

    page = api.handle("GET", session)

    assert page.status == 200
    assert "4 products" in page.text
    for name in ("DataStream Pro", "Sentinel SIEM", "Open Notes"):
        assert name in page.text
    assert 'Cancel and return<span class="wide-only"> to Coupa</span>' in page.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=streaming", ["DataStream"]),
        ("q=THREAT+detection", ["Sentinel"]),
        ("q=watchtower", ["Sentinel"]),
        ("type=container", ["Open"]),
        ("model=free_trial", ["Sentinel"]),
        ("model=contract&type=other", ["Zürich"]),
        ("q=nothing-like-this", []),
        ("type=bogus&model=bogus&page=abc", ["DataStream", "Open", "Sentinel", "Zürich"]),
    ],
)
def test_catalog_search_and_filters(
    api: Any, coupa: dict[str, Any], query: str, expected: list[str]
) -> None:
    session = punch_out(api, coupa)

    page = api.handle("GET", f"{session}/catalog", query=query)

    assert page.status == 200
    names = re.findall(r'<h2 id="p-\d+"><a href="[^"]+">([^<]+)</a>', page.text)
    assert [name.split()[0] for name in names] == expected


def test_level_two_punchout_lands_on_the_selected_product(api: Any, coupa: dict[str, Any]) -> None:
    session = punch_out(
        api,
        coupa,
        extra="<SelectedItem><ItemID><SupplierPartID>datastream-pro</SupplierPartID></ItemID></SelectedItem>",
    )

    start = api.handle("GET", session)

    assert start.status == 303
    assert start.header("Location") == f"https://gateway.test{session}/products/datastream-pro"
    page = api.handle("GET", f"{session}/products/datastream-pro")
    assert "Annual + usage" in page.text
    assert "15,000.00 USD per year + 0.08 USD per hour (Broker hours)" in page.text


def test_public_catalog_without_a_session(api: Any, coupa: dict[str, Any]) -> None:
    page = api.handle("GET", "/catalog", query="q=siem")
    product = api.handle("GET", "/catalog/products/sentinel-siem-trial")
    subscribe = api.handle(
        "GET", "/catalog/products/sentinel-siem-trial/subscribe", query="offer=trial"
    )

    assert page.status == product.status == subscribe.status == 200
    assert "Sentinel SIEM" in page.text and "Cancel and return" not in page.text
    assert "Your marketplace account ID" in subscribe.text
    assert "frame-ancestors 'none'" in (page.header("Content-Security-Policy") or "")


def test_unknown_product_and_offer_are_clear_pages(api: Any, coupa: dict[str, Any]) -> None:
    session = punch_out(api, coupa)
    for path, query in [
        (f"{session}/products/nope", ""),
        (f"{session}/products/datastream-pro/subscribe", "offer=nope"),
        ("/catalog/products/nope", ""),
    ]:
        page = api.handle("GET", path, query=query)
        assert page.status == 404, path
        assert page.header("Content-Type") == "text/html; charset=utf-8"


# --- Request approval and the cart return --------------------------------------------------


def test_contract_payg_goes_to_the_cart_as_two_lines(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    session = punch_out(api, coupa, cookie="coupa-cookie-42", deployment_mode="test")

    cart = cart_of(_approve(api, session, "datastream-pro", "annual", hours="1250"))

    assert cart.url == "https://acme.coupahost.com/punchout/checkout/4"
    assert cart.field == "cxml-base64"
    assert cart.text("Message/PunchOutOrderMessage/BuyerCookie") == "coupa-cookie-42"
    assert cart.root.find("Message").get("deploymentMode") == "test"
    header = cart.root.find("Message/PunchOutOrderMessage/PunchOutOrderMessageHeader")
    assert header.get("operationAllowed") == "edit"
    assert (
        cart.text("Message/PunchOutOrderMessage/PunchOutOrderMessageHeader/Total/Money")
        == "15100.00"
    )
    contract, usage = cart.lines
    assert (contract.get("quantity"), contract.findtext("ItemDetail/UnitPrice/Money")) == (
        "1",
        "15000.00",
    )
    assert contract.findtext("ItemDetail/UnitOfMeasure") == "ANN"
    assert (usage.get("quantity"), usage.findtext("ItemDetail/UnitPrice/Money")) == ("1250", "0.08")
    assert usage.findtext("ItemDetail/UnitOfMeasure") == "HUR"
    aux = [AUX.match(line.findtext("ItemID/SupplierPartAuxiliaryID")) for line in cart.lines]
    assert all(aux) and aux[0].group(1) == aux[1].group(1)
    assert [a.group(2) for a in aux] == ["1", "2"]
    for line in cart.lines:
        assert line.findtext("ItemID/SupplierPartID") == "datastream-pro/annual"
        assert line.find("ItemDetail/Classification").get("domain") == "UNSPSC"
        assert line.findtext("ItemDetail/Classification") == "81162000"
        assert len(line.findtext("ItemDetail/Description")) <= 255
    assert b"SharedSecret" not in cart.document
    stored = _requests(tables)
    assert len(stored) == 1 and stored[0]["pk"]["S"] == aux[0].group(1)
    assert stored[0]["state"]["S"] == "in_cart"


def test_free_trial_is_one_zero_priced_line(api: Any, coupa: dict[str, Any]) -> None:
    session = punch_out(api, coupa)

    cart = cart_of(_approve(api, session, "sentinel-siem-trial", "trial"))

    (line,) = cart.lines
    assert line.findtext("ItemDetail/UnitPrice/Money") == "0.00"
    assert line.findtext("ItemDetail/Classification") == "43232701"
    assert "Free for 30 days" in line.findtext("ItemDetail/Description")
    assert (
        cart.text("Message/PunchOutOrderMessage/PunchOutOrderMessageHeader/Total/Money") == "0.00"
    )


def test_free_and_byol_are_zero_lines_unless_preapproved(api: Any, tables: dict[str, Any]) -> None:
    create_products(api, FREE_AND_BYOL)
    plain = create_integration(api, coupa_integration())
    trusting = create_integration(
        api,
        coupa_integration(
            name="Trusting Coupa",
            buyer_identity={"domain": "DUNS", "identity": "trusting"},
            preapprove_free=True,
            preapprove_byol=True,
        ),
    )

    (line,) = cart_of(_approve(api, punch_out(api, plain), "open-notes", "byol")).lines
    page = _approve(api, punch_out(api, trusting), "open-notes", "free")

    assert line.findtext("ItemDetail/UnitPrice/Money") == "0.00"
    assert page.status == 200
    assert "Test subscription to Open Notes recorded" in page.text, (
        "the integration is in test mode"
    )
    assert "cart-return" not in page.text
    states = sorted(item["state"]["S"] for item in _requests(tables))
    assert states == ["in_cart", "preapproved"]
    items = tables["dynamodb"].scan(TableName="local-subscriptions")["Items"]
    (subscription,) = [item for item in items if "account_id" in item]  # not the marker
    assert subscription["state"]["S"] == "active", "pre-approved: subscribed at once"
    outbox = tables["dynamodb"].scan(TableName="local-outbox")["Items"]
    (mail,) = [item for item in outbox if item["pk"]["S"].startswith("email#")]
    assert mail["pk"]["S"] == f"email#{subscription['pk']['S']}#ready"


def test_ariba_cart_uses_urlencoded_and_round_trips_any_character(api: Any) -> None:
    create_products(api, HOSTILE)
    ariba = create_integration(api, ariba_integration(cart_field="cxml-urlencoded"))
    session = punch_out(api, ariba, secret=ARIBA_SECRET, form_post="https://s1.ariba.com/punchout")

    cart = cart_of(_approve(api, session, "zurich-qa", "monthly"))

    assert cart.field == "cxml-urlencoded"
    assert cart.url == "https://s1.ariba.com/punchout"
    (line,) = cart.lines
    short_name = line.findtext("ItemDetail/Description/ShortName")
    assert short_name.startswith('Zürich Q&A "Insights" <Pro> (TM)')
    assert "Ünïcode & <Sons>" in "".join(line.find("ItemDetail/Description").itertext())
    assert (line.get("quantity"), line.findtext("ItemDetail/UnitPrice/Money")) == ("12", "99.00")
    assert line.find("ItemDetail/UnitPrice/Money").get("currency") == "EUR"
    assert line.findtext("ItemDetail/UnitOfMeasure") == "MON"
    assert cart.root.find("Header/To/Credential/Identity").text == "AN01000000001-T"


def test_cancel_returns_status_204_without_lines(api: Any, coupa: dict[str, Any]) -> None:
    session = punch_out(api, coupa, operation="edit")

    cart = cart_of(post_form(api, f"{session}/cancel", {}))

    status = cart.root.find("Message/Status")
    assert status is not None and status.get("code") == "204"
    assert cart.lines == []


def test_a_bad_estimate_shows_the_form_again_and_stores_nothing(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    session = punch_out(api, coupa)

    for estimate in ("", "0", "-5", "lots", "NaN", "1e400"):
        page = _approve(api, session, "datastream-pro", "annual", hours=estimate)
        assert page.status == 400, estimate
        assert 'role="alert"' in page.text
        assert "Broker hours" in page.text
    assert _requests(tables) == []


def test_request_approval_makes_two_dynamodb_calls(
    api: Any, coupa: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    session = punch_out(api, coupa)
    _approve(api, session, "datastream-pro", "annual", hours="10")  # warm the handler
    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation: str, params: Any) -> Any:
        calls.append(operation)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)

    cart_of(_approve(api, session, "datastream-pro", "annual", hours="10"))

    assert calls == ["BatchGetItem", "PutItem"]


# --- edit and inspect ------------------------------------------------------------------------


def test_edit_reopens_the_request_and_keeps_its_aux_ids(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    first = cart_of(_approve(api, punch_out(api, coupa), "datastream-pro", "annual", hours="100"))
    edit = punch_out(api, coupa, operation="edit", extra=item_out(first))

    start = api.handle("GET", edit)
    page = api.handle("GET", start.header("Location").removeprefix("https://gateway.test"))
    request_id = AUX.match(first.lines[0].findtext("ItemID/SupplierPartAuxiliaryID")).group(1)
    assert f'name="request_id" value="{request_id}"' in page.text
    assert 'value="100"' in page.text

    second = cart_of(
        post_form(
            api,
            f"{edit}/requests",
            {"product_id": "datastream-pro", "offer_id": "annual", "request_id": request_id,
             "estimate.hours": "400"},
        )
    )  # fmt: skip

    assert [line.findtext("ItemID/SupplierPartAuxiliaryID") for line in second.lines] == [
        line.findtext("ItemID/SupplierPartAuxiliaryID") for line in first.lines
    ]
    assert second.lines[1].get("quantity") == "400"
    (stored,) = _requests(tables)
    assert stored["version"]["N"] == "2"


def test_inspect_is_read_only(api: Any, coupa: dict[str, Any], tables: dict[str, Any]) -> None:
    first = cart_of(_approve(api, punch_out(api, coupa), "datastream-pro", "annual", hours="100"))
    inspect = punch_out(api, coupa, operation="inspect", extra=item_out(first))
    request_id = AUX.match(first.lines[0].findtext("ItemID/SupplierPartAuxiliaryID")).group(1)

    page = api.handle("GET", f"{inspect}/requests/{request_id}")
    change = post_form(
        api, f"{inspect}/requests",
        {"product_id": "datastream-pro", "offer_id": "annual", "request_id": request_id,
         "estimate.hours": "999"},
    )  # fmt: skip

    assert "open for viewing only" in page.text
    assert "Request approval</button>" not in page.text
    assert change.status == 403
    assert _requests(tables)[0]["version"]["N"] == "1"


def test_another_session_cannot_see_or_change_a_request(api: Any, coupa: dict[str, Any]) -> None:
    first = cart_of(_approve(api, punch_out(api, coupa), "datastream-pro", "annual", hours="100"))
    request_id = AUX.match(first.lines[0].findtext("ItemID/SupplierPartAuxiliaryID")).group(1)
    other = create_integration(
        api, coupa_integration(name="Other", buyer_identity={"domain": "DUNS", "identity": "other"})
    )
    stranger = punch_out(api, other, operation="edit", extra=item_out(first))
    neighbour = punch_out(api, coupa)  # same integration, but not given this request

    for session in (stranger, neighbour):
        assert api.handle("GET", f"{session}/requests/{request_id}").status == 404
        change = post_form(
            api, f"{session}/requests",
            {"product_id": "datastream-pro", "offer_id": "annual", "request_id": request_id,
             "estimate.hours": "1"},
        )  # fmt: skip
        assert change.status == 403


def test_expired_session_cannot_request(api: Any, coupa: dict[str, Any], clock: Any) -> None:
    session = punch_out(api, coupa)
    clock.advance(timedelta(hours=2))

    page = _approve(api, session, "datastream-pro", "annual", hours="1")

    assert page.status == 404
    assert "Your shopping session has ended" in page.text


# --- outside a punchout session ---------------------------------------------------------------


def test_the_next_step_page_gives_the_last_day_to_punch_out_as_a_reader_writes_it(
    api: Any, coupa: dict[str, Any], clock: Any
) -> None:
    # Given today is 30 November 2026
    clock.freeze(datetime(2026, 11, 30, 13, 0, tzinfo=UTC))
    # When a Coupa user starts a request on the public marketplace
    answer = post_form(
        api,
        "/catalog/requests",
        {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "50",
         "account_id": "111122223333", "email": "jim@acme.example"},
    )  # fmt: skip
    # Then the page says until when the request waits, in words (kept 7 days)
    assert answer.status == 200
    assert 'before <time datetime="2026-12-07">7 December 2026</time>' in answer.text


def test_coupa_user_starting_on_the_marketplace_is_told_what_next_and_finds_the_request_on_punchout(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    answer = post_form(
        api,
        "/catalog/requests",
        {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "50",
         "account_id": "111122223333", "email": "jim@acme.example"},
    )  # fmt: skip

    assert answer.status == 200
    assert '<h1 id="waiting-h">Your request is waiting for Coupa</h1>' in answer.text
    assert (
        '<a class="button" id="continue" href="https://acme.coupahost.com/requisitions/new">'
        "Continue to Coupa</a>" in answer.text
    )
    (stored,) = _requests(tables)
    assert stored["state"]["S"] == "awaiting_punchout"
    request_id = stored["pk"]["S"]

    session = punch_out(api, coupa)
    catalog = api.handle("GET", session)
    assert "Requests you started on the marketplace" in catalog.text
    assert f"{session}/requests/{request_id}" in catalog.text
    page = api.handle("GET", f"{session}/requests/{request_id}")
    assert 'value="50"' in page.text

    cart = cart_of(
        post_form(
            api, f"{session}/requests",
            {"product_id": "datastream-pro", "offer_id": "annual", "request_id": request_id,
             "estimate.hours": "50"},
        )
    )  # fmt: skip
    assert cart.lines[0].findtext("ItemID/SupplierPartAuxiliaryID") == f"{request_id}-1"
    assert _requests(tables)[0]["state"]["S"] == "in_cart"
    assert "awaiting_integration" not in _requests(tables)[0]


def test_ariba_users_cannot_start_on_the_marketplace(api: Any, tables: dict[str, Any]) -> None:
    create_products(api, CONTRACT_PAYG)
    create_integration(api, ariba_integration())

    answer = post_form(
        api,
        "/catalog/requests",
        {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "50",
         "account_id": "444455556666"},
    )  # fmt: skip

    assert answer.status == 403
    assert "must start from Ariba" in answer.text
    assert _requests(tables) == []


def test_a_mistyped_account_id_keeps_the_form_with_the_error_on_the_field(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    # Given a Coupa user who mistypes their marketplace account ID
    answer = post_form(
        api, "/catalog/requests",
        {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "50",
         "account_id": "11112222333", "email": "jim@acme.example"},
    )  # fmt: skip

    # Then the form is still there, with what they typed, and the error is on the field
    assert answer.status == 400
    assert 'name="account_id"' in answer.text and 'value="11112222333"' in answer.text
    assert 'value="jim@acme.example"' in answer.text and 'value="50"' in answer.text
    assert 'aria-describedby="account-hint account-error" aria-invalid="true"' in answer.text
    assert (
        '<p class="error" role="alert" id="account-error">No procurement integration is set up '
        "for this marketplace account ID. Check the ID" in answer.text
    )
    assert 'class="notice"' not in answer.text
    assert "Request approval</button>" in answer.text
    assert _requests(tables) == []


def test_the_public_form_says_where_to_find_the_marketplace_account_id(
    api: Any, coupa: dict[str, Any]
) -> None:
    page = api.handle("GET", "/catalog/products/datastream-pro/subscribe", query="offer=annual")
    empty = post_form(
        api, "/catalog/requests", {"product_id": "datastream-pro", "offer_id": "annual"}
    )

    assert 'aria-describedby="account-hint"' in page.text and "aria-invalid" not in page.text
    assert "our subscription emails show it as “Marketplace account ID”" in page.text
    assert empty.status == 400
    assert 'id="account-error">Enter your marketplace account ID.</p>' in empty.text


# --- hostile content ---------------------------------------------------------------------------


def test_product_fields_render_escaped_everywhere(api: Any, coupa: dict[str, Any]) -> None:
    session = punch_out(api, coupa)
    pages = [
        api.handle("GET", f"{session}/catalog"),
        api.handle("GET", f"{session}/products/zurich-qa"),
        api.handle("GET", f"{session}/products/zurich-qa/subscribe", query="offer=monthly"),
        api.handle("GET", "/catalog/products/zurich-qa"),
        _approve(api, session, "zurich-qa", "monthly"),
    ]
    for page in pages:
        assert page.status == 200
        assert "<script>alert" not in page.text
        assert "<img src=x" not in page.text
        assert "<b>plan</b>" not in page.text
        assert "<Pro>" not in page.text
    assert "&lt;script&gt;alert(" in pages[0].text


def test_admin_cannot_sneak_markup_through_the_price_summary(
    api: Any, coupa: dict[str, Any]
) -> None:
    status, _ = admin(api, "PATCH", "/admin/products/zurich-qa", {"offers": [
        {"id": "monthly", "name": "x", "currency": "<s>", "pricing": {"model": "free"}}]})  # fmt: skip
    assert status == 400


def test_cart_totals_are_exact_decimals(api: Any, coupa: dict[str, Any]) -> None:
    cart = cart_of(_approve(api, punch_out(api, coupa), "datastream-pro", "annual", hours="0.5"))
    total = cart.text("Message/PunchOutOrderMessage/PunchOutOrderMessageHeader/Total/Money")
    assert Decimal(total) == Decimal("15000.04")


def test_ariba_user_is_greeted_by_the_contact_name_not_the_login(api: Any) -> None:
    ariba = create_integration(api, ariba_integration())
    info = ariba["purchase_information"]
    document = (
        punchout_setup(
            from_credentials=[(info["buyer_domain"], info["buyer_identity"])],
            secret=ARIBA_SECRET,
            sender="sysadmin@ariba.com",
            extra="<Contact role='endUser'><Name xml:lang='en'>Hank Scorpio</Name></Contact>",
        )
        .replace('<Extrinsic name="FirstName">Jim</Extrinsic>', "")
        .replace('<Extrinsic name="LastName">Halpert</Extrinsic>', "")
        .replace("</BuyerCookie>", '</BuyerCookie><Extrinsic name="User">hank.scorpio</Extrinsic>')
    )
    answer = post_cxml(api, document)
    path = answer.find("Response/PunchOutSetupResponse/StartPage/URL").removeprefix(BASE_URL)

    assert "as Hank Scorpio" in api.handle("GET", path).text


def test_subscription_page_shows_the_total_to_approve(api: Any, coupa: dict[str, Any]) -> None:
    first = cart_of(_approve(api, punch_out(api, coupa), "datastream-pro", "annual", hours="100"))
    edit = punch_out(api, coupa, operation="edit", extra=item_out(first))
    request_id = AUX.match(first.lines[0].findtext("ItemID/SupplierPartAuxiliaryID")).group(1)

    page = api.handle("GET", f"{edit}/requests/{request_id}")
    blank = api.handle("GET", f"{edit}/products/datastream-pro/subscribe", query="offer=annual")

    assert 'id="amount-hours">8.00 USD</td>' in page.text
    assert "<strong>15,008.00 USD</strong>" in page.text
    assert "<strong>enter your estimate</strong>" in blank.text
    assert "'nonce-" in (page.header("Content-Security-Policy") or "")


def test_requests_started_on_the_marketplace_are_offered_for_a_week(
    api: Any, coupa: dict[str, Any], clock: Any
) -> None:
    post_form(
        api,
        "/catalog/requests",
        {"product_id": "sentinel-siem-trial", "offer_id": "trial", "account_id": "111122223333",
         "email": "jim@acme.example"},
    )  # fmt: skip
    assert (
        "Requests you started on the marketplace" in api.handle("GET", punch_out(api, coupa)).text
    )
    clock.advance(timedelta(days=8))

    catalog = api.handle("GET", punch_out(api, coupa))

    assert "Requests you started on the marketplace" not in catalog.text


@pytest.mark.parametrize("cart_field", ["cxml-base64", "cxml-urlencoded"])
def test_both_encodings_round_trip_any_character(api: Any, cart_field: str) -> None:
    create_products(api, HOSTILE)
    integration = create_integration(api, coupa_integration(cart_field=cart_field))

    cart = cart_of(_approve(api, punch_out(api, integration), "zurich-qa", "monthly"))

    assert cart.field == cart_field
    (line,) = cart.lines
    assert line.findtext("ItemDetail/Description/ShortName").startswith(
        'Zürich Q&A "Insights" <Pro> (TM)'
    )
    assert "Ünïcode & <Sons>" in "".join(line.find("ItemDetail/Description").itertext())


def test_a_double_submit_is_one_request(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    session = punch_out(api, coupa)
    page = api.handle("GET", f"{session}/products/datastream-pro/subscribe", query="offer=annual")
    key = re.search(r'name="request_key" value="(req-[0-9a-f]{16})"', page.text).group(1)
    fields = {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "10",
              "request_key": key}  # fmt: skip

    first = cart_of(post_form(api, f"{session}/requests", fields))
    second = cart_of(post_form(api, f"{session}/requests", fields))

    aux = [line.findtext("ItemID/SupplierPartAuxiliaryID") for line in first.lines]
    assert aux == [f"{key}-1", f"{key}-2"]
    assert [line.findtext("ItemID/SupplierPartAuxiliaryID") for line in second.lines] == aux
    assert len(_requests(tables)) == 1
    other = punch_out(api, coupa)
    assert post_form(api, f"{other}/requests", fields).status == 403
