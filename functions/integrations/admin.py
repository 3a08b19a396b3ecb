"""Validation of the admin API's input: a new integration, a patch, a secret rotation, enabling
and disabling. Every refusal names the field it is about."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from functions import fields, ids
from functions.accounts import checked_account_id
from functions.clock import iso, now
from functions.cxml.model import CART_FIELDS, Credential, normalize
from functions.errors import BadRequest
from functions.integrations import invoice_settings
from functions.integrations.model import (
    SECRET_SHOWN,
    SETTINGS,
    BuyerIdentity,
    Integration,
    InvoiceDelivery,
)
from functions.unit_mapping import FIELD as UNIT_MAPPING
from functions.unit_mapping import parse_unit_mapping
from functions.urls import BadUrl, parse_web_url

_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")
_MAX_TEXT = 200
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _flag(payload: Mapping[str, Any], name: str, default: bool) -> bool:
    value = payload.get(name, default)
    if not isinstance(value, bool):
        raise BadRequest(f"'{name}' must be true or false.", field=name)
    return value


def _buyer(payload: Mapping[str, Any]) -> BuyerIdentity:
    value = payload.get("buyer_identity")
    if not isinstance(value, Mapping):
        raise BadRequest(
            "'buyer_identity' is required: an object with 'domain' and 'identity'.",
            field="buyer_identity",
        )
    try:
        domain = fields.text(value, "domain", required=True, limit=_MAX_TEXT)
        identity = fields.text(value, "identity", required=True, limit=_MAX_TEXT)
    except BadRequest as exc:
        raise BadRequest(
            exc.message.replace("'", "'buyer_identity.", 1), field=f"buyer_identity.{exc.field}"
        ) from None
    return BuyerIdentity(normalize(domain), normalize(identity))


def _email(payload: Mapping[str, Any], name: str) -> str:
    value = fields.text(payload, name, required=True, limit=254)
    if not _EMAIL.match(value):
        raise BadRequest(f"'{name}' is not an email address.", field=name)
    return value


def _https_url(payload: Mapping[str, Any], name: str) -> str | None:
    value = fields.text(payload, name, required=False, limit=2000)
    if not value:
        return None
    try:
        parse_web_url(value)
    except BadUrl as problem:
        raise BadRequest(f"'{name}' {problem}.", field=name) from None
    return value


def delivery_url_problem(url: str, *, allow_local_http: bool) -> str | None:
    """Why an invoice endpoint is not acceptable, or None. https only: the document carries the
    buyer system's shared secret. The local stack alone may post over http to its own fake
    Coupa on this machine. Checked on input and again before every send."""
    try:
        checked = parse_web_url(url, ("https", "http"))
    except BadUrl as problem:
        if "user name or password" in str(problem):
            return "must not carry credentials: put the shared secret in 'shared_secret'"
        return str(problem).replace(" or http ", " ")
    if checked.fragment:
        return "must not have a #fragment"
    if checked.scheme == "https":
        return None
    if allow_local_http and checked.host.strip("[]") in LOOPBACK_HOSTS:
        return None
    return "must be an absolute https URL"


def _party(value: Any, name: str) -> Credential:
    if not isinstance(value, Mapping):
        raise BadRequest(
            f"'{name}' is required: an object with 'domain' and 'identity'.", field=name
        )
    for key in value:
        if key not in ("domain", "identity"):
            raise BadRequest(
                f"'{name}.{key}' is not a field of a credential.", field=f"{name}.{key}"
            )
    try:
        domain = fields.text(value, "domain", required=True, limit=_MAX_TEXT)
        identity = fields.text(value, "identity", required=True, limit=_MAX_TEXT)
    except BadRequest as exc:
        raise _nested(exc, name) from None
    return Credential(domain, identity)


def _nested(error: BadRequest, parent: str) -> BadRequest:
    """The same refusal, naming the field by its full path (`invoice_delivery.to.identity`)."""
    return BadRequest(error.message.replace("'", f"'{parent}.", 1), field=f"{parent}.{error.field}")


_DELIVERY = "invoice_delivery"
_DELIVERY_FIELDS = ("url", "from", "to", "sender", "shared_secret")


def _invoice_delivery(
    payload: Mapping[str, Any],
    system: str,
    current: InvoiceDelivery | None,
    *,
    allow_local_http: bool,
) -> InvoiceDelivery | None:
    """The validated `invoice_delivery`: absent keeps `current` (None on create), null removes
    it, an object replaces it; on PATCH an omitted `shared_secret` keeps the stored one."""
    if _DELIVERY not in payload:
        return current
    value = payload[_DELIVERY]
    if value is None:
        return None
    if system != "coupa":
        raise BadRequest(
            "'invoice_delivery' is for Coupa integrations: Ariba invoices go through Ariba "
            "Network with the marketplace's Ariba account, not to the buyer's instance.",
            field=_DELIVERY,
        )
    if not isinstance(value, Mapping):
        raise BadRequest(
            "'invoice_delivery' must be an object with 'url', 'from', 'to', 'sender' and "
            "'shared_secret', or null to remove it.",
            field=_DELIVERY,
        )
    for key in value:
        if key not in _DELIVERY_FIELDS:
            raise BadRequest(
                f"'{_DELIVERY}.{key}' is not a field of invoice_delivery.",
                field=f"{_DELIVERY}.{key}",
            )
    try:
        url = fields.text(value, "url", required=True, limit=2000)
    except BadRequest as exc:
        raise _nested(exc, _DELIVERY) from None
    problem = delivery_url_problem(url, allow_local_http=allow_local_http)
    if problem:
        raise BadRequest(f"'{_DELIVERY}.url' {problem}.", field=f"{_DELIVERY}.url")
    from_credential, to_credential, sender_credential = (
        _party(value.get(key), f"{_DELIVERY}.{key}") for key in ("from", "to", "sender")
    )
    sent_secret = value.get("shared_secret")
    if sent_secret in (None, SECRET_SHOWN) and current is not None:
        # Omitted, or the view's "set" sent back as read: keep the stored secret.
        secret = current.shared_secret
    elif sent_secret == SECRET_SHOWN:
        raise BadRequest(
            f"'{_DELIVERY}.shared_secret' must be the secret Coupa expects, not {SECRET_SHOWN!r}.",
            field=f"{_DELIVERY}.shared_secret",
        )
    else:
        try:
            secret = fields.text(value, "shared_secret", required=True, limit=_MAX_TEXT)
        except BadRequest as exc:
            raise _nested(exc, _DELIVERY) from None
    return InvoiceDelivery(url, from_credential, to_credential, sender_credential, secret)


_FIELDS = {*SETTINGS, "system", "buyer_identity"}
_ALLOWED = _FIELDS | {_DELIVERY, UNIT_MAPPING}
_IMMUTABLE = {"system"}


def _check_known(payload: Mapping[str, Any], allowed: set[str]) -> None:
    for name in payload:
        if name not in allowed:
            raise BadRequest(f"'{name}' is not a field of an integration.", field=str(name))


def _settings(
    payload: Mapping[str, Any], base: Integration | None, *, allow_local_http: bool
) -> dict[str, Any]:
    """Validate a full (create) or partial (patch, base given) set of settings."""
    merged: dict[str, Any] = {}
    if base is not None:
        current = base.public_view()
        merged.update({k: current[k] for k in _FIELDS})
    merged.update(payload)
    system = merged.get("system")
    if system not in ("coupa", "ariba"):
        raise BadRequest("'system' must be 'coupa' or 'ariba'.", field="system")
    cart_field = merged.get("cart_field", "cxml-base64")
    if cart_field not in CART_FIELDS:
        raise BadRequest(
            "'cart_field' must be 'cxml-base64' or 'cxml-urlencoded'.", field="cart_field"
        )
    if _https_url(merged, "approval_redirect_url") and system != "coupa":
        raise BadRequest(
            "'approval_redirect_url' is for Coupa only: Ariba users always start from Ariba.",
            field="approval_redirect_url",
        )
    values: dict[str, Any] = {name: parse(merged) for name, parse in _PARSERS.items()}
    values["system"], values["buyer"] = system, _buyer(merged)
    values["invoice_delivery"] = _invoice_delivery(
        payload,
        system,
        base.invoice_delivery if base is not None else None,
        allow_local_http=allow_local_http,
    )
    if UNIT_MAPPING in payload:  # absent keeps the current mapping; null or {} removes it
        values["unit_mapping"] = parse_unit_mapping(payload[UNIT_MAPPING])
    elif base is not None:
        values["unit_mapping"] = base.unit_mapping
    return values


def _tax(merged: Mapping[str, Any]) -> dict[str, str]:
    """The tax invoices carry: a rate from 0 (zero-rated, the default) to below 1, with a
    description the buyer's AP reads ("VAT 20%")."""
    raw = merged.get("tax_rate", "0")
    try:
        rate = Decimal(str(raw).strip()) if isinstance(raw, (str, int, Decimal)) else None
    except InvalidOperation:
        rate = None
    if isinstance(raw, bool) or rate is None or not rate.is_finite() or not 0 <= rate < 1:
        raise BadRequest("'tax_rate' must be a fraction from 0 to below 1, like \"0.20\".",
                         field="tax_rate")  # fmt: skip
    exponent = rate.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        raise BadRequest("'tax_rate' has more than 4 decimal places.", field="tax_rate")
    description = fields.text(merged, "tax_description", required=False, limit=100)
    if not description:
        description = "Zero-rated" if rate == 0 else ""
    if not description:
        raise BadRequest("'tax_description' is required with a tax rate.", field="tax_description")
    return {"tax_rate": f"{rate.normalize():f}", "tax_description": description}


