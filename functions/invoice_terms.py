"""What an invoice learns when it is issued: the integration's tax rule and the invoice
partners (the marketplace's legal entity, the buyer, the PO's bill-to). Pure; the billing run
applies it to every invoice it issues, so each kind (usage, contract, and what later parts
add) carries the same tax and parties (docs/INVOICING.md "Tax and parties")."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from functions.billing import Invoice
from functions.config import Settings
from functions.integrations import Integration
from functions.parties import LegalEntity, PartyAddress, invoice_partners
from functions.taxes import TaxRule


def legal_entity(config: Settings) -> LegalEntity:
    """The marketplace's legal entity from the deployment's settings."""
    street, city, state, postal_code, country = config.remit_to
    remit_to = (
        PartyAddress(
            name=config.supplier_legal_name,
            street=tuple(line.strip() for line in street.split("|") if line.strip()),
            city=city,
            state=state,
            postal_code=postal_code,
            country=country,
        )
        if street
        else None
    )
    return LegalEntity(config.supplier_legal_name, config.supplier_tax_id, remit_to)


def tax_rule(integration: Integration, bill_to: PartyAddress | None) -> TaxRule:
    """The integration's rule; its location, when not set, is the country of the PO's BillTo
    (where the buyer is billed), else none (TaxLocation is then left out)."""
    return TaxRule(
        rate=Decimal(integration.tax_rate),
        category=integration.tax_category,
        description=integration.tax_description,
        location=integration.tax_location or (bill_to.country if bill_to else ""),
        exemption=integration.tax_exemption,
        exemption_reason=integration.tax_exemption_reason,
    )


def with_terms(invoice: Invoice, integration: Integration, entity: LegalEntity) -> Invoice:
    """The invoice with its tax rule and partners set. The buyer (soldTo) is named as the PO
    bills it, else by the integration's name."""
    bill_to = invoice.bill_to
    return replace(
        invoice,
        tax_rule=tax_rule(integration, bill_to),
        partners=invoice_partners(
            system=integration.system,
            entity=entity,
            tax_category=integration.tax_category,
            remit_to_code=integration.remit_to_code,
            buyer_name=(bill_to.name if bill_to and bill_to.name else integration.name),
            buyer_tax_id=integration.buyer_tax_id,
            bill_to=bill_to,
        ),
    )
