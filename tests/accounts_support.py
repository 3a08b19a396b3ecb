"""The buyers' user pool for tests: moto's Cognito, created with the custom attributes the
admin API writes, and bound as CONSOLE_USER_POOL_ID for the admin function. Shared helpers only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3


@contextmanager
def buyer_user_pool(monkeypatch: Any) -> Iterator[tuple[Any, str]]:
    """A fresh pool (moto, inside the session's AWS mock) and its id, bound for the admin API;
    deleted afterwards. Yields (cognito-idp client, pool id)."""
    from functions.config import settings
    from functions.handlers import admin_accounts

    cognito = boto3.client("cognito-idp", region_name="us-east-1")
    pool_id = cognito.create_user_pool(
        PoolName="buyers",
        Schema=[
            {"Name": "account_id", "AttributeDataType": "String", "Mutable": True},
            {"Name": "role", "AttributeDataType": "String", "Mutable": True},
        ],
    )["UserPool"]["Id"]
    monkeypatch.setenv("CONSOLE_USER_POOL_ID", pool_id)
    settings.cache_clear()
    admin_accounts._users.cache_clear()
    try:
        yield cognito, pool_id
    finally:
        cognito.delete_user_pool(UserPoolId=pool_id)
        monkeypatch.delenv("CONSOLE_USER_POOL_ID")
        settings.cache_clear()
        admin_accounts._users.cache_clear()


def attributes(cognito: Any, pool_id: str, username: str) -> dict[str, str]:
    """A pool user's attributes by name."""
    user = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}
