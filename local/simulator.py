"""Local only: the buyer's side of a punchout, as a page. It plays Coupa or SAP Ariba for the
demo integrations, so the storefront can be clicked through by hand and by the browser tests.
Never deployed.

    GET  /_local/simulator               the integrations, a punchout form for each
    POST /_local/simulator/punchout      send a PunchOutSetupRequest, follow its StartPage (303)
    POST /_local/simulator/cart/<id>     the browser's cart return, decoded, checked and shown
    GET  /_local/simulator/carts.json    every cart received, oldest first
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from jinja2 import DictLoader, Environment, StrictUndefined

from local.stack import HttpAnswer, LocalApi

PREFIX = "/_local/simulator"
PUNCHOUT_PATH = "/cxml/punchout"
XML_CONTENT_TYPE = "text/xml; charset=utf-8"
CART_FIELDS = ("cxml-base64", "cxml-urlencoded")
OPERATIONS = ("create", "edit", "inspect")
ARIBA_SENDER = "sysadmin@ariba.com"
DEMO_USERS = {
    "coupa": ("Peter", "Gibbons", "peter.gibbons@initech.example"),
    "ariba": ("Hank", "Scorpio", "hank.scorpio@globex.example"),
}
SYSTEM_LABELS = {"coupa": "Coupa", "ariba": "SAP Ariba"}
_CART_PATH = re.compile(rf"^{PREFIX}/cart/(?P<id>[A-Za-z0-9_-]{{1,64}})$")


@dataclass(frozen=True)
class BuyerAccount:
    """One seeded integration, as the procurement system is configured for it."""

    id: str
    name: str
    system: str
    buyer_domain: str
    buyer_identity: str
    supplier_domain: str
    supplier_identity: str
    shared_secret: str  # Coupa: the integration's own; Ariba: the marketplace's Ariba secret

    @property
    def label(self) -> str:
        return SYSTEM_LABELS.get(self.system, self.system)


@dataclass(frozen=True)
class BuyerUser:
    first_name: str
    last_name: str
    email: str


@dataclass(frozen=True)
class Punchout:
    """What one PunchOutSetupRequest sent: the cart that comes back must echo its cookie."""

    id: str
    account: BuyerAccount
    operation: str
    buyer_cookie: str
    user: BuyerUser


@dataclass(frozen=True)
class CartLine:
    """One ItemIn, every value as the document spelled it."""

    supplier_part_id: str
    supplier_part_auxiliary_id: str
    quantity: str
    unit_price: str
    currency: str
    unit_of_measure: str
    unspsc: str
    description: str
    short_name: str


@dataclass(frozen=True)
class OrderMessage:
    """What a PunchOutOrderMessage says: a missing Status means 200 (a cart to import)."""

    buyer_cookie: str
    status_code: int
    status_text: str
    status_message: str
    operation_allowed: str
    total: str
    currency: str
    lines: tuple[CartLine, ...]


@dataclass(frozen=True)
class ReceivedCart:
    index: int
    punchout: Punchout
    field: str
    document: str
    order: OrderMessage

    def as_json(self) -> dict[str, Any]:
        """Flat, for tests; never the shared secret."""
        return {
            "index": self.index,
            "punchout_id": self.punchout.id,
            "integration_id": self.punchout.account.id,
            "integration": self.punchout.account.name,
            "system": self.punchout.account.system,
            "operation": self.punchout.operation,
            "sent_buyer_cookie": self.punchout.buyer_cookie,
            "field": self.field,
            **asdict(self.order),
            "document": self.document,
        }


class Refused(Exception):
    """Something the buyer's system would reject; the message says what."""


