"""The console's subscription pages (everyone in the account, admins and members): one
subscription with its usage against the PO budget and its invoices, a readable invoice, and
the invoice's cXML as sent (credentials removed).

Every read is checked against the signed-in user's account (the verified token's): another
account's subscription or invoice is the same 404 page as an unknown id, and a path id that
cannot be one of ours is a 404 before any read."""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from functions.console_session import CONSOLE_PATH
from functions.handlers.console.kit import SIGN_IN, console_page, redirect, signed_in, url

router = Router()

SUBSCRIPTIONS = f"{CONSOLE_PATH}/subscriptions"
INVOICES = f"{CONSOLE_PATH}/invoices"

_PATH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
"""Our subscription (`req-…`) and invoice (`INV-…`, `CM-…`) ids and more: anything else (too
long, `..`, slashes, unicode, control characters) cannot name one, and is not looked up."""

XML_CONTENT_TYPE = "application/xml; charset=utf-8"


def _our_id(value: str) -> str | None:
    return value if _PATH_ID.fullmatch(value) and ".." not in value else None


def _not_found(user: Any, cookies: list[str], what: str) -> Response:
    return console_page(
        user,
        "console_not_found.html",
        404,
        cookies,
        heading=f"No such {what}",
        message=f"This {what} does not exist, or it is not one of your account's.",
        advice="Open it from your account's subscriptions.",
    )


def _account_subscription(subscription_id: str, account_id: str) -> Any:
    """The subscription, when it is the account's; None otherwise (unknown or another's)."""
    from functions.handlers.web.pages import stores

    found = _our_id(subscription_id) and stores().subscriptions.get(subscription_id)
    return found if found and found.account_id == account_id else None


def _account_invoice(invoice_id: str, account_id: str) -> Any:
    """The stored invoice, when it is the account's; None otherwise (unknown or another's)."""
    from functions.store import invoices

    found = _our_id(invoice_id) and invoices.get(invoice_id)
    return found if found and found.account_id == account_id else None


@router.get(f"{SUBSCRIPTIONS}/<subscription_id>")
def subscription_page(subscription_id: str) -> Response:
    """One subscription as "Your subscriptions" shows it (budget, hand-off), and its invoices
    with their credit memos. A test subscription is never invoiced: no invoice read."""
    from functions.handlers.web.subscriptions import subscription_listing
    from functions.store import invoices
    from functions.subscription_invoices import subscription_invoices

    user, cookies = signed_in()
    if user is None:
        return redirect(url(SIGN_IN), cookies)
    subscription = _account_subscription(subscription_id, user.account_id)
    if subscription is None:
        return _not_found(user, cookies, "subscription")
    listing = subscription_listing(subscription)
    form_targets = listing.pop("form_targets")
    found = [] if subscription.test else invoices.list_for_subscription(subscription.id)
    return console_page(
        user,
        "console_subscription.html",
        200,
        cookies,
        form_targets=form_targets,  # the Set up your account form posts to the seller's site
        s=subscription,
        invoices=subscription_invoices(found),
        invoice_pages=url(f"{INVOICES}/"),
        handoff_in_new_tab=False,
        **listing,
    )


@router.get(f"{INVOICES}/<invoice_id>")
def invoice_page(invoice_id: str) -> Response:
    """An invoice or credit memo as an accounts-payable clerk reads it: parties, number and
    date, PO, lines, tax and totals as invoiced; printable."""
    from functions.cxml.parse import parse_invoice_document
    from functions.store.invoices import document
    from functions.subscription_invoices import readable_invoice

    user, cookies = signed_in()
    if user is None:
        return redirect(url(SIGN_IN), cookies)
    invoice = _account_invoice(invoice_id, user.account_id)
    if invoice is None:
        return _not_found(user, cookies, "invoice")
    readable = readable_invoice(invoice, parse_invoice_document(document(invoice)))
    return console_page(
        user,
        "console_invoice.html",
        200,
        cookies,
        invoice=readable,
        subscription_url=url(f"{SUBSCRIPTIONS}/{invoice.subscription_id}"),
        invoice_pages=url(f"{INVOICES}/"),
        cxml_url=url(f"{INVOICES}/{invoice.invoice_id}/cxml"),
    )


@router.get(f"{INVOICES}/<invoice_id>/cxml")
def invoice_document(invoice_id: str) -> Response:
    """The cXML InvoiceDetailRequest as stored (and sent, but for the Header's secret), as a
    download; any credential a stored document holds is removed first."""
    from functions.cxml.invoice_reading import downloadable
    from functions.store.invoices import document

    user, cookies = signed_in()
    if user is None:
        return redirect(url(SIGN_IN), cookies)
    invoice = _account_invoice(invoice_id, user.account_id)
    if invoice is None:
        return _not_found(user, cookies, "invoice")
    body = downloadable(document(invoice))
    reply = Response(
        200,
        XML_CONTENT_TYPE,
        body.decode("utf-8"),
        {
            "Content-Disposition": f'attachment; filename="{invoice.invoice_id}.xml"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
            "Referrer-Policy": "no-referrer",
        },
    )
    if cookies:
        reply.headers["Set-Cookie"] = cookies
    return reply
