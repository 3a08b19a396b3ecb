"""Purchase orders as Coupa and Ariba send them, built from the cart the browser returned, and
the stored state a test reads back after one."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Sequence
from typing import Any

from tests.storefront_support import cart_of, post_form, punch_out
from tests.support import ARIBA_SECRET, post_cxml

_PAYLOADS = itertools.count(1)
BUYER = ("DUNS", "acme-coupa")
"""The buyer credential of `tests.support.coupa_integration()`."""


def buyer_header(buyer: tuple[str, str], secret: str, sender: str = "buyer") -> str:
    """The cXML Header of a document the buyer's system sends us: From the buyer, To us,
    Sender with the shared secret."""
    return f"""<Header><From><Credential domain="{buyer[0]}"><Identity>{buyer[1]}</Identity></Credential></From>
<To><Credential domain="NetworkID"><Identity>procurement-gateway</Identity></Credential></To>
<Sender><Credential domain="NetworkID"><Identity>{sender}</Identity>
<SharedSecret>{secret}</SharedSecret></Credential><UserAgent>Coupa Procurement 1.0</UserAgent>
</Sender></Header>"""


def order_request(
    lines: Sequence[Any],
    *,
    buyer: tuple[str, str],
    secret: str,
    order_id: str = "PO-1001",
    order_type: str = "new",
    version: int = 1,
    payload_id: str | None = None,
    sender: str = "buyer",
    deployment_mode: str = "production",
    quantities: dict[int, str] | None = None,
    prices: dict[int, str] | None = None,
    line_numbers: Sequence[int] | None = None,
) -> str:
    """An OrderRequest whose ItemOut echo the cart's ItemIn (aux IDs, prices), with Coupa's
    extras: BillTo, ShipTo, Extrinsics, Accounting segments, UNSPSC 'unknown'."""
    payload = payload_id or f"{next(_PAYLOADS)}.4242.po@coupahost.example"
    numbers = list(line_numbers or range(1, len(lines) + 1))
    items = []
    for index, (number, line) in enumerate(zip(numbers, lines, strict=True)):
        quantity = (quantities or {}).get(index, line.get("quantity"))
        money = line.find("ItemDetail/UnitPrice/Money")
        price = (prices or {}).get(index, money.text)
        items.append(
            f'<ItemOut quantity="{quantity}" lineNumber="{number}"><ItemID>'
            f"<SupplierPartID>{line.findtext('ItemID/SupplierPartID')}</SupplierPartID>"
            "<SupplierPartAuxiliaryID>"
            f"{line.findtext('ItemID/SupplierPartAuxiliaryID')}</SupplierPartAuxiliaryID>"
            f'</ItemID><ItemDetail><UnitPrice><Money currency="{money.get("currency")}">{price}'
            '</Money></UnitPrice><Description xml:lang="en">'
            f"{line.findtext('ItemDetail/Description/ShortName')}</Description>"
            f"<UnitOfMeasure>{line.findtext('ItemDetail/UnitOfMeasure')}</UnitOfMeasure>"
            '<Classification domain="UNSPSC">unknown</Classification>'
            '<Extrinsic name="LineType">Quantity</Extrinsic></ItemDetail>'
            '<Distribution><Accounting name="IT Software"><Segment type="Cost Center" id="CC-42" '
            'description="Platform"/></Accounting><Charge><Money currency="USD">1.00</Money>'
            "</Charge></Distribution></ItemOut>"
        )
    version_attr = f' orderVersion="{version}"' if version != 1 else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">
<cXML payloadID="{payload}" timestamp="2026-11-26T12:00:00+00:00" xml:lang="en-US">
{buyer_header(buyer, secret, sender)}
<Request deploymentMode="{deployment_mode}"><OrderRequest>
<OrderRequestHeader orderID="{order_id}" orderDate="2026-11-26T12:00:00+00:00" type="{order_type}"{version_attr}>
<Total><Money currency="USD">0.00</Money></Total>
<ShipTo><Address addressID="HQ"><Name xml:lang="en">Acme HQ</Name><PostalAddress>
<Street>1 Main St</Street><City>Springfield</City><Country isoCountryCode="US">US</Country>
</PostalAddress></Address></ShipTo>
<BillTo><Address addressID="AP-1" isoCountryCode="US"><Name xml:lang="en">Acme Accounts Payable</Name>
<PostalAddress><DeliverTo>AP</DeliverTo><Street>2 Ledger Rd</Street><City>Springfield</City>
<State>IL</State><PostalCode>62701</PostalCode><Country isoCountryCode="US">US</Country>
</PostalAddress><Email name="default">ap@acme.example</Email></Address></BillTo>
<Extrinsic name="CostCenter">CC-42</Extrinsic>
</OrderRequestHeader>
{"".join(items)}
</OrderRequest></Request></cXML>"""


def post_order(api: Any, document: str) -> Any:
    return post_cxml(api, document, path="/cxml/orders")


def po_from(integration: dict[str, Any], lines: Sequence[Any], **kw: Any) -> str:
    """An OrderRequest from the integration's buyer with its shared secret (as the admin API
    returned it on creation); `kw` as `order_request` takes them (an Ariba PO names the
    marketplace's `secret` and Ariba's `sender`)."""
    info = integration["purchase_information"]
    kw.setdefault("buyer", (info["buyer_domain"], info["buyer_identity"]))
    if "secret" not in kw:  # an Ariba integration has none of its own
        kw["secret"] = info["shared_secret"]
    return order_request(lines, **kw)


