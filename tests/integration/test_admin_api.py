"""The admin JSON API against moto: what a buyer's admin sets up, and what it refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions import ids
from tests.support import account, admin, ariba_integration, coupa_integration


def _items(tables: dict[str, Any]) -> list[dict[str, Any]]:
    items = tables["dynamodb"].scan(TableName="local-integrations")["Items"]
    return [item for item in items if not item["pk"]["S"].startswith("account#")]  # no accounts


def test_create_coupa_integration_gives_purchase_information_and_stores_only_a_digest(
    api: Any, tables: dict[str, Any]
) -> None:
    status, body = admin(api, "POST", "/admin/integrations", coupa_integration(description="Test"))

    assert status == 201
    info = body["purchase_information"]
    assert info["punchout_url"] == "https://gateway.test/cxml/punchout"
    assert info["order_url"] == "https://gateway.test/cxml/orders"
    assert info["supplier_domain"] == "NetworkID"
    assert info["supplier_identity"] == "procurement-gateway"
    assert (info["buyer_domain"], info["buyer_identity"]) == ("DUNS", "acme-coupa")
    secret = info["shared_secret"]
    assert len(secret) >= 22, "at least 128 bits"
    integration = body["integration"]
    assert integration["test_mode"] is True
    assert integration["preapprove_free"] is False and integration["preapprove_byol"] is False
    assert integration["cart_field"] == "cxml-base64"
    assert integration["enabled"] is True
    assert "secret_digest" not in integration
    stored = _items(tables)
    assert len(stored) == 2, "the integration and its buyer lookup item"
    assert all(item["secret_digest"]["S"] == ids.digest(secret) for item in stored)
    assert secret not in str(stored)


def test_secret_is_shown_only_at_creation_and_rotation(api: Any) -> None:
    _, created = admin(api, "POST", "/admin/integrations", coupa_integration())
    integration_id = created["id"]

    _, fetched = admin(api, "GET", f"/admin/integrations/{integration_id}")
    assert fetched["purchase_information"]["shared_secret"] is None

    status, rotated = admin(api, "POST", f"/admin/integrations/{integration_id}/secret")
    assert status == 200
    new_secret = rotated["purchase_information"]["shared_secret"]
    assert new_secret and new_secret != created["purchase_information"]["shared_secret"]


def test_ariba_integration_has_no_per_buyer_secret(api: Any) -> None:
    status, body = admin(api, "POST", "/admin/integrations", ariba_integration())

    assert status == 201
    assert "shared_secret" not in body["purchase_information"]
    status, _ = admin(api, "POST", f"/admin/integrations/{body['id']}/secret")
    assert status == 400


def test_list_get_patch(api: Any) -> None:
    _, first = admin(api, "POST", "/admin/integrations", coupa_integration())
    admin(api, "POST", "/admin/integrations", ariba_integration())

    status, listing = admin(api, "GET", "/admin/integrations")
    assert status == 200
    assert [i["name"] for i in listing["integrations"]] == ["Acme Coupa", "Globex Ariba"]

    status, patched = admin(
        api,
        "PATCH",
        f"/admin/integrations/{first['id']}",
        {"name": "Acme Coupa EU", "test_mode": False, "cart_field": "cxml-urlencoded"},
    )
    assert status == 200
    assert patched["integration"]["name"] == "Acme Coupa EU"
    assert patched["integration"]["test_mode"] is False
    assert patched["integration"]["cart_field"] == "cxml-urlencoded"
    _, again = admin(api, "GET", f"/admin/integrations/{first['id']}")
    assert again["integration"] == patched["integration"]


def test_changing_buyer_identity_moves_the_lookup_item(api: Any, tables: dict[str, Any]) -> None:
    _, created = admin(api, "POST", "/admin/integrations", coupa_integration())

    status, _ = admin(
        api,
        "PATCH",
        f"/admin/integrations/{created['id']}",
        {"buyer_identity": {"domain": "NetworkID", "identity": "AN-NEW"}},
    )

    assert status == 200
    keys = sorted(item["pk"]["S"] for item in _items(tables))
    assert keys == ["buyer#networkid#an-new", f"integration#{created['id']}"]


def test_a_buyer_identity_belongs_to_one_integration(api: Any, tables: dict[str, Any]) -> None:
    admin(api, "POST", "/admin/integrations", coupa_integration())
    _, other = admin(api, "POST", "/admin/integrations", ariba_integration())

    # Same credential, different case and padding: the same buyer.
    status, body = admin(
        api,
        "POST",
        "/admin/integrations",
        coupa_integration(buyer_identity={"domain": "duns ", "identity": " ACME-COUPA"}),
    )
    assert status == 409
    assert body["error"]["field"] == "buyer_identity"
    status, _ = admin(
        api,
        "PATCH",
        f"/admin/integrations/{other['id']}",
        {"buyer_identity": {"domain": "DUNS", "identity": "acme-coupa"}},
    )
    assert status == 409
    assert len(_items(tables)) == 4, "nothing half-written by the refused writes"


def test_disable_keeps_settings_and_enable_restores(api: Any) -> None:
    _, created = admin(api, "POST", "/admin/integrations", coupa_integration(test_mode=False))

    status, disabled = admin(api, "POST", f"/admin/integrations/{created['id']}/disable")
    assert status == 200 and disabled["integration"]["enabled"] is False
    status, enabled = admin(api, "POST", f"/admin/integrations/{created['id']}/enable")

    assert status == 200
    before = dict(created["integration"], updated_at=None)
    after = dict(enabled["integration"], updated_at=None)
    assert after == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": 42}, "name"),
        ({"system": "sap"}, "system"),
        ({"buyer_identity": "acme"}, "buyer_identity"),
        ({"buyer_identity": {"domain": "DUNS"}}, "buyer_identity.identity"),
        ({"account_email": "not-an-email"}, "account_email"),
        ({"test_mode": "yes"}, "test_mode"),
        ({"cart_field": "cxml"}, "cart_field"),
        ({"approval_redirect_url": "http://acme.coupahost.com/x"}, "approval_redirect_url"),
        ({"approval_redirect_url": "javascript:alert(1)"}, "approval_redirect_url"),
        ({"colour": "blue"}, "colour"),
        ({"name": "x" * 201}, "name"),
        ({"name": "bad\x00name"}, "name"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    api: Any, tables: dict[str, Any], payload: dict[str, Any], field: str
) -> None:
    status, body = admin(api, "POST", "/admin/integrations", coupa_integration(**payload))

    assert status == 400
    assert body["error"]["field"] == field
    assert field.split(".")[0] in body["error"]["message"]
    assert _items(tables) == []


def test_ariba_cannot_have_an_approval_redirect(api: Any) -> None:
    status, body = admin(
        api,
        "POST",
        "/admin/integrations",
        ariba_integration(approval_redirect_url="https://x.ariba.com/"),
    )
    assert status == 400 and body["error"]["field"] == "approval_redirect_url"


@pytest.mark.parametrize("body", [b"", b"{not json", b"[1, 2]", b"\xff\xfe", b'"text"'])
def test_malformed_bodies_are_json_400(api: Any, body: bytes) -> None:
    answer = api.handle(
        "POST",
        "/admin/integrations",
        headers=[("Authorization", "Bearer test-admin-token-0123456789")],
        body=body,
    )
    assert answer.status == 400
    assert answer.header("Content-Type") == "application/json"


def test_system_cannot_change_and_patch_needs_a_field(api: Any) -> None:
    _, created = admin(api, "POST", "/admin/integrations", coupa_integration())
    path = f"/admin/integrations/{created['id']}"

    assert admin(api, "PATCH", path, {"system": "ariba"})[0] == 400
    assert admin(api, "PATCH", path, {})[0] == 400


def test_unknown_integration_is_404(api: Any) -> None:
    for method, path in [
        ("GET", "/admin/integrations/int_nope"),
        ("PATCH", "/admin/integrations/int_nope"),
        ("POST", "/admin/integrations/int_nope/disable"),
    ]:
        status, body = admin(api, method, path, {"name": "x"} if method == "PATCH" else None)
        assert status == 404, (method, path)
        assert "int_nope" in body["error"]["message"]


@pytest.mark.parametrize(("token", "status"), [(None, 401), ("wrong-token", 403), ("", 401)])
def test_admin_api_needs_the_admin_token(
    api: Any, tables: dict[str, Any], token: str | None, status: int
) -> None:
    answer_status, body = admin(
        api, "POST", "/admin/integrations", coupa_integration(), token=token
    )

    assert answer_status == status
    assert "error" in body
    assert _items(tables) == []


def test_unknown_admin_route_is_json_404(api: Any) -> None:
    # /admin/integrations/{id}/nothing is not an API Gateway resource: the gateway answers.
    answer = api.handle("DELETE", "/admin/integrations")
    assert answer.status == 403 and answer.header("Content-Type") == "application/json"


@pytest.fixture
def iam_mode(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The deployed mode: API Gateway has checked SigV4 and put the caller in the context."""
    from functions.config import settings

    monkeypatch.setenv("ADMIN_AUTH", "iam")
    settings.cache_clear()
    yield
    monkeypatch.undo()
    settings.cache_clear()


