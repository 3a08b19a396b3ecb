"""Local only: the buyer's side of a punchout, as a page. It plays Coupa or SAP Ariba for the
demo integrations, so the storefront can be clicked through by hand and by the browser tests.
Never deployed.

    GET  /_local/simulator               the integrations, a punchout form for each
    POST /_local/simulator/suppliers     set up a supplier with the console's purchase information
    POST /_local/simulator/punchout      send a PunchOutSetupRequest, follow its StartPage (303)
    POST /_local/simulator/cart/<id>     the browser's cart return, decoded, checked and shown
    GET  /_local/simulator/carts.json    every cart received, oldest first
    GET  /_local/simulator/requisitions/<n>          a received cart and the POs sent for it
    POST /_local/simulator/requisitions/<n>/approve  the buyer company approves: OrderRequest(s)
    POST /_local/simulator/requisitions/<n>/resend   the last PO again, same document and payloadID
    POST /_local/simulator/orders/<n>/delete         cancel a sent PO (type delete, next version)
    GET  /_local/simulator/orders.json   every PO sent and the marketplace's answer, oldest first

Approving plays what the procurement system does after its approval workflow: it turns the
requisition into an OrderRequest (docs/PROTOCOL.md §6) posted to the integration's order URL
with the same credentials as the punchout. Approving a requisition that already has an
accepted, undeleted PO re-sends that PO unchanged (same payloadID), as a retransmission would:
one requisition, one purchase order.
"""

from local.simulator.buyer import BuyerState
from local.simulator.documents import order_request, setup_request
from local.simulator.model import (
    BuyerAccount,
    BuyerUser,
    CartLine,
    Punchout,
    Refused,
    accounts_from_seed,
)
from local.simulator.pages import PREFIX
from local.simulator.routes import BuyerSimulator

__all__ = [
    "PREFIX",
    "BuyerAccount",
    "BuyerSimulator",
    "BuyerState",
    "BuyerUser",
    "CartLine",
    "Punchout",
    "Refused",
    "accounts_from_seed",
    "order_request",
    "setup_request",
]
