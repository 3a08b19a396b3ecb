"""Hostile and broken inputs on the cXML route: each gets the right cXML status, never a 5xx,
never a stack trace, never a stored session."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import pytest

from tests.support import BILLION_LAUGHS, XXE, admin, coupa_integration, post_cxml, punchout_setup

XML = [("Content-Type", "text/xml")]


@pytest.fixture
def secret(api: Any) -> str:
    _, body = admin(api, "POST", "/admin/integrations", coupa_integration())
    return str(body["purchase_information"]["shared_secret"])


@pytest.mark.parametrize(
    ("body", "headers", "code"),
    [
        (b"", XML, 406),
        (b"this is not xml", XML, 406),
        (b"<Envelope><Body/></Envelope>", XML, 406),
        (b"<cXML payloadID='x' timestamp='t'><Request><ProfileRequest/></Request></cXML>", XML, 400),
        (XXE, XML, 406),
        (BILLION_LAUGHS, XML, 406),
        (b"<cXML>" + b"A" * (7 * 1024 * 1024) + b"</cXML>", XML, 400),
        (b"\x00\x01\x02\xff", XML, 406),
        (b'{"cXML": "nope"}', [("Content-Type", "application/json")], 406),
    ],
    ids=["empty", "not-xml", "wrong-root", "no-header", "xxe", "billion-laughs", "7mb",
         "binary", "json-content-type"],
)  # fmt: skip
def test_hostile_bodies_get_a_cxml_4xx(
    api: Any, tables: dict[str, Any], body: bytes, headers: list[tuple[str, str]], code: int
) -> None:
    answer = post_cxml(api, body, headers=headers)

    assert answer.code == code, answer.message
    assert answer.http_status < 500
    assert "Traceback" not in answer.message
    assert tables["dynamodb"].scan(TableName="local-sessions")["Count"] == 0


def test_wrong_content_type_with_a_valid_document_is_406(api: Any, secret: str) -> None:
    document = punchout_setup(from_credentials=[("DUNS", "acme-coupa")], secret=secret)
    answer = post_cxml(api, document, headers=[("Content-Type", "application/json")])
    assert answer.code == 406
    assert "Content-Type application/json" in answer.message


@pytest.mark.parametrize(
    "content_type", [None, "application/xml", "text/plain", "text/xml; charset=UTF-8"]
)
def test_content_types_real_systems_send_are_accepted(
    api: Any, secret: str, content_type: str | None
) -> None:
    document = punchout_setup(from_credentials=[("DUNS", "acme-coupa")], secret=secret)
    headers = [("Content-Type", content_type)] if content_type else []
    assert post_cxml(api, document, headers=headers).code == 200


def test_iso_8859_1_declared_body_is_read_in_its_encoding(api: Any, tables: dict[str, Any]) -> None:
    _, body = admin(
        api,
        "POST",
        "/admin/integrations",
        coupa_integration(buyer_identity={"domain": "DUNS", "identity": "Müller"}),
    )
    document = (
        punchout_setup(
            from_credentials=[("DUNS", "Müller")],
            secret=body["purchase_information"]["shared_secret"],
        )
        .replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
        .replace("Halpert", "Hälpert")
        .encode("iso-8859-1")
    )

    answer = post_cxml(api, document)

    assert answer.code == 200, answer.message
    token = answer.find("Response/PunchOutSetupResponse/StartPage/URL").rsplit("/", 1)[1]
    assert "Jim Hälpert" in api.handle("GET", f"/s/{token}").text


@pytest.mark.parametrize("field", ["cxml-urlencoded", "cxml-base64"])
def test_documents_posted_as_a_form_field_are_read(api: Any, secret: str, field: str) -> None:
    document = punchout_setup(from_credentials=[("DUNS", "acme-coupa")], secret=secret)
    value = base64.b64encode(document.encode()).decode() if field == "cxml-base64" else document
    body = f"{field}={quote(value)}".encode()

    answer = post_cxml(api, body, headers=[("Content-Type", "application/x-www-form-urlencoded")])

    assert answer.code == 200, answer.message


def test_invalid_base64_body_is_406(api: Any) -> None:
    from functions.handlers import cxml_api
    from local.events import LambdaContext, rest_event

    event = rest_event(method="POST", path="/cxml/punchout", query="", headers=XML, body=b"<cXML/>",
                       resource="/cxml/punchout", path_parameters={}, host="gateway.test")  # fmt: skip
    event["isBase64Encoded"] = True
    event["body"] = "***not base64***"

    result = cxml_api.handler(event, LambdaContext("cxml_api"))

    assert result["statusCode"] == 200
    assert 'code="406"' in result["body"] and "base64" in result["body"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/cxml/punchout"), ("POST", "/cxml/unknown"), ("PUT", "/cxml/a/b/c")],
)
def test_unknown_cxml_routes_still_answer_cxml(api: Any, method: str, path: str) -> None:
    answer = api.handle(method, path, headers=XML, body=b"<cXML/>")
    from tests.support import read_cxml

    parsed = read_cxml(answer.status, answer.body, answer.header("Content-Type"))
    assert parsed.code == 450
    assert path in parsed.message


def test_an_unexpected_failure_is_a_retryable_cxml_500_without_internals(
    api: Any, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions import punchout

    def explode(*_: Any, **__: Any) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(punchout, "start_session", explode)

    answer = post_cxml(
        api, punchout_setup(from_credentials=[("DUNS", "acme-coupa")], secret=secret)
    )

    assert (answer.code, answer.http_status) == (500, 500)
    assert "secret internal detail" not in answer.raw.decode()
