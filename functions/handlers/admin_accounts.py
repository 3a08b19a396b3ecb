"""The admin API's buyer accounts (a Router included by `functions.handlers.admin_api`): the
operator creates an account and invites its first admin (docs/CONSOLE.md, "Accounts").

    POST   /admin/accounts                      {"id", "name", "contact_email"}: 201 with the
                                                account; 200 with the same one when the same
                                                content is sent again; 409 when the ID is taken
    GET    /admin/accounts?limit=&cursor=       a page of accounts and the next page's cursor
    GET    /admin/accounts/{id}                 one account
    POST   /admin/accounts/{id}/users           {"email", "role": "admin"|"member"}: 201, the
                                                invited user (Cognito emails the invitation)
    DELETE /admin/accounts/{id}/users/{username} 200, the removed user

Refusals are the JSON errors of the admin API's edge (400 naming the field, 404, 409)."""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from functions import accounts, store
from functions.clock import iso, now
from functions.config import settings
from functions.errors import BadRequest, Conflict, NotFound
from functions.handlers import json_edge
from functions.handlers.http import query_params
from functions.observability import logger
from functions.store.accounts import DynamoAccountStore
from functions.store.users import CognitoUserDirectory

router = Router()
MAX_PAGE = 100


@cache
def _accounts() -> DynamoAccountStore:
    store.bind(settings())  # as the admin API's own composition root does (idempotent)
    return DynamoAccountStore()


@cache
def _users() -> CognitoUserDirectory:
    config = settings()
    return CognitoUserDirectory(config.user_pool_id, config.region)


def _existing(account_id: str) -> accounts.Account:
    checked = accounts.checked_account_id(account_id, "id")
    found = _accounts().get(checked)
    if found is None:
        raise NotFound(f"No account {checked}: create it first with POST /admin/accounts.")
    return found


@router.post("/admin/accounts")
def create_account() -> Response:
    account = accounts.new_account(json_edge.json_body(cast(Any, router)), iso(now()))
    stored = _accounts().create(account)
    if stored.created:
        logger.info("account created", extra={"account_id": account.id})
    return json_edge.json_reply(
        {"account": stored.account.to_json()}, 201 if stored.created else 200
    )


@router.get("/admin/accounts")
def list_accounts() -> Response:
    params = query_params(cast(Any, router.current_event))
    raw_limit = params.get("limit", "50").strip()
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_PAGE:
        raise BadRequest(f"'limit' must be a number from 1 to {MAX_PAGE}.", field="limit")
    raw_cursor = params.get("cursor")
    cursor = accounts.checked_account_id(raw_cursor, "cursor") if raw_cursor else None
    page = _accounts().page(int(raw_limit), cursor)
    return json_edge.json_reply(
        {"accounts": [a.to_json() for a in page.accounts], "next_cursor": page.cursor}
    )


@router.get("/admin/accounts/<account_id>")
def get_account(account_id: str) -> Response:
    return json_edge.json_reply({"account": _existing(account_id).to_json()})


@router.post("/admin/accounts/<account_id>/users")
def invite_user(account_id: str) -> Response:
    account = _existing(account_id)
    if account.status != accounts.ACTIVE:
        raise Conflict(f"Account {account.id} is {account.status}: no user can be invited.")
    invitation = accounts.invitation(json_edge.json_body(cast(Any, router)))
    user = _users().invite(account.id, invitation)
    logger.info("user invited", extra={"account_id": account.id, "role": invitation.role})
    return json_edge.json_reply({"account_id": account.id, "user": user.to_json()}, 201)


@router.delete("/admin/accounts/<account_id>/users/<username>")
def remove_user(account_id: str, username: str) -> Response:
    account = _existing(account_id)
    user = _users().remove(account.id, username)
    logger.info("user removed", extra={"account_id": account.id})
    return json_edge.json_reply({"account_id": account.id, "removed": user.to_json()})
