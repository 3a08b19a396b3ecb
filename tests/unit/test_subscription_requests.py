"""What "Request approval" puts in the buyer's procurement cart, line by line (docs/PROTOCOL.md §5,
§9): the lines per pricing model, their correlation ids, their texts and their totals."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from functions import ids
from functions.catalog import Offer, Product
from functions.catalog_input import product_from_json
from functions.errors import BadRequest
from functions.subscription_requests import (
    IN_CART,
    CartLine,
    cart_lines,
    clean_text,
    new_request,
    parse_estimates,
    request_id_of,
)
from local.seed import demo_products

REQUEST_ID = "req-0123456789abcdef"


def _product(pricing: dict[str, Any], **overrides: Any) -> Product:
    payload: dict[str, Any] = {
        "id": "datastream-pro",
        "name": "DataStream Pro",
        "seller": "Streamline Data Inc.",
        "short_description": "Managed change-data-capture pipelines.",
        "product_type": "saas",
        "offers": [{"id": "platform", "name": "Platform", "currency": "USD", "pricing": pricing}],
    }
    payload.update(overrides)
    return product_from_json(payload)


def _dimension(key: str, unit: str, unit_price: str, name: str = "") -> dict[str, str]:
    return {"key": key, "name": name or key.title(), "unit": unit, "unit_price": unit_price}


CONTRACT_PAYG = {
    "model": "contract_payg",
    "price": "15000.00",
    "period": "year",
    "term": 1,
    "dimensions": [_dimension("pipeline-hours", "HUR", "0.08", "Pipeline hours")],
}
MULTI_PAYG = {
    "model": "payg",
    "dimensions": [
        _dimension("vcpu-hours", "HUR", "0.012", "Protected vCPU hours"),
        _dimension("image-scans", "EA", "0.05", "Image scans"),
        _dimension("events-gb", "E34", "0.0045", "Retained events"),
    ],
}


def _lines(
    product: Product, estimates: dict[str, str] | None = None, request_id: str = REQUEST_ID
) -> tuple[CartLine, ...]:
    offer = product.offers[0]
    form = {f"estimate.{key}": value for key, value in (estimates or {}).items()}
    return cart_lines(request_id, product, offer, parse_estimates(offer, form))


# --- lines per pricing model ---------------------------------------------------------------


def test_contract_with_usage_is_two_lines_one_per_approval() -> None:
    product = _product(CONTRACT_PAYG)

    contract, usage = _lines(product, {"pipeline-hours": "8760"})

    assert contract.kind == "contract"
    assert (contract.quantity, contract.unit_price, contract.unit_of_measure) == (
        Decimal(1),
        Decimal("15000.00"),
        "ANN",
    )
    assert contract.extended == Decimal("15000.00")
    assert usage.kind == "usage"
    assert (usage.quantity, usage.unit_price, usage.unit_of_measure) == (
        Decimal(8760),
        Decimal("0.08"),
        "HUR",
    )
    assert usage.extended == Decimal("700.80")
    for line in (contract, usage):
        assert line.supplier_part_id == "datastream-pro/platform"
        assert (line.currency, line.unspsc) == ("USD", "81162000")
    assert [line.line_number for line in (contract, usage)] == [1, 2]


@pytest.mark.parametrize(
    ("period", "term", "uom"), [("month", 12, "MON"), ("year", 3, "ANN"), ("month", 1, "MON")]
)
def test_a_contract_line_counts_the_periods_of_its_term(period: str, term: int, uom: str) -> None:
    product = _product({"model": "contract", "price": "299.00", "period": period, "term": term})

    (line,) = _lines(product)

    assert (line.kind, line.quantity, line.unit_price) == (
        "contract",
        Decimal(term),
        Decimal("299.00"),
    )
    assert line.unit_of_measure == uom
    assert line.extended == Decimal("299.00") * term
    assert f"for {term} {period}" in line.description


def test_single_dimension_payg_is_one_usage_line_in_the_dimension_unit() -> None:
    product = _product({"model": "payg", "dimensions": [_dimension("storage", "E34", "0.0045")]})

    (line,) = _lines(product, {"storage": "2500.5"})

    assert (line.kind, line.quantity, line.unit_price) == (
        "usage",
        Decimal("2500.5"),
        Decimal("0.0045"),
    )
    assert line.unit_of_measure == "E34"
    assert line.extended == Decimal("11.25"), "2500.5 x 0.0045 = 11.25225, to the cent"


def test_multi_dimension_payg_is_one_budget_line_because_a_line_has_only_one_unit_price() -> None:
    product = _product(MULTI_PAYG, product_type="container")

    (line,) = _lines(product, {"vcpu-hours": "10000", "image-scans": "400", "events-gb": "1000"})

    # 10000 x 0.012 + 400 x 0.05 + 1000 x 0.0045 = 120 + 20 + 4.50
    assert (line.kind, line.quantity, line.unit_price) == (
        "usage",
        Decimal("144.50"),
        Decimal("1.00"),
    )
    assert line.unit_of_measure == "EA"
    assert line.unspsc == "43230000"
    for rate in ("0.012 USD per hour", "0.05 USD per image scan", "0.0045 USD per GB"):
        assert rate in line.description


def test_a_budget_too_small_to_round_to_a_cent_is_still_one_cent() -> None:
    product = _product(MULTI_PAYG)

    (line,) = _lines(product, {"vcpu-hours": "0.1", "image-scans": "0.01", "events-gb": "0.1"})

    assert line.quantity == Decimal("0.01") and line.extended == Decimal("0.01")


@pytest.mark.parametrize(
    "pricing",
    [
        {"model": "free"},
        {"model": "byol"},
        {"model": "free_trial", "trial_days": 30, "then": CONTRACT_PAYG},
        {"model": "free_trial", "trial_days": 14, "then": MULTI_PAYG},
    ],
    ids=["free", "byol", "trial-then-contract-payg", "trial-then-payg"],
)
def test_free_byol_and_trials_are_one_zero_priced_line(pricing: dict[str, Any]) -> None:
    product = _product(pricing, product_type="ami")

    (line,) = _lines(product)  # no usage estimate asked for

    assert line.kind == "zero"
    assert (line.quantity, line.unit_price, line.extended) == (
        Decimal(1),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert str(line.extended) == "0.00"
    assert (line.unit_of_measure, line.unspsc) == ("EA", "43232701")
    assert product.offers[0].summary in line.description


# --- correlation: SupplierPartAuxiliaryID --------------------------------------------------


@pytest.mark.parametrize("pricing", [CONTRACT_PAYG, MULTI_PAYG, {"model": "free"}])
def test_auxiliary_ids_name_the_request_and_the_line(pricing: dict[str, Any]) -> None:
    request_id = ids.slug_id("req")
    product = _product(pricing)
    estimates = {d["key"]: "10" for d in pricing.get("dimensions", [])}

    lines = _lines(product, estimates, request_id=request_id)

    assert [line.auxiliary_id for line in lines] == [
        f"{request_id}-{n}" for n in range(1, len(lines) + 1)
    ]
    for line in lines:
        assert len(line.auxiliary_id) <= 100
        assert not set(line.auxiliary_id) & set("?{}")
        assert request_id_of(line.auxiliary_id) == request_id


@pytest.mark.parametrize(
    "auxiliary_id",
    [
        "",
        REQUEST_ID,  # no line number
        f"{REQUEST_ID}-",
        f"{REQUEST_ID}-100",
        f"{REQUEST_ID}-1-2",
        f"{REQUEST_ID}-1\n",
        f" {REQUEST_ID}-1",
        f"x{REQUEST_ID}-1",
        "req-0123456789ABCDEF-1",
        "req-0123456789abcde-1",  # 15 hex digits
        "prod-0123456789abcdef-1",
        "datastream-pro/platform",
    ],
)
def test_request_id_of_refuses_what_we_did_not_issue(auxiliary_id: str) -> None:
    assert request_id_of(auxiliary_id) is None


def test_an_edited_request_keeps_its_id_so_the_cart_lines_stay_matched() -> None:
    product = _product(CONTRACT_PAYG)
    offer = product.offers[0]
    first = new_request(
        product, offer, {"estimate.pipeline-hours": "100"},
        integration_id="int_1", session=None, state=IN_CART,
    )  # fmt: skip

    edited = new_request(
        product, offer, {"estimate.pipeline-hours": "200"},
        integration_id="int_1", session=None, state=IN_CART, previous=first,
    )  # fmt: skip

    assert [line.auxiliary_id for line in edited.lines] == [
        line.auxiliary_id for line in first.lines
    ]
    assert edited.lines[1].quantity == Decimal(200)
    assert edited.line_for(first.lines[1].auxiliary_id) == edited.lines[1]


# --- texts procurement systems accept ------------------------------------------------------


def test_trademark_signs_are_spelled_out_in_every_text() -> None:
    product = _product(CONTRACT_PAYG, name="Zürich Analytics™ Suite®", seller="Datenwerk© AG")

    lines = _lines(product, {"pipeline-hours": "1"})

    assert lines[0].short_name == "Zürich Analytics(TM) Suite(R) contract"
    assert "Sold by Datenwerk(C) AG" in lines[0].description
    for line in lines:
        assert not set(line.description + line.short_name) & set("™®©")


def test_long_names_are_cut_to_what_survives_on_the_po() -> None:
    name = "Enterprise Data Platform " + "with Extended Retention " * 4  # ~120 characters
    product = _product(
        CONTRACT_PAYG,
        name=name.strip(),
        offers=[
            {
                "id": "platform",
                "name": "Platform subscription with premium support and " + "x" * 30,
                "pricing": CONTRACT_PAYG,
            }
        ],
    )

    lines = _lines(product, {"pipeline-hours": "1"})

    for line in lines:
        assert len(line.short_name) <= 50 and line.short_name.endswith("...")
        assert len(line.description) <= 255


def test_clean_text_keeps_short_text_whole_and_on_one_line() -> None:
    assert clean_text("CloudGuard\n  WAF\t™", 50) == "CloudGuard WAF (TM)"
    assert clean_text("x" * 50, 50) == "x" * 50
    assert clean_text("x" * 51, 50) == "x" * 47 + "..."
    assert clean_text("a" * 48 + "™", 50) == "a" * 47 + "...", "signs spelled before cutting"


def test_every_demo_offer_gives_lines_procurement_systems_accept() -> None:
    for payload in demo_products():
        product = product_from_json(copy.deepcopy(payload))
        for offer in product.offers:
            form = {f"estimate.{d.key}": "1000" for d in offer.pricing.dimensions}
            lines = cart_lines(REQUEST_ID, product, offer, parse_estimates(offer, form))

            assert 1 <= len(lines) <= 2, (product.id, offer.id)
            for line in lines:
                assert len(line.description) <= 255 and len(line.short_name) <= 50
                assert not set(line.description + line.short_name) & set("™®©")
                assert line.unspsc == product.unspsc
                assert line.currency == offer.currency
                assert request_id_of(line.auxiliary_id) == REQUEST_ID


# --- usage estimates -----------------------------------------------------------------------


def _offer(pricing: dict[str, Any]) -> Offer:
    return _product(pricing).offers[0]


@pytest.mark.parametrize(
    "raw",
    [
        None,  # field missing
        "",
        "   ",
        "0",
        "0.0000",
        "-5",
        "NaN",
        "sNaN",
        "Infinity",
        "-Infinity",
        "1e12",
        "1000000000.0001",
        "1.23456",
        "0.00001",
        "twelve",
        "12 hours",
    ],
)
def test_a_bad_estimate_is_refused_by_its_form_field(raw: str | None) -> None:
    offer = _offer(CONTRACT_PAYG)
    form = {} if raw is None else {"estimate.pipeline-hours": raw}

    with pytest.raises(BadRequest) as refused:
        parse_estimates(offer, form)

    assert refused.value.field == "estimate.pipeline-hours"
    assert "Pipeline hours" in refused.value.message


def test_a_huge_estimate_says_what_the_limit_is() -> None:
    with pytest.raises(BadRequest) as refused:
        parse_estimates(_offer(CONTRACT_PAYG), {"estimate.pipeline-hours": "2000000000"})

    assert "1,000,000,000" in refused.value.message


def test_each_dimension_needs_its_own_estimate() -> None:
    form = {"estimate.vcpu-hours": "10", "estimate.image-scans": "5"}

    with pytest.raises(BadRequest) as refused:
        parse_estimates(_offer(MULTI_PAYG), form)

    assert refused.value.field == "estimate.events-gb"


def test_ambiguous_separators_are_refused_not_guessed() -> None:
    """ "1,2" is 1.2 in much of Europe and 12 elsewhere: ask again rather than guess."""
    with pytest.raises(BadRequest) as refused:
        parse_estimates(_offer(CONTRACT_PAYG), {"estimate.pipeline-hours": "1,2"})

    assert refused.value.field == "estimate.pipeline-hours"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("8760", Decimal(8760)),
        (" 12.5 ", Decimal("12.5")),
        ("0.0001", Decimal("0.0001")),
        ("1000000000", Decimal(1000000000)),
    ],
)
def test_good_estimates_are_exact_decimals(raw: str, value: Decimal) -> None:
    estimates = parse_estimates(_offer(CONTRACT_PAYG), {"estimate.pipeline-hours": raw})

    assert estimates == {"pipeline-hours": value}
    assert isinstance(estimates["pipeline-hours"], Decimal)


@pytest.mark.parametrize(
    "pricing",
    [
        {"model": "free"},
        {"model": "contract", "price": "10.00", "period": "month"},
        {"model": "free_trial", "trial_days": 30, "then": CONTRACT_PAYG},
    ],
)
def test_models_without_usage_ask_for_no_estimate(pricing: dict[str, Any]) -> None:
    assert parse_estimates(_offer(pricing), {"estimate.pipeline-hours": "oops"}) == {}


# --- totals --------------------------------------------------------------------------------


def test_request_total_is_the_exact_sum_of_its_lines() -> None:
    product = _product(CONTRACT_PAYG)

    request = new_request(
        product, product.offers[0], {"estimate.pipeline-hours": "8760"},
        integration_id="int_1", session=None, state=IN_CART,
    )  # fmt: skip

    assert request.total == Decimal("15700.80")
    assert str(request.total) == "15700.80"
    assert request.estimates == {"pipeline-hours": Decimal(8760)}
    assert (request.pricing_model, request.currency) == ("contract_payg", "USD")


def test_line_amounts_round_half_up_to_the_cent() -> None:
    """0.025 is exactly half a cent over 0.02: half-up gives 0.03 (banker's rounding 0.02)."""
    product = _product({"model": "payg", "dimensions": [_dimension("calls", "EA", "0.025")]})

    (line,) = _lines(product, {"calls": "1"})

    assert line.extended == Decimal("0.03")


def test_many_small_rates_add_up_without_float_drift() -> None:
    product = _product({"model": "payg", "dimensions": [_dimension("calls", "EA", "0.1")]})
    request = new_request(
        product, product.offers[0], {"estimate.calls": "3"},
        integration_id="int_1", session=None, state=IN_CART,
    )  # fmt: skip

    assert request.total == Decimal("0.30")
    assert str(request.total) == "0.30", "0.1 x 3 as floats would be 0.30000000000000004"


def test_cart_descriptions_read_as_sentences() -> None:
    # Given a seller whose name ends with a period, on a one-year contract and a monthly one
    yearly = _product(CONTRACT_PAYG)
    monthly = _product({"model": "contract", "price": "299.00", "period": "month", "term": 12})
    free = _product({"model": "free"})

    # When their cart lines are made
    contract, usage = _lines(yearly, {"pipeline-hours": "3000"})
    (twelve,) = _lines(monthly, {})
    (zero,) = _lines(free, {})

    # Then the texts have one period, real plurals and grouped numbers
    assert contract.description.endswith("for 1 year. Sold by Streamline Data Inc.")
    assert "15,000.00 USD per year" in contract.description
    assert "for 12 months." in twelve.description
    assert usage.description.endswith("approved budget 3,000 hours.")
    for line in (contract, usage, twelve, zero):
        assert ".." not in line.description and "(s)" not in line.description
