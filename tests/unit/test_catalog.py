"""The catalog's rules: what an admin may store as a product, and what a buyer then reads."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from functions.catalog import (
    PRICING_MODELS,
    PRODUCT_TYPES,
    TRIAL_CONVERTS_TO,
    Product,
    offer_from_json,
    offer_json,
    pricing_from_json,
    pricing_json,
    product_from_json,
)
from functions.clock import CLOCK
from functions.errors import BadRequest
from local.seed import demo_products

CREATED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _payload(**overrides: Any) -> dict[str, Any]:
    """A valid product whose offers reach every nested path: a contract with usage, a trial."""
    payload: dict[str, Any] = {
        "id": "datastream-pro",
        "name": "DataStream Pro",
        "seller": "Streamline Data Inc.",
        "seller_account": "309876543210",
        "short_description": "Managed change-data-capture pipelines.",
        "long_description": "Replicates databases into S3 within seconds.",
        "usage_instructions": "Open the console from the confirmation email.",
        "product_type": "saas",
        "offers": [
            {
                "id": "platform",
                "name": "Platform plus pipeline hours",
                "description": "Yearly fee, runtime per hour.",
                "currency": "USD",
                "pricing": {
                    "model": "contract_payg",
                    "price": "15000.00",
                    "period": "year",
                    "term": 1,
                    "dimensions": [
                        {
                            "key": "pipeline-hours",
                            "name": "Pipeline hours",
                            "unit": "HUR",
                            "unit_price": "0.08",
                        }
                    ],
                },
            },
            {
                "id": "trial",
                "name": "14-day trial",
                "currency": "USD",
                "pricing": {
                    "model": "free_trial",
                    "trial_days": 14,
                    "then": {
                        "model": "payg",
                        "dimensions": [
                            {"key": "gb", "name": "Data", "unit": "E34", "unit_price": "0.0045"}
                        ],
                    },
                },
            },
        ],
    }
    payload.update(overrides)
    return payload


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _edit(payload: dict[str, Any], path: str, value: Any = None, *, delete: bool = False) -> None:
    """Set (or delete) the value at `offers[0].pricing.dimensions[0].unit_price`."""
    steps: list[str | int] = [name if name else int(index) for name, index in _STEP.findall(path)]
    parent: Any = payload
    for step in steps[:-1]:
        parent = parent[step]
    if delete:
        del parent[steps[-1]]
    else:
        parent[steps[-1]] = value


def _value(document: Any, path: str) -> Any:
    for name, index in _STEP.findall(path):
        document = document[name] if name else document[int(index)]
    return document


def _refusal(payload: Any, base: Product | None = None) -> BadRequest:
    with pytest.raises(BadRequest) as refused:
        product_from_json(payload, base=base)
    return refused.value


def _without_timestamps(document: dict[str, Any]) -> dict[str, Any]:
    """`to_json` minus what the server sets (an admin cannot send those back)."""
    return {k: v for k, v in document.items() if k not in ("created_at", "updated_at")}


# --- a valid product -----------------------------------------------------------------------


def test_a_valid_product_keeps_exact_decimal_prices_and_its_offers_in_order(clock: Any) -> None:
    CLOCK.freeze(CREATED)

    product = product_from_json(_payload())

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
    payload = _payload()
    for path in [
        "id",
        "seller_account",
        "long_description",
        "usage_instructions",
        "offers[0].description",
        "offers[0].currency",
        "offers[0].pricing.term",
    ]:
        _edit(payload, path, delete=True)

    product = product_from_json(payload)

    assert re.fullmatch(r"prod-[0-9a-f]{16}", product.id), "a generated, slug-shaped id"
    assert product.seller_account == product.long_description == product.usage_instructions == ""
    offer = product.offers[0]
    assert (offer.description, offer.currency, offer.pricing.term) == ("", "USD", 1)


def test_text_is_trimmed_and_may_span_lines_where_it_is_prose() -> None:
    product = product_from_json(
        _payload(name="  DataStream Pro ", usage_instructions="1. Sign in.\n2.\tConnect.")
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
    payload = _payload()
    _edit(payload, path, delete=True)

    refused = _refusal(payload)

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
        ("offers[0].currency", "usd"),
        ("offers[0].currency", "US"),
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
    payload = _payload()
    _edit(payload, path, value)

    refused = _refusal(payload)

    assert refused.field == path
    assert f"'{path}'" in refused.message


def test_eleven_usage_dimensions_are_too_many() -> None:
    payload = _payload()
    dimension = payload["offers"][0]["pricing"]["dimensions"][0]
    _edit(
        payload,
        "offers[0].pricing.dimensions",
        [dict(dimension, key=f"dim-{i}") for i in range(11)],
    )

    assert _refusal(payload).field == "offers[0].pricing.dimensions"


def test_a_body_that_is_not_an_object_is_refused() -> None:
    bodies: tuple[Any, ...] = (None, [], "datastream-pro", 42)
    for body in bodies:
        assert _refusal(body).message.startswith("The body must be a JSON object")


# --- money: exact decimals only ------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["offers[0].pricing.price", "offers[0].pricing.dimensions[0].unit_price"]
)
def test_floats_are_refused_because_they_cannot_hold_prices_exactly(path: str) -> None:
    payload = _payload()
    _edit(payload, path, 0.1)

    refused = _refusal(payload)

    assert refused.field == path
    assert "string" in refused.message


def test_whole_numbers_and_decimals_from_a_json_parser_are_exact() -> None:
    """The JSON edge parses numbers as Decimal; whole numbers come as int."""
    payload = _payload()
    _edit(payload, "offers[0].pricing.price", 15000)
    _edit(payload, "offers[0].pricing.dimensions[0].unit_price", Decimal("0.0045"))

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
    payload = _payload()
    _edit(payload, path, accepted)
    product = product_from_json(payload)
    _edit(payload, path, refused)

    assert _value(product.to_json(), path) == accepted
    assert _refusal(payload).field == path


def test_prices_keep_the_digits_the_admin_typed() -> None:
    payload = _payload()
    _edit(payload, "offers[0].pricing.price", " 12.50 ")
    _edit(payload, "offers[0].pricing.dimensions[0].unit_price", "0.0450")

    document = offer_json(product_from_json(payload).offers[0])

    assert document["pricing"]["price"] == "12.50"
    assert document["pricing"]["dimensions"][0]["unit_price"] == "0.0450"


# --- unknown fields, unique ids ------------------------------------------------------------


@pytest.mark.parametrize("name", ["colour", "version", "created_at", "updated_at", "Name"])
def test_unknown_and_server_set_fields_are_refused(name: str) -> None:
    refused = _refusal(_payload(**{name: "x"}))

    assert refused.field == name
    assert f"'{name}'" in refused.message


def test_a_misspelt_pricing_field_is_refused_rather_than_ignored() -> None:
    payload = _payload()
    _edit(payload, "offers[0].pricing.term", delete=True)
    _edit(payload, "offers[0].pricing.trem", 3)

    assert _refusal(payload).field == "offers[0].pricing.trem"


def test_offer_ids_are_unique_within_a_product() -> None:
    payload = _payload()
    _edit(payload, "offers[1].id", "platform")

    refused = _refusal(payload)

    assert refused.field == "offers"
    assert "unique" in refused.message


def test_dimension_keys_are_unique_within_an_offer() -> None:
    payload = _payload()
    dimension = payload["offers"][0]["pricing"]["dimensions"][0]
    _edit(payload, "offers[0].pricing.dimensions", [dimension, dict(dimension, name="Other")])

    refused = _refusal(payload)

    assert refused.field == "offers[0].pricing.dimensions"
    assert "unique" in refused.message


def test_the_same_dimension_key_may_appear_in_two_offers() -> None:
    payload = _payload()
    _edit(payload, "offers[1].pricing.then.dimensions[0].key", "pipeline-hours")

    assert product_from_json(payload).offers[1].pricing.then is not None


# --- what a buyer reads --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("product_type", "unspsc", "label"),
    [
        ("saas", "81162000", "SaaS"),
        ("ami", "43232701", "Machine image"),
        ("container", "43230000", "Container"),
        ("other", "43230000", "Other software"),
    ],
)
def test_unspsc_follows_the_product_type(product_type: str, unspsc: str, label: str) -> None:
    product = product_from_json(_payload(product_type=product_type))

    assert product.unspsc == unspsc
    assert product.type_label == label


@pytest.mark.parametrize(
    ("currency", "pricing", "summary"),
    [
        ("USD", {"model": "free"}, "Free"),
        ("USD", {"model": "byol"}, "Bring your own license (no charge here)"),
        (
            "USD",
            {"model": "contract", "price": "9600", "period": "year"},
            "9,600.00 USD per year",
        ),
        (
            "USD",
            {"model": "contract", "price": "299.00", "period": "month", "term": 12},
            "299.00 USD per month for 12 months",
        ),
        (
            "USD",
            {"model": "contract", "price": "7200.00", "period": "year", "term": 3},
            "7,200.00 USD per year for 3 years",
        ),
        (
            "GBP",
            {
                "model": "payg",
                "dimensions": [
                    {"key": "docs", "name": "Synced documents", "unit": "EA", "unit_price": "0.15"}
                ],
            },
            "0.15 GBP each (Synced documents)",
        ),
        (
            "USD",
            {
                "model": "payg",
                "dimensions": [
                    {"key": "vcpu", "name": "vCPU hours", "unit": "HUR", "unit_price": "0.012"},
                    {"key": "gb", "name": "Events", "unit": "E34", "unit_price": "0.0045"},
                ],
            },
            "0.012 USD per hour (vCPU hours) + 0.0045 USD per GB (Events)",
        ),
        (
            "USD",
            {
                "model": "contract_payg",
                "price": "15000.00",
                "period": "year",
                "dimensions": [
                    {"key": "hours", "name": "Pipeline hours", "unit": "HUR", "unit_price": "0.08"}
                ],
            },
            "15,000.00 USD per year + 0.08 USD per hour (Pipeline hours)",
        ),
        (
            "EUR",
            {
                "model": "free_trial",
                "trial_days": 30,
                "then": {"model": "contract", "price": "490", "period": "month"},
            },
            "Free for 30 days, then 490.00 EUR per month",
        ),
    ],
)
def test_summary_is_the_line_a_buyer_reads(
    currency: str, pricing: dict[str, Any], summary: str
) -> None:
    payload = _payload()
    _edit(payload, "offers", [{"id": "o1", "name": "O", "currency": currency, "pricing": pricing}])

    assert product_from_json(payload).offers[0].summary == summary


def _searchable() -> Product:
    return product_from_json(
        _payload(
            id="cloudguard-waf",
            name="CloudGuard WAF",
            seller="Perimeter Labs",
            short_description="Managed web application firewall.",
            long_description="Blocks credential stuffing and scraping bots.",
            usage_instructions="Point your DNS at the Kubernetes ingress.",
        )
    )


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("", True),
        ("waf", True),
        ("  CloudGuard   PERIMETER ", True),  # name and seller, any case, extra spaces
        ("firewall", True),  # short description
        ("scraping bots", True),  # long description
        ("guard", True),  # part of a word
        ("waf kubernetes", False),  # every word must match; usage instructions are not searched
        ("antivirus", False),
    ],
)
def test_search_matches_every_word_in_name_seller_and_descriptions(query: str, found: bool) -> None:
    assert _searchable().matches(query) is found


@pytest.mark.parametrize(
    ("product_type", "model", "found"),
    [
        ("saas", "", True),
        ("ami", "", False),
        ("", "contract_payg", True),
        ("", "free_trial", True),  # any offer's model counts
        ("", "payg", False),  # what a trial converts to is not the offer's model
        ("saas", "free", False),
    ],
)
def test_type_and_model_filters(product_type: str, model: str, found: bool) -> None:
    assert _searchable().matches("waf", product_type=product_type, model=model) is found


def test_a_search_for_a_non_ascii_name_matches_its_letters_in_any_case() -> None:
    product = product_from_json(_payload(name="Zürich Analytics ™"))

    assert product.matches("ZÜRICH")
    assert not product.matches("zurich")


# --- patches -------------------------------------------------------------------------------


def test_a_patch_changes_only_the_fields_given(clock: Any) -> None:
    CLOCK.freeze(CREATED)
    base = product_from_json(_payload())
    CLOCK.advance(timedelta(hours=1))

    patched = product_from_json({"name": "DataStream Pro 2", "listed": False}, base=base)

    assert (patched.name, patched.listed) == ("DataStream Pro 2", False)
    untouched = ("id", "seller", "seller_account", "short_description", "long_description",
                 "usage_instructions", "product_type", "offers", "created_at", "version")  # fmt: skip
    assert {n: getattr(patched, n) for n in untouched} == {n: getattr(base, n) for n in untouched}
    assert patched.updated_at == "2026-03-02T10:00:00+00:00"


def test_a_patch_replaces_the_whole_offer_list() -> None:
    base = product_from_json(_payload())

    patched = product_from_json(
        {"offers": [{"id": "free", "name": "Free", "pricing": {"model": "free"}}]}, base=base
    )

    assert [o.id for o in patched.offers] == ["free"]


def test_a_patch_can_clear_an_optional_field_but_not_a_required_one() -> None:
    base = product_from_json(_payload())

    cleared = product_from_json({"long_description": None}, base=base)

    assert cleared.long_description == ""
    assert _refusal({"seller": None}, base=base).field == "seller"


def test_the_id_cannot_change_but_may_be_repeated() -> None:
    base = product_from_json(_payload())

    assert _refusal({"id": "datastream-pro-2"}, base=base).field == "id"
    assert _refusal({"id": ""}, base=base).field == "id"
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
    assert _refusal(patch, base=product_from_json(_payload())).field == field


def test_an_empty_patch_is_refused() -> None:
    refused = _refusal({}, base=product_from_json(_payload()))

    assert refused.field is None
    assert "JSON object" in refused.message


# --- round trips ---------------------------------------------------------------------------


def test_to_json_reads_back_as_the_same_product(clock: Any) -> None:
    CLOCK.freeze(CREATED)
    product = product_from_json(_payload(listed=False))

    again = product_from_json(_without_timestamps(product.to_json()))

    assert again == product


def test_stored_pricing_reads_back_as_the_same_values() -> None:
    for offer in product_from_json(_payload()).offers:
        assert pricing_from_json(pricing_json(offer.pricing)) == offer.pricing
        assert offer_from_json(offer_json(offer)) == offer


def test_pricing_json_carries_only_the_fields_of_its_model() -> None:
    offers = product_from_json(_payload()).offers

    assert set(pricing_json(offers[0].pricing)) == {
        "model",
        "price",
        "period",
        "term",
        "dimensions",
    }
    trial = pricing_json(offers[1].pricing)
    assert set(trial) == {"model", "trial_days", "then"}
    assert set(trial["then"]) == {"model", "dimensions"}


# --- the demo catalog the local stack seeds ------------------------------------------------

DEMO = demo_products()


def _models(pricing: dict[str, Any]) -> set[str]:
    """The pricing models an offer exercises, its trial's conversion as `free_trial>payg`."""
    model = pricing["model"]
    if model == "free_trial":
        return {model, f"free_trial>{pricing['then']['model']}"}
    return {model}


