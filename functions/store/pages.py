"""What a storefront page reads: its session, product and request in one BatchGetItem."""

from __future__ import annotations

from pynamodb.models import Model

from functions.catalog import Product
from functions.sessions import PunchOutSession
from functions.store.batch import get_many
from functions.store.catalog import product_of
from functions.store.models import ProductRecord, RequestRecord, SessionRecord
from functions.store.requests import request_of
from functions.store.sessions import session_of
from functions.subscription_requests import SubscriptionRequest


def page_records(
    session_digest: str, product_id: str | None = None, request_id: str | None = None
) -> tuple[PunchOutSession | None, Product | None, SubscriptionRequest | None]:
    """A storefront page's session, product and request: one BatchGetItem."""
    wanted: list[tuple[type[Model], str]] = [(SessionRecord, session_digest)]
    if product_id:
        wanted.append((ProductRecord, product_id))
    if request_id:
        wanted.append((RequestRecord, request_id))
    found = iter(get_many(*wanted))
    session_record = next(found)
    product_record = next(found) if product_id else None
    request_record = next(found) if request_id else None
    return (
        session_of(session_record) if session_record else None,
        product_of(product_record) if product_record else None,
        request_of(request_record) if request_record else None,
    )