def accounts_from_seed(
    seeded: Sequence[Mapping[str, Any]], ariba_secret: str
) -> tuple[BuyerAccount, ...]:
    """The seed's return value (with Coupa's secret) plus the marketplace Ariba secret."""
    accounts = []
    for integration in seeded:
        info = integration["purchase_information"]
        secret = ariba_secret if integration["system"] == "ariba" else info["shared_secret"]
        accounts.append(
            BuyerAccount(
                id=integration["id"],
                name=integration["name"],
                system=integration["system"],
                buyer_domain=info["buyer_domain"],
                buyer_identity=info["buyer_identity"],
                supplier_domain=info["supplier_domain"],
                supplier_identity=info["supplier_identity"],
                shared_secret=secret,
            )
        )
    return tuple(accounts)


# --- the documents ---------------------------------------------------------------------------


def _credential(parent: Element, domain: str, identity: str, secret: str | None = None) -> None:
    credential = SubElement(parent, "Credential", {"domain": domain})
    SubElement(credential, "Identity").text = identity
    if secret is not None:
        SubElement(credential, "SharedSecret").text = secret


def setup_request(
    punchout: Punchout,
    form_post_url: str,
    selected_item: str = "",
    items: Sequence[CartLine] = (),
) -> bytes:
    """A PunchOutSetupRequest as the system sends it. Coupa: From and Sender are the buyer,
    with the integration's secret. Ariba Network: From is the buyer's ANID (beside another
    credential), Sender is Ariba itself with the supplier's Ariba secret (PROTOCOL.md §4)."""
    account, user = punchout.account, punchout.user
    root = Element(
        "cXML",
        {
            "payloadID": f"{secrets.token_hex(8)}@{account.system}.simulator.local",
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "xml:lang": "en-US",
        },
    )
    header = SubElement(root, "Header")
    sender = Element("Sender")
    if account.system == "ariba":
        from_ = SubElement(header, "From")
        _credential(from_, "PrivateID", "globex-purchasing")
        _credential(from_, account.buyer_domain, account.buyer_identity)
        _credential(sender, "AribaNetworkUserId", ARIBA_SENDER, account.shared_secret)
        user_agent = "Ariba Network 1.0 (buyer simulator)"
    else:
        _credential(SubElement(header, "From"), account.buyer_domain, account.buyer_identity)
        _credential(sender, account.buyer_domain, account.buyer_identity, account.shared_secret)
        user_agent = "Coupa Procurement 1.0 (buyer simulator)"
    _credential(SubElement(header, "To"), account.supplier_domain, account.supplier_identity)
    SubElement(sender, "UserAgent").text = user_agent
    header.append(sender)

    request = SubElement(
        SubElement(root, "Request", {"deploymentMode": "test"}),
        "PunchOutSetupRequest",
        {"operation": punchout.operation},
    )
    SubElement(request, "BuyerCookie").text = punchout.buyer_cookie
    full_name = f"{user.first_name} {user.last_name}".strip()
    if account.system == "ariba":
        extrinsics = {"UniqueName": user.email.split("@")[0], "UserEmail": user.email,
                      "CostCenter": "CC-4100"}  # fmt: skip
    else:
        extrinsics = {"FirstName": user.first_name, "LastName": user.last_name,
                      "UniqueName": user.email, "UserEmail": user.email, "User": user.email,
                      "BusinessUnit": "IT"}  # fmt: skip
    for name, value in extrinsics.items():
        SubElement(request, "Extrinsic", {"name": name}).text = value
    SubElement(SubElement(request, "BrowserFormPost"), "URL").text = form_post_url
    contact = SubElement(request, "Contact", {"role": "endUser"})
    SubElement(contact, "Name", {"xml:lang": "en-US"}).text = full_name or user.email
    SubElement(contact, "Email").text = user.email
    if selected_item:
        item_id = SubElement(SubElement(request, "SelectedItem"), "ItemID")
        SubElement(item_id, "SupplierPartID").text = selected_item
    for number, line in enumerate(items, start=1):
        _item_out(request, number, line)
    body = tostring(root, encoding="unicode")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">\n'
        f"{body}"
    ).encode()


