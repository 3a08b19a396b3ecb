"""Coupa Open Buy, pure: bodies, tokens, and the search/detail/checkout answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from functions import ids, openbuy
from functions.catalog import Dimension, Offer, Pricing, Product
from functions.errors import BadRequest, Forbidden, NotFound, Unauthenticated
from functions.integrations import BuyerIdentity, Endpoints, Integration

ENDPOINTS = Endpoints("https://gateway.test", "NetworkID", "procurement-gateway")
SECRET = "coupa-shared-secret-0123456789"
NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

CONTRACT = Offer(
    "annual", "Annual", "USD", Pricing("contract", price=Decimal("12000"), period="year")
)
USAGE = Offer(
    "usage",
    "Pay as you go",
    "USD",
    Pricing(
        "payg",
        dimensions=(
            Dimension("hosts", "Hosts", "HUR", Decimal("0.12")),
            Dimension("data", "Data", "E34", Decimal("0.0045")),
        ),
    ),
)
TRIAL = Offer(
    "trial",
    "Trial",
    "EUR",
    Pricing(
        "free_trial",
        trial_days=30,
        then=Pricing("contract", price=Decimal("99.50"), period="month", term=12),
    ),
)


def product(name: str = "Siem Cloud", **overrides: Any) -> Product:
    values: dict[str, Any] = {
        "id": name.casefold().replace(" ", "-"),
        "name": name,
        "seller": "Sentinel Labs",
        "short_description": "Security analytics",
        "long_description": "Correlates logs.",
        "product_type": "saas",
        "offers": (CONTRACT, USAGE),
        "usage_instructions": "Sign in with SSO.",
    }
    values.update(overrides)
    return Product(**values)


def integration(**overrides: Any) -> Integration:
    values: dict[str, Any] = {
        "id": "int_abc",
        "name": "Acme Coupa",
        "system": "coupa",
        "buyer": BuyerIdentity("DUNS", "acme"),
        "account_id": "111122223333",
        "account_email": "it@acme.example",
        "secret_digest": ids.digest(SECRET),
    }
    values.update(overrides)
    return Integration(**values)


# --- request bodies -------------------------------------------------------------------------


def test_credentials_are_read_and_email_is_optional() -> None:
    given = {"username": " int_abc ", "credentials": SECRET, "extra": "ignored"}

    credentials = openbuy.credentials_from_json(given)

    assert credentials == openbuy.Credentials("int_abc", SECRET, "")
    with_email = openbuy.credentials_from_json(dict(given, email="jim@acme.example"))
    assert with_email.email == "jim@acme.example"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([], None),
        ({"credentials": SECRET}, "username"),
        ({"username": "", "credentials": SECRET}, "username"),
        ({"username": 7, "credentials": SECRET}, "username"),
        ({"username": "int_abc", "credentials": 7}, "credentials"),
        ({"username": "int_abc", "credentials": SECRET, "email": ["x"]}, "email"),
        ({"username": "int_abc", "credentials": SECRET, "email": "a\x00b"}, "email"),
    ],
)
def test_malformed_credentials_are_a_400_naming_the_field(payload: Any, field: str | None) -> None:
    with pytest.raises(BadRequest) as refused:
        openbuy.credentials_from_json(payload)

    assert refused.value.field == field


@pytest.mark.parametrize("secret", [None, ""])
def test_missing_credentials_read_like_wrong_ones(secret: str | None) -> None:
    with pytest.raises(Unauthenticated) as refused:
        openbuy.credentials_from_json({"username": "int_abc", "credentials": secret})

    assert refused.value.message == openbuy.BAD_CREDENTIALS


def test_search_request_defaults_to_page_one_and_accepts_a_digit_string() -> None:
    assert openbuy.search_request_from_json({"query": " siem "}) == openbuy.SearchRequest("siem")
    assert openbuy.search_request_from_json({"query": "x", "page_number": 3}).page_number == 3
    assert openbuy.search_request_from_json({"query": "x", "page_number": "2"}).page_number == 2


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "query"),
        ({"query": "   "}, "query"),
        ({"query": 5}, "query"),
        ({"query": "x" * 201}, "query"),
        ({"query": "x", "page_number": 0}, "page_number"),
        ({"query": "x", "page_number": -1}, "page_number"),
        ({"query": "x", "page_number": True}, "page_number"),
        ({"query": "x", "page_number": Decimal("1.5")}, "page_number"),
        ({"query": "x", "page_number": "two"}, "page_number"),
    ],
)
def test_bad_search_requests_name_the_field(payload: Any, field: str) -> None:
    with pytest.raises(BadRequest) as refused:
        openbuy.search_request_from_json(payload)

    assert refused.value.field == field


def test_checkout_body_has_an_optional_offer() -> None:
    assert openbuy.checkout_from_json({"source_part_num": "p"}) == ("p", "")
    assert openbuy.checkout_from_json({"source_part_num": "p", "offer_id": "o"}) == ("p", "o")
    with pytest.raises(BadRequest) as refused:
        openbuy.checkout_from_json({"offer_id": "o"})
    assert refused.value.field == "source_part_num"


# --- authentication and tokens --------------------------------------------------------------


def test_the_right_secret_authenticates_an_enabled_coupa_integration() -> None:
    credentials = openbuy.Credentials("int_abc", SECRET)

    assert openbuy.authenticate(credentials, integration()).id == "int_abc"


def test_unknown_integration_and_wrong_secret_read_the_same() -> None:
    with pytest.raises(Unauthenticated) as unknown:
        openbuy.authenticate(openbuy.Credentials("int_nope", SECRET), None)
    with pytest.raises(Unauthenticated) as wrong:
        openbuy.authenticate(openbuy.Credentials("int_abc", "guess"), integration())

    assert unknown.value.message == wrong.value.message


def test_ariba_and_disabled_integrations_are_forbidden() -> None:
    ariba = integration(system="ariba", secret_digest=None)
    with pytest.raises(Forbidden, match="Open Buy is a Coupa feature"):
        openbuy.authenticate(openbuy.Credentials("int_abc", SECRET), ariba)
    with pytest.raises(Forbidden, match="disabled"):
        openbuy.authenticate(openbuy.Credentials("int_abc", SECRET), integration(enabled=False))


def test_a_disabled_integration_is_refused_only_after_the_secret_matched() -> None:
    with pytest.raises(Unauthenticated):
        openbuy.authenticate(openbuy.Credentials("int_abc", "guess"), integration(enabled=False))


def test_issued_token_is_random_stored_as_digest_and_lasts_fifteen_minutes(clock: Any) -> None:
    clock.freeze(NOON)

    token, record = openbuy.issue_token(integration(), "jim@acme.example")

    assert len(token) >= 43, "256 bits"
    assert record.token_digest == ids.digest(token) and token not in repr(record)
    assert (record.integration_id, record.email) == ("int_abc", "jim@acme.example")
    assert record.expires_at == NOON + timedelta(minutes=15)
    assert openbuy.token_reply(token) == {"token": token, "token_type": "Bearer", "expires_in": 900}
    assert openbuy.issue_token(integration(), "")[0] != token


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic abc", "abc"])
def test_a_bearer_token_is_required(header: str | None) -> None:
    with pytest.raises(Unauthenticated):
        openbuy.bearer_token(header)


def test_bearer_scheme_is_case_insensitive() -> None:
    assert openbuy.bearer_token("bearer tok-1 ") == "tok-1"


def test_a_token_is_live_until_it_expires() -> None:
    record = openbuy.OpenBuyToken("d", "int_abc", "", NOON, NOON + openbuy.TOKEN_LIFETIME)

    assert openbuy.live_token(record, NOON + timedelta(minutes=14, seconds=59)) is record
    for refused in (None, record):
        with pytest.raises(Unauthenticated):
            openbuy.live_token(refused, NOON + timedelta(minutes=15))


def test_a_token_stops_working_when_its_integration_is_disabled_or_gone() -> None:
    record = openbuy.OpenBuyToken("d", "int_abc", "", NOON, NOON + openbuy.TOKEN_LIFETIME)

    assert openbuy.token_integration(record, integration()).id == "int_abc"
    with pytest.raises(Forbidden):
        openbuy.token_integration(record, integration(enabled=False))
    with pytest.raises(Unauthenticated):
        openbuy.token_integration(record, None)


# --- answers --------------------------------------------------------------------------------


def test_entry_price_is_contract_price_else_lowest_rate_else_zero() -> None:
    assert openbuy.entry_price(CONTRACT.pricing) == (Decimal("12000"), "ANN")
    assert openbuy.entry_price(USAGE.pricing) == (Decimal("0.0045"), "E34")
    assert openbuy.entry_price(TRIAL.pricing) == (Decimal("0.00"), "EA")
    assert openbuy.entry_price(Pricing("byol")) == (Decimal("0.00"), "EA")


def test_search_result_shape() -> None:
    given = product()

    answer = openbuy.search([given], openbuy.SearchRequest("siem"), ENDPOINTS)

    assert (answer["count"], answer["total_count"], answer["page_number"]) == (1, 1, 1)
    assert answer["page_size"] == 20
    assert answer["results"] == [
        {
            "source_part_num": "siem-cloud",
            "name": "Siem Cloud",
            "description": "Security analytics",
            "supplier": "Sentinel Labs",
            "product_type": "saas",
            "pricing_models": ["contract", "payg"],
            "price_summary": USAGE.summary,
            "currency": "USD",
            "unit_price": "0.0045",
            "uom": "E34",
            "image_url": None,
            "url": "https://gateway.test/catalog/products/siem-cloud",
            "punchout": {
                "url": "https://gateway.test/cxml/punchout",
                "selected_item": "siem-cloud",
            },
        }
    ]


def test_search_matches_listed_products_only_sorted_by_name() -> None:
    products = [
        product("zeta siem"),
        product("Alpha SIEM"),
        product("Hidden siem", listed=False),
        product("Firewall"),
    ]

    answer = openbuy.search(products, openbuy.SearchRequest("siem"), ENDPOINTS)

    assert [r["name"] for r in answer["results"]] == ["Alpha SIEM", "zeta siem"]


def test_pages_of_twenty_and_past_the_end_is_empty_with_the_total() -> None:
    products = [product(f"Tool {n:02}") for n in range(25)]

    second = openbuy.search(products, openbuy.SearchRequest("tool", 2), ENDPOINTS)
    beyond = openbuy.search(products, openbuy.SearchRequest("tool", 3), ENDPOINTS)

    assert (second["count"], second["total_count"]) == (5, 25)
    assert second["results"][0]["name"] == "Tool 20"
    assert (beyond["count"], beyond["total_count"], beyond["results"]) == (0, 25, [])


def test_free_products_start_at_zero() -> None:
    free = product(offers=(Offer("free", "Free", "USD", Pricing("free")), CONTRACT))

    (result,) = openbuy.search([free], openbuy.SearchRequest("siem"), ENDPOINTS)["results"]

    assert (result["unit_price"], result["uom"], result["price_summary"]) == ("0.00", "EA", "Free")


def test_detail_lists_offers_with_priced_components_as_strings() -> None:
    answer = openbuy.detail(product(offers=(CONTRACT, USAGE, TRIAL)), ENDPOINTS)

    assert answer["source_part_num"] == "siem-cloud"
    assert answer["unspsc"] == "81162000"
    assert answer["long_description"] == "Correlates logs."
    assert answer["usage_instructions"] == "Sign in with SSO."
    contract, usage, trial = answer["offers"]
    assert contract["contract"] == {"price": "12000.00", "period": "year", "term": 1, "uom": "ANN"}
    assert contract["dimensions"] == []
    assert usage["contract"] is None
    assert usage["dimensions"][1] == {
        "key": "data",
        "name": "Data",
        "unit": "E34",
        "unit_label": "GB",
        "unit_price": "0.0045",
    }
    assert (trial["model"], trial["trial_days"], trial["converts_to"]) == (
        "free_trial",
        30,
        "contract",
    )
    assert trial["contract"]["price"] == "99.50" and trial["contract"]["term"] == 12
    assert trial["currency"] == "EUR" and trial["summary"].startswith("Free for 30 days")


def test_unlisted_or_unknown_products_are_not_found() -> None:
    for missing in (None, product(listed=False)):
        with pytest.raises(NotFound):
            openbuy.listed_product(missing, "siem-cloud")


def test_checkout_hands_over_a_level_two_punchout() -> None:
    answer = openbuy.checkout(product(), "annual", ENDPOINTS)

    assert answer["offer_id"] == "annual"
    assert answer["punchout"] == {
        "url": "https://gateway.test/cxml/punchout",
        "operation": "create",
        "selected_item": {"supplier_part_id": "siem-cloud"},
    }
    assert "Request approval" in answer["message"]
    assert openbuy.checkout(product(), "", ENDPOINTS)["offer_id"] is None
    with pytest.raises(NotFound):
        openbuy.checkout(product(), "nope", ENDPOINTS)
