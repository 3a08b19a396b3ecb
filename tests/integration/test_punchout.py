"""PunchOutSetupRequest and ProfileRequest through the cXML handler, against moto."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from functions import ids
from functions.integrations import NOT_AUTHENTICATED
from tests.log_support import captured_logs
from tests.support import (
    ARIBA_SECRET,
    BASE_URL,
    admin,
    ariba_integration,
    coupa_integration,
    post_cxml,
    punchout_setup,
    sample,
)

START_PAGE = re.compile(r"^https://gateway\.test/s/(int_[0-9a-f]{20}\.[A-Za-z0-9_-]{43})$")
ACME = [("DUNS", "acme-coupa")]


@pytest.fixture
def coupa(api: Any) -> dict[str, Any]:
    _, body = admin(api, "POST", "/admin/integrations", coupa_integration())
    return {"id": body["id"], "secret": body["purchase_information"]["shared_secret"]}


@pytest.fixture
def ariba(api: Any) -> dict[str, Any]:
    _, body = admin(api, "POST", "/admin/integrations", ariba_integration())
    return {"id": body["id"]}


def _session(tables: dict[str, Any], token: str) -> dict[str, Any]:
    item = tables["dynamodb"].get_item(
        TableName="local-sessions", Key={"pk": {"S": ids.digest(token)}}
    )
    return item["Item"]


def _start(answer: Any) -> str:
    assert (answer.code, answer.http_status) == (200, 200), answer.message
    url = answer.find("Response/PunchOutSetupResponse/StartPage/URL")
    found = START_PAGE.match(url)
    assert found, url
    return found.group(1)


def test_coupa_punchout_stores_a_session_and_answers_a_start_page(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], clock: Any
) -> None:
    answer = post_cxml(api, punchout_setup(from_credentials=ACME, secret=coupa["secret"]))

    token = _start(answer)
    stored = _session(tables, token)
    assert stored["integration_id"]["S"] == coupa["id"]
    assert stored["buyer_cookie"]["S"] == "cookie-123"
    assert stored["browser_form_post_url"]["S"] == "https://acme.coupahost.com/punchout/checkout/4"
    assert stored["operation"]["S"] == "create"
    assert stored["deployment_mode"]["S"] == "production"
    assert '"email": "jim@acme.example"' in stored["requester"]["S"]
    assert '"first_name": "Jim"' in stored["requester"]["S"]
    ends = datetime.fromisoformat(stored["ends_at"]["S"]) - clock.now()
    assert timedelta(seconds=3590) < ends <= timedelta(hours=1), "a session lasts one hour"
    ttl = int(stored["expires_at"]["N"]) - clock.now().timestamp()
    assert 3590 + 86400 < ttl <= 3600 + 86400, "its record is kept a day more, for its error page"
    assert token not in str(stored), "only the token's digest is stored"


def test_start_page_opens_for_that_session(api: Any, coupa: dict[str, Any]) -> None:
    token = _start(post_cxml(api, punchout_setup(from_credentials=ACME, secret=coupa["secret"])))

    page = api.handle("GET", f"/s/{token}")

    assert page.status == 200
    assert page.header("Content-Type") == "text/html; charset=utf-8"
    assert "Shopping for </span><strong>Acme Coupa</strong> as Jim Halpert" in page.text
    csp = page.header("Content-Security-Policy") or ""
    assert "frame-ancestors https://acme.coupahost.com https://*.coupahost.com" in csp
    assert page.header("Referrer-Policy") == "no-referrer"


def test_coupa_published_sample_with_its_old_timestamp_and_odd_order(
    api: Any, tables: dict[str, Any]
) -> None:
    _, body = admin(
        api,
        "POST",
        "/admin/integrations",
        coupa_integration(buyer_identity={"domain": "DUNS", "identity": "coupa-t"}),
    )
    document = sample("punch_out_setup_request_doc_coupa.xml").replace(
        b"<SharedSecret>test</SharedSecret>",
        f"<SharedSecret>{body['purchase_information']['shared_secret']}</SharedSecret>".encode(),
    )

    token = _start(post_cxml(api, document))

    page = api.handle("GET", f"/s/{token}")
    assert "as Jim Halpert" in page.text
    assert '"email": "noah+jim@coupa.com"' in _session(tables, token)["requester"]["S"]


def test_ariba_authenticates_with_the_marketplace_secret_and_any_from_credential(
    api: Any, tables: dict[str, Any], ariba: dict[str, Any]
) -> None:
    document = punchout_setup(
        from_credentials=[
            ("DUNS", "123456789"),
            ("NetworkId", "an01000000001-t"),
            ("SystemID", "x"),
        ],
        secret=ARIBA_SECRET,
        sender="sysadmin@ariba.com",
        form_post="https://s1.ariba.com/Buyer/punchout",
        deployment_mode="test",
    )

    token = _start(post_cxml(api, document))

    stored = _session(tables, token)
    assert stored["integration_id"]["S"] == ariba["id"]
    assert stored["deployment_mode"]["S"] == "test"


@pytest.mark.parametrize(
    ("from_credentials", "secret", "logged"),
    [
        (ACME, "wrong", "shared secret does not match integration"),
        (ACME, "", "carries no SharedSecret"),
        (
            [("DUNS", "stranger")],
            "coupa",
            "no integration for the buyer credential(s) DUNS/stranger",
        ),
        ([("NetworkID", "AN01000000001-T")], "buyer-secret", "does not match the Ariba secret"),
    ],
    ids=["wrong-secret", "no-secret", "unknown-buyer", "ariba-buyers-own-secret"],
)
def test_every_failed_authentication_is_the_same_401_and_the_reason_is_only_logged(
    api: Any,
    coupa: dict[str, Any],
    ariba: dict[str, Any],
    from_credentials: list[tuple[str, str]],
    secret: str,
    logged: str,
) -> None:
    """Issue 9: the text named the integration and told an unknown buyer from a wrong secret,
    so anyone could enumerate buyers."""
    document = punchout_setup(
        from_credentials=from_credentials, secret=coupa["secret"] if secret == "coupa" else secret
    )
    if not secret:
        document = document.replace("<SharedSecret></SharedSecret>", "")

    with captured_logs() as logs:
        answer = post_cxml(api, document)

    assert (answer.code, answer.http_status) == (401, 200)
    assert answer.message == NOT_AUTHENTICATED
    assert "Acme" not in answer.message and "Globex" not in answer.message
    (refusal,) = logs.with_message("cXML request refused")
    assert logged in refusal["detail"]


def test_disabled_integration_is_403_and_enabling_restores(api: Any, coupa: dict[str, Any]) -> None:
    admin(api, "POST", f"/admin/integrations/{coupa['id']}/disable")
    document = punchout_setup(from_credentials=ACME, secret=coupa["secret"])

    answer = post_cxml(api, document)
    assert (answer.code, answer.http_status) == (403, 200)
    assert "disabled" in answer.message

    admin(api, "POST", f"/admin/integrations/{coupa['id']}/enable")
    _start(post_cxml(api, document))


def test_rotated_secret_replaces_the_old_one(api: Any, coupa: dict[str, Any]) -> None:
    _, rotated = admin(api, "POST", f"/admin/integrations/{coupa['id']}/secret")
    new_secret = rotated["purchase_information"]["shared_secret"]

    assert post_cxml(api, punchout_setup(from_credentials=ACME, secret=coupa["secret"])).code == 401
    _start(post_cxml(api, punchout_setup(from_credentials=ACME, secret=new_secret)))


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        (
            ('operation="create"', 'operation="destroy"'),
            400,
            "Unknown PunchOutSetupRequest operation",
        ),
        (('operation="create"', 'operation="source"'), 450, "'source' is not supported"),
        (("<BuyerCookie>cookie-123</BuyerCookie>", ""), 400, "BuyerCookie"),
        (
            (
                "<BrowserFormPost><URL>https://acme.coupahost.com/punchout/checkout/4</URL></BrowserFormPost>",
                "",
            ),
            400,
            "BrowserFormPost",
        ),
        (
            ("https://acme.coupahost.com/punchout/checkout/4", "javascript:alert(1)"),
            400,
            "must be an absolute https or http URL",
        ),
        (("<PunchOutSetupRequest", "<OrderRequest"), 450, "not accepted at the punchout URL"),
    ],
)
def test_unusable_setup_requests_get_a_4xx_that_says_why(
    api: Any,
    tables: dict[str, Any],
    coupa: dict[str, Any],
    change: tuple[str, str],
    code: int,
    words: str,
) -> None:
    document = punchout_setup(from_credentials=ACME, secret=coupa["secret"]).replace(*change)
    if change[0] == "<PunchOutSetupRequest":
        document = document.replace("</PunchOutSetupRequest>", "</OrderRequest>")

    answer = post_cxml(api, document)

    assert answer.code == code, answer.message
    assert words in answer.message
    assert tables["dynamodb"].scan(TableName="local-sessions")["Count"] == 0


def test_edit_keeps_the_earlier_cart_and_level_two_keeps_the_selected_item(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    extra = """<SelectedItem><ItemID><SupplierPartID>prod-1/offer-2</SupplierPartID></ItemID></SelectedItem>
<ItemOut quantity="1" lineNumber="1"><ItemID><SupplierPartID>prod-1/offer-2</SupplierPartID>
<SupplierPartAuxiliaryID>req_abc:1</SupplierPartAuxiliaryID></ItemID><ItemDetail>
<UnitPrice><Money currency="USD">1200.00</Money></UnitPrice><Description xml:lang="en">Annual
<ShortName>Contract</ShortName></Description><UnitOfMeasure>ANN</UnitOfMeasure>
<Classification domain="UNSPSC">81162000</Classification></ItemDetail></ItemOut>"""
    document = punchout_setup(
        from_credentials=ACME, secret=coupa["secret"], operation="edit", extra=extra
    )

    token = _start(post_cxml(api, document))

    stored = _session(tables, token)
    assert stored["operation"]["S"] == "edit"
    assert '"supplier_part_id": "prod-1/offer-2"' in stored["selected_item"]["S"]
    assert '"supplier_part_auxiliary_id": "req_abc:1"' in stored["items_out"]["S"]
    assert '"amount": "1200.00"' in stored["items_out"]["S"]
    start = api.handle("GET", f"/s/{token}")
    assert start.status == 303, "no request of ours in the cart: the selected product opens"
    assert start.header("Location") == f"{BASE_URL}/s/{token}/products/prod-1"


def test_inspect_without_form_post_is_accepted(api: Any, coupa: dict[str, Any]) -> None:
    document = punchout_setup(from_credentials=ACME, secret=coupa["secret"], operation="inspect")
    document = document.replace(
        "<BrowserFormPost><URL>https://acme.coupahost.com/punchout/checkout/4</URL></BrowserFormPost>",
        "",
    )
    token = _start(post_cxml(api, document))
    assert "read-only" in api.handle("GET", f"/s/{token}").text


def test_requester_falls_back_to_contact_then_ship_to(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    base = punchout_setup(from_credentials=ACME, secret=coupa["secret"]).replace(
        '<Extrinsic name="UserEmail">jim@acme.example</Extrinsic>', ""
    )
    with_contact = base.replace(
        "</BrowserFormPost>",
        "</BrowserFormPost><Contact role='endUser'><Name xml:lang='en'>Jim</Name>"
        "<Email>contact@acme.example</Email></Contact>",
    )
    with_ship_to = base.replace(
        "</BrowserFormPost>",
        "</BrowserFormPost><ShipTo><Address><Name xml:lang='en'>HQ</Name>"
        "<Email name='default'>shipto@acme.example</Email></Address></ShipTo>",
    )

    contact_token = _start(post_cxml(api, with_contact))
    ship_to_token = _start(post_cxml(api, with_ship_to))

    assert "contact@acme.example" in _session(tables, contact_token)["requester"]["S"]
    assert "shipto@acme.example" in _session(tables, ship_to_token)["requester"]["S"]


def test_profile_request_lists_our_urls(api: Any, coupa: dict[str, Any]) -> None:
    document = sample("simple-profile-request.xml")
    admin(
        api,
        "POST",
        "/admin/integrations",
        ariba_integration(
            buyer_identity={"domain": "AribaNetworkUserId", "identity": "admin@acme.com"}
        ),
    )
    document = document.replace(b"abracadabra", ARIBA_SECRET.encode())

    answer = post_cxml(api, document)

    assert answer.code == 200, answer.message
    transactions = {
        t.get("requestName"): t.findtext("URL")
        for t in answer.root.findall("Response/ProfileResponse/Transaction")
    }
    assert transactions == {
        "ProfileRequest": f"{BASE_URL}/cxml/punchout",
        "PunchOutSetupRequest": f"{BASE_URL}/cxml/punchout",
        "OrderRequest": f"{BASE_URL}/cxml/orders",
        "StatusUpdateRequest": f"{BASE_URL}/cxml/orders",  # issue 13 part 6
    }


def test_profile_request_needs_credentials_too(api: Any) -> None:
    assert post_cxml(api, sample("simple-profile-request.xml")).code == 401


def test_expired_unknown_and_malformed_sessions_get_a_clear_page(
    api: Any, coupa: dict[str, Any], clock: Any
) -> None:
    token = _start(post_cxml(api, punchout_setup(from_credentials=ACME, secret=coupa["secret"])))
    clock.advance(timedelta(hours=1, seconds=1))

    for path in (f"/s/{token}", f"/s/{ids.session_token()}", "/s/short", "/s/<script>"):
        page = api.handle("GET", path)
        assert page.status == 404, path
        assert page.header("Content-Type") == "text/html; charset=utf-8"
        assert "Your shopping session has ended" in page.text
        assert "Traceback" not in page.text


def test_storage_failure_is_a_retryable_500(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    tables["dynamodb"].delete_table(TableName="local-sessions")

    answer = post_cxml(api, punchout_setup(from_credentials=ACME, secret=coupa["secret"]))

    assert (answer.code, answer.http_status) == (500, 500)
    assert "retry" in answer.message
    tables["dynamodb"].create_table(
        TableName="local-sessions",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    _start(post_cxml(api, punchout_setup(from_credentials=ACME, secret=coupa["secret"])))


def test_sessions_are_independent(api: Any, coupa: dict[str, Any]) -> None:
    first = _start(
        post_cxml(api, punchout_setup(from_credentials=ACME, secret=coupa["secret"], cookie="one"))
    )
    second = _start(
        post_cxml(api, punchout_setup(from_credentials=ACME, secret=coupa["secret"], cookie="two"))
    )
    assert first != second
