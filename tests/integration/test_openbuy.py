"""Coupa Open Buy through the API Gateway stand-in, against moto: Coupa authenticates with the
integration's shared secret, then searches, reads a product and checks out into the punchout."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions import ids
from tests.support import admin, ariba_integration, coupa_integration, openbuy

NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _product(name: str, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": name.casefold().replace(" ", "-"),
        "name": name,
        "seller": "Sentinel Labs",
        "short_description": f"{name}: security analytics",
        "long_description": "Correlates logs from every account.",
        "usage_instructions": "Sign in with your SSO.",
        "product_type": "saas",
        "offers": [
            {
                "id": "annual",
                "name": "Annual",
                "currency": "USD",
                "pricing": {"model": "contract", "price": "12000.00", "period": "year"},
            },
            {
                "id": "usage",
                "name": "Pay as you go",
                "currency": "USD",
                "pricing": {
                    "model": "payg",
                    "dimensions": [
                        {"key": "hosts", "name": "Hosts", "unit": "HUR", "unit_price": "0.12"}
                    ],
                },
            },
        ],
    }
    payload.update(overrides)
    return payload


def _add_products(api: Any, *products: dict[str, Any]) -> None:
    for payload in products:
        status, body = admin(api, "POST", "/admin/products", payload)
        assert status == 201, body


def _coupa(api: Any, **overrides: Any) -> tuple[str, str]:
    status, body = admin(api, "POST", "/admin/integrations", coupa_integration(**overrides))
    assert status == 201, body
    return body["id"], body["purchase_information"]["shared_secret"]


def _login(api: Any, integration_id: str, secret: str, **extra: Any) -> tuple[int, Any]:
    return openbuy(
        api, "authentication", {"username": integration_id, "credentials": secret, **extra}
    )


def _token(api: Any, integration_id: str, secret: str) -> str:
    status, body = _login(api, integration_id, secret)
    assert status == 200, body
    return str(body["token"])


def _items(tables: dict[str, Any]) -> list[dict[str, Any]]:
    return tables["dynamodb"].scan(TableName="local-sessions")["Items"]


@pytest.fixture
def coupa(api: Any) -> tuple[str, str]:
    return _coupa(api)


# --- authentication -------------------------------------------------------------------------


def test_coupa_authenticates_and_only_the_token_digest_is_stored(
    api: Any, tables: dict[str, Any], coupa: tuple[str, str], clock: Any
) -> None:
    clock.freeze(NOON)
    integration_id, secret = coupa

    status, body = _login(api, integration_id, secret, email="jim@acme.example")

    assert status == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    token = body["token"]
    assert len(token) >= 43
    (item,) = _items(tables)
    assert item["pk"]["S"] == "openbuy#" + ids.digest(token)
    assert item["integration_id"]["S"] == integration_id
    assert item["email"]["S"] == "jim@acme.example"
    assert item["expires_at"]["N"] == str(int((NOON + timedelta(minutes=15)).timestamp()))
    assert token not in str(item) and secret not in str(item)


def test_wrong_secret_and_unknown_integration_are_the_same_401(
    api: Any, tables: dict[str, Any], coupa: tuple[str, str]
) -> None:
    integration_id, _ = coupa

    wrong_status, wrong = _login(api, integration_id, "not-the-secret")
    unknown_status, unknown = _login(api, "int_0000000000", "not-the-secret")
    missing_status, missing = openbuy(api, "authentication", {"username": integration_id})

    assert wrong_status == unknown_status == missing_status == 401
    assert wrong["error"]["message"] == unknown["error"]["message"] == missing["error"]["message"]
    assert _items(tables) == []


def test_ariba_integrations_have_no_open_buy(api: Any, tables: dict[str, Any]) -> None:
    _, created = admin(api, "POST", "/admin/integrations", ariba_integration())

    status, body = _login(api, created["id"], "anything")

    assert status == 403
    assert body["error"]["message"] == "Open Buy is a Coupa feature; Ariba users start from Ariba."
    assert _items(tables) == []


def test_a_disabled_integration_cannot_authenticate(api: Any, coupa: tuple[str, str]) -> None:
    integration_id, secret = coupa
    admin(api, "POST", f"/admin/integrations/{integration_id}/disable")

    status, body = _login(api, integration_id, secret)

    assert status == 403 and "disabled" in body["error"]["message"]


def test_a_rotated_secret_replaces_the_old_one(api: Any, coupa: tuple[str, str]) -> None:
    integration_id, old = coupa
    _, rotated = admin(api, "POST", f"/admin/integrations/{integration_id}/secret")

    assert _login(api, integration_id, old)[0] == 401
    assert _login(api, integration_id, rotated["purchase_information"]["shared_secret"])[0] == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"", None),
        (b"{not json", None),
        (b"[1, 2]", None),
        (b'{"credentials": "x"}', "username"),
        (b'{"username": 12, "credentials": "x"}', "username"),
        (b'{"username": "int_1", "credentials": {"a": 1}}', "credentials"),
        (b'{"username": "int_1", "credentials": "x", "email": 3}', "email"),
    ],
)
def test_malformed_authentication_bodies_are_400(api: Any, body: bytes, field: str | None) -> None:
    status, answer = openbuy(api, "authentication", raw=body)

    assert status == 400
    assert answer["error"].get("field") == field


# --- bearer tokens --------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["search", "detail", "checkout"])
@pytest.mark.parametrize("bearer", [None, "made-up-token"])
def test_search_detail_and_checkout_need_a_token(
    api: Any, endpoint: str, bearer: str | None
) -> None:
    payload = {"query": "siem", "source_part_num": "siem-cloud"}

    status, body = openbuy(api, endpoint, payload, token=bearer)

    assert status == 401
    assert "authenticate again" in body["error"]["message"]


def test_a_token_expires_after_fifteen_minutes(
    api: Any, coupa: tuple[str, str], clock: Any
) -> None:
    clock.freeze(NOON)
    token = _token(api, *coupa)

    clock.advance(timedelta(minutes=14, seconds=59))
    assert openbuy(api, "search", {"query": "siem"}, token=token)[0] == 200
    clock.advance(timedelta(seconds=1))
    status, body = openbuy(api, "search", {"query": "siem"}, token=token)

    assert status == 401 and "expired" in body["error"]["message"]


def test_disabling_the_integration_stops_its_tokens(api: Any, coupa: tuple[str, str]) -> None:
    integration_id, secret = coupa
    token = _token(api, integration_id, secret)
    admin(api, "POST", f"/admin/integrations/{integration_id}/disable")

    status, body = openbuy(api, "search", {"query": "siem"}, token=token)

    assert status == 403 and "disabled" in body["error"]["message"]
    admin(api, "POST", f"/admin/integrations/{integration_id}/enable")
    assert openbuy(api, "search", {"query": "siem"}, token=token)[0] == 200


def test_each_token_belongs_to_the_integration_that_authenticated(
    api: Any, tables: dict[str, Any], coupa: tuple[str, str]
) -> None:
    first_id, first_secret = coupa
    second_id, second_secret = _coupa(
        api, name="Initech Coupa", buyer_identity={"domain": "DUNS", "identity": "initech"}
    )

    first = _token(api, first_id, first_secret)
    second = _token(api, second_id, second_secret)
    cross = _login(api, second_id, first_secret)

    owners = {item["pk"]["S"]: item["integration_id"]["S"] for item in _items(tables)}
    assert owners == {
        "openbuy#" + ids.digest(first): first_id,
        "openbuy#" + ids.digest(second): second_id,
    }
    assert cross[0] == 401, "one integration's secret does not open another"
    admin(api, "POST", f"/admin/integrations/{first_id}/disable")
    assert openbuy(api, "search", {"query": "x"}, token=first)[0] == 403
    assert openbuy(api, "search", {"query": "x"}, token=second)[0] == 200


def test_a_punchout_session_token_is_not_an_open_buy_token(
    api: Any, tables: dict[str, Any], coupa: tuple[str, str]
) -> None:
    token = _token(api, *coupa)

    # The same digest without the prefix is where a punchout session would live.
    status, _ = openbuy(api, "search", {"query": "x"}, token="openbuy#" + token)

    assert status == 401


# --- search ---------------------------------------------------------------------------------


@pytest.fixture
def token(api: Any, coupa: tuple[str, str]) -> str:
    return _token(api, *coupa)


def test_search_finds_listed_products_by_name(api: Any, token: str) -> None:
    _add_products(
        api,
        _product("Zeta SIEM"),
        _product("Alpha SIEM"),
        _product("Hidden SIEM", listed=False),
        _product("Firewall Manager"),
    )

    status, body = openbuy(api, "search", {"query": "siem", "page_number": 1}, token=token)

    assert status == 200
    assert (body["count"], body["total_count"], body["page_number"], body["page_size"]) == (
        2,
        2,
        1,
        20,
    )
    first = body["results"][0]
    assert first == {
        "source_part_num": "alpha-siem",
        "name": "Alpha SIEM",
        "description": "Alpha SIEM: security analytics",
        "supplier": "Sentinel Labs",
        "product_type": "saas",
        "pricing_models": ["contract", "payg"],
        "price_summary": "0.12 USD per hour (Hosts)",
        "currency": "USD",
        "unit_price": "0.12",
        "uom": "HUR",
        "image_url": None,
        "url": "https://gateway.test/catalog/products/alpha-siem",
        "punchout": {"url": "https://gateway.test/cxml/punchout", "selected_item": "alpha-siem"},
    }
    assert body["results"][1]["name"] == "Zeta SIEM"


def test_search_pages_by_twenty(api: Any, token: str) -> None:
    _add_products(api, *(_product(f"Tool {n:02}") for n in range(25)))

    _, first = openbuy(api, "search", {"query": "tool"}, token=token)
    _, second = openbuy(api, "search", {"query": "tool", "page_number": 2}, token=token)
    _, beyond = openbuy(api, "search", {"query": "tool", "page_number": 9}, token=token)

    assert (first["count"], first["page_number"], first["total_count"]) == (20, 1, 25)
    assert (second["count"], second["page_number"], second["total_count"]) == (5, 2, 25)
    assert [r["name"] for r in second["results"]] == [f"Tool {n}" for n in range(20, 25)]
    assert (beyond["count"], beyond["total_count"], beyond["results"]) == (0, 25, [])


def test_markup_in_names_comes_back_verbatim_as_json(api: Any, token: str) -> None:
    name = "<script>alert(1)</script> SIEM"
    _add_products(api, _product(name, id="scripted"))

    answer = api.handle(
        "POST",
        "/openbuy/search/v1.0.0",
        headers=[("Authorization", f"Bearer {token}"), ("Content-Type", "application/json")],
        body=b'{"query": "script"}',
    )

    assert answer.status == 200
    assert answer.header("Content-Type") == "application/json"
    assert json.loads(answer.body)["results"][0]["name"] == name


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "query"),
        ({"query": ""}, "query"),
        ({"query": 42}, "query"),
        ({"query": "x" * 201}, "query"),
        ({"query": "x", "page_number": 0}, "page_number"),
        ({"query": "x", "page_number": 1.5}, "page_number"),
        ({"query": "x", "page_number": "first"}, "page_number"),
    ],
)
def test_bad_searches_are_400_naming_the_field(
    api: Any, token: str, payload: dict[str, Any], field: str
) -> None:
    status, body = openbuy(api, "search", payload, token=token)

    assert status == 400
    assert body["error"]["field"] == field


@pytest.mark.parametrize("raw", [b"", b"{", b'"siem"', b"\xff\xfe"])
def test_malformed_search_bodies_are_json_400(api: Any, token: str, raw: bytes) -> None:
    assert openbuy(api, "search", raw=raw, token=token)[0] == 400


# --- detail and checkout --------------------------------------------------------------------


def test_detail_describes_the_product_and_its_offers(api: Any, token: str) -> None:
    _add_products(api, _product("Siem Cloud"))

    status, body = openbuy(api, "detail", {"source_part_num": "siem-cloud"}, token=token)

    assert status == 200
    assert body["source_part_num"] == "siem-cloud"
    assert (body["name"], body["supplier"]) == ("Siem Cloud", "Sentinel Labs")
    assert body["description"] == "Siem Cloud: security analytics"
    assert body["long_description"] == "Correlates logs from every account."
    assert body["usage_instructions"] == "Sign in with your SSO."
    assert (body["product_type"], body["unspsc"]) == ("saas", "81162000")
    assert body["url"] == "https://gateway.test/catalog/products/siem-cloud"
    annual, usage = body["offers"]
    assert annual["summary"] == "12,000.00 USD per year"
    assert annual["contract"] == {"price": "12000.00", "period": "year", "term": 1, "uom": "ANN"}
    assert usage["model"] == "payg" and usage["currency"] == "USD"
    assert usage["dimensions"] == [
        {"key": "hosts", "name": "Hosts", "unit": "HUR", "unit_label": "hour", "unit_price": "0.12"}
    ]


@pytest.mark.parametrize("endpoint", ["detail", "checkout"])
def test_unknown_and_unlisted_products_are_404(api: Any, token: str, endpoint: str) -> None:
    _add_products(api, _product("Hidden", listed=False))

    for product_id in ("hidden", "no-such-product"):
        status, body = openbuy(api, endpoint, {"source_part_num": product_id}, token=token)
        assert status == 404, product_id
        assert product_id in body["error"]["message"]


def test_detail_needs_a_part_number(api: Any, token: str) -> None:
    status, body = openbuy(api, "detail", {"source_part_num": ["x"]}, token=token)

    assert status == 400 and body["error"]["field"] == "source_part_num"


def test_checkout_hands_coupa_a_level_two_punchout(api: Any, token: str) -> None:
    _add_products(api, _product("Siem Cloud"))

    status, body = openbuy(
        api, "checkout", {"source_part_num": "siem-cloud", "offer_id": "annual"}, token=token
    )

    assert status == 200
    assert (body["source_part_num"], body["offer_id"]) == ("siem-cloud", "annual")
    assert body["punchout"] == {
        "url": "https://gateway.test/cxml/punchout",
        "operation": "create",
        "selected_item": {"supplier_part_id": "siem-cloud"},
    }
    assert "Request approval" in body["message"]
    _, without_offer = openbuy(api, "checkout", {"source_part_num": "siem-cloud"}, token=token)
    assert without_offer["offer_id"] is None


def test_checkout_of_an_unknown_offer_is_404(api: Any, token: str) -> None:
    _add_products(api, _product("Siem Cloud"))

    status, body = openbuy(
        api, "checkout", {"source_part_num": "siem-cloud", "offer_id": "lifetime"}, token=token
    )

    assert status == 404 and "lifetime" in body["error"]["message"]
