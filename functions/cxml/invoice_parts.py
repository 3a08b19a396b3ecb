"""The parts of an InvoiceDetailRequest that say tax and parties: `Tax` with its `TaxDetail`,
and `InvoicePartner` contacts (docs/PROTOCOL.md §8). Built, never parsed; child order and
attributes as InvoiceDetail.dtd 1.2.071 fixes them:

- `Tax (Money, Description, TaxDetail*)`; `TaxDetail (TaxableAmount?, TaxAmount, TaxLocation?,
  Description?)` with `purpose`, `category` (required), `percentageRate`, `exemptDetail`
  (`zeroRated` | `exempt`); `TaxLocation` and `Description` carry `xml:lang`.
- `InvoicePartner (Contact, IdReference*)`; `Contact (Name, PostalAddress*, Email*...)` with
  `role` and `addressID`; `PostalAddress (DeliverTo*, Street+, City, State?, PostalCode?,
  Country)`; `IdReference` with `domain` and `identifier`.

The values are the domain's (`functions.taxes`, `functions.parties`), seen here through
Protocols so the protocol package imports no domain module."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol
from xml.etree.ElementTree import Element, SubElement

from functions.money import format_money

_XML_LANG = "xml:lang"
LANG = "en"


class TaxRuleLike(Protocol):
    @property
    def category(self) -> str: ...
    @property
    def percentage_rate(self) -> str: ...
    @property
    def location(self) -> str: ...
    @property
    def exempt(self) -> bool: ...
    @property
    def exemption(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def detail_description(self) -> str: ...


class TaxDetailLike(Protocol):
    @property
    def taxable(self) -> Decimal: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def rule(self) -> TaxRuleLike: ...


class AddressLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def address_id(self) -> str: ...
    @property
    def deliver_to(self) -> tuple[str, ...]: ...
    @property
    def street(self) -> tuple[str, ...]: ...
    @property
    def city(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def postal_code(self) -> str: ...
    @property
    def country(self) -> str: ...
    @property
    def country_name(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def postal(self) -> bool: ...


class IdReferenceLike(Protocol):
    @property
    def domain(self) -> str: ...
    @property
    def identifier(self) -> str: ...


class PartnerLike(Protocol):
    @property
    def role(self) -> str: ...
    @property
    def address(self) -> AddressLike: ...
    @property
    def id_references(self) -> Sequence[IdReferenceLike]: ...


def _money(parent: Element, tag: str, amount: Decimal, currency: str) -> None:
    SubElement(SubElement(parent, tag), "Money", {"currency": currency}).text = format_money(amount)


def tax(parent: Element, detail: TaxDetailLike, currency: str) -> Element:
    """`Tax` with one `TaxDetail`: the tax of a line, or the invoice's total in the summary."""
    rule = detail.rule
    element = SubElement(parent, "Tax")
    SubElement(element, "Money", {"currency": currency}).text = format_money(detail.amount)
    SubElement(element, "Description", {_XML_LANG: LANG}).text = rule.description
    attributes = {"purpose": "tax", "category": rule.category,
                  "percentageRate": rule.percentage_rate}  # fmt: skip
    if rule.exempt:
        attributes["exemptDetail"] = rule.exemption
    tax_detail = SubElement(element, "TaxDetail", attributes)
    _money(tax_detail, "TaxableAmount", detail.taxable, currency)
    _money(tax_detail, "TaxAmount", detail.amount, currency)
    if rule.location:
        SubElement(tax_detail, "TaxLocation", {_XML_LANG: LANG}).text = rule.location
    SubElement(tax_detail, "Description", {_XML_LANG: LANG}).text = rule.detail_description
    return element


def partner(parent: Element, value: PartnerLike) -> Element:
    """One `InvoicePartner`; the `PostalAddress` only when complete (the DTD needs Street,
    City and Country), the `addressID` only when the buyer assigned one."""
    address = value.address
    element = SubElement(parent, "InvoicePartner")
    contact = SubElement(element, "Contact", {"role": value.role})
    if address.address_id:
        contact.set("addressID", address.address_id)
    SubElement(contact, "Name", {_XML_LANG: LANG}).text = address.name
    if address.postal:
        postal = SubElement(contact, "PostalAddress")
        for line in address.deliver_to:
            SubElement(postal, "DeliverTo").text = line
        for line in address.street:
            SubElement(postal, "Street").text = line
        SubElement(postal, "City").text = address.city
        if address.state:
            SubElement(postal, "State").text = address.state
        if address.postal_code:
            SubElement(postal, "PostalCode").text = address.postal_code
        country = SubElement(postal, "Country", {"isoCountryCode": address.country})
        country.text = address.country_name or address.country
    if address.email:
        SubElement(contact, "Email").text = address.email
    for reference in value.id_references:
        SubElement(element, "IdReference",
                   {"identifier": reference.identifier, "domain": reference.domain})  # fmt: skip
    return element
