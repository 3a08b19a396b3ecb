"""The parser on real documents from real buyer systems, and on the shapes real traffic takes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from functions.cxml.parse import (
    credential_key,
    parse_punchout_setup,
    parse_request,
    parse_timestamp,
)
from functions.errors import BadRequest, NotAcceptable, NotImplementedByGateway, Unauthenticated
from tests.support import BILLION_LAUGHS, PARAMETER_ENTITY, SAMPLES, XXE, sample

REQUEST_SAMPLES = {
    "FriendsOfCXML_cxml-php__tests_metadata_cxml_samples_OrderRequest.xml": "OrderRequest",
    "FriendsOfCXML_cxml-php__tests_metadata_cxml_samples_PunchOutSetupRequest.xml": "PunchOutSetupRequest",
    "FriendsOfCXML_cxml-php__tests_metadata_cxml_samples_StatusUpdateRequest.xml": "StatusUpdateRequest",
    "FriendsOfCXML_cxml-php__tests_metadata_cxml_samples_simple-profile-request.xml": "ProfileRequest",
    "officeluv_cxml__spec_fixtures_invoice_backed_by_multiple_pos.xml": "InvoiceDetailRequest",
    "officeluv_cxml__spec_fixtures_invoice_taxes_at_line.xml": "InvoiceDetailRequest",
    "officeluv_cxml__spec_fixtures_order_request.xml": "OrderRequest",
    "officeluv_cxml__spec_fixtures_purchase_order_request_200.xml": "OrderRequest",
    "officeluv_cxml__spec_fixtures_punch_out_setup_request_doc_coupa.xml": "PunchOutSetupRequest",
    "officeluv_cxml__spec_fixtures_punch_out_setup_request_doc_with_ship_to.xml": "PunchOutSetupRequest",
    "officeluv_cxml__spec_fixtures_request_doc.xml": "ConfirmationRequest",
}  # fmt: skip
MESSAGE_SAMPLES = (
    "FriendsOfCXML_cxml-php__tests_metadata_cxml_samples_PunchoutOrderMessage.xml",
    "OCA_edi__punchout_tests_cxml_test_store_request.xml",
    "PurchasingPlatform_cxml__spec_fixtures_punchout_order_message_global_industrial.xml",
)


def test_every_sample_is_covered_by_these_tests() -> None:
    names = {p.name for p in SAMPLES.glob("*.xml")}
    covered = set(REQUEST_SAMPLES) | set(MESSAGE_SAMPLES)
    covered.add("officeluv_cxml__spec_fixtures_punch_out_order_message_doc.xml")
    assert names == covered


@pytest.mark.parametrize(("name", "kind"), sorted(REQUEST_SAMPLES.items()))
def test_every_real_request_sample_parses(name: str, kind: str) -> None:
    request = parse_request((SAMPLES / name).read_bytes())

    assert request.request_name == kind
    assert request.header.from_credentials, "the buyer is identified by From"
    assert request.timestamp is not None and request.timestamp.tzinfo is not None
    assert request.payload_id


@pytest.mark.parametrize("name", MESSAGE_SAMPLES)
def test_messages_are_refused_on_request_urls_with_450(name: str) -> None:
    with pytest.raises(NotImplementedByGateway):
        parse_request((SAMPLES / name).read_bytes())


def test_lowercase_cxml_root_is_not_cxml() -> None:
    with pytest.raises(NotAcceptable, match="<cxml>"):
        parse_request(sample("punch_out_order_message_doc.xml"))


def test_coupa_published_setup_request_despite_dtd_order_and_old_timestamp() -> None:
    """Coupa's own sample puts Contact before BrowserFormPost and dates itself like Ruby."""
    request = parse_request(sample("punch_out_setup_request_doc_coupa.xml"))
    setup = parse_punchout_setup(request)

    assert request.timestamp == datetime(2008, 5, 19, 18, 29, 48, tzinfo=UTC)
    assert request.header.sender_secrets == ("test",)
    assert request.header.user_agent == "Coupa Procurement 1.0"
    assert setup.operation == "create"
    assert setup.buyer_cookie == "c64af92dc27e68172e030d3dfd1bc944"
    assert setup.browser_form_post_url == "https://qa.coupahost.com/punchout/checkout/4"
    assert setup.extrinsics == {
        "FirstName": "Jim",
        "LastName": "Halpert",
        "UniqueName": "jim",
        "UserEmail": "noah+jim@coupa.com",
        "User": "jim",
        "BusinessUnit": "COUPA",
    }
    assert setup.contacts[0].email == "noah+jim@coupa.com"