def _item_out(request: Element, number: int, line: CartLine) -> None:
    """A line of the requisition, sent back on edit/inspect as the cart had it."""
    item = SubElement(request, "ItemOut", {"quantity": line.quantity, "lineNumber": str(number)})
    item_id = SubElement(item, "ItemID")
    SubElement(item_id, "SupplierPartID").text = line.supplier_part_id
    if line.supplier_part_auxiliary_id:
        SubElement(item_id, "SupplierPartAuxiliaryID").text = line.supplier_part_auxiliary_id
    detail = SubElement(item, "ItemDetail")
    price = SubElement(SubElement(detail, "UnitPrice"), "Money", {"currency": line.currency})
    price.text = line.unit_price
    description = SubElement(detail, "Description", {"xml:lang": "en"})
    description.text = line.description
    SubElement(description, "ShortName").text = line.short_name
    SubElement(detail, "UnitOfMeasure").text = line.unit_of_measure
    SubElement(detail, "Classification", {"domain": "UNSPSC"}).text = line.unspsc


def start_page_of(answer: HttpAnswer) -> str:
    """The StartPage URL of a PunchOutSetupResponse; Refused with the cXML status otherwise."""
    try:
        root = fromstring(answer.body, forbid_dtd=False)
    except (ParseError, DefusedXmlException) as exc:
        raise Refused(f"The punchout answer is not cXML (HTTP {answer.status}): {exc}") from exc
    status = root.find("Response/Status")
    url = (root.findtext("Response/PunchOutSetupResponse/StartPage/URL") or "").strip()
    if status is None or status.get("code") != "200" or not url:
        code = status.get("code") if status is not None else "?"
        text = (status.text or status.get("text", "")) if status is not None else ""
        raise Refused(f"The marketplace refused the punchout: cXML {code} {text.strip()}")
    return url


def decode_cart(fields: Mapping[str, list[str]]) -> tuple[str, bytes]:
    """The posted field's name and the cXML document it carries."""
    for name in CART_FIELDS:
        if name in fields:
            value = fields[name][0]
            if name == "cxml-urlencoded":
                return name, value.encode("utf-8")
            try:
                return name, base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise Refused("The cxml-base64 field is not valid base64.") from exc
    raise Refused(f"The form has none of the fields {', '.join(CART_FIELDS)}.")


def _money(element: Element | None) -> tuple[str, str]:
    money = element.find("Money") if element is not None else None
    if money is None:
        return "", ""
    return (money.text or "").strip(), money.get("currency", "")


def _item_in(item: Element) -> CartLine:
    description = item.find("ItemDetail/Description")
    price, currency = _money(item.find("ItemDetail/UnitPrice"))
    return CartLine(
        supplier_part_id=item.findtext("ItemID/SupplierPartID") or "",
        supplier_part_auxiliary_id=item.findtext("ItemID/SupplierPartAuxiliaryID") or "",
        quantity=item.get("quantity", ""),
        unit_price=price,
        currency=currency,
        unit_of_measure=item.findtext("ItemDetail/UnitOfMeasure") or "",
        unspsc=item.findtext("ItemDetail/Classification[@domain='UNSPSC']") or "",
        description=(description.text or "") if description is not None else "",
        short_name=item.findtext("ItemDetail/Description/ShortName") or "",
    )


def parse_cart(document: bytes) -> OrderMessage:
    try:
        root = fromstring(document, forbid_dtd=False)
    except (ParseError, DefusedXmlException) as exc:
        raise Refused(f"The cart is not a well-formed cXML document: {exc}") from exc
    order = root.find("Message/PunchOutOrderMessage")
    header = root.find("Message/PunchOutOrderMessage/PunchOutOrderMessageHeader")
    if order is None or header is None:
        raise Refused("The document has no PunchOutOrderMessage with a header.")
    status = root.find("Message/Status")
    total, currency = _money(header.find("Total"))
    return OrderMessage(
        buyer_cookie=order.findtext("BuyerCookie") or "",
        status_code=int(status.get("code", "0")) if status is not None else 200,
        status_text=status.get("text", "") if status is not None else "OK",
        status_message=(status.text or "").strip() if status is not None else "",
        operation_allowed=header.get("operationAllowed", ""),
        total=total,
        currency=currency,
        lines=tuple(_item_in(item) for item in order.findall("ItemIn")),
    )


