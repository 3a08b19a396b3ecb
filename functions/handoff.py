"""The buyer's hand-off to the seller (issue 14, docs/FULFILLMENT.md "The hand-off"): which
subscriptions show **Set up your account**, the form that posts a fresh registration token to
the product's `fulfillment_url`, and what a fulfillment URL may be.

Plain Python: the page's handler reads the products' URLs (one BatchGetItem) and the
link-signing key, and passes them in."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from functions import registration
from functions.urls import BadUrl, parse_web_url

if TYPE_CHECKING:  # the admin API and the catalog read the URL rule only (cold start)
    from functions.subscriptions import Subscription

MAX_FULFILLMENT_URL_CHARS = 2048
LOCAL_HTTP_HOSTS = ("127.0.0.1", "localhost", "::1")
"""Plain http may reach these only, and only where FULFILLMENT_LOCAL_HTTP=1 (local stack)."""


def fulfillment_url_problem(url: str, *, allow_local_http: bool) -> str | None:
    """Why `url` cannot be a seller's registration page, or None. https with a real host, no
    credentials, no spaces or control characters; plain http only to loopback locally. Checked
    on input (the admin API) and again before a page shows the form."""
    try:
        checked = parse_web_url(url, ("https", "http"), max_chars=MAX_FULFILLMENT_URL_CHARS)
    except BadUrl as problem:
        return str(problem).replace(" or http ", " ")
    if checked.scheme == "https":
        return None
    if allow_local_http and checked.host.strip("[]") in LOCAL_HTTP_HOSTS:
        return None
    return "must be an absolute https URL"


@dataclass(frozen=True)
class Handoff:
    """**Set up your account** for one subscription: a form posting `field` = `token` to
    `url`; `origin` goes into the page's CSP form-action."""

    subscription_id: str
    url: str
    origin: str
    token: str
    test: bool
    field: str = registration.TOKEN_FIELD


def handoffs(
    subscriptions: Iterable[Subscription],
    fulfillment_urls: Mapping[str, str],
    link_key: bytes,
    moment: datetime,
    *,
    allow_local_http: bool = False,
) -> dict[str, Handoff]:
    """The hand-off of each active subscription whose product has a (still valid) fulfillment
    URL, by subscription id, each with a freshly signed token (test-marked for a test one).
    `fulfillment_urls`: product id → the product's current URL."""
    found: dict[str, Handoff] = {}
    for subscription in subscriptions:
        url = fulfillment_urls.get(subscription.product_id, "")
        if not shows_handoff(subscription) or not url:
            continue
        if fulfillment_url_problem(url, allow_local_http=allow_local_http) is not None:
            continue
        origin = parse_web_url(url, ("https", "http"), max_chars=MAX_FULFILLMENT_URL_CHARS).origin
        token = registration.issue(
            link_key,
            subscription_id=subscription.id,
            account_id=subscription.account_id,
            product_id=subscription.product_id,
            test=subscription.test,
            now=moment,
        )
        found[subscription.id] = Handoff(subscription.id, url, origin, token, subscription.test)
    return found


def shows_handoff(subscription: Subscription) -> bool:
    """Only an active subscription is handed over (a test one too, its token marked test):
    not one waiting for its purchase order, cancelled or withdrawn."""
    from functions.subscriptions import ACTIVE

    return subscription.state == ACTIVE


def products_to_read(subscriptions: Iterable[Subscription]) -> list[str]:
    """The products whose fulfillment URL the page needs: those of active subscriptions, once."""
    return list(dict.fromkeys(s.product_id for s in subscriptions if shows_handoff(s)))


def form_origins(found: Mapping[str, Handoff]) -> tuple[str, ...]:
    """Exactly the origins the page's forms post to, for its CSP form-action."""
    return tuple(sorted({h.origin for h in found.values()}))


def page_handoffs(
    subscriptions: Iterable[Subscription],
    fulfillment_urls_of: Callable[[list[str]], Mapping[str, str]],
    link_key: Callable[[], bytes],
    moment: datetime,
    *,
    allow_local_http: bool = False,
) -> dict[str, Handoff]:
    """The hand-offs of a page of subscriptions: the products of its active ones read at once
    (`fulfillment_urls_of`: one BatchGetItem), nothing read and no key fetched when none is
    active or none of their products has a URL."""
    listed = list(subscriptions)
    product_ids = products_to_read(listed)
    urls = {k: v for k, v in fulfillment_urls_of(product_ids).items() if v} if product_ids else {}
    if not urls:
        return {}
    return handoffs(listed, urls, link_key(), moment, allow_local_http=allow_local_http)