def test_whitespace_padded_urls_and_ship_to_email() -> None:
    setup = parse_punchout_setup(
        parse_request(sample("punch_out_setup_request_doc_with_ship_to.xml"))
    )

    assert setup.browser_form_post_url == "http://return_to_supplier_url.com"
    assert setup.ship_to_email == "jmadden@coupa1.com"
    assert setup.extrinsics == {}


def test_level_two_punchout_with_selected_item_and_item_out() -> None:
    request = parse_request(sample("samples_PunchOutSetupRequest.xml"))
    setup = parse_punchout_setup(request)

    assert request.deployment_mode == "test"
    assert setup.selected_item is not None
    assert setup.selected_item.supplier_part_id == "4545321"
    assert [i.item.supplier_part_id for i in setup.items_out] == ["5555", "6666"]
    first = setup.items_out[0]
    assert first.quantity == Decimal("2")
    assert first.line_number == "10"
    assert first.unit_price is not None and first.unit_price.amount == Decimal("763.20")
    assert first.unit_price.currency == "EUR"
    assert first.short_name == "Excelsior Desk Chair"
    assert first.unit_of_measure == "EA"
    assert (first.classification_domain, first.classification) == ("UNSPSC", "ean1234")


def test_ariba_style_several_credentials_per_party() -> None:
    document = b"""<cXML payloadID="p1" timestamp="2026-01-01T00:00:00Z"><Header>
      <From><Credential domain="NetworkID"><Identity>AN01</Identity></Credential>
            <Credential domain="  PrivateID "><Identity> buyer-7 </Identity></Credential>
            <Credential domain="SystemID"><Identity>ERP1</Identity></Credential></From>
      <To><Credential domain="NetworkID"><Identity>AN02</Identity></Credential></To>
      <Sender><Credential domain="AribaNetworkUserId"><Identity>sysadmin@ariba.com</Identity>
        <SharedSecret>s3cret</SharedSecret></Credential><UserAgent>Ariba</UserAgent></Sender>
      </Header><Request><ProfileRequest/></Request></cXML>"""
    request = parse_request(document)

    keys = [c.key for c in request.header.from_credentials]
    assert keys == ["networkid#an01", "privateid#buyer-7", "systemid#erp1"]
    assert request.header.sender_secrets == ("s3cret",)
    assert request.deployment_mode == "production"


def test_credential_keys_ignore_case_and_padding() -> None:
    assert credential_key("NetworkId", "AN01-T") == credential_key(" networkid\n", "an01-t ")
    assert credential_key("DUNS", "a") != credential_key("NetworkID", "a")