@pytest.mark.parametrize("payload", DEMO, ids=[p["id"] for p in DEMO])
def test_every_demo_product_validates_and_reads_back_unchanged(
    payload: dict[str, Any], clock: Any
) -> None:
    CLOCK.freeze(CREATED)
    product = product_from_json(copy.deepcopy(payload))

    assert product.id == payload["id"]
    assert product.usage_instructions and product.long_description and product.seller_account
    assert product_from_json(_without_timestamps(product.to_json())) == product
    assert {k: v for k, v in product.to_json().items() if k in payload} == payload


def test_demo_catalog_covers_every_type_model_and_trial_conversion() -> None:
    models = {m for p in DEMO for o in p["offers"] for m in _models(o["pricing"])}

    assert {p["product_type"] for p in DEMO} == set(PRODUCT_TYPES)
    assert set(PRICING_MODELS) <= models
    assert {f"free_trial>{m}" for m in TRIAL_CONVERTS_TO} <= models
    assert len(DEMO) >= 14
    assert len({p["id"] for p in DEMO}) == len(DEMO)
    assert any(len(p["offers"]) > 1 for p in DEMO)


def test_demo_catalog_has_each_pricing_shape_the_cart_must_handle() -> None:
    pricings = [o["pricing"] for p in DEMO for o in p["offers"]]
    payg_dimensions = {len(x["dimensions"]) for x in pricings if x["model"] == "payg"}
    contracts = [x for x in pricings if x["model"] == "contract"]

    assert 1 in payg_dimensions and max(payg_dimensions) > 1
    assert {c["period"] for c in contracts} == {"month", "year"}
    assert any(c.get("term", 1) > 1 and c["period"] == "year" for c in contracts)


