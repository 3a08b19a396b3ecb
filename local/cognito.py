"""The console's user pool, locally: moto's Cognito with the deployed pool's settings (where
moto supports them: functions/console_users.py), its public key served by the local stack at
JWKS_PATH (moto signs every pool's tokens with one key it ships,
moto/cognitoidp/resources/jwks-public.json), and the demo buyer admin the seed invites."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from functions import console_users as spec

JWKS_PATH = "/_local/cognito/.well-known/jwks.json"
DEMO_ADMIN_EMAIL = "admin@initech.example"
DEMO_ADMIN_PASSWORD = "Demo-Console-2026!"
DEMO_ACCOUNT_ID = "111122223333"
DEMO_MEMBER_EMAIL = "member@initech.example"
"""A member of the demo account (the admin's password): sees subscriptions and invoices only."""
"""The demo Coupa integration's account (local/seed.py): its subscriptions show in the console."""


def public_jwks() -> bytes:
    """moto's public JWKS, the key its Cognito signs tokens with (kid "dummy")."""
    import json

    from moto.utilities.utils import load_resource

    return json.dumps(load_resource("cognitoidp/resources/jwks-public.json")).encode()


def create_console_pool(cognito: Any, console_url: str) -> dict[str, str]:
    """The pool and the console's app client; the environment the web function reads."""
    pool = cognito.create_user_pool(
        PoolName="local-console-users",
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        Schema=[
            {"Name": spec.ACCOUNT_ID_ATTRIBUTE, "AttributeDataType": "String", "Mutable": False},
            {"Name": spec.ROLE_ATTRIBUTE, "AttributeDataType": "String", "Mutable": True},
        ],
        Policies={
            "PasswordPolicy": {
                "MinimumLength": spec.PASSWORD_MIN_LENGTH,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
                "TemporaryPasswordValidityDays": spec.TEMPORARY_PASSWORD_DAYS,
            }
        },
        MfaConfiguration="OPTIONAL",
        AccountRecoverySetting={"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]},
        AdminCreateUserConfig={
            "AllowAdminCreateUserOnly": True,
            "InviteMessageTemplate": {
                "EmailSubject": spec.INVITATION_SUBJECT,
                "EmailMessage": spec.INVITATION_BODY.format(console_url=console_url),
            },
        },
        DeletionProtection="ACTIVE",
    )["UserPool"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="console",
        GenerateSecret=False,
        ExplicitAuthFlows=list(spec.AUTH_FLOWS),
        ReadAttributes=list(spec.READ_ATTRIBUTES),
        WriteAttributes=list(spec.WRITE_ATTRIBUTES),
        IdTokenValidity=spec.ID_TOKEN_MINUTES,
        AccessTokenValidity=spec.ACCESS_TOKEN_MINUTES,
        RefreshTokenValidity=spec.REFRESH_TOKEN_DAYS,
        TokenValidityUnits={"IdToken": "minutes", "AccessToken": "minutes", "RefreshToken": "days"},
        PreventUserExistenceErrors="ENABLED",
        EnableTokenRevocation=True,
    )["UserPoolClient"]
    return {spec.ENV_USER_POOL_ID: pool["Id"], spec.ENV_CLIENT_ID: client["ClientId"]}


def invite(
    cognito: Any,
    pool_id: str,
    email: str,
    account_id: str,
    role: str,
    *,
    temporary_password: str | None = None,
    password: str | None = None,
) -> str:
    """A user as the operator's invitation makes one (AdminCreateUser; the mail suppressed
    locally); with `password`, made permanent at once (AdminSetUserPassword), as the demo
    admin is. The user's Cognito username (its `sub`)."""
    created = cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=email,
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": f"custom:{spec.ACCOUNT_ID_ATTRIBUTE}", "Value": account_id},
            {"Name": f"custom:{spec.ROLE_ATTRIBUTE}", "Value": role},
        ],
        MessageAction="SUPPRESS",
        **({"TemporaryPassword": temporary_password} if temporary_password else {}),
    )
    group = spec.account_group(account_id)  # as functions/store/users.py invites, listed by it
    with suppress(cognito.exceptions.GroupExistsException):
        cognito.create_group(UserPoolId=pool_id, GroupName=group)
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)
    if password:
        cognito.admin_set_user_password(
            UserPoolId=pool_id, Username=email, Password=password, Permanent=True
        )
    return str(created["User"]["Username"])


def seed_demo_admin(cognito: Any, pool_id: str) -> dict[str, str]:
    """The demo buyer admin of the demo Coupa account, and a member of it, for the banner."""
    invite(
        cognito, pool_id, DEMO_ADMIN_EMAIL, DEMO_ACCOUNT_ID, "admin", password=DEMO_ADMIN_PASSWORD
    )
    invite(
        cognito, pool_id, DEMO_MEMBER_EMAIL, DEMO_ACCOUNT_ID, "member", password=DEMO_ADMIN_PASSWORD
    )
    return {
        "email": DEMO_ADMIN_EMAIL,
        "password": DEMO_ADMIN_PASSWORD,
        "account_id": DEMO_ACCOUNT_ID,
        "member_email": DEMO_MEMBER_EMAIL,
    }


INVITATION_SENDER = "no-reply@verificationemail.com"
"""Cognito's own sender of invitation mail (the pool uses Cognito's email, not SES)."""
_INVITATION_CONTEXT = "local_cognito_invitation"


def install_invitation_mail(console_url: str, region: str = "us-east-1") -> None:
    """Locally, an invitation arrives as it would from Cognito: moto sends no mail and, when
    the caller gives none, sets no temporary password, so the invitee could never sign in.
    A botocore hook gives AdminCreateUser a temporary password (as Cognito generates one) and,
    once the user exists, puts Cognito's invitation mail in the local mailbox
    (/_local/mailbox). Only `make run` installs it; tests set passwords themselves."""
    import secrets

    import boto3
    from botocore import handlers
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import Message, ses_backends

    def give_password(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if params.get("MessageAction") == "SUPPRESS" or params.get("TemporaryPassword"):
            return
        password = f"{secrets.token_urlsafe(9)}-Aa7"  # lower, upper, digit, symbol; 15 chars
        params["TemporaryPassword"] = password
        context[_INVITATION_CONTEXT] = (str(params.get("Username", "")), password)

    def mail_invitation(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        invited = context.get(_INVITATION_CONTEXT)
        if invited is None or "User" not in parsed:
            return
        email, password = invited
        body = (
            spec.INVITATION_BODY.format(console_url=console_url)
            .replace("{username}", email)
            .replace("{####}", password)
        )
        mail = Message(secrets.token_hex(16), INVITATION_SENDER, spec.INVITATION_SUBJECT, body,
                       {"ToAddresses": [email]})  # fmt: skip
        ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages.append(mail)

    for event, hook in (
        ("before-parameter-build.cognito-idp.AdminCreateUser", give_password),
        ("after-call.cognito-idp.AdminCreateUser", mail_invitation),
    ):
        handlers.BUILTIN_HANDLERS.append((event, hook))
        if boto3.DEFAULT_SESSION is not None:
            boto3.DEFAULT_SESSION.events.register(event, hook, unique_id=f"local-cognito-{event}")