def test_utf8_bom_and_no_doctype_and_any_version() -> None:
    for doctype in (
        "",
        '<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.008/cXML.dtd">',
        '<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.069/cXML.dtd">',
    ):
        document = (
            "\ufeff<?xml version='1.0' encoding='UTF-8'?>" + doctype + "<cXML payloadID='x' "
            "timestamp='2026-01-01T00:00:00+0200'><Header><From><Credential domain='d'>"
            "<Identity>i</Identity></Credential></From><To/><Sender/></Header>"
            "<Request><ProfileRequest/></Request></cXML>"
        ).encode()
        request = parse_request(document)
        assert request.request_name == "ProfileRequest"
        assert request.timestamp == datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=2)))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-26T10:00:00+00:00", datetime(2026, 11, 26, 10, tzinfo=UTC)),
        ("2026-11-26T10:00:00Z", datetime(2026, 11, 26, 10, tzinfo=UTC)),
        ("2026-11-26T12:00:00+0200", datetime(2026, 11, 26, 10, tzinfo=UTC)),
        ("2026-11-26T10:00:00", datetime(2026, 11, 26, 10, tzinfo=UTC)),
        ("2026-11-26T10:00:00.250-01:00", datetime(2026, 11, 26, 11, 0, 0, 250000, tzinfo=UTC)),
        ("Mon May 19 18:29:48 +0000 2008", datetime(2008, 5, 19, 18, 29, 48, tzinfo=UTC)),
        ("  2026-11-26T10:00:00+00:00\n", datetime(2026, 11, 26, 10, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_lenient_timestamps(raw: str | None, expected: datetime | None) -> None:
    assert parse_timestamp(raw) == expected


@pytest.mark.parametrize("document", [XXE, BILLION_LAUGHS, PARAMETER_ENTITY])
def test_entity_declarations_are_refused_with_406(document: bytes) -> None:
    with pytest.raises(NotAcceptable, match="Entity declarations"):
        parse_request(document)


@pytest.mark.parametrize(
    ("document", "error", "words"),
    [
        (b"", NotAcceptable, "empty"),
        (b"   \n", NotAcceptable, "empty"),
        (b"hello, world", NotAcceptable, "not well-formed"),
        (b"<cXML><Header>", NotAcceptable, "not well-formed"),
        (b'{"json": true}', NotAcceptable, "not well-formed"),
        (b"<Envelope/>", NotAcceptable, "<Envelope>"),
        (b"<cXML payloadID='x' timestamp='t'><Request><ProfileRequest/></Request></cXML>",
         BadRequest, "no <Header>"),
        (b"<cXML payloadID='x' timestamp='t'><Header/></cXML>", BadRequest, "no <Request>"),
        (b"<cXML><Response><Status code='200' text='OK'/></Response></cXML>", BadRequest,
         "not Responses"),
        (b"<cXML><Header><From/><To/><Sender/></Header><Request><ProfileRequest/></Request></cXML>",
         Unauthenticated, "no From credential"),
        (b"<cXML><Header><From><Credential domain='d'><Identity>i</Identity></Credential></From>"
         b"</Header><Request/></cXML>", BadRequest, "empty"),
        (b"<?xml version='1.0' encoding='klingon'?><cXML/>", NotAcceptable, "encoding"),
    ],
)  # fmt: skip
def test_unusable_documents_get_a_status_that_names_the_problem(
    document: bytes, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        parse_request(document)


def test_oversized_document_is_refused_before_parsing() -> None:
    with pytest.raises(BadRequest, match="too large"):
        parse_request(b"<cXML>" + b" " * (2 * 1024 * 1024) + b"</cXML>")


def test_iso_8859_1_declared_document_keeps_its_characters() -> None:
    document = (
        "<?xml version='1.0' encoding='ISO-8859-1'?><cXML payloadID='x' timestamp='t'><Header>"
        "<From><Credential domain='DUNS'><Identity>Müller Gärten</Identity></Credential></From>"
        "<To/><Sender/></Header><Request><ProfileRequest/></Request></cXML>"
    ).encode("iso-8859-1")

    request = parse_request(document)

    assert request.header.from_credentials[0].identity == "Müller Gärten"


def test_setup_without_buyer_cookie_is_400() -> None:
    document = (
        b"<cXML payloadID='x' timestamp='t'><Header><From><Credential domain='d'>"
        b"<Identity>i</Identity></Credential></From><To/><Sender/></Header><Request>"
        b"<PunchOutSetupRequest operation='create'><BrowserFormPost><URL>https://x</URL>"
        b"</BrowserFormPost></PunchOutSetupRequest></Request></cXML>"
    )
    with pytest.raises(BadRequest, match="BuyerCookie"):
        parse_punchout_setup(parse_request(document))


def test_item_out_with_bad_quantity_names_the_line() -> None:
    document = (
        b"<cXML payloadID='x' timestamp='t'><Header><From><Credential domain='d'>"
        b"<Identity>i</Identity></Credential></From><To/><Sender/></Header><Request>"
        b"<PunchOutSetupRequest operation='edit'><BuyerCookie>c</BuyerCookie>"
        b"<ItemOut quantity='lots'><ItemID><SupplierPartID>p</SupplierPartID></ItemID></ItemOut>"
        b"</PunchOutSetupRequest></Request></cXML>"
    )
    with pytest.raises(BadRequest, match="ItemOut #1 quantity"):
        parse_punchout_setup(parse_request(document))
