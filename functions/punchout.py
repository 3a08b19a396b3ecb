"""Punchout setup: a procurement system asks for a shopping session; we authenticate it, keep
the session on our side and answer with a short, opaque StartPage URL (docs/PROTOCOL.md §4)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from functions import ids
from functions.activity import ActivityLog, answered
from functions.clock import now
from functions.cxml import build
from functions.cxml.model import ItemOut, ItemRef, normalize
from functions.cxml.parse import CxmlRequest, PunchOutSetup, parse_punchout_setup
from functions.errors import BadRequest, GatewayError, NotImplementedByGateway
from functions.integrations import Authenticated, Endpoints, Integration, authenticate
from functions.sessions import (
    IntegrationSnapshot,
    PunchOutSession,
    Requester,
    SessionRepository,
)
from functions.urls import BadUrl, parse_web_url

SUPPORTED_OPERATIONS = ("create", "edit", "inspect")
MAX_FROM_CREDENTIALS = 10
MAX_ITEMS_OUT = 200
MAX_EXTRINSICS = 50
MAX_VALUE_CHARS = 500
MAX_COOKIE_CHARS = 1000
MAX_PART_ID_CHARS = 200
MAX_DESCRIPTION_CHARS = 500
MAX_SHORT_CHARS = 100
"""The session is one DynamoDB item (400 KB at most): every text kept from the cart is bounded,
so 200 ItemOut with 5 KB descriptions store as well as 2 (the same bounds as a PO's lines)."""


class IntegrationDirectory(Protocol):
    def find_by_buyer_keys(self, keys: list[str]) -> dict[str, Integration]: ...


def _requester(setup: PunchOutSetup) -> Requester:
    ext = setup.extrinsics
    contacts = sorted(setup.contacts, key=lambda c: c.role != "endUser")
    contact_email = next((c.email for c in contacts if c.email), "")
    contact_name = next((c.name for c in contacts if c.name), "")
    return Requester(
        email=(ext.get("UserEmail") or contact_email or setup.ship_to_email)[:254],
        first_name=ext.get("FirstName", "")[:100],
        last_name=ext.get("LastName", "")[:100],
        unique_name=(ext.get("UniqueName") or ext.get("User") or "")[:200],
        name=contact_name[:200],
    )


def _form_post_url(setup: PunchOutSetup) -> str:
    url = normalize(setup.browser_form_post_url)
    if not url:
        if setup.operation == "inspect":
            return ""
        raise BadRequest("PunchOutSetupRequest has no BrowserFormPost URL to return the cart to.")
    try:
        parse_web_url(url, ("https", "http"))
    except BadUrl as problem:
        raise BadRequest(f"BrowserFormPost URL {problem}: {url[:200]!r}.") from None
    return url


def _kept(item: ItemOut) -> ItemOut:
    """What the session keeps of a cart line: enough to show and match it, each text bounded."""
    return replace(
        item,
        line_number=item.line_number[:20] if item.line_number else None,
        description=item.description[:MAX_DESCRIPTION_CHARS],
        short_name=item.short_name[:MAX_SHORT_CHARS],
        unit_of_measure=item.unit_of_measure[:MAX_SHORT_CHARS],
        classification=item.classification[:MAX_SHORT_CHARS],
        classification_domain=item.classification_domain[:MAX_SHORT_CHARS],
    )


def _check_part(ref: ItemRef | None, what: str) -> None:
    """Our part ids are short: a longer one names nothing of ours (and would fill the item)."""
    if ref is None:
        return
    for name, value in (
        ("SupplierPartID", ref.supplier_part_id),
        ("SupplierPartAuxiliaryID", ref.supplier_part_auxiliary_id or ""),
    ):
        if len(value) > MAX_PART_ID_CHARS:
            raise BadRequest(f"{what} {name} is longer than {MAX_PART_ID_CHARS} characters.")


def _validate(setup: PunchOutSetup) -> None:
    if setup.operation == "source":
        raise NotImplementedByGateway("PunchOutSetupRequest operation 'source' is not supported.")
    if setup.operation not in SUPPORTED_OPERATIONS:
        raise BadRequest(
            f"Unknown PunchOutSetupRequest operation {setup.operation!r}: expected "
            "create, edit or inspect."
        )
    if len(setup.buyer_cookie) > MAX_COOKIE_CHARS:
        raise BadRequest(f"BuyerCookie is longer than {MAX_COOKIE_CHARS} characters.")
    if len(setup.items_out) > MAX_ITEMS_OUT:
        raise BadRequest(f"More than {MAX_ITEMS_OUT} ItemOut lines in one punchout.")
    _check_part(setup.selected_item, "SelectedItem")
    for index, item in enumerate(setup.items_out, start=1):
        _check_part(item.item, f"ItemOut #{index}")


def start_session(
    request: CxmlRequest,
    setup: PunchOutSetup,
    authenticated: Authenticated,
    sessions: SessionRepository,
    ttl: timedelta,
) -> tuple[str, PunchOutSession]:
    """Store the session under the digest of a fresh random token; the token goes in the URL."""
    _validate(setup)
    integration = authenticated.integration
    token = ids.session_token(integration.id)
    started = now()
    extrinsics = {
        name[:100]: value[:MAX_VALUE_CHARS]
        for name, value in list(setup.extrinsics.items())[:MAX_EXTRINSICS]
    }
    session = PunchOutSession(
        token_digest=ids.digest(token),
        integration_id=integration.id,
        integration_name=integration.name,
        system=integration.system,
        buyer_cookie=setup.buyer_cookie,
        browser_form_post_url=_form_post_url(setup),
        operation=setup.operation,
        deployment_mode=request.deployment_mode,
        requester=_requester(setup),
        created_at=started,
        expires_at=started + ttl,
        payload_id=request.payload_id[:300],
        selected_item=setup.selected_item,
        items_out=tuple(_kept(item) for item in setup.items_out),
        extrinsics=extrinsics,
        integration=IntegrationSnapshot(
            account_id=integration.account_id,
            account_email=integration.account_email,
            cart_field=integration.cart_field,
            test_mode=integration.test_mode,
            preapprove_free=integration.preapprove_free,
            preapprove_byol=integration.preapprove_byol,
            buyer_domain=authenticated.buyer_credential.domain,
            buyer_identity=authenticated.buyer_credential.identity,
            unit_mapping=integration.unit_mapping.to_json(),
        ),
    )
    sessions.put(session)
    return token, session


def start_page_url(base_url: str, token: str) -> str:
    return f"{base_url}/s/{token}"


ANSWERED_REQUESTS = ("PunchOutSetupRequest", "ProfileRequest")


def answer(
    request: CxmlRequest,
    directory: IntegrationDirectory,
    sessions: SessionRepository,
    ariba_secret: Callable[[], str | None],
    endpoints: Endpoints,
    ttl: timedelta,
    activity: ActivityLog | None = None,
) -> bytes:
    """The cXML answer to a request posted to the punchout URL (errors raise GatewayError,
    carrying the integration once the credentials named one: its activity shows them). A
    session's activity entry is the session store's to write with it; a ProfileRequest's goes
    to `activity`."""
    if request.request_name not in ANSWERED_REQUESTS:
        raise NotImplementedByGateway(
            f"{request.request_name} is not accepted at the punchout URL; it accepts "
            "PunchOutSetupRequest and ProfileRequest."
        )
    credentials = request.header.from_credentials[:MAX_FROM_CREDENTIALS]
    candidates = directory.find_by_buyer_keys(list(dict.fromkeys(c.key for c in credentials)))
    authenticated = authenticate(request.header, candidates, ariba_secret)
    integration = authenticated.integration
    try:
        if request.request_name == "ProfileRequest":
            document = build.profile_response(
                datetime.fromisoformat(integration.created_at),
                [
                    ("ProfileRequest", endpoints.punchout_url),
                    ("PunchOutSetupRequest", endpoints.punchout_url),
                    ("OrderRequest", endpoints.order_url),
                    ("StatusUpdateRequest", endpoints.order_url),
                ],
            )
            if activity is not None:
                activity.record(answered(request, integration.id, now()))
            return document
        setup = parse_punchout_setup(request)
        token, _ = start_session(request, setup, authenticated, sessions, ttl)
    except GatewayError as refusal:
        refusal.integration_id = refusal.integration_id or integration.id
        raise
    return build.punchout_setup_response(start_page_url(endpoints.base_url, token))
