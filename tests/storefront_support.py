"""Helpers for storefront tests: products to sell, punchouts, forms, and the cart a browser
would post back to the procurement system."""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from defusedxml import ElementTree

from tests.support import BASE_URL, admin, dtd_errors, post_cxml, punchout_setup

FORM = [("Content-Type", "application/x-www-form-urlencoded")]

CONTRACT_PAYG = {
    "id": "datastream-pro",
    "name": "DataStream Pro",
    "seller": "Streamline Data Inc.",
    "short_description": "Managed event streaming.",
    "long_description": "Kafka-compatible streaming.\n\nScales to zero.",
    "usage_instructions": "Open the console and create a stream.",
    "product_type": "saas",
    "offers": [
        {
            "id": "annual",
            "name": "Annual + usage",
            "currency": "USD",
            "pricing": {
                "model": "contract_payg",
                "price": "15000.00",
                "period": "year",
                "dimensions": [
                    {"key": "hours", "name": "Broker hours", "unit": "HUR", "unit_price": "0.08"}
                ],
            },
        }
    ],
}
FREE_TRIAL = {
    "id": "sentinel-siem-trial",
    "name": "Sentinel SIEM",
    "seller": "Watchtower Security",
    "short_description": "Threat detection for cloud workloads.",
    "product_type": "ami",
    "offers": [
        {
            "id": "trial",
            "name": "30-day trial",
            "currency": "USD",
            "pricing": {
                "model": "free_trial",
                "trial_days": 30,
                "then": {
                    "model": "payg",
                    "dimensions": [
                        {
                            "key": "hours",
                            "name": "Instance hours",
                            "unit": "HUR",
                            "unit_price": "0.45",
                        }
                    ],
                },
            },
        }
    ],
}
FREE_AND_BYOL = {
    "id": "open-notes",
    "name": "Open Notes",
    "seller": "Community",
    "short_description": "Team notes.",
    "product_type": "container",
    "offers": [
        {"id": "free", "name": "Free", "currency": "USD", "pricing": {"model": "free"}},
        {"id": "byol", "name": "BYOL", "currency": "USD", "pricing": {"model": "byol"}},
    ],
}
HOSTILE = {
    "id": "zurich-qa",
    "name": 'Zürich Q&A "Insights" <Pro> ™',
    "seller": "Ünïcode & <Sons>",
    "short_description": "<script>alert('x')</script> quotes \" and ' and é",
    "long_description": "<img src=x onerror=alert(1)>",
    "product_type": "other",
    "offers": [
        {
            "id": "monthly",
            "name": "Monthly <b>plan</b>",
            "currency": "EUR",
            "pricing": {"model": "contract", "price": "99.00", "period": "month", "term": 12},
        }
    ],
}


def create_products(api: Any, *products: dict[str, Any]) -> None:
    for product in products:
        status, body = admin(api, "POST", "/admin/products", product)
        assert status == 201, body


def create_integration(api: Any, payload: dict[str, Any]) -> dict[str, Any]:
    status, body = admin(api, "POST", "/admin/integrations", payload)
    assert status == 201, body
    return body


def punch_out(api: Any, integration: dict[str, Any], **kw: Any) -> str:
    """The session path (`/s/<token>`) of a fresh punchout for `integration`."""
    info = integration["purchase_information"]
    system = integration["integration"]["system"]
    secret = kw.pop("secret", None) or info.get("shared_secret")
    answer = post_cxml(
        api,
        punchout_setup(
            from_credentials=[(info["buyer_domain"], info["buyer_identity"])],
            secret=secret,
            sender="sysadmin@ariba.com" if system == "ariba" else "buyer",
            **kw,
        ),
    )
    assert answer.code == 200, answer.message
    return answer.find("Response/PunchOutSetupResponse/StartPage/URL").removeprefix(BASE_URL)


def post_form(api: Any, path: str, fields: dict[str, str]) -> Any:
    return api.handle("POST", path, headers=FORM, body=urlencode(fields).encode())


@dataclass
class Cart:
    """What the procurement system receives from the browser."""

    url: str
    field: str
    document: bytes
    root: Any

    @property
    def lines(self) -> list[Any]:
        return self.root.findall("Message/PunchOutOrderMessage/ItemIn")

    def text(self, path: str) -> str:
        found = self.root.find(path)
        return "" if found is None else (found.text or "").strip()


def cart_of(page: Any) -> Cart:
    """Decode the auto-submitting form as a browser would post it, and check it is DTD-valid."""
    assert page.status == 200, page.text
    form = re.search(r'<form id="cart-return" method="post" action="([^"]+)">', page.text)
    field = re.search(r'<input type="hidden" name="(cxml-[a-z0-9]+)" value="([^"]*)">', page.text)
    assert form and field, page.text
    value = html.unescape(field.group(2))  # what the browser sends
    if field.group(1) == "cxml-base64":
        document = base64.b64decode(value)
    else:
        assert value.isascii(), "cxml-urlencoded carries US-ASCII only"
        document = value.encode("ascii")
    assert dtd_errors(document) == [], dtd_errors(document)
    return Cart(
        html.unescape(form.group(1)), field.group(1), document, ElementTree.fromstring(document)
    )
