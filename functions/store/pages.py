"""What a storefront page reads: its session, its integration, product and request in one
BatchGetItem."""

from __future__ import annotations

from pynamodb.models import Model

from functions.catalog import Product
from functions.sessions import IntegrationDisabled, PunchOutSession
from functions.store.batch import get_many
from functions.store.catalog import product_of
from functions.store.models import (
    INTEGRATION_PREFIX,
    IntegrationRecord,
    ProductRecord,
    RequestRecord,
    SessionRecord,
)
from functions.store.requests import request_of
from functions.store.sessions import session_of
from functions.subscription_requests import SubscriptionRequest


def page_records(
    session_digest: str,
    product_id: str | None = None,
    request_id: str | None = None,
    integration_id: str | None = None,
) -> tuple[PunchOutSession | None, Product | None, SubscriptionRequest | None]:
    """A storefront page's session, product and request: one BatchGetItem, which also reads
    the integration named by the session's token (`integration_id`). Raises
    IntegrationDisabled when the session's integration is disabled or gone. A token without
    an integration (issued before tokens named one) costs one more read."""
    wanted: list[tuple[type[Model], str]] = [(SessionRecord, session_digest)]
    if integration_id:
        wanted.append((IntegrationRecord, INTEGRATION_PREFIX + integration_id))
    if product_id:
        wanted.append((ProductRecord, product_id))
    if request_id:
        wanted.append((RequestRecord, request_id))
    found = iter(get_many(*wanted))
    session_record = next(found)
    integration_record = next(found) if integration_id else None
    product_record = next(found) if product_id else None
    request_record = next(found) if request_id else None
    session = session_of(session_record) if session_record else None
    if session is not None:
        if session.integration_id != integration_id:
            integration_record = _integration(session.integration_id)
        if integration_record is None or not integration_record.enabled:
            raise IntegrationDisabled(session.integration_name, session)
    return (
        session,
        product_of(product_record) if product_record else None,
        request_of(request_record) if request_record else None,
    )


def _integration(integration_id: str) -> IntegrationRecord | None:
    (record,) = get_many((IntegrationRecord, INTEGRATION_PREFIX + integration_id))
    return record