# --- the simulator ---------------------------------------------------------------------------


@dataclass
class BuyerSimulator:
    """Punchouts sent (by id, in the BrowserFormPost URL) and carts received, in memory."""

    api: LocalApi
    base_url: str
    accounts: tuple[BuyerAccount, ...]
    punchouts: dict[str, Punchout] = field(default_factory=dict)
    carts: list[ReceivedCart] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, method: str, path: str, body: bytes) -> HttpAnswer:
        try:
            if method == "GET" and path.rstrip("/") == PREFIX:
                return self.index()
            if method == "GET" and path == f"{PREFIX}/carts.json":
                with self.lock:
                    carts = [cart.as_json() for cart in self.carts]
                return HttpAnswer(200, _headers("application/json"), json.dumps(carts).encode())
            if method == "POST" and path == f"{PREFIX}/punchout":
                return self.punch_out(_form(body))
            found = _CART_PATH.match(path)
            if method == "POST" and found:
                return self.receive_cart(found.group("id"), _form(body))
            return _html(404, "message.html", title="Not found", message="No simulator page here.")
        except Refused as problem:
            return _html(400, "message.html", title="Refused", message=str(problem))

    def index(self) -> HttpAnswer:
        with self.lock:
            received = len(self.carts)
        return _html(200, "index.html", title="Buyer simulator", accounts=self.accounts,
                     demo_users=DEMO_USERS, received=received)  # fmt: skip

    def punch_out(self, form: Mapping[str, list[str]]) -> HttpAnswer:
        """Send a PunchOutSetupRequest (in-process, as Coupa's server would over HTTP) and
        send the browser to the StartPage it answers."""

        def value(name: str) -> str:
            return (form.get(name) or [""])[0].strip()

        account = next((a for a in self.accounts if a.id == value("integration")), None)
        operation = value("operation") or "create"
        if account is None or operation not in OPERATIONS:
            raise Refused("Choose one of the listed integrations, and create, edit or inspect.")
        items: tuple[CartLine, ...] = ()
        if value("cart"):
            with self.lock:
                cart = next((c for c in self.carts if str(c.index) == value("cart")), None)
            if cart is None:
                raise Refused(f"No cart #{value('cart')} was received.")
            items = cart.order.lines
        punchout = Punchout(
            id=secrets.token_urlsafe(12),
            account=account,
            operation=operation,
            buyer_cookie=secrets.token_hex(16),
            user=BuyerUser(value("first_name"), value("last_name"), value("email")),
        )
        with self.lock:
            self.punchouts[punchout.id] = punchout
        form_post_url = f"{self.base_url}{PREFIX}/cart/{punchout.id}"
        document = setup_request(punchout, form_post_url, value("selected_item"), items)
        answer = self.api.handle(
            "POST", PUNCHOUT_PATH, headers=[("Content-Type", XML_CONTENT_TYPE)], body=document
        )
        location = start_page_of(answer)
        return HttpAnswer(303, [("Location", location), *_headers("text/plain")], b"")

    def receive_cart(self, punchout_id: str, form: Mapping[str, list[str]]) -> HttpAnswer:
        """The cart return the storefront's form posts: kept only if it echoes our cookie."""
        with self.lock:
            punchout = self.punchouts.get(punchout_id)
        if punchout is None:
            raise Refused("This simulator sent no such punchout (was the server restarted?).")
        field_name, document = decode_cart(form)
        order = parse_cart(document)
        if order.buyer_cookie != punchout.buyer_cookie:
            raise Refused(
                f"BuyerCookie {order.buyer_cookie!r} is not the {punchout.buyer_cookie!r} this "
                "punchout sent."
            )
        with self.lock:
            cart = ReceivedCart(
                index=len(self.carts) + 1,
                punchout=punchout,
                field=field_name,
                document=document.decode("utf-8", errors="replace"),
                order=order,
            )
            self.carts.append(cart)
        return _html(200, "cart.html", title="Requisition from the marketplace", cart=cart,
                     label=punchout.account.label)  # fmt: skip


