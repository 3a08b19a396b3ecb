"""Buyer accounts through the operator's admin API, against moto (DynamoDB and Cognito): an
account is created once, lists and reads back, invites its users into the user pool, and an
integration can only be created for an account that exists."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.accounts_support import attributes, buyer_user_pool
from tests.support import ADMIN_TOKEN, account, admin, ariba_integration, coupa_integration

INITECH = account("111122223333", name="Initech", contact_email="it@initech.example")


@pytest.fixture
def pool(tables: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    with buyer_user_pool(monkeypatch) as created:
        yield created


def _listed(api: Any, query: str) -> tuple[int, Any]:
    headers = [("Authorization", f"Bearer {ADMIN_TOKEN}")]
    answer = api.handle("GET", "/admin/accounts", query=query, headers=headers)
    return answer.status, json.loads(answer.body)


def _account_items(tables: dict[str, Any]) -> list[dict[str, Any]]:
    items = tables["dynamodb"].scan(TableName="local-integrations")["Items"]
    return [item for item in items if item["pk"]["S"].startswith("account#")]


def test_an_account_is_created_read_back_and_listed(api: Any, tables: dict[str, Any]) -> None:
    # When the operator creates an account
    status, created = admin(api, "POST", "/admin/accounts", INITECH, account_first=False)

    # Then it is answered, stored once and read back as it was created
    assert status == 201
    assert created["account"] == {
        "id": "111122223333",
        "name": "Initech",
        "contact_email": "it@initech.example",
        "created_at": created["account"]["created_at"],
        "status": "active",
    }
    assert len(_account_items(tables)) == 1
    assert admin(api, "GET", "/admin/accounts/111122223333") == (200, created)
    status, listed = admin(api, "GET", "/admin/accounts")
    assert status == 200
    assert listed == {"accounts": [created["account"]], "next_cursor": None}


def test_creating_the_same_account_again_is_a_retry_and_different_content_a_409(
    api: Any, tables: dict[str, Any]
) -> None:
    # Given an account
    _, first = admin(api, "POST", "/admin/accounts", INITECH, account_first=False)

    # When the same request comes again, then the same account is answered (200, not 201)
    assert admin(api, "POST", "/admin/accounts", INITECH, account_first=False) == (200, first)

    # When another company claims the same ID, then it is refused and nothing changes
    status, body = admin(
        api, "POST", "/admin/accounts", {**INITECH, "name": "Initrode"}, account_first=False
    )
    assert status == 409
    assert body["error"]["field"] == "id"
    assert "already exists" in body["error"]["message"]
    assert admin(api, "GET", "/admin/accounts/111122223333") == (200, first)
    assert len(_account_items(tables)) == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**INITECH, "id": "11112222333"}, "id"),  # 11 digits
        ({**INITECH, "id": "1111-2222-3333"}, "id"),
        ({**INITECH, "id": "initech"}, "id"),
        ({**INITECH, "id": 111122223333}, "id"),
        ({**INITECH, "contact_email": "not-an-email"}, "contact_email"),
        ({**INITECH, "name": ""}, "name"),
        ({**INITECH, "owner": "x"}, "owner"),
    ],
)
def test_a_bad_account_is_a_400_naming_the_field(
    api: Any, tables: dict[str, Any], payload: dict[str, Any], field: str
) -> None:
    status, body = admin(api, "POST", "/admin/accounts", payload, account_first=False)

    assert status == 400
    assert body["error"]["field"] == field
    assert _account_items(tables) == []


def test_unknown_and_malformed_account_ids_in_the_path(api: Any, tables: dict[str, Any]) -> None:
    assert admin(api, "GET", "/admin/accounts/999988887777")[0] == 404
    status, body = admin(api, "GET", "/admin/accounts/not-an-id")
    assert (status, body["error"]["field"]) == (400, "id")


def test_accounts_are_listed_in_pages(api: Any, tables: dict[str, Any]) -> None:
    # Given five accounts
    for n in range(5):
        admin(api, "POST", "/admin/accounts", account(f"10000000000{n}"), account_first=False)

    # When the operator pages through them two at a time
    seen: list[str] = []
    cursor = ""
    for _ in range(5):
        status, page = _listed(api, "limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200 and len(page["accounts"]) <= 2
        seen += [a["id"] for a in page["accounts"]]
        cursor = page["next_cursor"]
        if not cursor:
            break

    # Then every account shows exactly once
    assert sorted(seen) == [f"10000000000{n}" for n in range(5)]
    assert _listed(api, "limit=0")[1]["error"]["field"] == "limit"
    assert _listed(api, "limit=101")[1]["error"]["field"] == "limit"
    assert _listed(api, "cursor=x")[1]["error"]["field"] == "cursor"


def test_inviting_the_first_admin_creates_the_user_in_the_pool(
    api: Any, pool: tuple[Any, str]
) -> None:
    cognito, pool_id = pool
    admin(api, "POST", "/admin/accounts", INITECH, account_first=False)

    # When the operator invites Initech's first admin
    status, body = admin(
        api,
        "POST",
        "/admin/accounts/111122223333/users",
        {"email": "Ann@Initech.example", "role": "admin"},
    )

    # Then the user exists in the pool with the account and role the console will read
    assert status == 201
    assert body["user"]["email"] == "ann@initech.example"
    assert body["user"]["role"] == "admin"
    assert body["user"]["status"] == "FORCE_CHANGE_PASSWORD", "invited, not yet signed in"
    stored = attributes(cognito, pool_id, body["user"]["username"])
    assert stored["custom:account_id"] == "111122223333"
    assert stored["custom:role"] == "admin"
    assert stored["email"] == "ann@initech.example"


def test_a_duplicate_invitation_is_a_409_with_the_reason(api: Any, pool: tuple[Any, str]) -> None:
    admin(api, "POST", "/admin/accounts", INITECH, account_first=False)
    admin(api, "POST", "/admin/accounts", account("444455556666"), account_first=False)
    invite = {"email": "ann@initech.example", "role": "member"}
    assert admin(api, "POST", "/admin/accounts/111122223333/users", invite)[0] == 201

    same_account = admin(api, "POST", "/admin/accounts/111122223333/users", invite)
    other_account = admin(api, "POST", "/admin/accounts/444455556666/users", invite)

    assert same_account[0] == 409
    assert "already a user of account 111122223333" in same_account[1]["error"]["message"]
    assert other_account[0] == 409
    assert "another account" in other_account[1]["error"]["message"]
    assert "111122223333" not in other_account[1]["error"]["message"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "ann@initech.example", "role": "owner"}, "role"),
        ({"email": "ann", "role": "admin"}, "email"),
        ({"email": "ann@initech.example", "team": "x"}, "team"),
    ],
)
def test_a_bad_invitation_is_a_400_and_invites_nobody(
    api: Any, pool: tuple[Any, str], payload: dict[str, Any], field: str
) -> None:
    cognito, pool_id = pool
    admin(api, "POST", "/admin/accounts", INITECH, account_first=False)

    status, body = admin(api, "POST", "/admin/accounts/111122223333/users", payload)

    assert (status, body["error"]["field"]) == (400, field)
    assert cognito.list_users(UserPoolId=pool_id)["Users"] == []


def test_inviting_into_an_unknown_account_is_a_404(api: Any, pool: tuple[Any, str]) -> None:
    cognito, pool_id = pool
    invite = {"email": "ann@initech.example", "role": "admin"}

    assert admin(api, "POST", "/admin/accounts/111122223333/users", invite)[0] == 404
    assert cognito.list_users(UserPoolId=pool_id)["Users"] == []


def test_a_user_is_removed_only_from_its_own_account(api: Any, pool: tuple[Any, str]) -> None:
    cognito, pool_id = pool
    admin(api, "POST", "/admin/accounts", INITECH, account_first=False)
    admin(api, "POST", "/admin/accounts", account("444455556666"), account_first=False)
    invite = {"email": "ann@initech.example", "role": "member"}
    _, invited = admin(api, "POST", "/admin/accounts/111122223333/users", invite)
    username = invited["user"]["username"]

    # Another account's path does not reach her, an unknown user is a 404
    assert admin(api, "DELETE", f"/admin/accounts/444455556666/users/{username}")[0] == 404
    assert admin(api, "DELETE", "/admin/accounts/111122223333/users/nobody")[0] == 404
    assert len(cognito.list_users(UserPoolId=pool_id)["Users"]) == 1

    # Her own account's path removes her
    status, body = admin(api, "DELETE", f"/admin/accounts/111122223333/users/{username}")
    assert (status, body["removed"]["email"]) == (200, "ann@initech.example")
    assert cognito.list_users(UserPoolId=pool_id)["Users"] == []


def test_an_integration_for_an_unknown_account_is_refused(api: Any, tables: dict[str, Any]) -> None:
    # When an integration names an account the operator never created
    status, body = admin(
        api, "POST", "/admin/integrations", coupa_integration(), account_first=False
    )

    # Then it is refused, saying what to do, and nothing is stored
    assert status == 409
    assert body["error"]["field"] == "account_id"
    assert "POST /admin/accounts" in body["error"]["message"]
    assert tables["dynamodb"].scan(TableName="local-integrations")["Items"] == []


def test_an_integration_for_a_known_account_is_accepted_and_can_move_to_known_ones_only(
    api: Any,
) -> None:
    admin(api, "POST", "/admin/accounts", INITECH, account_first=False)
    status, created = admin(
        api, "POST", "/admin/integrations", coupa_integration(), account_first=False
    )
    assert status == 201
    path = f"/admin/integrations/{created['id']}"

    moved = admin(api, "PATCH", path, {"account_id": "444455556666"}, account_first=False)
    assert (moved[0], moved[1]["error"]["field"]) == (409, "account_id")
    assert admin(api, "GET", path)[1]["integration"]["account_id"] == "111122223333"

    renamed = admin(api, "PATCH", path, {"name": "Initech Coupa"}, account_first=False)
    assert renamed[0] == 200, "a patch leaving the account alone needs no check"


@pytest.mark.parametrize("account_id", ["11112222333", "1111 2222 3333", "x" * 12, ""])
def test_an_integration_with_a_malformed_account_id_is_a_400(api: Any, account_id: str) -> None:
    status, body = admin(
        api, "POST", "/admin/integrations", coupa_integration(account_id=account_id)
    )

    assert (status, body["error"]["field"]) == (400, "account_id")


@pytest.mark.parametrize(
    "identity",
    [{"domain": "NetworkID", "identity": "AN01000000001-T"},
     {"domain": "networkid", "identity": "an01000000001"}],
)  # fmt: skip
def test_an_ariba_anid_gets_no_warning(api: Any, identity: dict[str, str]) -> None:
    status, body = admin(
        api, "POST", "/admin/integrations", ariba_integration(buyer_identity=identity)
    )

    assert (status, body["warnings"]) == (201, [])


@pytest.mark.parametrize(
    "identity",
    [{"domain": "NetworkID", "identity": "globex"},
     {"domain": "DUNS", "identity": "AN01000000001"},
     {"domain": "NetworkID", "identity": "AN0100-T"}],
)  # fmt: skip
def test_an_ariba_identity_that_is_no_anid_is_accepted_with_a_warning(
    api: Any, identity: dict[str, str]
) -> None:
    status, body = admin(
        api, "POST", "/admin/integrations", ariba_integration(buyer_identity=identity)
    )

    assert status == 201
    (warning,) = body["warnings"]
    assert "ANID" in warning and identity["identity"] in warning
    patched = admin(api, "PATCH", f"/admin/integrations/{body['id']}", {"name": "Globex"})
    assert patched[1]["warnings"] == [warning], "the warning stays until the identity is fixed"


def test_a_coupa_identity_gets_no_anid_warning(api: Any) -> None:
    assert admin(api, "POST", "/admin/integrations", coupa_integration())[1]["warnings"] == []
