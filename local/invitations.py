"""Local only: the invitations Cognito would mail, at /_local/invitations.json. Deployed,
AdminCreateUser mails each invited user a temporary password; moto's Cognito sends nothing, so
the local stack shows what the mail would carry (email, temporary password, account, role) for
the users who have not signed in yet, read from moto's own pool. moto makes no temporary
password when the caller gives none (the admin API gives none: Cognito makes it), so one is
made here, once, as Cognito would. Never deployed."""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

from moto.cognitoidp.models import cognitoidp_backends
from moto.core import DEFAULT_ACCOUNT_ID

from functions import console_users as spec

PATH = "/_local/invitations.json"


def pending(pool_id: str, region: str) -> list[dict[str, Any]]:
    """Users still to choose their password (FORCE_CHANGE_PASSWORD), oldest first."""
    pool = cognitoidp_backends[DEFAULT_ACCOUNT_ID][region].user_pools.get(pool_id)
    if pool is None:
        return []
    found = []
    for user in sorted(pool.users.values(), key=lambda u: u.create_date):
        if user.status != "FORCE_CHANGE_PASSWORD":
            continue
        if user.password is None:
            user.password = _temporary_password()
        attributes = user.attribute_lookup
        found.append({
            "email": attributes.get("email", user.username),
            "temporary_password": user.password,
            "account_id": attributes.get(f"custom:{spec.ACCOUNT_ID_ATTRIBUTE}", ""),
            "role": attributes.get(f"custom:{spec.ROLE_ATTRIBUTE}", ""),
        })  # fmt: skip
    return found


def _temporary_password() -> str:
    """Cognito's kind: meets the pool's policy (12+ characters, cases, digit, symbol)."""
    return f"Tmp-{secrets.token_urlsafe(12)}-7a!"


def page() -> tuple[int, str, str]:
    region = os.environ.get("AWS_REGION", "us-east-1")
    found = pending(os.environ.get("CONSOLE_USER_POOL_ID", ""), region)
    return 200, "application/json", json.dumps({"invitations": found})
