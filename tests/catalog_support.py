"""Shared by the catalog's unit tests: a valid product payload, and reaching into a payload or
a refusal by the path an admin reads (`offers[0].pricing.rates[1].unit_price`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.catalog import Product
from functions.catalog_input import product_from_json
from functions.errors import BadRequest

CREATED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def product_payload(**overrides: Any) -> dict[str, Any]:
    """A valid product whose offers reach every nested path: a contract with usage, a trial."""
    payload: dict[str, Any] = {
        "id": "datastream-pro",
        "name": "DataStream Pro",
        "seller": "Streamline Data Inc.",
        "seller_account": "309876543210",
        "short_description": "Managed change-data-capture pipelines.",
        "long_description": "Replicates databases into S3 within seconds.",
        "usage_instructions": "Press Set up your account on Your subscriptions.",
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


def edit_at(payload: dict[str, Any], path: str, value: Any = None, *, delete: bool = False) -> None:
    """Set (or delete) the value at `offers[0].pricing.dimensions[0].unit_price`."""
    steps: list[str | int] = [name if name else int(index) for name, index in _STEP.findall(path)]
    parent: Any = payload
    for step in steps[:-1]:
        parent = parent[step]
    if delete:
        del parent[steps[-1]]
    else:
        parent[steps[-1]] = value


def value_at(document: Any, path: str) -> Any:
    for name, index in _STEP.findall(path):
        document = document[name] if name else document[int(index)]
    return document


def refusal_of(payload: Any, base: Product | None = None) -> BadRequest:
    with pytest.raises(BadRequest) as refused:
        product_from_json(payload, base=base)
    return refused.value


def without_timestamps(document: dict[str, Any]) -> dict[str, Any]:
    """`to_json` minus what the server sets (an admin cannot send those back)."""
    return {k: v for k, v in document.items() if k not in ("created_at", "updated_at")}
