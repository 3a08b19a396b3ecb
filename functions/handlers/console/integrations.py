"""The console's Procurement integrations (admins): the account's integrations, creating one,
its page with the purchase information to copy, editing, rotating Coupa's shared secret, and
disabling or enabling it.

Every change goes through the admin API's own domain functions (`new_integration`, `patched`,
`with_new_secret`, `with_enabled`) and store, so a console-made integration is the same record
with the same validation. The account is the verified token's, never the URL's or the form's:
another account's integration id answers the same 404 as an unknown one."""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from functions.config import settings
from functions.errors import BadRequest, Conflict
from functions.handlers.console import integration_form
from functions.handlers.console.kit import (
    INTEGRATIONS,
    SIGN_IN,
    console_page,
    csrf_context,
    genuine_form,
    page,
    redirect,
    refused_form,
    signed_in,
    url,
)
from functions.handlers.http import base_url, form_fields
from functions.handlers.page_links import event_of
from functions.integrations import Endpoints, Integration, purchase_information
from functions.integrations.advice import warnings
from functions.observability import logger

if TYPE_CHECKING:  # built on first use (cold start: pynamodb's models, the KMS adapter)
    from functions.console_auth import ConsoleUser
    from functions.store.integrations import DynamoIntegrationStore

router = Router()

SECTION = "integrations"

COPY_SCRIPT = (
    "document.querySelectorAll('button[data-copy]').forEach(function(b){b.hidden=false;"
    "b.addEventListener('click',function(){var f=document.getElementById(b.dataset.copy);"
    "var s=document.getElementById('copy-status');f.select();"
    "function done(){s.textContent=b.dataset.label+' copied.';}"
    "if(navigator.clipboard){navigator.clipboard.writeText(f.value).then(done,function(){"
    "s.textContent='Select the value and copy it.';});}"
    "else if(document.execCommand('copy')){done();}});});"
)
"""The one script of the console: shows the copy buttons and copies a value on click. Without
it, each value stays in a readonly input to select. Allowed by its hash alone (CSP)."""
COPY_SCRIPT_HASH = base64.b64encode(hashlib.sha256(COPY_SCRIPT.encode()).digest()).decode()

PURCHASE_LABELS = {
    "punchout_url": "Punchout URL (supplier punchout setup)",
    "order_url": "Purchase order URL",
    "supplier_domain": "Supplier domain (To credential)",
    "supplier_identity": "Supplier identity (To credential)",
    "buyer_domain": "Buyer domain (From credential)",
    "buyer_identity": "Buyer identity (From credential)",
    "shared_secret": "Shared secret",
}
"""How each value of `purchase_information` is named on the page, in its order."""


@cache
def _store() -> DynamoIntegrationStore:
    """The console's integrations store: tables bound once, Coupa invoice secrets sealed with
    KMS (Encrypt only) as the admin function seals them."""
    from functions import store
    from functions.store.integrations import DynamoIntegrationStore
    from functions.store.kms import KmsSecretBox

    config = settings()
    store.bind(config)
    return DynamoIntegrationStore(KmsSecretBox(config.invoice_secret_key, config.region))


def _admin() -> tuple[ConsoleUser | None, list[str], Response | None]:
    """The signed-in admin, or the answer instead: the sign-in page, or 403 for a member."""
    user, cookies = signed_in()
    if user is None:
        return None, cookies, redirect(url(SIGN_IN), cookies)
    if not user.is_admin:
        return (
            user,
            cookies,
            page(
                "error.html",
                403,
                cookies,
                heading="Admins only",
                message="Procurement integrations are set up by your account's admins.",
                advice="Ask an admin of your account if an integration needs a change.",
            ),
        )
    return user, cookies, None


def _own(user: ConsoleUser, integration_id: str) -> Integration | None:
    """The integration when it belongs to the user's account; None for another's or unknown."""
    found = _store().get(integration_id)
    return found if found is not None and found.account_id == user.account_id else None


def _not_found(cookies: list[str]) -> Response:
    return page(
        "error.html",
        404,
        cookies,
        heading="Integration not found",
        message="Your account has no integration at this address.",
        advice="Open Procurement integrations to see your account's integrations.",
    )


