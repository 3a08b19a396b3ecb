"""An account's users in the Cognito user pool: invited with AdminCreateUser (Cognito sends the
invitation email with a temporary password) and added to the account's group (listed with
ListUsersInGroup: ListUsers cannot filter on custom attributes), re-roled with
AdminUpdateUserAttributes, signed out everywhere and removed with AdminDeleteUser. The account
and role travel as the user's `custom:account_id` and `custom:role` attributes, which the
console reads from the verified token. The client is created on first use (cold path)."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from functools import cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.accounts import AccountUser, Invitation, Role
from functions.console_users import account_group
from functions.errors import Conflict, NotFound, Transient

ACCOUNT_ATTRIBUTE = "custom:account_id"
ROLE_ATTRIBUTE = "custom:role"


@cache
def _client(region: str) -> Any:
    import boto3

    return boto3.client("cognito-idp", region_name=region)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code"))


def _user(
    username: str, attributes: list[dict[str, str]], status: str, enabled: bool = True
) -> AccountUser:
    values = {a["Name"]: a["Value"] for a in attributes}
    return AccountUser(
        username, values.get("email", ""), values.get(ROLE_ATTRIBUTE, ""), status, enabled
    )


MAX_USERNAME = 128
"""Cognito's own limit: a longer name is no user of ours (and never reaches Cognito)."""
MAX_PAGE = 60
"""ListUsersInGroup's largest page."""


@dataclass(frozen=True)
class UsersPage:
    users: list[AccountUser]
    next_token: str | None
    """Cognito's opaque NextToken: never put in a URL as it is (docs/CONSOLE.md, "Members")."""


