"""The catalog's rules: what an admin may store as a product (fields, money, unknown fields,
patches, round trips). What a buyer then reads, and the demo catalog: test_catalog_reading.py."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from functions.catalog import offer_json, pricing_json
from functions.catalog_input import offer_from_json, pricing_from_json, product_from_json
from functions.clock import CLOCK
from tests.catalog_support import (
    CREATED,
    edit_at,
    product_payload,
    refusal_of,
    value_at,
    without_timestamps,
)

# --- a valid product -----------------------------------------------------------------------


def test_a_valid_product_keeps_exact_decimal_prices_and_its_offers_in_order(clock: Any) -> None:
    CLOCK.freeze(CREATED)

    product = product_from_json(product_payload())

    assert product.id == "datastream-pro"
    assert [o.id for o in product.offers] == ["platform", "trial"]
    platform = product.offers[0].pricing
    assert platform.price == Decimal("15000.00") and str(platform.price) == "15000.00"
    assert platform.dimensions[0].unit_price == Decimal("0.08")
    trial = product.offers[1].pricing
    assert trial.trial_days == 14 and trial.then is not None
    assert str(trial.then.dimensions[0].unit_price) == "0.0045"
    assert product.pricing_models == ("contract_payg", "free_trial")
    assert product.listed is True and product.version == 0
    assert product.created_at == product.updated_at == "2026-03-02T09:00:00+00:00"


def test_optional_fields_have_defaults() -> None:
    payload = product_payload()
    for path in [
        "id",
        "seller_account",
        "long_description",
        "usage_instructions",
        "offers[0].description",
        "offers[0].currency",
        "offers[0].pricing.term",
    ]:
        edit_at(payload, path, delete=True)

    product = product_from_json(payload)

    assert re.fullmatch(r"prod-[0-9a-f]{16}", product.id), "a generated, slug-shaped id"
    assert product.seller_account == product.long_description == product.usage_instructions == ""
    offer = product.offers[0]
    assert (offer.description, offer.currency, offer.pricing.term) == ("", "USD", 1)


def test_commitments_a_buyer_reads_are_optional_fields_kept_as_given() -> None:
    # Given an admin who states the licence, the support contact and the refund policy
    payload = product_payload(
        eula_url="https://streamline.example/legal/eula-2026.pdf",
        support_contact=" support@streamline.example, +1 555 0100 ",
        refund_policy="Full refund within 30 days.\nNo refund after that.",
    )

    # When the product is stored and read back
    product = product_from_json(payload)
    again = product_from_json({"listed": True}, base=product)

    # Then they are kept (trimmed), and a product without them has none
    assert product.eula_url == "https://streamline.example/legal/eula-2026.pdf"
    assert product.support_contact == "support@streamline.example, +1 555 0100"
    assert product.refund_policy == "Full refund within 30 days.\nNo refund after that."
    assert (again.eula_url, again.support_contact, again.refund_policy) == (
        product.eula_url,
        product.support_contact,
        product.refund_policy,
    )
    bare = product_from_json(product_payload())
    assert bare.eula_url == bare.support_contact == bare.refund_policy == ""


def test_text_is_trimmed_and_may_span_lines_where_it_is_prose() -> None:
    product = product_from_json(
        product_payload(name="  DataStream Pro ", usage_instructions="1. Sign in.\n2.\tConnect.")
    )

    assert product.name == "DataStream Pro"
    assert product.usage_instructions == "1. Sign in.\n2.\tConnect."


# --- refusals name the exact field ---------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "name",
        "seller",
        "short_description",
        "product_type",
        "offers",
        "offers[0].id",
        "offers[0].name",
        "offers[0].pricing",
        "offers[0].pricing.model",
        "offers[0].pricing.price",
        "offers[0].pricing.period",
        "offers[0].pricing.dimensions",
        "offers[0].pricing.dimensions[0].key",
        "offers[0].pricing.dimensions[0].name",
        "offers[0].pricing.dimensions[0].unit",
        "offers[0].pricing.dimensions[0].unit_price",
        "offers[1].pricing.trial_days",
        "offers[1].pricing.then",
        "offers[1].pricing.then.model",
        "offers[1].pricing.then.dimensions[0].unit_price",
    ],
)
def test_each_required_field_missing_is_refused_by_its_path(path: str) -> None:
    payload = product_payload()
    edit_at(payload, path, delete=True)

    refused = refusal_of(payload)

    assert refused.field == path
    assert f"'{path}'" in refused.message


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("id", "Bad_Id"),
        ("id", "a"),
        ("id", "x" * 41),
        ("id", "-leading-dash"),
        ("id", "datastream-pro\n"),
        ("id", 42),
        ("name", 42),
        ("name", "   "),
        ("name", "x" * 121),
        ("name", "bad\x00name"),
        ("seller", "\t\n"),
        ("short_description", "x" * 301),
        ("long_description", "x" * 5001),
        ("usage_instructions", "x" * 3001),
        ("seller_account", "x" * 65),
        ("eula_url", "http://example.com/eula"),
        ("eula_url", "javascript:alert(1)"),
        ("eula_url", "https://user:pw@example.com/eula"),
        ("eula_url", ["https://example.com/eula"]),
        ("support_contact", "x" * 201),
        ("support_contact", "support@example.com\nBcc: x@y"),
        ("refund_policy", "x" * 1001),
        ("refund_policy", 30),
        ("product_type", "desktop"),
        ("product_type", "SaaS"),
        ("listed", "yes"),
        ("listed", 1),
        ("offers", []),
        ("offers", {"id": "platform"}),
        ("offers", [{"id": f"o{i}"} for i in range(11)]),
        ("offers[0]", "platform"),
        ("offers[0].id", "Platform Offer"),
        ("offers[0].name", "x" * 81),
        ("offers[0].description", "x" * 501),
        ("offers[0].currency", "us"),
        ("offers[0].currency", "uß"),  # upper-cases to "USS": only ASCII codes are folded
        ("offers[0].currency", "USD\n"),
        ("offers[0].currency", 840),
        ("offers[0].pricing", "contract"),
        ("offers[0].pricing.model", "subscription"),
        ("offers[0].pricing.price", "-1.00"),
        ("offers[0].pricing.price", "NaN"),
        ("offers[0].pricing.price", "Infinity"),
        ("offers[0].pricing.price", "twelve"),
        ("offers[0].pricing.price", ""),
        ("offers[0].pricing.price", "10000000.01"),
        ("offers[0].pricing.price", "12.345"),
        ("offers[0].pricing.price", True),
        ("offers[0].pricing.price", None),
        ("offers[0].pricing.period", "week"),
        ("offers[0].pricing.term", 0),
        ("offers[0].pricing.term", 61),
        ("offers[0].pricing.term", "3"),
        ("offers[0].pricing.term", True),
        ("offers[0].pricing.dimensions", []),
        ("offers[0].pricing.dimensions[0]", "pipeline-hours"),
        ("offers[0].pricing.dimensions[0].key", "Pipeline Hours"),
        ("offers[0].pricing.dimensions[0].name", "x" * 61),
        ("offers[0].pricing.dimensions[0].unit", "hours"),
        ("offers[0].pricing.dimensions[0].unit", "hur"),
        ("offers[0].pricing.dimensions[0].unit_price", "-0.01"),
        ("offers[0].pricing.dimensions[0].unit_price", "0.0000001"),
        ("offers[0].pricing.dimensions[0].unit_price", "1e999"),
        ("offers[1].pricing.trial_days", 0),
        ("offers[1].pricing.trial_days", 366),
        ("offers[1].pricing.trial_days", "30"),
        ("offers[1].pricing.then", "payg"),
        ("offers[1].pricing.then.model", "free_trial"),
        ("offers[1].pricing.then.model", "free"),
        ("offers[1].pricing.then.model", "byol"),
        ("offers[1].pricing.then.dimensions[0].unit", "GB"),
    ],
)
def test_each_bad_value_is_refused_by_its_path(path: str, value: Any) -> None:
    payload = product_payload()
    edit_at(payload, path, value)

    refused = refusal_of(payload)

    assert refused.field == path
    assert f"'{path}'" in refused.message


def test_eleven_usage_dimensions_are_too_many() -> None:
    payload = product_payload()
    dimension = payload["offers"][0]["pricing"]["dimensions"][0]
    edit_at(
        payload,
        "offers[0].pricing.dimensions",
        [dict(dimension, key=f"dim-{i}") for i in range(11)],
    )

    assert refusal_of(payload).field == "offers[0].pricing.dimensions"


def test_a_body_that_is_not_an_object_is_refused() -> None:
    bodies: tuple[Any, ...] = (None, [], "datastream-pro", 42)
    for body in bodies:
        assert refusal_of(body).message.startswith("The body must be a JSON object")


# --- money: exact decimals only ------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["offers[0].pricing.price", "offers[0].pricing.dimensions[0].unit_price"]
)
def test_floats_are_refused_because_they_cannot_hold_prices_exactly(path: str) -> None:
    payload = product_payload()
    edit_at(payload, path, 0.1)

    refused = refusal_of(payload)

    assert refused.field == path
    assert "string" in refused.message


def test_whole_numbers_and_decimals_from_a_json_parser_are_exact() -> None:
    """The JSON edge parses numbers as Decimal; whole numbers come as int."""
    payload = product_payload()
    edit_at(payload, "offers[0].pricing.price", 15000)
    edit_at(payload, "offers[0].pricing.dimensions[0].unit_price", Decimal("0.0045"))

    pricing = product_from_json(payload).offers[0].pricing

    assert pricing.price == Decimal(15000)
    assert str(pricing.dimensions[0].unit_price) == "0.0045"


@pytest.mark.parametrize(
    ("path", "accepted", "refused"),
    [
        ("offers[0].pricing.price", "12.34", "12.345"),
        ("offers[0].pricing.price", "10000000.00", "10000000.01"),
        ("offers[0].pricing.dimensions[0].unit_price", "0.000001", "0.0000001"),
        ("offers[0].pricing.dimensions[0].unit_price", "0", "-0.000001"),
    ],
)
def test_decimal_places_and_range_limits(path: str, accepted: str, refused: str) -> None:
    payload = product_payload()
    edit_at(payload, path, accepted)
    product = product_from_json(payload)
    edit_at(payload, path, refused)

    assert value_at(product.to_json(), path) == accepted
    assert refusal_of(payload).field == path


def test_prices_keep_the_digits_the_admin_typed() -> None:
    payload = product_payload()
    edit_at(payload, "offers[0].pricing.price", " 12.50 ")
    edit_at(payload, "offers[0].pricing.dimensions[0].unit_price", "0.0450")

    document = offer_json(product_from_json(payload).offers[0])

    assert document["pricing"]["price"] == "12.50"
    assert document["pricing"]["dimensions"][0]["unit_price"] == "0.0450"


# --- unknown fields, unique ids ------------------------------------------------------------


@pytest.mark.parametrize("name", ["colour", "version", "created_at", "updated_at", "Name"])
def test_unknown_and_server_set_fields_are_refused(name: str) -> None:
    refused = refusal_of(product_payload(**{name: "x"}))

    assert refused.field == name
    assert f"'{name}'" in refused.message


def test_a_misspelt_pricing_field_is_refused_rather_than_ignored() -> None:
    payload = product_payload()
    edit_at(payload, "offers[0].pricing.term", delete=True)
    edit_at(payload, "offers[0].pricing.trem", 3)

    assert refusal_of(payload).field == "offers[0].pricing.trem"


def test_offer_ids_are_unique_within_a_product() -> None:
    payload = product_payload()
    edit_at(payload, "offers[1].id", "platform")

    refused = refusal_of(payload)

    assert refused.field == "offers"
    assert "unique" in refused.message


def test_dimension_keys_are_unique_within_an_offer() -> None:
    payload = product_payload()
    dimension = payload["offers"][0]["pricing"]["dimensions"][0]
    edit_at(payload, "offers[0].pricing.dimensions", [dimension, dict(dimension, name="Other")])

    refused = refusal_of(payload)

    assert refused.field == "offers[0].pricing.dimensions"
    assert "unique" in refused.message


def test_the_same_dimension_key_may_appear_in_two_offers() -> None:
    payload = product_payload()
    edit_at(payload, "offers[1].pricing.then.dimensions[0].key", "pipeline-hours")

    assert product_from_json(payload).offers[1].pricing.then is not None


# --- patches -------------------------------------------------------------------------------


def test_a_patch_changes_only_the_fields_given(clock: Any) -> None:
    CLOCK.freeze(CREATED)
    base = product_from_json(product_payload())
    CLOCK.advance(timedelta(hours=1))

    patched = product_from_json({"name": "DataStream Pro 2", "listed": False}, base=base)

    assert (patched.name, patched.listed) == ("DataStream Pro 2", False)
    untouched = ("id", "seller", "seller_account", "short_description", "long_description",
                 "usage_instructions", "product_type", "offers", "created_at", "version")  # fmt: skip
    assert {n: getattr(patched, n) for n in untouched} == {n: getattr(base, n) for n in untouched}
    assert patched.updated_at == "2026-03-02T10:00:00+00:00"


def test_a_patch_replaces_the_whole_offer_list() -> None:
    base = product_from_json(product_payload())

    patched = product_from_json(
        {"offers": [{"id": "free", "name": "Free", "pricing": {"model": "free"}}]}, base=base
    )

    assert [o.id for o in patched.offers] == ["free"]


def test_a_patch_can_clear_an_optional_field_but_not_a_required_one() -> None:
    base = product_from_json(product_payload())

    cleared = product_from_json({"long_description": None}, base=base)

    assert cleared.long_description == ""
    assert refusal_of({"seller": None}, base=base).field == "seller"


def test_the_id_cannot_change_but_may_be_repeated() -> None:
    base = product_from_json(product_payload())

    assert refusal_of({"id": "datastream-pro-2"}, base=base).field == "id"
    assert refusal_of({"id": ""}, base=base).field == "id"
    assert product_from_json({"id": base.id, "name": "Renamed"}, base=base).id == base.id


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"offers[0]": "x"}, "offers[0]"),  # not a field name at all
        ({"product_type": "desktop"}, "product_type"),
        ({"offers": []}, "offers"),
        ({"created_at": "2020-01-01T00:00:00+00:00"}, "created_at"),
    ],
)
def test_a_bad_patch_is_refused_by_its_field(patch: dict[str, Any], field: str) -> None:
    assert refusal_of(patch, base=product_from_json(product_payload())).field == field


def test_an_empty_patch_is_refused() -> None:
    refused = refusal_of({}, base=product_from_json(product_payload()))

    assert refused.field is None
    assert "JSON object" in refused.message


# --- round trips ---------------------------------------------------------------------------


def test_to_json_reads_back_as_the_same_product(clock: Any) -> None:
    CLOCK.freeze(CREATED)
    product = product_from_json(product_payload(listed=False))

    again = product_from_json(without_timestamps(product.to_json()))

    assert again == product


def test_stored_pricing_reads_back_as_the_same_values() -> None:
    for offer in product_from_json(product_payload()).offers:
        assert pricing_from_json(pricing_json(offer.pricing)) == offer.pricing
        assert offer_from_json(offer_json(offer)) == offer


def test_pricing_json_carries_only_the_fields_of_its_model() -> None:
    offers = product_from_json(product_payload()).offers

    assert set(pricing_json(offers[0].pricing)) == {
        "model",
        "price",
        "period",
        "term",
        "schedule",
        "dimensions",
    }
    trial = pricing_json(offers[1].pricing)
    assert set(trial) == {"model", "trial_days", "then"}
    assert set(trial["then"]) == {"model", "dimensions"}