def post_accepted_po(
    api: Any, integration: dict[str, Any], lines: Sequence[Any], **kw: Any
) -> None:
    """`po_from` posted to the order URL, which must accept it (200)."""
    answer = post_order(api, po_from(integration, lines, **kw))
    assert answer.code == 200, answer.message


coupa_po = po_from
"""The name the PO tests of `coupa_integration()` use."""


def ariba_po(integration: dict[str, Any], lines: Sequence[Any], **kw: Any) -> str:
    """An OrderRequest as Ariba posts it through the network: the marketplace's Ariba secret,
    Ariba's sender."""
    return po_from(integration, lines, secret=ARIBA_SECRET, sender="sysadmin@ariba.com", **kw)


DATASTREAM_ANNUAL = {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "1000"}
"""Request approval of DataStream Pro, annual with 1,000 hours estimated."""


def request_approval(
    api: Any, integration: dict[str, Any], form: dict[str, str] | None = None, **punch: Any
) -> Any:
    """The buyer punches out and asks for approval (`form`: what to request): the cart
    returned to the procurement system (its DTD checked)."""
    session = punch_out(api, integration, **punch)
    return cart_of(post_form(api, f"{session}/requests", form or DATASTREAM_ANNUAL))


def subscribe(api: Any, integration: dict[str, Any], **po: Any) -> tuple[Any, str]:
    """Punchout, Request approval of DataStream Pro (annual, 1,000 hours estimated), and the
    PO approving both lines: the cart lines and the integration's secret (to post more POs)."""
    cart = request_approval(api, integration)
    answer = post_order(api, po_from(integration, cart.lines, **po))
    assert answer.code == 200, answer.message
    return cart.lines, integration["purchase_information"]["shared_secret"]


def item_out(cart: Any) -> str:
    """The cart lines as a procurement system sends them back in an edit/inspect setup."""
    return "".join(
        f'<ItemOut quantity="{line.get("quantity")}" lineNumber="{n}"><ItemID>'
        f"<SupplierPartID>{line.findtext('ItemID/SupplierPartID')}</SupplierPartID>"
        f"<SupplierPartAuxiliaryID>{line.findtext('ItemID/SupplierPartAuxiliaryID')}"
        "</SupplierPartAuxiliaryID></ItemID><ItemDetail><UnitPrice><Money currency="
        f'"USD">{line.findtext("ItemDetail/UnitPrice/Money")}</Money></UnitPrice>'
        '<Description xml:lang="en">x</Description><UnitOfMeasure>EA</UnitOfMeasure>'
        '<Classification domain="UNSPSC">unknown</Classification></ItemDetail></ItemOut>'
        for n, line in enumerate(cart.lines, start=1)
    )


def table_items(tables: dict[str, Any], table: str) -> list[dict[str, Any]]:
    """Every item of a local table (`requests`, `subscriptions`, `orders`, `outbox`...)."""
    return tables["dynamodb"].scan(TableName=f"local-{table}")["Items"]


def only_subscription(tables: dict[str, Any]) -> dict[str, Any]:
    """The stored document of the one subscription there is (fails if there are more)."""
    (item,) = table_items(tables, "subscriptions")
    document: dict[str, Any] = json.loads(item["document"]["S"])
    return document


def with_distributions(document: str, per_line: int = 20, segments: int = 5,
                       description_chars: int = 4400) -> str:  # fmt: skip
    """The PO with `per_line` more Distributions on each line, each with `segments`
    Accounting segments whose descriptions are long and varied (they compress no better than
    real text): how a real ERP makes a 900 KB PO."""
    counter = itertools.count()

    def description() -> str:
        count = description_chars // 13 + 1
        words = [hashlib.sha256(str(next(counter)).encode()).hexdigest()[:12] for _ in range(count)]
        return " ".join(words)[:description_chars]

    def distribution() -> str:
        segment = "".join(
            f'<Segment type="Segment {n}" id="SEG-{n}" description="{description()}"/>'
            for n in range(segments)
        )
        return (
            f'<Distribution><Accounting name="Allocation">{segment}</Accounting>'
            '<Charge><Money currency="USD">1.00</Money></Charge></Distribution>'
        )

    parts = document.split("</Charge></Distribution></ItemOut>")
    extra = ["</Charge></Distribution>" + "".join(distribution() for _ in range(per_line))
             + "</ItemOut>" for _ in parts[1:]]  # fmt: skip
    return parts[0] + "".join(e + p for e, p in zip(extra, parts[1:], strict=True))


_PAYLOADS = itertools.count(1)


def status_update(
    *,
    buyer: tuple[str, str],
    secret: str,
    invoice_id: str | None = None,
    status: str = "rejected",
    comments: str = "Price does not match the PO line",
    payload_id: str | None = None,
    body: str | None = None,
    sender: str = "buyer",
) -> str:
    """A StatusUpdateRequest as Coupa or SAP Business Network sends it about our invoice."""
    payload = payload_id or f"{next(_PAYLOADS)}.77.status@buyer.example"
    content = body or (
        f'<Status code="200" text="OK" xml:lang="en-US">Invoice {status}</Status>'
        f'<InvoiceStatus type="{status}"><InvoiceIDInfo invoiceID="{invoice_id}"/>'
        f'<Comments xml:lang="en-US">{comments}</Comments></InvoiceStatus>'
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.050/cXML.dtd">
<cXML payloadID="{payload}" timestamp="2026-12-03T09:00:00-08:00" xml:lang="en-US">
{buyer_header(buyer, secret, sender)}
<Request><StatusUpdateRequest>{content}</StatusUpdateRequest></Request></cXML>"""


def post_status(api: Any, document: str) -> Any:
    """A StatusUpdateRequest is posted to the order URL."""
    return post_cxml(api, document, path="/cxml/orders")