class CognitoUserDirectory:
    def __init__(self, user_pool_id: str | None, region: str) -> None:
        self._pool = user_pool_id
        self._region = region

    def _pool_id(self) -> str:
        if not self._pool:
            raise Transient("The user pool is not configured (CONSOLE_USER_POOL_ID); users "
                            "cannot be invited until it is.")  # fmt: skip
        return self._pool

    def _account_of(self, username: str) -> tuple[str | None, AccountUser] | None:
        try:
            found = _client(self._region).admin_get_user(
                UserPoolId=self._pool_id(), Username=username
            )
        except ClientError as exc:
            if _code(exc) == "UserNotFoundException":
                return None
            raise
        user = _user(
            found["Username"],
            found.get("UserAttributes", []),
            found["UserStatus"],
            bool(found.get("Enabled", True)),
        )
        values = {a["Name"]: a["Value"] for a in found.get("UserAttributes", [])}
        return values.get(ACCOUNT_ATTRIBUTE), user

    def invite(self, account_id: str, invitation: Invitation) -> AccountUser:
        """Create the user in the pool, which emails the invitation; a user with that email
        already in the pool is a 409 saying whether it is in this account or another."""
        try:
            created = _client(self._region).admin_create_user(
                UserPoolId=self._pool_id(),
                Username=invitation.email,
                UserAttributes=[
                    {"Name": "email", "Value": invitation.email},
                    {"Name": "email_verified", "Value": "true"},  # the invitation proves it
                    {"Name": ACCOUNT_ATTRIBUTE, "Value": account_id},
                    {"Name": ROLE_ATTRIBUTE, "Value": invitation.role},
                ],
                DesiredDeliveryMediums=["EMAIL"],
            )["User"]
        except ClientError as exc:
            if _code(exc) != "UsernameExistsException":
                raise _transient(exc, "inviting the user") from exc
            raise self._duplicate(account_id, invitation.email) from exc
        except BotoCoreError as exc:
            raise _transient(exc, "inviting the user") from exc
        self._join_group(account_id, created["Username"])
        return _user(created["Username"], created.get("Attributes", []), created["UserStatus"])

    def _join_group(self, account_id: str, username: str) -> None:
        """Add a new user to the account's group (created with the account's first user). If
        that fails the user is deleted again: a user nobody can list (nor remove from the
        console) is a half-written invitation; the caller retries the whole invitation."""
        client, group = _client(self._region), account_group(account_id)
        try:
            try:
                client.create_group(UserPoolId=self._pool_id(), GroupName=group,
                                    Description=f"The users of account {account_id}")  # fmt: skip
            except ClientError as exc:
                if _code(exc) != "GroupExistsException":
                    raise
            client.admin_add_user_to_group(
                UserPoolId=self._pool_id(), Username=username, GroupName=group
            )
        except (ClientError, BotoCoreError) as exc:
            # The invitation is reported failed either way; a leftover the operator can delete
            with suppress(ClientError, BotoCoreError):
                client.admin_delete_user(UserPoolId=self._pool_id(), Username=username)
            raise _transient(exc, "inviting the user") from exc

    def page(self, account_id: str, limit: int, next_token: str | None = None) -> UsersPage:
        """One page of the account's users (Cognito's order), and the token of the next."""
        request: dict[str, Any] = {
            "UserPoolId": self._pool_id(),
            "GroupName": account_group(account_id),
            "Limit": max(1, min(limit, MAX_PAGE)),
        }
        if next_token:
            request["NextToken"] = next_token
        try:
            answer = _client(self._region).list_users_in_group(**request)
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":  # nobody invited yet: no group
                return UsersPage([], None)
            raise _transient(exc, "listing the users") from exc
        except BotoCoreError as exc:
            raise _transient(exc, "listing the users") from exc
        users = [
            _user(u["Username"], u.get("Attributes", []), u["UserStatus"], bool(u.get("Enabled")))
            for u in answer.get("Users", [])
        ]
        return UsersPage(users, answer.get("NextToken") or None)

    def admins(self, account_id: str) -> list[AccountUser]:
        """The account's enabled admins, every page read (the last-admin rule counts them)."""
        found: list[AccountUser] = []
        token: str | None = None
        while True:
            listed = self.page(account_id, MAX_PAGE, token)
            found += [u for u in listed.users if u.role == "admin" and u.enabled]
            if not listed.next_token:
                return found
            token = listed.next_token

    def user(self, account_id: str, username: str) -> AccountUser | None:
        """The user `username` if it belongs to `account_id`; None for an unknown user, a
        malformed name and another account's user alike (the caller answers 404 to all)."""
        if not 0 < len(username) <= MAX_USERNAME:
            return None
        try:
            found = self._account_of(username)
        except ClientError as exc:
            if _code(exc) == "InvalidParameterException":
                return None
            raise _transient(exc, "reading the user") from exc
        except BotoCoreError as exc:
            raise _transient(exc, "reading the user") from exc
        if found is None or found[0] != account_id:
            return None
        return found[1]

    def set_role(self, account_id: str, username: str, role: Role) -> AccountUser:
        """Give an account's user another role; their next ID token carries it (a token
        already issued keeps the old role until it expires, docs/CONSOLE.md)."""
        user = self.user(account_id, username)
        if user is None:
            raise NotFound(f"No user {username!r} in account {account_id}.")
        try:
            _client(self._region).admin_update_user_attributes(
                UserPoolId=self._pool_id(),
                Username=user.username,
                UserAttributes=[{"Name": ROLE_ATTRIBUTE, "Value": role}],
            )
        except (ClientError, BotoCoreError) as exc:
            raise _transient(exc, "changing the role") from exc
        return AccountUser(user.username, user.email, role, user.status, user.enabled)

    def _duplicate(self, account_id: str, email: str) -> Conflict:
        try:
            found = self._account_of(email)
        except (ClientError, BotoCoreError):
            found = None
        if found is not None and found[0] == account_id:
            return Conflict(
                f"{email} is already a user of account {account_id} (role "
                f"{found[1].role or 'unknown'}): remove the user first to invite them again.",
                field="email",
            )
        return Conflict(
            f"{email} already has a sign-in for another account; one email signs in to one "
            "account.",
            field="email",
        )

    def remove(self, account_id: str, username: str) -> AccountUser:
        """Sign the user out everywhere (their refresh tokens stop renewing ID tokens), then
        delete them, if they belong to `account_id`; another account's user is a 404, as an
        unknown one."""
        user = self.user(account_id, username)
        if user is None:
            raise NotFound(f"No user {username!r} in account {account_id}.")
        client = _client(self._region)
        try:
            # By email (the pool's sign-in alias, which Cognito accepts as Username): moto's
            # Cognito matches sessions by the name signed in with, which is the email
            client.admin_user_global_sign_out(
                UserPoolId=self._pool_id(), Username=user.email or user.username
            )
            client.admin_delete_user(UserPoolId=self._pool_id(), Username=user.username)
        except ClientError as exc:
            if _code(exc) == "UserNotFoundException":  # removed meanwhile: what was asked
                return user
            raise _transient(exc, "removing the user") from exc
        except BotoCoreError as exc:
            raise _transient(exc, "removing the user") from exc
        return user


def _transient(exc: Exception, doing: str) -> Transient:
    return Transient(f"Temporary failure of the user pool while {doing}; please retry.",
                     detail=str(exc))  # fmt: skip
