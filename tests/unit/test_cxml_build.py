"""Every document kind we emit is valid against the vendored cXML 1.2.071 DTD."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from functions.clock import CLOCK
from functions.cxml import build
from functions.cxml.parse import parse_timestamp
from functions.cxml.status import STATUS_TEXT, cxml_code, http_status
from tests.support import dtd_errors, read_cxml

PAYLOAD_ID = re.compile(r"^\d+\.\d+\.[0-9a-f]{16}@procurement-gateway$")


@pytest.mark.parametrize("code", sorted(STATUS_TEXT))
def test_plain_responses_are_valid_for_every_status(code: int) -> None:
    document = build.response(code, "Shared secret does not match integration 'Acme & <Co>'.")

    answer = read_cxml(200, document, "text/xml")  # asserts DTD validity

    assert answer.code == code
    assert answer.text == STATUS_TEXT[code]
    assert answer.message == "Shared secret does not match integration 'Acme & <Co>'."


def test_envelope_has_doctype_payload_id_offset_timestamp_and_lang(clock: object) -> None:
    CLOCK.freeze(datetime(2026, 11, 26, 10, 30, tzinfo=UTC))
    document = build.punchout_setup_response("https://gw.example/s/abc")
    text = document.decode()

    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE cXML SYSTEM '
                           '"http://xml.cxml.org/schemas/cXML/1.2.071/cXML.dtd">')  # fmt: skip
    answer = read_cxml(200, document, "text/xml")
    assert answer.root.get("timestamp") == "2026-11-26T10:30:00+00:00"
    assert answer.root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US"
    assert PAYLOAD_ID.match(answer.root.get("payloadID"))
    assert answer.find("Response/PunchOutSetupResponse/StartPage/URL") == "https://gw.example/s/abc"
    assert answer.root.find("Header") is None, "responses carry no Header"


def test_payload_ids_are_unique() -> None:
    ids = {read_cxml(200, build.response(200), "text/xml").root.get("payloadID") for _ in range(50)}
    assert len(ids) == 50


def test_profile_response_lists_each_transaction() -> None:
    document = build.profile_response(
        datetime(2026, 1, 1, tzinfo=UTC),
        [
            ("ProfileRequest", "https://gw/cxml/punchout"),
            ("OrderRequest", "https://gw/cxml/orders"),
        ],
    )

    assert dtd_errors(document) == []
    answer = read_cxml(200, document, "text/xml")
    profile = answer.root.find("Response/ProfileResponse")
    assert profile.get("effectiveDate") == "2026-01-01T00:00:00+00:00"
    assert [(t.get("requestName"), t.findtext("URL")) for t in profile.findall("Transaction")] == [
        ("ProfileRequest", "https://gw/cxml/punchout"),
        ("OrderRequest", "https://gw/cxml/orders"),
    ]


def test_payload_is_dropped_under_an_error_status() -> None:
    document = build.response(500, "boom", payload=build.Element("PunchOutSetupResponse"))
    assert b"PunchOutSetupResponse" not in document
    assert dtd_errors(document) == []


def test_emitted_timestamps_parse_back() -> None:
    answer = read_cxml(200, build.response(200), "text/xml")
    assert parse_timestamp(answer.root.get("timestamp")) is not None
    assert not answer.root.get("timestamp").endswith("Z")


def test_status_mapping() -> None:
    assert cxml_code(404) == 412
    assert cxml_code(418) == 400
    assert cxml_code(503) == 500


@pytest.mark.parametrize(
    ("code", "http"),
    [(200, 200), (201, 200), (204, 200), (400, 200), (401, 200), (403, 200), (406, 200),
     (409, 200), (412, 200), (417, 200), (450, 200), (500, 500)],
)  # fmt: skip
def test_every_answer_but_a_transient_failure_travels_as_http_200(code: int, http: int) -> None:
    """Ariba marks a PO failed unless it gets HTTP 200; 450 as HTTP 501 made buyers retry."""
    assert http_status(code) == http