def test_demo_catalog_currencies_are_mostly_usd_with_one_eur_and_one_gbp_product() -> None:
    currencies = [{o["currency"] for o in p["offers"]} for p in DEMO]

    assert sum(c == {"USD"} for c in currencies) == len(DEMO) - 2
    assert {"EUR"} in currencies and {"GBP"} in currencies


def test_demo_catalog_has_exactly_one_non_ascii_and_one_markup_product() -> None:
    """Escaping and encoding tests pick these two; any other product must be plain ASCII."""

    def text(p: dict[str, Any]) -> str:
        return " ".join(
            [p["name"], p["seller"], p["short_description"], p["long_description"]]
            + [o["name"] + " " + o.get("description", "") for o in p["offers"]]
        )

    non_ascii = [p["id"] for p in DEMO if not text(p).isascii()]
    markup = [p["id"] for p in DEMO if any(ch in text(p) for ch in "&<>\"'")]

    assert non_ascii == ["zurich-analytics"]
    assert markup == ["qa-insights-pro"]
    zurich = next(p for p in DEMO if p["id"] == "zurich-analytics")
    assert "™" in zurich["name"] and "ü" in zurich["name"]
    qa = next(p for p in DEMO if p["id"] == "qa-insights-pro")
    assert all(ch in qa["name"] for ch in '&<>"')


def test_demo_catalog_has_the_products_browser_tests_rely_on() -> None:
    by_id = {p["id"]: product_from_json(copy.deepcopy(p)) for p in DEMO}

    datastream = by_id["datastream-pro"].offer("annual")
    assert datastream is not None and datastream.pricing.model == "contract_payg"
    assert datastream.currency == "USD"
    assert [d.key for d in datastream.pricing.dimensions] == ["hours"]
    assert datastream.summary == "15,000.00 USD per year + 0.08 USD per hour (Pipeline hours)"
    sentinel = by_id["sentinel-siem-trial"]
    assert sentinel.pricing_models == ("free_trial",)
    assert sentinel.offer("trial") is not None
    assert all(p.listed for p in by_id.values())
