"""SAP Business Network: where, and as whom, an Ariba integration's invoices are posted.

Ariba buyers take invoices through the network, not at their own instance: the document goes to
the network's cXML endpoint (one URL, a marketplace setting), From = our supplier ANID, To = the
buyer's ANID (the integration's buyer identity), Sender = our supplier ANID with the
marketplace's Ariba shared secret (docs/PROTOCOL.md §8). Nothing here is per integration but the
buyer's ANID, so the endpoint is derived at each send, the secret read only then.

Plain Python: the secret arrives through a callable (Secrets Manager when deployed, the
environment locally: `functions.store.secrets.AribaSecret`), read only when an Ariba invoice is
actually sent. A missing ANID or secret is a configuration gap, not a failure of the invoice:
`NotConfigured` says what to set, and the invoice stays `stored` (`functions.delivery`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from functions.cxml.model import Credential
from functions.integrations import Integration, InvoiceDelivery

NETWORK_DOMAIN = "NetworkID"
"""The credential domain of ANIDs on SAP Business Network."""


class NotConfigured(Exception):
    """The marketplace lacks what the network needs to take an invoice from us: the message
    says which setting (never a secret's value)."""


@dataclass(frozen=True)
class BusinessNetwork:
    """The marketplace's SAP Business Network account."""

    url: str
    supplier_anid: str | None
    shared_secret: Callable[[], str | None]

    def endpoint_for(self, integration: Integration) -> InvoiceDelivery:
        """The endpoint and credentials an invoice to `integration`'s buyer is posted with,
        its secret in clear (for this one send). Raises NotConfigured."""
        if not self.supplier_anid:
            raise NotConfigured(
                "Not sent to SAP Business Network: the marketplace's supplier ANID is not "
                "configured (ARIBA_SUPPLIER_ANID). Set it, then deliver the invoice again."
            )
        secret = self.shared_secret()
        if not secret:
            raise NotConfigured(
                "Not sent to SAP Business Network: the marketplace's Ariba shared secret is not "
                "configured (the Ariba secret in Secrets Manager, or ARIBA_SHARED_SECRET "
                "locally). Set it, then deliver the invoice again."
            )
        us = Credential(NETWORK_DOMAIN, self.supplier_anid)
        buyer = Credential(NETWORK_DOMAIN, integration.buyer.identity)
        return InvoiceDelivery(self.url, us, buyer, us, secret)
