"""Integrations: what a buyer's admin sets up so one Coupa or Ariba instance can punch out to us.

Plain Python: validation of admin input, the purchase information to paste into the procurement
system, authentication of cXML requests against an integration (PROTOCOL.md §4), and where
a Coupa instance takes our invoices (PROTOCOL.md §8).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from functions import fields, ids
from functions.clock import iso, now
from functions.cxml.model import Credential, Header, credential_key, normalize
from functions.errors import BadRequest, Forbidden, Unauthenticated
from functions.urls import BadUrl, parse_web_url

System = Literal["coupa", "ariba"]
CART_FIELDS = ("cxml-base64", "cxml-urlencoded")
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")
_MAX_TEXT = 200
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
SECRET_SHOWN = "set"  # noqa: S105 (a placeholder, not a secret)
"""What the API shows in place of the invoice endpoint's shared secret."""


@dataclass(frozen=True)
class BuyerIdentity:
    """The From credential the procurement system sends (Coupa domain/identity, Ariba ANID)."""

    domain: str
    identity: str

    @property
    def key(self) -> str:
        return credential_key(self.domain, self.identity)


@dataclass(frozen=True)
class InvoiceDelivery:
    """Where and as whom we post invoices to a Coupa instance (`https://<instance>/cxml/invoices`):
    the From/To/Sender credentials Coupa's supplier setup expects, and its shared secret. The
    secret is Coupa's, needed in clear to send: it is stored, never shown."""

    url: str
    from_credential: Credential
    to_credential: Credential
    sender_credential: Credential
    shared_secret: str

    def public_view(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "from": _party_view(self.from_credential),
            "to": _party_view(self.to_credential),
            "sender": _party_view(self.sender_credential),
            "shared_secret": SECRET_SHOWN,
        }

    def to_json(self) -> dict[str, Any]:
        """The stored form, secret included (the integrations table is encrypted)."""
        return {**self.public_view(), "shared_secret": self.shared_secret}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InvoiceDelivery:
        return cls(
            url=data["url"],
            from_credential=_party_of(data["from"]),
            to_credential=_party_of(data["to"]),
            sender_credential=_party_of(data["sender"]),
            shared_secret=data["shared_secret"],
        )


def _party_view(credential: Credential) -> dict[str, str]:
    return {"domain": credential.domain, "identity": credential.identity}


def _party_of(data: Mapping[str, Any]) -> Credential:
    return Credential(str(data["domain"]), str(data["identity"]))


