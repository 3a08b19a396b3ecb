"""Who an invoice is from, to whom it is sold and billed, and where to pay: the
`InvoicePartner` contacts accounts payable match (docs/PROTOCOL.md §8, docs/INVOICING.md).

Pure. The marketplace's legal entity (name, tax registration, remit-to address) is deployment
configuration; the buyer-assigned remit-to code and the buyer's tax ID are integration
settings; the bill-to address is the PO's own `BillTo`, kept with the PO line's approval so the
billing run needs no extra read, and copied unchanged (Coupa matches it exactly)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

REMIT_TO = "remitTo"
BILL_TO = "billTo"
FROM = "from"
SOLD_TO = "soldTo"

TAX_ID_DOMAINS = {"vat": "vatID", "gst": "gstID", "sales": "federalTaxID"}
"""The `IdReference` domain (InvoiceDetail.dtd's list) of a tax registration, by the tax
category the integration invoices: a VAT, a GST or a (US) federal tax number."""
COUPA_TAX_PREFIX = "taxPrefix"
COUPA_TAX_NUMBER = "taxNumber"
"""Coupa compliant invoicing reads the supplier's VAT number from these two `IdReference`s on
the remit-to partner: the country prefix and the number."""


@dataclass(frozen=True)
class PartyAddress:
    """A postal address as cXML writes it. `address_id` is the buyer's code for it (the PO's
    `Address addressID`, or the remit-to code a Coupa supplier portal assigns)."""

    name: str = ""
    address_id: str = ""
    deliver_to: tuple[str, ...] = ()
    street: tuple[str, ...] = ()
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""  # ISO 3166 alpha-2
    country_name: str = ""
    email: str = ""

    @property
    def postal(self) -> bool:
        """Complete enough for a `PostalAddress` (the DTD needs Street, City and Country)."""
        return bool(self.street and self.city and self.country)


def address_of(data: Mapping[str, Any] | None) -> PartyAddress | None:
    """A PO's `BillTo` as the parser keeps it (`functions.cxml.parse`), or as stored; None
    when the PO had none."""
    if not data or not (data.get("name") or data.get("street") or data.get("address_id")):
        return None
    return PartyAddress(
        name=str(data.get("name", "")),
        address_id=str(data.get("address_id", "")),
        deliver_to=tuple(str(line) for line in data.get("deliver_to") or ()),
        street=tuple(str(line) for line in data.get("street") or ()),
        city=str(data.get("city", "")),
        state=str(data.get("state", "")),
        postal_code=str(data.get("postal_code", "")),
        country=str(data.get("country") or data.get("iso_country_code") or ""),
        country_name=str(data.get("country_name", "")),
        email=str(data.get("email", "")),
    )


@dataclass(frozen=True)
class IdReference:
    domain: str
    identifier: str


@dataclass(frozen=True)
class InvoicePartner:
    """One `InvoicePartner`: a `Contact` with a role, and the party's reference IDs."""

    role: str
    address: PartyAddress
    id_references: tuple[IdReference, ...] = ()


@dataclass(frozen=True)
class LegalEntity:
    """The marketplace operator as it invoices: legal name, tax registration number and the
    address payments go to (settings `SUPPLIER_LEGAL_NAME`, `SUPPLIER_TAX_ID`, `REMIT_TO_*`)."""

    name: str = ""
    tax_id: str = ""
    remit_to: PartyAddress | None = None


def invoice_partners(
    *,
    system: str,
    entity: LegalEntity,
    tax_category: str,
    remit_to_code: str = "",
    buyer_name: str = "",
    buyer_tax_id: str = "",
    bill_to: PartyAddress | None = None,
) -> tuple[InvoicePartner, ...]:
    """The partners of one invoice, in a fixed order: remitTo, from (us, when our legal entity
    or a remit-to code is configured), soldTo (the buyer), billTo (the PO's, when it had one).
    Tax IDs only where configured; the supplier's also as Coupa's taxPrefix/taxNumber pair on
    the remit-to partner of a Coupa integration."""
    domain = TAX_ID_DOMAINS.get(tax_category, "vatID")
    ours = (IdReference(domain, entity.tax_id),) if entity.tax_id else ()
    partners: list[InvoicePartner] = []
    where = entity.remit_to or PartyAddress()
    if entity.name or remit_to_code:
        remit_ids = ours
        if system == "coupa" and entity.tax_id and where.country:
            remit_ids = (
                IdReference(COUPA_TAX_PREFIX, where.country),
                IdReference(COUPA_TAX_NUMBER, entity.tax_id),
                *ours,
            )
        partners.append(
            InvoicePartner(
                REMIT_TO,
                replace(where, name=entity.name or where.name, address_id=remit_to_code),
                remit_ids,
            )
        )
    if entity.name:
        partners.append(InvoicePartner(FROM, replace(where, name=entity.name, address_id=""), ours))
    sold_to_name = buyer_name or (bill_to.name if bill_to else "")
    if sold_to_name:
        theirs = (IdReference(domain, buyer_tax_id),) if buyer_tax_id else ()
        partners.append(InvoicePartner(SOLD_TO, PartyAddress(name=sold_to_name), theirs))
    if bill_to is not None:
        partners.append(InvoicePartner(BILL_TO, bill_to))
    return tuple(partners)