def test_deployed_admin_api_trusts_the_iam_identity_api_gateway_checked(
    api: Any, tables: dict[str, Any], iam_mode: Any
) -> None:
    headers = [("Content-Type", "application/json")]
    body = json.dumps(coupa_integration()).encode()
    caller = {
        "userArn": "arn:aws:iam::123456789012:user/admin",
        "accessKey": "AKIAEXAMPLE",
        "accountId": "123456789012",
    }
    stranger = dict(caller, accountId="999999999999", userArn="arn:aws:iam::999999999999:user/x")

    account_body = json.dumps(account("111122223333")).encode()
    api.handle("POST", "/admin/accounts", headers=headers, body=account_body, identity=caller)
    signed = api.handle("POST", "/admin/integrations", headers=headers, body=body, identity=caller)
    unsigned = api.handle("GET", "/admin/integrations", headers=headers)
    other_account = api.handle("GET", "/admin/integrations", headers=headers, identity=stranger)

    assert signed.status == 201, signed.text
    assert unsigned.status == 403
    assert "IAM" in json.loads(unsigned.body)["error"]["message"]
    assert other_account.status == 403


@pytest.mark.parametrize(
    ("tax", "field"),
    [
        ({"tax_rate": "1"}, "tax_rate"),
        ({"tax_rate": "-0.1"}, "tax_rate"),
        ({"tax_rate": "0.123456"}, "tax_rate"),
        ({"tax_rate": True}, "tax_rate"),
        ({"tax_rate": "0.2"}, "tax_description"),
    ],
)
def test_invoice_tax_is_validated(api: Any, tax: dict[str, Any], field: str) -> None:
    status, body = admin(api, "POST", "/admin/integrations", coupa_integration(**tax))
    assert status == 400 and body["error"]["field"] == field


def test_invoices_are_zero_rated_unless_configured(api: Any) -> None:
    _, plain = admin(api, "POST", "/admin/integrations", coupa_integration())
    status, taxed = admin(
        api,
        "PATCH",
        f"/admin/integrations/{plain['id']}",
        {"tax_rate": "0.20", "tax_description": "VAT 20%"},
    )

    assert (plain["integration"]["tax_rate"], plain["integration"]["tax_description"]) == (
        "0", "Zero-rated",
    )  # fmt: skip
    assert status == 200
    assert (taxed["integration"]["tax_rate"], taxed["integration"]["tax_description"]) == (
        "0.2", "VAT 20%",
    )  # fmt: skip
