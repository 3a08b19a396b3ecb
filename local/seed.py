"""Demo data, created through the admin API itself so it takes the same path as a real admin."""

from __future__ import annotations

import json
from typing import Any

from local.stack import LocalApi

DEMO_INTEGRATIONS: tuple[dict[str, Any], ...] = (
    {
        "name": "Demo Coupa (Initech)",
        "description": "Initech's Coupa test instance",
        "system": "coupa",
        "buyer_identity": {"domain": "DUNS", "identity": "initech-coupa"},
        "account_id": "111122223333",
        "account_email": "it-admin@initech.example",
        "approval_redirect_url": "https://initech.coupahost.com/requisition_headers/new",
    },
    {
        "name": "Demo Ariba (Globex)",
        "description": "Globex on SAP Ariba (test ANID)",
        "system": "ariba",
        "buyer_identity": {"domain": "NetworkID", "identity": "AN01000000001-T"},
        "account_id": "444455556666",
        "account_email": "procurement@globex.example",
        "cart_field": "cxml-urlencoded",
    },
)


def seed(api: LocalApi, admin_token: str) -> list[dict[str, Any]]:
    created = []
    for payload in DEMO_INTEGRATIONS:
        answer = api.handle(
            "POST",
            "/admin/integrations",
            headers=[
                ("Content-Type", "application/json"),
                ("Authorization", f"Bearer {admin_token}"),
            ],
            body=json.dumps(payload).encode(),
        )
        if answer.status != 201:
            raise RuntimeError(f"seeding {payload['name']} failed: {answer.text}")
        body = json.loads(answer.body)
        created.append({"id": body["id"], "name": payload["name"], "system": payload["system"],
                        "purchase_information": body["purchase_information"]})  # fmt: skip
    return created
