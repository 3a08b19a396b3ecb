"""Who is calling a seller API (metering, ResolveCustomer, GetEntitlements): deployed, API
Gateway has checked IAM (SigV4) and the caller's account is read from the request context;
locally a bearer token stands in: the admin token, or a seller's token from SELLER_TOKENS."""

from __future__ import annotations

from typing import Any

from functions import fields, metering
from functions.config import settings
from functions.errors import Forbidden, Unauthenticated


def seller_caller(event: Any) -> metering.Caller:
    """The caller of the API Gateway `event`, or Unauthenticated / Forbidden."""
    config = settings()
    if config.admin_auth == "iam":
        context = event.request_context
        return metering.caller_from_iam(context.identity.account_id, context.account_id)
    token = fields.bearer_token(event.headers.get("authorization"))
    if token is None:
        raise Unauthenticated("Send 'Authorization: Bearer <seller or admin token>'.")
    caller = metering.caller_from_token(token, config.admin_token, config.seller_tokens)
    if caller is None:
        raise Forbidden("The token is not accepted.")
    return caller
