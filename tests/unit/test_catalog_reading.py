"""The catalog as a buyer reads it (labels, summaries, search), and the demo catalog the local
stack seeds."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from functions.catalog import (
    PRICING_MODELS,
    PRODUCT_TYPES,
    TRIAL_CONVERTS_TO,
    Product,
)
from functions.catalog_input import product_from_json
from functions.clock import CLOCK
from local.seed import demo_products
from tests.catalog_support import (
    CREATED,
    edit_at,
    product_payload,
    without_timestamps,
)

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
    product = product_from_json(product_payload(product_type=product_type))

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
            "0.15 GBP per synced document",
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
    payload = product_payload()
    edit_at(
        payload, "offers", [{"id": "o1", "name": "O", "currency": currency, "pricing": pricing}]
    )

    assert product_from_json(payload).offers[0].summary == summary


def _searchable() -> Product:
    return product_from_json(
        product_payload(
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


def test_search_ignores_case_and_accents() -> None:
    product = product_from_json(
        product_payload(name="Zürich Analytics ™", short_description="Données à la Straße.")
    )

    for query in ("ZÜRICH", "zurich", "Zurich analytics", "donnees", "DONNÉES", "strasse"):
        assert product.matches(query), query
    assert not product.matches("zurick")


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
    assert product_from_json(without_timestamps(product.to_json())) == product
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


def test_demo_products_state_their_commitments_and_offers_are_billed_as_named() -> None:
    """An offer named "billed monthly" or "billed yearly" has that billing schedule (issue 13
    part 2), the demo shows both kinds; trials never convert."""
    products = [product_from_json(copy.deepcopy(p)) for p in DEMO]
    named = {"billed monthly": "monthly", "billed yearly": "annual"}
    schedules = set()

    for product in products:
        assert product.eula_url.startswith("https://"), product.id
        assert product.support_contact and product.refund_policy, product.id
        for offer in product.offers:
            schedules.add(offer.pricing.schedule)
            for words, schedule in named.items():
                if words in offer.name:
                    assert offer.pricing.schedule == schedule, (product.id, offer.id)
        assert "invoiced in full" not in product.long_description, product.id
        if "free_trial" in product.pricing_models:
            assert "converts to" not in product.long_description, product.id
            assert "continues on" not in product.long_description, product.id
    assert {"upfront", "monthly", "annual"} <= schedules
