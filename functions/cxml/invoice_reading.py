"""Reading back our own stored InvoiceDetailRequests for people: the parties as the document
names them, its payment terms, and the document as a buyer may download it (no credentials).

The tree comes from `parse.parse_invoice_document` (the one hardened parser); this module only
walks it. The money is not read here: the invoice's JSON summary holds it as invoiced."""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element

from functions.cxml.build import serialize
from functions.cxml.parse import CREDENTIAL_ELEMENTS, parse_invoice_document

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True)
class DocumentParty:
    """One `InvoicePartner` as the document names it: role, name, postal lines, reference ids
    (a VAT number, the buyer's remit-to code...)."""

    role: str
    name: str
    address_id: str
    address_lines: tuple[str, ...]
    email: str
    references: tuple[tuple[str, str], ...]  # (domain, identifier)


@dataclass(frozen=True)
class PaymentTerm:
    """`PaymentTerm payInNumberOfDays` with its optional early-payment discount."""

    days: int
    discount_percent: str = ""


def _text(element: Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _address_lines(contact: Element) -> tuple[str, ...]:
    postal = contact.find("PostalAddress")
    if postal is None:
        return ()
    lines = [_text(e) for e in postal.findall("DeliverTo")]
    lines += [_text(e) for e in postal.findall("Street")]
    town = " ".join(
        part for part in (_text(postal.find(t)) for t in ("City", "State", "PostalCode")) if part
    )
    lines += [town, _text(postal.find("Country"))]
    return tuple(line for line in lines if line)


def document_parties(root: Element) -> tuple[DocumentParty, ...]:
    """The header's invoice partners, in the document's order."""
    parties = []
    for partner in root.iterfind("Request/InvoiceDetailRequest/InvoiceDetailRequestHeader/"
                                 "InvoicePartner"):  # fmt: skip
        contact = partner.find("Contact")
        if contact is None:
            continue
        parties.append(
            DocumentParty(
                role=contact.get("role", ""),
                name=_text(contact.find("Name")),
                address_id=contact.get("addressID", ""),
                address_lines=_address_lines(contact),
                email=_text(contact.find("Email")),
                references=tuple(
                    (ref.get("domain", ""), ref.get("identifier", ""))
                    for ref in partner.findall("IdReference")
                ),
            )
        )
    return tuple(parties)


def payment_terms(root: Element) -> tuple[PaymentTerm, ...]:
    """The header's `PaymentTerm`s, when the document states any."""
    terms = []
    for term in root.iterfind("Request/InvoiceDetailRequest/InvoiceDetailRequestHeader/"
                              "PaymentTerm"):  # fmt: skip
        days = term.get("payInNumberOfDays", "")
        if not days.isdigit():
            continue
        discount = term.find("Discount/DiscountPercent")
        terms.append(PaymentTerm(int(days), discount.get("percent", "") if discount is not None
                                 else ""))  # fmt: skip
    return tuple(terms)


def downloadable(document: bytes) -> bytes:
    """The stored document as its buyer may download it: unchanged when it holds no
    credential; otherwise every SharedSecret, CredentialMac and DigitalSignature is dropped
    (the DTD makes them optional in a `Credential`) and the document re-serialized with its
    DOCTYPE, so it still validates. Documents stored since the billing run never held one
    (the sender adds the secret on the way out); older or hand-made ones might."""
    root = parse_invoice_document(document)
    found = False
    for credential in root.iter("Credential"):
        for child in list(credential):
            if child.tag in CREDENTIAL_ELEMENTS:
                credential.remove(child)
                found = True
    for element in root.iter():
        if element.tag in CREDENTIAL_ELEMENTS:  # anywhere else (never where the DTD allows)
            element.clear()
            found = True
    return serialize(root, "InvoiceDetail.dtd") if found else document