def new_integration(
    payload: Any, *, allow_local_http: bool = False
) -> tuple[Integration, str | None]:
    """A validated integration and, for Coupa, its freshly generated shared secret."""
    if not isinstance(payload, Mapping):
        raise BadRequest("The body must be a JSON object.")
    _check_known(payload, _ALLOWED)
    values = _settings(payload, None, allow_local_http=allow_local_http)
    secret = ids.shared_secret() if values["system"] == "coupa" else None
    stamp = iso(now())
    integration = Integration(
        id=ids.record_id("int"),
        secret_digest=ids.digest(secret) if secret else None,
        created_at=stamp,
        updated_at=stamp,
        **values,
    )
    return integration, secret


def patched(
    integration: Integration, payload: Any, *, allow_local_http: bool = False
) -> Integration:
    if not isinstance(payload, Mapping) or not payload:
        raise BadRequest("The body must be a JSON object with at least one field to change.")
    _check_known(payload, _ALLOWED)
    for name in _IMMUTABLE:
        if name in payload and payload[name] != integration.system:
            raise BadRequest(f"'{name}' cannot change: create a new integration.", field=name)
    values = _settings(payload, integration, allow_local_http=allow_local_http)
    return replace(integration, updated_at=iso(now()), **values)


def with_new_secret(integration: Integration) -> tuple[Integration, str]:
    if integration.system != "coupa":
        raise BadRequest(
            "Ariba integrations use the marketplace's Ariba shared secret; there is none to rotate "
            "per integration."
        )
    secret = ids.shared_secret()
    return replace(integration, secret_digest=ids.digest(secret), updated_at=iso(now())), secret


