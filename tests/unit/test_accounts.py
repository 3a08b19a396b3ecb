"""Buyer accounts' rules, pure: the account ID format, a new account and an invitation as the
operator sends them, the Ariba ANID warning, and currency codes in any case."""

from __future__ import annotations

from typing import Any

import pytest

from functions import integrations
from functions.accounts import Invitation, checked_account_id, invitation, new_account
from functions.catalog_input import product_from_json
from functions.errors import BadRequest
from functions.integrations.advice import warnings
from tests.catalog_support import edit_at, product_payload
from tests.support import ariba_integration, coupa_integration

STAMP = "2026-11-30T10:00:00+00:00"


@pytest.mark.parametrize("value", ["111122223333", " 111122223333 ", "000000000000"])
def test_a_12_digit_account_id_is_accepted(value: str) -> None:
    assert checked_account_id(value) == value.strip()


@pytest.mark.parametrize(
    "value",
    ["11112222333", "1111222233334", "1111-2222-333", "11112222333x", "١١١١٢٢٢٢٣٣٣٣", "", None,
     111122223333, "111122223333\n1"],
)  # fmt: skip
def test_anything_else_is_a_400_naming_the_field(value: Any) -> None:
    with pytest.raises(BadRequest) as refused:
        checked_account_id(value, "CustomerIdentifier")

    assert refused.value.field == "CustomerIdentifier"


def test_a_new_account_is_validated_whole() -> None:
    account = new_account(
        {"id": "111122223333", "name": " Initech ", "contact_email": "it@initech.example"}, STAMP
    )

    assert (account.id, account.name, account.status) == ("111122223333", "Initech", "active")
    with pytest.raises(BadRequest) as refused:
        new_account([], STAMP)
    assert "JSON object" in refused.value.message


def test_an_account_retry_is_told_from_a_different_account() -> None:
    first = new_account(
        {"id": "111122223333", "name": "Initech", "contact_email": "it@initech.example"}, STAMP
    )
    later = new_account(
        {"id": "111122223333", "name": "Initech", "contact_email": "it@initech.example"},
        "2026-12-01T00:00:00+00:00",
    )
    other = new_account(
        {"id": "111122223333", "name": "Initrode", "contact_email": "it@initech.example"}, STAMP
    )

    assert first.same_request(later), "the time of the retry does not matter"
    assert not first.same_request(other)


def test_an_invitation_folds_the_email_and_defaults_to_member() -> None:
    assert invitation({"email": "Ann@Initech.example"}) == Invitation(
        "ann@initech.example", "member"
    )
    assert invitation({"email": "bo@initech.example", "role": "admin"}).role == "admin"


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"email": "ann@initech.example", "role": "Admin"}, "role"),
     ({"email": "ann@initech", "role": "admin"}, "email"),
     ({"role": "admin"}, "email")],
)  # fmt: skip
def test_a_bad_invitation_names_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(BadRequest) as refused:
        invitation(payload)

    assert refused.value.field == field


def test_an_integration_account_id_is_checked_for_its_format() -> None:
    with pytest.raises(BadRequest) as refused:
        integrations.new_integration(coupa_integration(account_id="demo-account"))

    assert refused.value.field == "account_id"
    created, _ = integrations.new_integration(coupa_integration(account_id=" 111122223333"))
    assert created.account_id == "111122223333"


@pytest.mark.parametrize(
    ("domain", "identity", "warned"),
    [("NetworkID", "AN01000000001", False), ("NetworkId", "AN01000000001-T", False),
     ("networkid", "an01000000001-t", False), ("NetworkID", "AN0100000000", True),
     ("NetworkID", "globex", True), ("DUNS", "AN01000000001", True),
     ("NetworkID", "AN01000000001-X", True)],
)  # fmt: skip
def test_an_ariba_identity_not_an_anid_is_warned_about(
    domain: str, identity: str, warned: bool
) -> None:
    integration, _ = integrations.new_integration(
        ariba_integration(buyer_identity={"domain": domain, "identity": identity})
    )

    assert bool(warnings(integration)) is warned


def test_coupa_identities_are_never_warned_about() -> None:
    integration, _ = integrations.new_integration(coupa_integration())

    assert warnings(integration) == []


@pytest.mark.parametrize("sent", ["usd", "Usd", "USD"])
def test_an_offer_currency_is_accepted_in_any_case_and_kept_upper_case(sent: str) -> None:
    payload = product_payload()
    edit_at(payload, "offers[0].currency", sent)

    assert product_from_json(payload).offers[0].currency == "USD"
