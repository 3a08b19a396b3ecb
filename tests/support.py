"""Test helpers: documents built from real samples, cXML answers read back and DTD-checked."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

ROOT = Path(__file__).parent
SAMPLES = ROOT / "fixtures" / "samples"
DTD_DIR = ROOT / "dtd" / "1.2.071"
BASE_URL = "https://gateway.test"
ADMIN_TOKEN = "test-admin-token-0123456789"
ARIBA_SECRET = "ariba-marketplace-secret-42"
_DTDS: dict[str, etree.DTD] = {}


def sample(name: str) -> bytes:
    return next(SAMPLES.glob(f"*{name}")).read_bytes()


def dtd_errors(document: bytes, dtd: str = "cXML.dtd") -> list[str]:
    """Validation against the vendored DTD, never fetching anything."""
    if dtd not in _DTDS:
        _DTDS[dtd] = etree.DTD(str(DTD_DIR / dtd))
    parser = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)
    root = etree.fromstring(document, parser)
    validator = _DTDS[dtd]
    return [] if validator.validate(root) else [str(e) for e in validator.error_log]


@dataclass
class CxmlAnswer:
    http_status: int
    code: int
    text: str
    message: str
    root: Any
    raw: bytes

    def find(self, path: str) -> str:
        found = self.root.find(path)
        return "" if found is None else (found.text or "").strip()


# Hostile documents: an external entity, entity expansion, a parameter entity fetching a DTD.
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE cXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<cXML payloadID="x" timestamp="t"><Header><From><Credential domain="d"><Identity>&xxe;</Identity>
</Credential></From><To/><Sender/></Header><Request><ProfileRequest/></Request></cXML>"""
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE cXML [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<cXML payloadID="x" timestamp="t"><Header><From><Credential domain="d"><Identity>&lol3;</Identity>
</Credential></From><To/><Sender/></Header><Request><ProfileRequest/></Request></cXML>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE cXML [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<cXML payloadID="x" timestamp="t"/>"""


def read_cxml(http_status: int, body: bytes, content_type: str | None) -> CxmlAnswer:
    """Every cXML answer must be cXML with a Status and DTD-valid; fail the test otherwise."""
    assert content_type and content_type.startswith("text/xml"), content_type
    errors = dtd_errors(body)
    assert not errors, errors
    parser = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)
    root = etree.fromstring(body, parser)
    status = root.find("Response/Status")
    assert status is not None, body
    return CxmlAnswer(
        http_status,
        int(status.get("code")),
        status.get("text"),
        (status.text or "").strip(),
        root,
        body,
    )


def post_cxml(
    api: Any, document: bytes | str, path: str = "/cxml/punchout", **kw: Any
) -> CxmlAnswer:
    body = document.encode("utf-8") if isinstance(document, str) else document
    headers = kw.pop("headers", [("Content-Type", "text/xml; charset=utf-8")])
    answer = api.handle("POST", path, headers=headers, body=body, **kw)
    return read_cxml(answer.status, answer.body, answer.header("Content-Type"))


def admin(
    api: Any,
    method: str,
    path: str,
    payload: Any = None,
    token: str | None = ADMIN_TOKEN,
    *,
    account_first: bool = True,
) -> tuple[int, Any]:
    """Call the admin API. An integration is created (or moved) only into an existing account,
    so with `account_first` the account it names is created first, as an operator would (a
    retry of the same account is harmless): tests then read as the integration they are
    about. `account_first=False` sends the request alone."""
    if account_first and token == ADMIN_TOKEN and method in ("POST", "PATCH"):
        account_id = payload.get("account_id") if isinstance(payload, dict) else None
        if path.startswith("/admin/integrations") and isinstance(account_id, str):
            ensure_account(api, account_id)
    headers = [("Content-Type", "application/json")]
    if token is not None:
        headers.append(("Authorization", f"Bearer {token}"))
    body = b"" if payload is None else json.dumps(payload).encode()
    answer = api.handle(method, path, headers=headers, body=body)
    assert answer.header("Content-Type") == "application/json", answer.headers
    return answer.status, json.loads(answer.body)


def account(account_id: str, **overrides: Any) -> dict[str, Any]:
    """A `POST /admin/accounts` body for `account_id`."""
    return {
        "id": account_id,
        "name": f"Buyer {account_id}",
        "contact_email": f"admin-{account_id}@buyer.example",
        **overrides,
    }


def ensure_account(api: Any, account_id: str) -> None:
    """Create the account unless it exists (an ID the API refuses is left to the request that
    carries it, so its refusal is the one the test sees)."""
    admin(api, "POST", "/admin/accounts", account(account_id), account_first=False)


def coupa_integration(**overrides: Any) -> dict[str, Any]:
    payload = {
        "name": "Acme Coupa",
        "system": "coupa",
        "buyer_identity": {"domain": "DUNS", "identity": "acme-coupa"},
        "account_id": "111122223333",
        "account_email": "it@acme.example",
    }
    payload.update(overrides)
    return payload


INVOICE_DELIVERY = {
    "url": "https://acme.coupahost.com/cxml/invoices",
    "from": {"domain": "NetworkID", "identity": "procurement-gateway"},
    "to": {"domain": "DUNS", "identity": "acme-coupa"},
    "sender": {"domain": "NetworkID", "identity": "procurement-gateway"},
    "shared_secret": "coupa-supplier-secret",
}
"""A Coupa integration's `invoice_delivery` setting as the admin API takes it."""


def ariba_integration(**overrides: Any) -> dict[str, Any]:
    payload = {
        "name": "Globex Ariba",
        "system": "ariba",
        "buyer_identity": {"domain": "NetworkID", "identity": "AN01000000001-T"},
        "account_id": "444455556666",
        "account_email": "procurement@globex.example",
    }
    payload.update(overrides)
    return payload


def punchout_setup(
    *,
    from_credentials: list[tuple[str, str]],
    secret: str,
    operation: str = "create",
    cookie: str = "cookie-123",
    form_post: str = "https://acme.coupahost.com/punchout/checkout/4",
    extra: str = "",
    sender: str = "acme-coupa",
    deployment_mode: str = "production",
) -> str:
    froms = "".join(
        f'<Credential domain="{d}"><Identity>{i}</Identity></Credential>'
        for d, i in from_credentials
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">
<cXML payloadID="1700000000.1.test@buyer" timestamp="2026-11-26T10:00:00+00:00" xml:lang="en-US">
<Header><From>{froms}</From>
<To><Credential domain="NetworkID"><Identity>procurement-gateway</Identity></Credential></To>
<Sender><Credential domain="NetworkID"><Identity>{sender}</Identity><SharedSecret>{secret}</SharedSecret></Credential>
<UserAgent>Coupa Procurement 1.0</UserAgent></Sender></Header>
<Request deploymentMode="{deployment_mode}"><PunchOutSetupRequest operation="{operation}">
<BuyerCookie>{cookie}</BuyerCookie>
<Extrinsic name="FirstName">Jim</Extrinsic><Extrinsic name="LastName">Halpert</Extrinsic>
<Extrinsic name="UserEmail">jim@acme.example</Extrinsic>
<BrowserFormPost><URL>{form_post}</URL></BrowserFormPost>{extra}
</PunchOutSetupRequest></Request></cXML>"""


def openbuy(
    api: Any, endpoint: str, payload: Any = None, token: str | None = None, raw: bytes | None = None
) -> tuple[int, Any]:
    """POST to `/openbuy/<endpoint>/v1.0.0` as Coupa does; every answer must be JSON."""
    headers = [("Content-Type", "application/json")]
    if token is not None:
        headers.append(("Authorization", f"Bearer {token}"))
    body = raw if raw is not None else json.dumps(payload).encode()
    answer = api.handle("POST", f"/openbuy/{endpoint}/v1.0.0", headers=headers, body=body)
    assert answer.header("Content-Type") == "application/json", answer.headers
    return answer.status, json.loads(answer.body)


SELLER = "309876543210"
"""datastream-pro's seller in local/demo_catalog.json (it has a local token)."""


def seller_token(account: str) -> str:
    """The local bearer token of a demo seller account (SELLER_TOKENS, set by
    `configure_environment` for every seller_account of local/demo_catalog.json)."""
    import os

    tokens = dict(pair.split("=", 1) for pair in os.environ["SELLER_TOKENS"].split(","))
    return tokens[account]


def meter(
    api: Any,
    payload: Any,
    token: str | None = ADMIN_TOKEN,
    identity: dict[str, Any] | None = None,
) -> tuple[int, Any]:
    """POST /metering/batch-meter-usage as a seller's code would; every answer must be JSON."""
    headers = [("Content-Type", "application/json")]
    if token is not None:
        headers.append(("Authorization", f"Bearer {token}"))
    answer = api.handle(
        "POST",
        "/metering/batch-meter-usage",
        headers=headers,
        body=json.dumps(payload).encode(),
        identity=identity,
    )
    assert answer.header("Content-Type") == "application/json", answer.headers
    return answer.status, json.loads(answer.body)