def _link(integration_id: str = "", action: str = "") -> str:
    path = f"{INTEGRATIONS}/{integration_id}" if integration_id else INTEGRATIONS
    return url(f"{path}/{action}" if action else path)


def _endpoints() -> Endpoints:
    config = settings()
    return Endpoints(
        base_url(event_of(router), config), config.supplier_domain, config.supplier_identity
    )


def _purchase(integration: Integration, secret: str | None) -> list[dict[str, str]]:
    """The values to copy, labelled, in order (the Coupa secret only when just generated)."""
    info = purchase_information(integration, _endpoints(), secret)
    return [
        {"key": key, "label": label, "value": str(info[key])}
        for key, label in PURCHASE_LABELS.items()
        if info.get(key)
    ] + ([{"key": "note", "label": "Note", "value": info["credential_note"]}]
         if "credential_note" in info else [])  # fmt: skip


def _integration_page(
    user: ConsoleUser,
    cookies: list[str],
    integration: Integration,
    *,
    status: int = 200,
    secret: str | None = None,
    event: str = "",
) -> Response:
    return console_page(
        user,
        "console_integration.html",
        status,
        cookies,
        section=SECTION,
        script_hashes=(COPY_SCRIPT_HASH,),
        integration=integration,
        purchase=_purchase(integration, secret),
        secret_shown=secret is not None,
        event=event,
        warnings=warnings(integration),
        copy_script=COPY_SCRIPT,
        edit_url=_link(integration.id, "edit"),
        activity_url=_link(integration.id, "activity"),
        secret_url=_link(integration.id, "secret"),
        enabled_url=_link(integration.id, "disable" if integration.enabled else "enable"),
        list_url=_link(),
        **csrf_context(user),
    )


def _form_page(
    user: ConsoleUser,
    cookies: list[str],
    values: dict[str, str],
    *,
    current: Integration | None = None,
    status: int = 200,
    error: BadRequest | Conflict | None = None,
) -> Response:
    field = integration_form.form_field(error.field) if error else ""
    return console_page(
        user,
        "console_integration_form.html",
        status,
        cookies,
        section=SECTION,
        values=values,
        current=current,
        errors={field: error.message} if error and field else {},
        form_error=error.message if error and not field else "",
        action=_link(current.id) if current else _link(),
        cancel_url=_link(current.id) if current else _link(),
        script_hashes=(),  # no script on forms (and no CSRF value can be taken for it)
        **csrf_context(user),
    )


@router.get(INTEGRATIONS)
def list_integrations() -> Response:
    user, cookies, refusal = _admin()
    if refusal or user is None:
        return refusal or redirect(url(SIGN_IN), cookies)
    found = sorted(_store().by_account(user.account_id), key=lambda i: (i.name.lower(), i.id))
    return console_page(
        user,
        "console_integrations.html",
        200,
        cookies,
        section=SECTION,
        integrations=[(i, _link(i.id)) for i in found],
        new_url=_link("new"),
    )


@router.get(f"{INTEGRATIONS}/new")
def new_integration_form() -> Response:
    user, cookies, refusal = _admin()
    if refusal or user is None:
        return refusal or redirect(url(SIGN_IN), cookies)
    return _form_page(user, cookies, integration_form.values(email=user.email))


@router.post(INTEGRATIONS)
def create_integration() -> Response:
    """Answers the integration's page itself (not a redirect): a Coupa secret is shown this
    once, and never put in a URL or kept."""
    from functions import integrations

    user, cookies, refusal = _admin()
    if refusal or user is None:
        return refusal or redirect(url(SIGN_IN), cookies)
    fields = form_fields(event_of(router))
    if not genuine_form(user, fields):
        return refused_form()
    try:
        body = {**integration_form.payload(fields), "account_id": user.account_id}
        integration, secret = integrations.new_integration(
            body, allow_local_http=settings().invoice_delivery_local_http
        )
        stored = _store().create(integration)
    except (BadRequest, Conflict) as refused:
        status = 400 if isinstance(refused, BadRequest) else 409
        values = integration_form.posted(fields)
        return _form_page(user, cookies, values, status=status, error=_for_console(refused))
    logger.info("integration created in the console", extra={"integration_id": stored.id})
    return _integration_page(user, cookies, stored, status=201, secret=secret, event="created")


