"""An integration, as stored and shown: who the buyer is, where we deliver its invoices, and
the purchase information its admin pastes into Coupa or Ariba (docs/PROTOCOL.md §8)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from functions.cxml.model import Credential, credential_key
from functions.unit_mapping import NO_UNIT_MAPPING, UnitMapping

System = Literal["coupa", "ariba"]
SECRET_SHOWN = "set"  # noqa: S105 (a placeholder, not a secret)
"""What the API shows in place of the invoice endpoint's shared secret."""

SETTINGS = (
    "name", "description", "account_id", "account_email", "test_mode", "preapprove_free",
    "preapprove_byol", "cart_field", "approval_redirect_url", "tax_rate", "tax_description",
    "tax_category", "tax_location", "tax_exemption", "tax_exemption_reason", "buyer_tax_id",
    "remit_to_code",
    "order_confirmations",
)  # fmt: skip
"""The plain settings, in the order the admin API checks them: each is one attribute of
`Integration`, of the stored record and of the public view, under the same name. This table
drives the admin parser (`admin._PARSERS`), the store's attributes and `public_view`; a new
plain setting is a field here, on `Integration` and on `IntegrationRecord`, and its parser."""


@dataclass(frozen=True)
class BuyerIdentity:
    """The From credential the procurement system sends (Coupa domain/identity, Ariba ANID)."""

    domain: str
    identity: str

    @property
    def key(self) -> str:
        return credential_key(self.domain, self.identity)


@dataclass(frozen=True)
class SealedSecret:
    """A secret as the store keeps it: KMS ciphertext (base64) made under an encryption context
    naming the integration, so it opens for that integration only. Only the delivery worker may
    open it (`SecretBox.open`); everything else carries it as it is."""

    ciphertext: str

    def __repr__(self) -> str:
        return "SealedSecret(...)"


class SecretUnreadable(Exception):
    """A sealed secret that cannot be opened for this integration (copied from another one,
    corrupted, or its key disabled): no retry helps; the admin sets the secret again."""


class SecretBox(Protocol):
    """Seals a clear secret for one integration and opens it again (KMS when deployed)."""

    def seal(self, integration_id: str, clear: str) -> SealedSecret: ...

    def open(self, integration_id: str, sealed: SealedSecret) -> str:
        """Raises SecretUnreadable when `sealed` was not sealed for `integration_id`."""
        ...


@dataclass(frozen=True)
class InvoiceDelivery:
    """Where and as whom we post invoices to a Coupa instance (`https://<instance>/cxml/invoices`):
    the From/To/Sender credentials Coupa's supplier setup expects, and its shared secret. The
    secret is Coupa's, needed in clear to send, so it is encrypted rather than digested: clear
    (`str`) only between the admin's request and the store, which seals it before writing, and
    in the delivery worker, which opens it to send; a `SealedSecret` everywhere else. Never
    shown."""

    url: str
    from_credential: Credential
    to_credential: Credential
    sender_credential: Credential
    shared_secret: str | SealedSecret

    def public_view(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "from": _party_view(self.from_credential),
            "to": _party_view(self.to_credential),
            "sender": _party_view(self.sender_credential),
            "shared_secret": SECRET_SHOWN,
        }

    def to_json(self) -> dict[str, Any]:
        """The stored form: the sealed secret only. A clear one here is a bug: refused."""
        if not isinstance(self.shared_secret, SealedSecret):
            raise TypeError("The invoice endpoint's shared secret must be sealed before storing.")
        view = {k: v for k, v in self.public_view().items() if k != "shared_secret"}
        return {**view, SEALED_FIELD: self.shared_secret.ciphertext}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InvoiceDelivery:
        """Items written before secrets were sealed hold `shared_secret` in clear: read as a
        clear secret (sealed at the integration's next write, or by the backfill)."""
        sealed = data.get(SEALED_FIELD)
        return cls(
            url=data["url"],
            from_credential=_party_of(data["from"]),
            to_credential=_party_of(data["to"]),
            sender_credential=_party_of(data["sender"]),
            shared_secret=SealedSecret(str(sealed)) if sealed else str(data["shared_secret"]),
        )


SEALED_FIELD = "sealed_shared_secret"
"""The stored `invoice_delivery` key of the sealed secret (a clear one was `shared_secret`)."""


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
    tax_category: str = "sales"  # TaxDetail category: sales | vat | gst
    tax_location: str = ""  # ISO 3166 country[-region]; "" = the PO BillTo's country
    tax_exemption: str = "zeroRated"  # at a zero rate: zeroRated | exempt
    tax_exemption_reason: str = ""  # at a zero rate: why ("" = tax_description)
    buyer_tax_id: str = ""  # on the soldTo partner, when set
    remit_to_code: str = ""  # the buyer-assigned remit-to code (Coupa: remit_to_code)
    unit_mapping: UnitMapping = NO_UNIT_MAPPING  # our unit codes -> the buyer system's
    order_confirmations: bool = False  # ConfirmationRequest after each accepted PO
    created_at: str = ""
    updated_at: str = ""
    version: int = 0

    def public_view(self) -> dict[str, Any]:
        """What the admin API shows: everything but the secret digest and the invoice endpoint's
        secret (shown as "set")."""
        return {
            "id": self.id,
            "system": self.system,
            "buyer_identity": {"domain": self.buyer.domain, "identity": self.buyer.identity},
            **{name: getattr(self, name) for name in SETTINGS},
            "enabled": self.enabled,
            "invoice_delivery": self.invoice_delivery.public_view()
            if self.invoice_delivery
            else None,
            "unit_mapping": self.unit_mapping.to_json(),
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
