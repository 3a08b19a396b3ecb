"""The console's user pool as both sides build it: CDK (infra/console.py) and the local stack's
moto pool (local/cognito.py) read these, so the pool the tests sign in to is the deployed one
(tests/infra/test_console_auth.py checks the template against them)."""

from __future__ import annotations

ENV_USER_POOL_ID = "CONSOLE_USER_POOL_ID"
ENV_CLIENT_ID = "CONSOLE_CLIENT_ID"
"""What the web function reads (functions/console_auth.py)."""
PASSWORD_MIN_LENGTH = 12
"""With upper and lower case letters, digits and symbols all required."""
TEMPORARY_PASSWORD_DAYS = 7
"""How long an invitation's temporary password works."""
ACCOUNT_ID_ATTRIBUTE = "account_id"
"""`custom:account_id`: the buyer account (the `account_id` integrations and subscriptions
carry). Immutable: a user never moves to another company."""
ROLE_ATTRIBUTE = "role"
"""`custom:role`: `admin` or `member`; changed by account admins through the server (admin
API), never by the user: the app client may read both attributes but write neither."""
READ_ATTRIBUTES = (
    "email",
    "email_verified",
    f"custom:{ACCOUNT_ID_ATTRIBUTE}",
    f"custom:{ROLE_ATTRIBUTE}",
)
WRITE_ATTRIBUTES = ("email",)
AUTH_FLOWS = ("ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
"""The console signs in server-side with USER_PASSWORD_AUTH (the password travels over TLS to
our function, then to Cognito; never stored or logged); SRP stays allowed for a future
browser-side or CLI client."""
ACCOUNT_GROUP_PREFIX = "account-"
"""Each account's users are also members of the pool group `account-<account id>`: Cognito's
ListUsers cannot filter on custom attributes, ListUsersInGroup lists one account's users a page
at a time (docs/CONSOLE.md, "Members")."""


def account_group(account_id: str) -> str:
    """The pool group holding `account_id`'s users."""
    return f"{ACCOUNT_GROUP_PREFIX}{account_id}"


ID_TOKEN_MINUTES = 60
ACCESS_TOKEN_MINUTES = 60
REFRESH_TOKEN_DAYS = 30
INVITATION_SUBJECT = "Your invitation to the Software Marketplace console"
INVITATION_BODY = (
    "You are invited to your company's account on the Software Marketplace. "
    "Sign in at {console_url} with your email address {{username}} and the temporary "
    "password {{####}} (valid for 7 days); you will then choose your own password."
)
"""Cognito's invitation message: `{username}` and `{####}` are Cognito's placeholders."""