def _for_console(refused: BadRequest | Conflict) -> BadRequest | Conflict:
    """The API's refusals as they are, except the one naming the operator's API: an account the
    operator has not created yet."""
    if refused.field == "account_id":
        return Conflict(
            "Your account is not set up for integrations yet: ask the marketplace's operator "
            "to create it, then try again."
        )
    return refused


@router.get(f"{INTEGRATIONS}/<integration_id>")
def integration_page(integration_id: str) -> Response:
    user, cookies, refusal = _admin()
    if refusal or user is None:
        return refusal or redirect(url(SIGN_IN), cookies)
    integration = _own(user, integration_id)
    if integration is None:
        return _not_found(cookies)
    return _integration_page(user, cookies, integration)


@router.get(f"{INTEGRATIONS}/<integration_id>/edit")
def edit_form(integration_id: str) -> Response:
    user, cookies, refusal = _admin()
    if refusal or user is None:
        return refusal or redirect(url(SIGN_IN), cookies)
    integration = _own(user, integration_id)
    if integration is None:
        return _not_found(cookies)
    values = integration_form.values(integration)
    return _form_page(user, cookies, values, current=integration)


@router.post(f"{INTEGRATIONS}/<integration_id>")
def save_settings(integration_id: str) -> Response:
    from functions import integrations

    user, cookies, refusal = _admin()
    if refusal or user is None:
        return refusal or redirect(url(SIGN_IN), cookies)
    fields = form_fields(event_of(router))
    if not genuine_form(user, fields):
        return refused_form()
    current = _own(user, integration_id)
    if current is None:
        return _not_found(cookies)
    try:
        updated = integrations.patched(
            current,
            integration_form.payload(fields, current),
            allow_local_http=settings().invoice_delivery_local_http,
        )
        _store().replace(current, updated)
    except (BadRequest, Conflict) as refused:
        status = 400 if isinstance(refused, BadRequest) else 409
        values = {
            **integration_form.posted(fields),
            "system": current.system,
            "buyer_domain": current.buyer.domain,
            "buyer_identity": current.buyer.identity,
        }
        return _form_page(user, cookies, values, current=current, status=status,
                          error=_for_console(refused))  # fmt: skip
    return redirect(_link(integration_id), cookies)


@router.post(f"{INTEGRATIONS}/<integration_id>/secret")
def rotate_secret(integration_id: str) -> Response:
    """A new Coupa shared secret, shown on this answer only; the old one stops working at once
    (only the new digest is stored)."""
    from functions import integrations

    user, cookies, refusal = _admin()
    if refusal or user is None:
        return refusal or redirect(url(SIGN_IN), cookies)
    if not genuine_form(user, form_fields(event_of(router))):
        return refused_form()
    current = _own(user, integration_id)
    if current is None:
        return _not_found(cookies)
    if current.system != "coupa":
        return _integration_page(user, cookies, current, status=400, event="no-secret")
    updated, secret = integrations.with_new_secret(current)
    stored = _store().replace(current, updated)
    logger.info("integration secret rotated in the console", extra={"integration_id": stored.id})
    return _integration_page(user, cookies, stored, secret=secret, event="rotated")


def _set_enabled(integration_id: str, enabled: bool) -> Response:
    from functions import integrations

    user, cookies, refusal = _admin()
    if refusal or user is None:
        return refusal or redirect(url(SIGN_IN), cookies)
    if not genuine_form(user, form_fields(event_of(router))):
        return refused_form()
    current = _own(user, integration_id)
    if current is None:
        return _not_found(cookies)
    if current.enabled != enabled:
        _store().replace(current, integrations.with_enabled(current, enabled))
    return redirect(_link(integration_id), cookies)


@router.post(f"{INTEGRATIONS}/<integration_id>/disable")
def disable(integration_id: str) -> Response:
    return _set_enabled(integration_id, False)


@router.post(f"{INTEGRATIONS}/<integration_id>/enable")
def enable(integration_id: str) -> Response:
    return _set_enabled(integration_id, True)