# --- pages -----------------------------------------------------------------------------------

TEMPLATES = {
    "layout.html": """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }} · Buyer simulator</title>
<style>
  body { margin:0; font:15px/1.45 system-ui,sans-serif; color:#222; background:#f2f4f3; }
  header { background:#2d3a3a; color:#fff; padding:.6rem 1.2rem; }
  header a { color:#fff; text-decoration:none; font-weight:700; }
  main { max-width:84rem; margin:1rem auto; padding:0 1rem; }
  .card { background:#fff; border:1px solid #d6dcda; border-radius:.4rem;
          padding:1rem 1.2rem; margin-bottom:1rem; }
  .badge { font-size:.75rem; border:1px solid #9bb; border-radius:1rem; padding:0 .5rem; }
  .muted { color:#667; } .ok { color:#146c43; font-size:.85rem; }
  .error { color:#a4161a; background:#fdecec; padding:.5rem .75rem; border-radius:.3rem; }
  label { display:inline-block; margin:.25rem 1rem .25rem 0; }
  input { font:inherit; padding:.3rem .4rem; }
  button, .button { font:inherit; padding:.4rem .9rem; border-radius:.3rem; cursor:pointer;
    border:1px solid #2f6f5e; background:#2f6f5e; color:#fff; text-decoration:none; }
  .secondary { background:#fff; color:#2f6f5e; }
  .actions { display:flex; gap:.5rem; margin:1rem 0; }
  dl { display:grid; grid-template-columns:max-content 1fr; gap:.2rem 1rem; }
  dt { color:#667; } dd { margin:0; }
  table { border-collapse:collapse; width:100%; font-size:.9rem; }
  th, td { text-align:left; border-bottom:1px solid #dde; padding:.35rem .4rem; }
  .num { text-align:right; } pre { white-space:pre-wrap; font-size:.8rem; }
</style></head>
<body><header><a href="{{ prefix }}">Buyer simulator</a>
<span>· local only: plays Coupa or SAP Ariba</span></header>
<main><h1>{{ title }}</h1>{% block content %}{% endblock %}</main></body></html>""",
    "message.html": """{% extends "layout.html" %}{% block content %}
<p class="card error" id="message">{{ message }}</p>
<p><a href="{{ prefix }}">Back to the simulator</a></p>{% endblock %}""",
    "index.html": """{% extends "layout.html" %}{% block content %}
<p>Sends a PunchOutSetupRequest as the procurement system would, then shows the cart the
marketplace returns.</p>
{% for account in accounts %}{% set user = demo_users.get(account.system, ("", "", "")) %}
<section class="card integration" id="integration-{{ account.id }}"
         data-system="{{ account.system }}">
  <h2>{{ account.name }} <span class="badge">{{ account.label }}</span></h2>
  <p class="muted">Buyer {{ account.buyer_domain }}: {{ account.buyer_identity }}</p>
  <form method="post" action="{{ prefix }}/punchout">
    <input type="hidden" name="integration" value="{{ account.id }}">
    <input type="hidden" name="operation" value="create">
    <label>First name <input name="first_name" value="{{ user[0] }}"></label>
    <label>Last name <input name="last_name" value="{{ user[1] }}"></label>
    <label>Email <input name="email" type="email" value="{{ user[2] }}"></label>
    <label>Product id (level-2 punchout, optional)
      <input name="selected_item" placeholder="datastream-pro"></label>
    <button type="submit">Shop at the marketplace</button>
  </form>
</section>
{% endfor %}
<p class="muted">{{ received }} cart(s) received ·
  <a href="{{ prefix }}/carts.json">carts.json</a></p>{% endblock %}""",
    "cart.html": """{% extends "layout.html" %}{% block content %}
{% set order = cart.order %}
<section class="card" id="requisition">
  <h2>Requisition #{{ cart.index }} <span class="badge">{{ label }}</span></h2>
  <dl id="cart-summary">
    <dt>Integration</dt><dd id="cart-integration">{{ cart.punchout.account.name }}</dd>
    <dt>Punchout</dt><dd id="cart-operation">{{ cart.punchout.operation }}</dd>
    <dt>BuyerCookie</dt><dd><code id="buyer-cookie">{{ order.buyer_cookie }}</code>
      <span class="ok">matches the one sent</span></dd>
    <dt>Status</dt><dd id="cart-status" data-code="{{ order.status_code }}">
      {{- order.status_code }} {{ order.status_text }} {{ order.status_message }}</dd>
    <dt>Total</dt><dd id="cart-total">{{ order.total }} {{ order.currency }}</dd>
    <dt>Form field</dt><dd id="cart-field">{{ cart.field }}</dd>
    <dt>operationAllowed</dt><dd id="operation-allowed">{{ order.operation_allowed }}</dd>
  </dl>
  {% if order.lines %}
  <table id="requisition-lines">
    <thead><tr><th>#</th><th>Part</th><th>Auxiliary ID</th><th>Short name</th>
      <th>Description</th><th class="num">Qty</th><th>UOM</th><th class="num">Unit price</th>
      <th>Cur.</th><th>UNSPSC</th></tr></thead>
    <tbody>{% for line in order.lines %}
    <tr class="line">
      <td class="line-number">{{ loop.index }}</td>
      <td class="supplier-part-id">{{ line.supplier_part_id }}</td>
      <td class="aux-id">{{ line.supplier_part_auxiliary_id }}</td>
      <td class="short-name">{{ line.short_name }}</td>
      <td class="description">{{ line.description }}</td>
      <td class="quantity num">{{ line.quantity }}</td>
      <td class="uom">{{ line.unit_of_measure }}</td>
      <td class="unit-price num">{{ line.unit_price }}</td>
      <td class="currency">{{ line.currency }}</td>
      <td class="unspsc">{{ line.unspsc }}</td>
    </tr>{% endfor %}</tbody>
  </table>
  {% else %}
  <p id="no-lines">No lines: the requisition is unchanged.</p>
  {% endif %}
  <div class="actions">
    {% if order.lines %}{% for operation, text in (("edit", "Edit in the marketplace"),
                                                    ("inspect", "Inspect in the marketplace")) %}
    <form method="post" action="{{ prefix }}/punchout">
      <input type="hidden" name="integration" value="{{ cart.punchout.account.id }}">
      <input type="hidden" name="operation" value="{{ operation }}">
      <input type="hidden" name="cart" value="{{ cart.index }}">
      <input type="hidden" name="first_name" value="{{ cart.punchout.user.first_name }}">
      <input type="hidden" name="last_name" value="{{ cart.punchout.user.last_name }}">
      <input type="hidden" name="email" value="{{ cart.punchout.user.email }}">
      <button type="submit" id="{{ operation }}-cart">{{ text }}</button>
    </form>{% endfor %}{% endif %}
    <a class="button secondary" href="{{ prefix }}">New punchout</a>
  </div>
  <details><summary>cXML received</summary><pre id="cart-document">{{ cart.document }}</pre>
  </details>
</section>{% endblock %}""",
}

_PAGES = Environment(loader=DictLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined)


def _form(body: bytes) -> dict[str, list[str]]:
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)


def _headers(content_type: str) -> list[tuple[str, str]]:
    return [("Content-Type", content_type), ("Cache-Control", "no-store")]


def _html(status: int, template: str, **context: Any) -> HttpAnswer:
    text = _PAGES.get_template(template).render(prefix=PREFIX, **context)
    return HttpAnswer(status, _headers("text/html; charset=utf-8"), text.encode("utf-8"))
