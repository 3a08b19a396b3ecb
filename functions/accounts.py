"""Buyer accounts: a buyer organization, identified by the marketplace account ID its
integrations and subscriptions carry, and the people invited to sign in to it.

Plain Python: the account ID's format (checked wherever an ID comes from outside), validation
of the operator's input for a new account and an invitation, and what an account looks like in
the admin API. Stored by `functions.store.accounts`; users live in Cognito
(`functions.store.users`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from functions import fields
from functions.errors import BadRequest, Conflict

ACCOUNT_ID = re.compile(r"^[0-9]{12}\Z")
"""A marketplace account ID is the buyer's 12-digit AWS account ID: AWS Marketplace's
CustomerAWSAccountId, which subscriptions, metering and the demo data already carry."""
ROLES = ("admin", "member")
Role = Literal["admin", "member"]
ACTIVE = "active"

_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")
_ACCOUNT_FIELDS = ("id", "name", "contact_email")
_INVITATION_FIELDS = ("email", "role")


def checked_account_id(value: Any, field: str = "account_id") -> str:
    """`value` as an account ID, or a 400 naming `field`. Surrounding blanks are forgiven (a
    pasted ID); anything but 12 digits is not, since the ID keys who sees which subscriptions."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"'{field}' is required: the buyer's 12-digit account ID.", field=field)
    account_id = value.strip()
    if not ACCOUNT_ID.match(account_id):
        raise BadRequest(f"'{field}' must be a 12-digit account ID like 111122223333.", field=field)
    return account_id


def _email(payload: Mapping[str, Any], name: str) -> str:
    value = fields.text(payload, name, required=True, limit=254)
    if not _EMAIL.match(value):
        raise BadRequest(f"'{name}' is not an email address.", field=name)
    return value


@dataclass(frozen=True)
class Account:
    """A buyer organization. `status` is `active` for now; it exists so an operator can later
    suspend an account without deleting what it owns."""

    id: str
    name: str
    contact_email: str
    created_at: str
    status: str = ACTIVE

    def same_request(self, other: Account) -> bool:
        """Whether `other` asks for this account as it is: creating it again is then a retry."""
        return (self.id, self.name, self.contact_email) == (
            other.id,
            other.name,
            other.contact_email,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "contact_email": self.contact_email,
            "created_at": self.created_at,
            "status": self.status,
        }


def new_account(payload: Any, created_at: str) -> Account:
    """A validated account from the operator's `POST /admin/accounts` body."""
    if not isinstance(payload, Mapping):
        raise BadRequest(
            'The body must be a JSON object like {"id": "111122223333", "name": "Initech", '
            '"contact_email": "it@initech.example"}.'
        )
    fields.only(payload, _ACCOUNT_FIELDS)
    return Account(
        id=checked_account_id(payload.get("id"), "id"),
        name=fields.text(payload, "name", required=True, limit=200),
        contact_email=_email(payload, "contact_email"),
        created_at=created_at,
    )


@dataclass(frozen=True)
class Invitation:
    """Who to invite into an account, and as what: admins configure integrations and invite
    colleagues; members see the account's subscriptions."""

    email: str
    role: Role


def invitation(payload: Any) -> Invitation:
    if not isinstance(payload, Mapping):
        raise BadRequest(
            'The body must be a JSON object like {"email": "ann@initech.example", "role": "admin"}.'
        )
    fields.only(payload, _INVITATION_FIELDS)
    email = _email(payload, "email").lower()  # Cognito compares email usernames as given
    return Invitation(email, role_of(payload.get("role", "member")))


@dataclass(frozen=True)
class AccountUser:
    """A user of an account as the admin API shows it (never a password)."""

    username: str
    email: str
    role: str
    status: str  # Cognito's: FORCE_CHANGE_PASSWORD until the invitation is used, CONFIRMED...
    enabled: bool = True
    """False when the operator disabled the user in Cognito: it cannot sign in."""

    def to_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "email": self.email,
            "role": self.role,
            "status": self.status,
        }


def role_of(value: Any) -> Role:
    """A role chosen in a form or a body: `admin` or `member`, else a 400 naming `role`."""
    if value not in ROLES:
        raise BadRequest("'role' must be 'admin' or 'member'.", field="role")
    return value


def check_role_change(target: AccountUser, role: Role, admins: list[AccountUser]) -> None:
    """An account keeps at least one admin who can sign in: the last one cannot be made a
    member (by themself or anyone), or nobody could invite or remove anyone but the operator.
    `admins` are the account's enabled admins."""
    if target.role == "admin" and role != "admin":
        others = [a for a in admins if a.username != target.username]
        if not others:
            raise Conflict(
                f"{target.email} is the account's last admin: make someone else an admin first.",
                field="role",
            )


def check_removal(actor_username: str, target: AccountUser, admins: list[AccountUser]) -> None:
    """Nobody removes themself (they would lose the page they are on mid-sentence; another
    admin, or the operator, does it), and the last admin stays."""
    if target.username == actor_username:
        raise Conflict("You cannot remove yourself: ask another admin of the account.")
    check_role_change(target, "member", admins)
