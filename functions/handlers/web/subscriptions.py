"""The "Your subscriptions" pages: reached from a punchout session, or from the success email
through a signed, expiring link (the link is the credential)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from functions.clock import now
from functions.config import settings
from functions.handlers import html_edge
from functions.handlers.http import query_params
from functions.handlers.page_links import Links, event_of, links_of
from functions.handlers.web.pages import page, stores
from functions.sessions import PunchOutSession

router = Router()

_CURSOR = re.compile(r"^(\d{4}-\d\d-\d\dT[0-9:.+-]{8,32})~([A-Za-z0-9_-]{1,64})$")


@router.get("/subscriptions/<account_id>")
def linked_subscriptions(account_id: str) -> Response:
    """The page the success email links to: the signed, expiring link is the credential."""
    from functions.links import verify_subscriptions_link
    from functions.store.secrets import LinkSigningKey

    params = query_params(event_of(router))
    key = _link_key(LinkSigningKey)()
    if not verify_subscriptions_link(
        key, account_id, params.get("expires"), params.get("signature"), now()
    ):
        return _expired_link(links_of(event_of(router)).root)
    signed = {name: params.get(name, "") for name in ("expires", "signature")}
    return subscriptions_page(params, None, links_of(event_of(router)), account_id, keep=signed)


def _expired_link(root: str) -> Response:
    """The page of an expired or forged link: it offers the console's sign-in instead."""
    from functions.web.render import render

    body = render(
        "error.html",
        heading="This link has expired or is not valid",
        message="Links in our emails work for 30 days.",
        advice="Sign in to the marketplace console to see your subscriptions, or open the "
        "marketplace from your procurement system and choose Your subscriptions.",
        sign_in_url=f"{root}/console/sign-in",
    )
    return html_edge.html_reply(body, 403, frame_ancestors=html_edge.ANY_HOST)


@cache
def _link_key(provider: Callable[..., Any]) -> Callable[[], bytes]:
    key: Callable[[], bytes] = provider(settings())
    return key


def _cursor(params: dict[str, str]) -> Any:
    """`?after=` / `?before=` `<created_at>~<subscription id>`; anything else is page one."""
    from functions.store.subscriptions import SubscriptionsCursor

    for direction, name in (("next", "after"), ("previous", "before")):
        found = _CURSOR.match(params.get(name) or "")
        if found:
            return SubscriptionsCursor(direction, found.group(1), found.group(2))
    return None


class _DynamoSubscriptionPorts:
    """`storefront_subscriptions.SubscriptionPorts` on DynamoDB."""

    def __init__(self) -> None:
        self._subscriptions = stores().subscriptions

    def page_of_account(self, account_id: str, cursor: Any) -> Any:
        return self._subscriptions.page_of_account(account_id, cursor)

    def usage_for(self, subscription_ids: Any, period: str) -> Any:
        from functions.store.usage import usage_for

        return usage_for(subscription_ids, period)

    def ledgers(self, subscription_ids: Any) -> Any:
        from functions.store.budget_ledger import ledgers_for

        return ledgers_for(subscription_ids)


def account_listing(account_id: str, params: dict[str, str]) -> dict[str, Any]:
    """What a page listing an account's subscriptions shows ("Your subscriptions", the
    console's home): one page of them, newest first, their budgets, the Set up your account
    hand-offs, and the origins those forms post to (the page's CSP `form-action`). The caller
    adds `previous_page` / `next_page` from `listed`, `more_before` and `more_after`."""
    from functions.storefront_subscriptions import account_subscriptions

    moment = now()
    found = account_subscriptions(account_id, _cursor(params), _DynamoSubscriptionPorts(), moment)
    return {
        **_shown(account_id, found.subscriptions, found.budgets, moment),
        "more_before": found.more_before,
        "more_after": found.more_after,
    }


def subscription_listing(subscription: Any) -> dict[str, Any]:
    """What a page showing one of the account's subscriptions as "Your subscriptions" shows
    it needs (the console's subscription page): its budget and its Set up your account
    hand-off, in `account_listing`'s shape."""
    from functions.storefront_subscriptions import subscription_budgets

    moment = now()
    budgets = subscription_budgets([subscription], _DynamoSubscriptionPorts(), moment)
    return _shown(subscription.account_id, [subscription], budgets, moment)


def _shown(account_id: str, subscriptions: Any, budgets: Any, moment: Any) -> dict[str, Any]:
    from functions.handoff import form_origins, page_handoffs
    from functions.store.secrets import LinkSigningKey

    handoffs = page_handoffs(
        subscriptions,
        stores().products.fulfillment_urls,
        _link_key(LinkSigningKey),
        moment,
        allow_local_http=settings().fulfillment_local_http,
    )
    return {
        "account_id": account_id,
        "subscriptions": subscriptions,
        "budgets": budgets,
        "handoffs": handoffs,
        "form_targets": form_origins(handoffs),
    }


def subscriptions_page(
    params: dict[str, str],
    session: PunchOutSession | None,
    links: Links,
    account_id: str,
    keep: dict[str, str] | None = None,
) -> Response:
    """One page of the account's subscriptions, newest first, with previous/next links that
    keep `keep` (the signed link's parameters)."""
    listing = account_listing(account_id, params)
    more_before, more_after = listing.pop("more_before"), listing.pop("more_after")
    here = links.subscriptions() if session else f"{links.root}/subscriptions/{account_id}"

    def link(name: str, subscription: Any) -> str:
        kept = {**(keep or {}), name: f"{subscription.created_at}~{subscription.id}"}
        return f"{here}?{urlencode(kept)}"

    listed = listing["subscriptions"]
    return page(
        "subscriptions.html",
        session=session,
        links=links,
        handoff_in_new_tab=session is not None,
        previous_page=link("before", listed[0]) if listed and more_before else "",
        next_page=link("after", listed[-1]) if listed and more_after else "",
        **listing,
    )