@dataclass(frozen=True)
class Integration:
    id: str
    name: str
    system: System
    buyer: BuyerIdentity
    account_id: str
    account_email: str
    description: str = ""
    test_mode: bool = True
    preapprove_free: bool = False
    preapprove_byol: bool = False
    cart_field: str = "cxml-base64"
    approval_redirect_url: str | None = None
    enabled: bool = True
    secret_digest: str | None = None  # Coupa only: Ariba uses the marketplace's Ariba secret
    invoice_delivery: InvoiceDelivery | None = None  # Coupa only (Ariba: via Ariba Network)
    tax_rate: str = "0"  # on invoices: a fraction ("0.20"), zero-rated unless configured
    tax_description: str = "Zero-rated"
    created_at: str = ""
    updated_at: str = ""
    version: int = 0

    def public_view(self) -> dict[str, Any]:
        """What the admin API shows: everything but the secret digest and the invoice endpoint's
        secret (shown as "set")."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "system": self.system,
            "buyer_identity": {"domain": self.buyer.domain, "identity": self.buyer.identity},
            "account_id": self.account_id,
            "account_email": self.account_email,
            "test_mode": self.test_mode,
            "preapprove_free": self.preapprove_free,
            "preapprove_byol": self.preapprove_byol,
            "cart_field": self.cart_field,
            "tax_rate": self.tax_rate,
            "tax_description": self.tax_description,
            "approval_redirect_url": self.approval_redirect_url,
            "enabled": self.enabled,
            "invoice_delivery": self.invoice_delivery.public_view()
            if self.invoice_delivery
            else None,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True)
class Endpoints:
    """Where procurement systems reach this deployment, and who we are to them."""

    base_url: str
    supplier_domain: str
    supplier_identity: str

    @property
    def punchout_url(self) -> str:
        return f"{self.base_url}/cxml/punchout"

    @property
    def order_url(self) -> str:
        return f"{self.base_url}/cxml/orders"


def purchase_information(
    integration: Integration, endpoints: Endpoints, shared_secret: str | None = None
) -> dict[str, Any]:
    """What the buyer's admin pastes into Coupa or Ariba. The secret appears only when just
    generated (creation, rotation): we keep nothing but its digest."""
    info: dict[str, Any] = {
        "punchout_url": endpoints.punchout_url,
        "order_url": endpoints.order_url,
        "supplier_domain": endpoints.supplier_domain,
        "supplier_identity": endpoints.supplier_identity,
        "buyer_domain": integration.buyer.domain,
        "buyer_identity": integration.buyer.identity,
    }
    if integration.system == "coupa":
        info["shared_secret"] = shared_secret
    else:
        info["credential_note"] = (
            "Ariba Network replaces the buyer's credential with the supplier's Ariba shared "
            "secret: configure the marketplace Ariba secret in Ariba Network, not per buyer."
        )
    return info


# --- validation of admin input -------------------------------------------------------------


def _text(payload: Mapping[str, Any], name: str, *, required: bool, limit: int = _MAX_TEXT) -> str:
    return fields.text(payload, name, required=required, limit=limit)


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
        domain = _text(value, "domain", required=True)
        identity = _text(value, "identity", required=True)
    except BadRequest as exc:
        raise BadRequest(
            exc.message.replace("'", "'buyer_identity.", 1), field=f"buyer_identity.{exc.field}"
        ) from None
    return BuyerIdentity(normalize(domain), normalize(identity))


def _email(payload: Mapping[str, Any], name: str) -> str:
    value = _text(payload, name, required=True, limit=254)
    if not _EMAIL.match(value):
        raise BadRequest(f"'{name}' is not an email address.", field=name)
    return value


def _https_url(payload: Mapping[str, Any], name: str) -> str | None:
    value = _text(payload, name, required=False, limit=2000)
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
        domain = _text(value, "domain", required=True)
        identity = _text(value, "identity", required=True)
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
        url = _text(value, "url", required=True, limit=2000)
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
            secret = _text(value, "shared_secret", required=True)
        except BadRequest as exc:
            raise _nested(exc, _DELIVERY) from None
    return InvoiceDelivery(url, from_credential, to_credential, sender_credential, secret)


_FIELDS = {
    "name", "description", "system", "buyer_identity", "account_id", "account_email",
    "test_mode", "preapprove_free", "preapprove_byol", "cart_field", "approval_redirect_url",
    "tax_rate", "tax_description",
}  # fmt: skip
_ALLOWED = _FIELDS | {_DELIVERY}
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
    approval_url = _https_url(merged, "approval_redirect_url")
    if approval_url and system != "coupa":
        raise BadRequest(
            "'approval_redirect_url' is for Coupa only: Ariba users always start from Ariba.",
            field="approval_redirect_url",
        )
    return {
        "name": _text(merged, "name", required=True),
        "description": _text(merged, "description", required=False, limit=1000),
        "system": system,
        "buyer": _buyer(merged),
        "account_id": _text(merged, "account_id", required=True, limit=64),
        "account_email": _email(merged, "account_email"),
        "test_mode": _flag(merged, "test_mode", True),
        "preapprove_free": _flag(merged, "preapprove_free", False),
        "preapprove_byol": _flag(merged, "preapprove_byol", False),
        "cart_field": cart_field,
        "approval_redirect_url": approval_url,
        **_tax(merged),
        "invoice_delivery": _invoice_delivery(
            payload,
            system,
            base.invoice_delivery if base is not None else None,
            allow_local_http=allow_local_http,
        ),
    }


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
    description = _text(merged, "tax_description", required=False, limit=100)
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


# --- authentication of cXML requests --------------------------------------------------------


@dataclass(frozen=True)
class Authenticated:
    integration: Integration
    buyer_credential: Credential


NOT_AUTHENTICATED = (
    "The credentials were not accepted: check the From identity and the shared secret "
    "configured in your procurement system against the marketplace's purchase information."
)
"""One text for an unknown identity and a wrong secret, so no one can probe which buyers exist;
the reason goes to our logs only (`GatewayError.detail`)."""


def describe(credentials: tuple[Credential, ...]) -> str:
    """For logs: the first credentials, each clipped (they come from outside)."""
    return ", ".join(
        f"{(c.domain or '(no domain)')[:40]}/{c.identity[:80]}" for c in credentials[:5]
    )


def authenticate(
    header: Header,
    candidates: Mapping[str, Integration],
    ariba_secret: Callable[[], str | None],
) -> Authenticated:
    """Find the integration by any From credential, then check the secret PROTOCOL.md §4 asks
    for: Coupa's per-integration secret, or, for Ariba (which replaces the buyer's secret with
    the supplier's), the marketplace Ariba secret. `candidates` maps credential keys to the
    integrations found for them (one batch read)."""
    for credential in header.from_credentials:
        integration = candidates.get(credential.key)
        if integration is not None:
            break
    else:
        raise Unauthenticated(
            NOT_AUTHENTICATED,
            detail="no integration for the buyer credential(s) "
            + describe(header.from_credentials),
        )
    secrets_sent = header.sender_secrets
    if integration.system == "coupa":
        ok = any(ids.matches_digest(s, integration.secret_digest) for s in secrets_sent)
        problem = f"shared secret does not match integration {integration.id}"
    else:
        expected = ariba_secret() if secrets_sent else None
        ok = any(ids.same_secret(s, expected) for s in secrets_sent)
        problem = f"shared secret does not match the Ariba secret (integration {integration.id})"
    if not secrets_sent:
        problem = f"the Sender credential carries no SharedSecret (integration {integration.id})"
    if not ok:
        raise Unauthenticated(NOT_AUTHENTICATED, detail=problem)
    if not integration.enabled:
        raise Forbidden(
            f"Integration '{integration.name}' is disabled: ask the marketplace admin to enable it."
        )
    return Authenticated(integration, credential)
