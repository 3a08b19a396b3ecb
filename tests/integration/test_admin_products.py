"""The admin products API against moto: what a marketplace admin lists, and what it refuses."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from functions import store
from functions.config import settings
from functions.store.catalog import DynamoProductStore
from local.seed import DEMO_ACCOUNTS, DEMO_INTEGRATIONS, demo_products, seed, seed_catalog
from tests.support import ADMIN_TOKEN, admin


def _items(tables: dict[str, Any]) -> list[dict[str, Any]]:
    return tables["dynamodb"].scan(TableName="local-products")["Items"]


def _catalog() -> DynamoProductStore:
    """The store the buyer-facing catalog reads."""
    store.bind(settings())
    return DynamoProductStore()


def _product(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": "kubeguard-runtime",
        "name": "KubeGuard Runtime Security",
        "seller": "Harborline Security",
        "short_description": "Runtime threat detection for EKS and ECS.",
        "long_description": "Watches system calls with eBPF.",
        "usage_instructions": "Install the Helm chart with your license token.",
        "product_type": "container",
        "offers": [
            {
                "id": "usage",
                "name": "Pay as you go",
                "description": "Billed on what you run.",
                "currency": "USD",
                "pricing": {
                    "model": "payg",
                    "dimensions": [
                        {
                            "key": "vcpu-hours",
                            "name": "vCPU hours",
                            "unit": "HUR",
                            "unit_price": "0.012",
                        },
                        {
                            "key": "events-gb",
                            "name": "Retained events",
                            "unit": "E34",
                            "unit_price": "0.0045",
                        },
                    ],
                },
            }
        ],
    }
    payload.update(overrides)
    return payload


def test_create_then_get_shows_the_product_as_sent(api: Any, tables: dict[str, Any]) -> None:
    status, created = admin(api, "POST", "/admin/products", _product())

    assert status == 201
    product = created["product"]
    sent = _product()
    assert {k: product[k] for k in sent} == sent
    assert product["listed"] is True
    assert product["created_at"] == product["updated_at"] != ""
    status, fetched = admin(api, "GET", "/admin/products/kubeguard-runtime")
    assert status == 200 and fetched["product"] == product
    assert len(_items(tables)) == 1


def test_an_id_is_generated_when_none_is_given(api: Any) -> None:
    payload = _product()
    del payload["id"]

    status, created = admin(api, "POST", "/admin/products", payload)

    assert status == 201
    product_id = created["product"]["id"]
    assert product_id.startswith("prod-")
    assert admin(api, "GET", f"/admin/products/{product_id}")[0] == 200


@pytest.mark.parametrize("price", ["0.0045", "0.000001", "12.50", "0", "9999999.999999"])
def test_prices_round_trip_exactly(api: Any, price: str) -> None:
    payload = _product()
    payload["offers"][0]["pricing"]["dimensions"][1]["unit_price"] = price
    admin(api, "POST", "/admin/products", payload)

    _, fetched = admin(api, "GET", "/admin/products/kubeguard-runtime")

    assert fetched["product"]["offers"][0]["pricing"]["dimensions"][1]["unit_price"] == price
    (stored,) = _catalog().listed()
    assert str(stored.offers[0].pricing.dimensions[1].unit_price) == price


def test_json_numbers_are_read_as_exact_decimals(api: Any) -> None:
    body = json.dumps(_product()).replace('"unit_price": "0.0045"', '"unit_price": 0.0045')
    assert '"unit_price": 0.0045' in body
    answer = api.handle(
        "POST",
        "/admin/products",
        headers=[("Authorization", f"Bearer {ADMIN_TOKEN}")],
        body=body.encode(),
    )

    assert answer.status == 201, answer.text
    offer = json.loads(answer.body)["product"]["offers"][0]
    assert offer["pricing"]["dimensions"][1]["unit_price"] == "0.0045"


def test_text_with_markup_and_non_ascii_round_trips(api: Any) -> None:
    name = 'Q&A "Insights" <Pro> für Zürich ™'
    admin(api, "POST", "/admin/products", _product(name=name, seller="Smith & Jones"))

    _, fetched = admin(api, "GET", "/admin/products/kubeguard-runtime")

    assert fetched["product"]["name"] == name
    assert fetched["product"]["seller"] == "Smith & Jones"


def test_list_is_by_name_and_includes_unlisted_products_the_catalog_hides(api: Any) -> None:
    admin(api, "POST", "/admin/products", _product())
    admin(api, "POST", "/admin/products", _product(id="aardvark-backup", name="Aardvark Backup",
                                                   listed=False))  # fmt: skip
    admin(api, "POST", "/admin/products", _product(id="zeta-vpn", name="Zeta VPN"))

    status, listing = admin(api, "GET", "/admin/products")

    assert status == 200
    assert [p["id"] for p in listing["products"]] == [
        "aardvark-backup",
        "kubeguard-runtime",
        "zeta-vpn",
    ]
    assert listing["products"][0]["listed"] is False
    assert [p.id for p in _catalog().listed()] == ["kubeguard-runtime", "zeta-vpn"]


def test_patch_changes_only_the_fields_sent(api: Any, tables: dict[str, Any]) -> None:
    _, created = admin(api, "POST", "/admin/products", _product())

    status, patched = admin(
        api, "PATCH", "/admin/products/kubeguard-runtime", {"name": "KubeGuard Runtime 2"}
    )

    assert status == 200
    expected = dict(created["product"], name="KubeGuard Runtime 2")
    assert {k: v for k, v in patched["product"].items() if k != "updated_at"} == {
        k: v for k, v in expected.items() if k != "updated_at"
    }
    _, fetched = admin(api, "GET", "/admin/products/kubeguard-runtime")
    assert fetched["product"] == patched["product"]
    (item,) = _items(tables)
    assert item["version"]["N"] == "2"


def test_unlisting_and_relisting_moves_the_product_out_of_and_into_the_catalog(api: Any) -> None:
    admin(api, "POST", "/admin/products", _product())
    path = "/admin/products/kubeguard-runtime"

    assert admin(api, "PATCH", path, {"listed": False})[0] == 200
    assert _catalog().listed() == []
    assert admin(api, "PATCH", path, {"listed": True})[0] == 200
    assert [p.id for p in _catalog().listed()] == ["kubeguard-runtime"]


def test_patch_replaces_the_offer_list(api: Any) -> None:
    admin(api, "POST", "/admin/products", _product())
    offers = [{"id": "community", "name": "Community", "pricing": {"model": "free"}}]

    _, patched = admin(api, "PATCH", "/admin/products/kubeguard-runtime", {"offers": offers})

    assert [o["id"] for o in patched["product"]["offers"]] == ["community"]
    (stored,) = _catalog().listed()
    assert stored.pricing_models == ("free",)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"id": "kubeguard-2"}, "id"),
        ({"product_type": "desktop"}, "product_type"),
        ({"offers": []}, "offers"),
        (
            {"offers": [{"id": "x1", "name": "X", "pricing": {"model": "payg"}}]},
            "offers[0].pricing.dimensions",
        ),
        ({"created_at": "2020-01-01T00:00:00+00:00"}, "created_at"),
        ({"name": "   "}, "name"),
    ],
)
def test_a_refused_patch_names_the_field_and_changes_nothing(
    api: Any, tables: dict[str, Any], patch: dict[str, Any], field: str
) -> None:
    admin(api, "POST", "/admin/products", _product())
    before = _items(tables)

    status, body = admin(api, "PATCH", "/admin/products/kubeguard-runtime", patch)

    assert status == 400
    assert body["error"]["field"] == field
    assert _items(tables) == before


def test_an_empty_patch_is_refused(api: Any) -> None:
    admin(api, "POST", "/admin/products", _product())

    assert admin(api, "PATCH", "/admin/products/kubeguard-runtime", {})[0] == 400


def test_delete_removes_the_product_from_admin_and_catalog(
    api: Any, tables: dict[str, Any]
) -> None:
    admin(api, "POST", "/admin/products", _product())

    status, body = admin(api, "DELETE", "/admin/products/kubeguard-runtime")

    assert status == 200 and body == {"deleted": "kubeguard-runtime"}
    assert admin(api, "GET", "/admin/products/kubeguard-runtime")[0] == 404
    assert admin(api, "GET", "/admin/products")[1] == {"products": []}
    assert _catalog().listed() == []
    assert _items(tables) == []
    assert admin(api, "DELETE", "/admin/products/kubeguard-runtime")[0] == 404


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("name", ""),
        ("name", 42),
        ("product_type", "desktop"),
        ("listed", "yes"),
        ("colour", "blue"),
        ("id", "Not A Slug"),
        ("offers", []),
        ("offers[0].currency", "dollars"),
        ("offers[0].pricing.model", "subscription"),
        ("offers[0].pricing.dimensions[0].unit", "hours"),
        ("offers[0].pricing.dimensions[1].unit_price", "-0.01"),
        ("offers[0].pricing.dimensions[1].unit_price", "0.0000001"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    api: Any, tables: dict[str, Any], path: str, value: Any
) -> None:
    payload = _product()
    steps = [name or int(index) for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path)]
    target: Any = payload
    for step in steps[:-1]:
        target = target[step]
    target[steps[-1]] = value

    status, body = admin(api, "POST", "/admin/products", payload)

    assert status == 400
    assert body["error"]["field"] == path
    assert f"'{path}'" in body["error"]["message"]
    assert _items(tables) == []


def test_a_float_price_sent_as_a_json_number_is_read_exactly(api: Any) -> None:
    """0.1 above is a JSON number on the wire: read as Decimal("0.1"), not refused as a float."""
    payload = _product()
    payload["offers"][0]["pricing"]["dimensions"][1]["unit_price"] = 0.1

    status, body = admin(api, "POST", "/admin/products", payload)

    assert status == 201, body
    assert body["product"]["offers"][0]["pricing"]["dimensions"][1]["unit_price"] == "0.1"


def test_a_duplicate_id_is_409_and_keeps_the_first_product(
    api: Any, tables: dict[str, Any]
) -> None:
    admin(api, "POST", "/admin/products", _product())

    status, body = admin(api, "POST", "/admin/products", _product(name="Impostor"))

    assert status == 409
    assert body["error"]["field"] == "id"
    assert "kubeguard-runtime" in body["error"]["message"]
    (item,) = _items(tables)
    assert item["name"]["S"] == "KubeGuard Runtime Security"


@pytest.mark.parametrize(
    ("method", "payload"), [("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)]
)
def test_unknown_product_is_404(api: Any, method: str, payload: Any) -> None:
    status, body = admin(api, method, "/admin/products/prod-nope", payload)

    assert status == 404
    assert "prod-nope" in body["error"]["message"]


@pytest.mark.parametrize(("token", "status"), [(None, 401), ("wrong-token", 403), ("", 401)])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/admin/products"),
        ("GET", "/admin/products"),
        ("GET", "/admin/products/kubeguard-runtime"),
        ("PATCH", "/admin/products/kubeguard-runtime"),
        ("DELETE", "/admin/products/kubeguard-runtime"),
    ],
)
def test_admin_products_need_the_admin_token(
    api: Any, tables: dict[str, Any], token: str | None, status: int, method: str, path: str
) -> None:
    admin(api, "POST", "/admin/products", _product())
    before = _items(tables)
    payload = _product(name="Changed") if method == "POST" else {"name": "Changed"}

    answer_status, body = admin(api, method, path, payload, token=token)

    assert answer_status == status
    assert "products" not in body and "product" not in body
    assert _items(tables) == before


# --- the local stack's demo seed -----------------------------------------------------------


def test_seed_creates_the_demo_catalog_through_the_admin_api(api: Any) -> None:
    integrations = seed(api, ADMIN_TOKEN)

    assert [i["name"] for i in integrations] == [i["name"] for i in DEMO_INTEGRATIONS]
    assert all(i["purchase_information"]["punchout_url"] for i in integrations)
    demo = demo_products()
    listed = {p.id: p for p in _catalog().listed()}
    assert set(listed) == {p["id"] for p in demo}
    calls = len(DEMO_ACCOUNTS) + len(DEMO_INTEGRATIONS) + len(demo)  # each through the API
    assert api.invocations["functions.handlers.admin_api"] == calls
    for payload in demo:
        _, fetched = admin(api, "GET", f"/admin/products/{payload['id']}")
        assert {k: v for k, v in fetched["product"].items() if k in payload} == payload


def test_seeding_the_catalog_twice_fails_loudly(api: Any) -> None:
    created = seed_catalog(api, ADMIN_TOKEN)
    assert created == [p["id"] for p in demo_products()]

    with pytest.raises(RuntimeError, match="already exists"):
        seed_catalog(api, ADMIN_TOKEN)