def with_enabled(integration: Integration, enabled: bool) -> Integration:
    """Disabling keeps every setting, so enabling again restores the integration as it was."""
    return replace(integration, enabled=enabled, updated_at=iso(now()))


_PARSERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "name": lambda merged: fields.text(merged, "name", required=True, limit=_MAX_TEXT),
    "description": lambda merged: fields.text(merged, "description", required=False, limit=1000),
    "account_id": lambda merged: checked_account_id(merged.get("account_id")),
    "account_email": lambda merged: _email(merged, "account_email"),
    "test_mode": lambda merged: _flag(merged, "test_mode", True),
    "preapprove_free": lambda merged: _flag(merged, "preapprove_free", False),
    "preapprove_byol": lambda merged: _flag(merged, "preapprove_byol", False),
    "cart_field": lambda merged: merged.get("cart_field", "cxml-base64"),  # checked first
    "approval_redirect_url": lambda merged: _https_url(merged, "approval_redirect_url"),
    "tax_rate": lambda merged: _tax(merged)["tax_rate"],
    "tax_description": lambda merged: _tax(merged)["tax_description"],
    "tax_category": invoice_settings.tax_category,
    "tax_location": invoice_settings.tax_location,
    "tax_exemption": invoice_settings.tax_exemption,
    "tax_exemption_reason": invoice_settings.tax_exemption_reason,
    "buyer_tax_id": invoice_settings.buyer_tax_id,
    "remit_to_code": invoice_settings.remit_to_code,
    "order_confirmations": lambda merged: _flag(merged, "order_confirmations", False),
}
"""How each plain setting is read from the admin's JSON, in `SETTINGS` order."""
assert tuple(_PARSERS) == SETTINGS, "every plain setting has one parser"
