"""An account's users in the Cognito user pool: invited with AdminCreateUser (Cognito sends the
invitation email with a temporary password), removed with AdminDeleteUser. The account and role
travel as the user's `custom:account_id` and `custom:role` attributes, which the console reads
from the verified token. The client is created on first use (cold path)."""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.accounts import AccountUser, Invitation
from functions.errors import Conflict, NotFound, Transient

ACCOUNT_ATTRIBUTE = "custom:account_id"
ROLE_ATTRIBUTE = "custom:role"


@cache
def _client(region: str) -> Any:
    import boto3

    return boto3.client("cognito-idp", region_name=region)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code"))


def _user(username: str, attributes: list[dict[str, str]], status: str) -> AccountUser:
    values = {a["Name"]: a["Value"] for a in attributes}
    return AccountUser(username, values.get("email", ""), values.get(ROLE_ATTRIBUTE, ""), status)


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
        user = _user(found["Username"], found.get("UserAttributes", []), found["UserStatus"])
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
        return _user(created["Username"], created.get("Attributes", []), created["UserStatus"])

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
        """Delete the user if it belongs to `account_id`; another account's user is a 404, as
        an unknown one (the operator named the account in the path)."""
        try:
            found = self._account_of(username) if 0 < len(username) <= 128 else None
            if found is None or found[0] != account_id:
                raise NotFound(f"No user {username!r} in account {account_id}.")
            _client(self._region).admin_delete_user(
                UserPoolId=self._pool_id(), Username=found[1].username
            )
        except ClientError as exc:
            raise _transient(exc, "removing the user") from exc
        except BotoCoreError as exc:
            raise _transient(exc, "removing the user") from exc
        return found[1]


def _transient(exc: Exception, doing: str) -> Transient:
    return Transient(f"Temporary failure of the user pool while {doing}; please retry.",
                     detail=str(exc))  # fmt: skip
