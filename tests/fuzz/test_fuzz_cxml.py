"""Fuzz: real cXML documents (the samples of other systems, our punchout and an order for an
approved cart), mutated in structure and in bytes, posted to the punchout and order routes.
Every answer is a DTD-valid cXML document, never a cXML 500, never a trace, and a refused
document stores nothing."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import World, authenticated
from tests.fuzz.support import (
    Exchange,
    byte_mutations,
    exchange_and_check,
    fuzz_settings,
    mutated_xml,
    xml_headers,
)
from tests.support import SAMPLES

ROUTES = ["/cxml/punchout", "/cxml/orders"]
CONTENT_TYPES = ["text/xml; charset=utf-8", "application/xml", None, "text/plain", "text/xml"]


def _documents(world: World) -> list[bytes]:
    samples = [authenticated(path.read_bytes(), world) for path in sorted(SAMPLES.glob("*.xml"))]
    return [world.punchout, world.order, *samples]


def _document_and_route(data: Any, world: World) -> tuple[bytes, str]:
    """Half the time our own accepted documents (mutations then reach deepest), else a sample;
    mostly posted to its own route, sometimes to the other."""
    documents = _documents(world)
    document = data.draw(
        st.one_of(st.sampled_from(documents[:2]), st.sampled_from(documents)), label="original"
    )
    own = ROUTES[1] if b"<OrderRequest" in document else ROUTES[0]
    route = data.draw(st.sampled_from([own, own, own, own, *ROUTES]), label="route")
    return document, route


def _post(world: World, route: str, body: bytes, headers: list[tuple[str, str]]) -> Exchange:
    exchange = Exchange("cxml", "POST", route, "", headers, body)
    return exchange_and_check(world.api, world.aws, exchange)


@fuzz_settings(examples=110)
@given(data=st.data())
def test_cxml_documents_mutated_in_structure(world: World, data: Any) -> None:
    original, route = _document_and_route(data, world)
    body = data.draw(mutated_xml([original]), label="document")
    headers = data.draw(xml_headers(CONTENT_TYPES), label="headers")

    _post(world, route, body, headers)


@fuzz_settings(examples=90)
@given(data=st.data())
def test_cxml_documents_mutated_byte_by_byte(world: World, data: Any) -> None:
    original, route = _document_and_route(data, world)
    body = data.draw(byte_mutations(original), label="bytes")

    _post(world, route, body, [("Content-Type", "text/xml")])


@fuzz_settings(examples=30)
@given(data=st.data())
def test_cxml_documents_in_form_fields_mutated(world: World, data: Any) -> None:
    """Ariba and some Coupa setups post the document in a form field."""
    document = data.draw(mutated_xml([world.punchout, world.order]), label="document")
    field = data.draw(
        st.sampled_from(["cxml-urlencoded", "cxml-base64", "cXML-base64", "other"]), label="field"
    )
    value = (
        base64.b64encode(document).decode()
        if field.endswith("base64")
        else document.decode("latin-1")
    )
    body = f"{field}={quote(value)}".encode()
    body = data.draw(st.one_of(st.just(body), byte_mutations(body)), label="form")

    _post(world, data.draw(st.sampled_from(ROUTES)), body,
          [("Content-Type", "application/x-www-form-urlencoded")])  # fmt: skip


@fuzz_settings(examples=20)
@given(
    method=st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
    path=st.sampled_from(
        ["/cxml", "/cxml/punchout", "/cxml/orders", "/cxml/x", "/cxml/a/%2e%2e/b"]
    ),
)
def test_other_methods_and_paths_on_cxml_routes(world: World, method: str, path: str) -> None:
    exchange = Exchange("cxml", method, path, "", [("Content-Type", "text/xml")], world.punchout)
    exchange_and_check(world.api, world.aws, exchange)
