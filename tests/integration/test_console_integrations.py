"""The console's Procurement integrations, through the console handler against moto: an admin
creates Coupa and Ariba integrations (the admin API's records and refusals), copies the purchase
information, edits, rotates Coupa's secret (shown once), disables and enables; members, other
accounts, missing CSRF tokens and hostile input change nothing."""

from __future__ import annotations

import base64
import hashlib
import re
from html import unescape
from typing import Any

import pytest

from tests.console_support import Browser, console, console_pool, new_user
from tests.support import admin, ariba_integration, coupa_integration, ensure_account, post_cxml
from tests.support import punchout_setup as setup_document

__all__ = ["console", "console_pool"]  # fixtures

ACCOUNT = "111122223333"
OTHER = "444455556666"
LIST = "/console/integrations"
COUPA_FORM = {
    "name": "Initech Coupa",
    "description": "Production instance",
    "system": "coupa",
    "buyer_domain": "DUNS",
    "buyer_identity": "initech-coupa",
    "account_email": "it@initech.example",
    "test_mode": "on",
    "cart_field": "cxml-base64",
    "tax_rate": "0",
    "tax_category": "sales",
    "tax_exemption": "zeroRated",
}
ARIBA_FORM = {
    **COUPA_FORM,
    "name": "Initech Ariba",
    "system": "ariba",
    "buyer_domain": "NetworkID",
    "buyer_identity": "AN01000000042-T",
}
VALUE = re.compile(r'data-purchase="([a-z_]+)"')


def _purchase(page: str) -> dict[str, str]:
    """The readonly inputs of the purchase information, by key."""
    found = re.findall(r'<input type="text" id="copy-([a-z_]+)" name="[a-z_]+" value="([^"]*)"',
                       page)  # fmt: skip
    return {key: unescape(value) for key, value in found}


def _admin_browser(api: Any, pool: dict[str, Any], account_id: str = ACCOUNT) -> Browser:
    ensure_account(api, account_id)
    browser = Browser(api)
    assert browser.sign_in(new_user(pool, account_id)).status == 303
    return browser


def _create(browser: Browser, form: dict[str, str]) -> Any:
    browser.get(f"{LIST}/new")
    return browser.post(LIST, form)


def _integration_id(page: Any) -> str:
    found = re.search(r'action="[^"]*/console/integrations/(int[^"/]+)/', page.text)
    assert found, page.text
    return found.group(1)


def _stored(api: Any, integration_id: str) -> dict[str, Any]:
    status, body = admin(api, "GET", f"/admin/integrations/{integration_id}")
    assert status == 200
    return body["integration"]  # type: ignore[no-any-return]


def _punch_out(api: Any, identity: str, secret: str, domain: str = "DUNS") -> Any:
    return post_cxml(
        api, setup_document(from_credentials=[(domain, identity)], secret=secret, sender="buyer")
    )


def test_an_admin_creates_a_coupa_integration_and_punches_out_with_its_purchase_information(
    api: Any, console: dict[str, Any]
) -> None:
    # Given a signed-in admin of the account
    browser = _admin_browser(api, console)
    assert "data-empty" in browser.get(LIST).text
    # When they create a Coupa integration with the form
    created = _create(browser, {**COUPA_FORM, "preapprove_free": "on",
                                "unit_mapping": "HUR = HR\nmon = MO"})  # fmt: skip
    # Then its page shows the purchase information once, the secret included
    assert created.status == 201, created.text
    info = _purchase(created.text)
    assert set(info) == {"punchout_url", "order_url", "supplier_domain", "supplier_identity",
                         "buyer_domain", "buyer_identity", "shared_secret"}  # fmt: skip
    assert info["buyer_identity"] == "initech-coupa" and len(info["shared_secret"]) >= 32
    assert "shown only now" in created.text
    # And the record is the admin API's, in the signed-in user's account
    integration_id = _integration_id(created)
    stored = _stored(api, integration_id)
    assert stored["account_id"] == ACCOUNT and stored["system"] == "coupa"
    assert stored["preapprove_free"] is True and stored["preapprove_byol"] is False
    assert stored["test_mode"] is True and stored["unit_mapping"] == {"HUR": "HR", "MON": "MO"}
    # And the secret is not shown again, nor in any URL
    again = browser.get(f"{LIST}/{integration_id}")
    assert again.status == 200 and info["shared_secret"] not in again.text
    assert "shared_secret" not in _purchase(again.text)
    # And the list shows it with its system, state and mode
    listing = browser.get(LIST).text
    assert "Initech Coupa" in listing and "Coupa" in listing and "Enabled" in listing
    assert "test mode" in listing
    # And a punchout with the copied values succeeds
    answer = _punch_out(api, info["buyer_identity"], info["shared_secret"])
    assert answer.code == 200, answer.message


def test_an_ariba_integration_with_a_non_anid_identity_is_created_with_a_warning(
    api: Any, console: dict[str, Any]
) -> None:
    browser = _admin_browser(api, console)
    good = _create(browser, ARIBA_FORM)
    assert good.status == 201
    assert "data-warnings" not in good.text and "shared_secret" not in _purchase(good.text)
    assert "Ariba shared secret" in good.text  # the credential note
    odd = _create(browser, {**ARIBA_FORM, "name": "Odd", "buyer_domain": "DUNS",
                            "buyer_identity": "globex"})  # fmt: skip
    assert odd.status == 201 and "data-warnings" in odd.text and "ANID" in odd.text
    assert _stored(api, _integration_id(odd))["system"] == "ariba"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": ""}, "name", "'name' must not be empty."),
        ({"system": "sap"}, "system", "'system' must be 'coupa' or 'ariba'."),
        ({"buyer_domain": ""}, "buyer_domain", "'buyer_identity.domain' must not be empty."),
        ({"buyer_identity": " "}, "buyer_identity", "'buyer_identity.identity' must not be"),
        ({"account_email": "nope"}, "account_email", "'account_email' is not an email address."),
        ({"approval_redirect_url": "http://x.example"}, "approval_redirect_url", "https"),
        ({"cart_field": "json"}, "cart_field", "'cart_field' must be"),
        ({"tax_rate": "1.5"}, "tax_rate", "'tax_rate' must be a fraction"),
        ({"tax_rate": "0.2", "tax_description": ""}, "tax_description", "is required"),
        ({"tax_category": "luxury"}, "tax_category", "'tax_category' must be one of"),
        ({"tax_location": "Narnia"}, "tax_location", "ISO 3166"),
        ({"buyer_tax_id": "<b>"}, "buyer_tax_id", "tax registration number"),
        ({"unit_mapping": "HUR HR"}, "unit_mapping", "is not 'OUR = THEIRS'"),
        ({"unit_mapping": "HUR = H R"}, "unit_mapping", "must be the buyer's unit code"),
        ({"delivery": "on", "delivery_url": "ftp://x"}, "delivery_url", "invoice_delivery.url"),
        (
            {
                "delivery": "on",
                "delivery_url": "https://initech.coupahost.com/cxml/invoices",
                "delivery_from_domain": "NetworkID",
            },
            "delivery_from_identity",
            "'invoice_delivery.from.identity' must not be empty.",
        ),
    ],
)
def test_a_refused_field_shows_the_form_again_with_the_message_next_to_it(
    api: Any, console: dict[str, Any], change: dict[str, str], field: str, message: str
) -> None:
    browser = _admin_browser(api, console)
    answer = _create(browser, {**COUPA_FORM, **change})
    assert answer.status == 400, answer.text
    error = re.search(rf'id="{field}-error" data-error-for="{field}">([^<]*)<', answer.text)
    assert error, answer.text
    assert message in unescape(error.group(1))
    assert f'aria-describedby="{field}' in answer.text or f'{field}-error"' in answer.text
    # And the values typed are kept (the name, unless it was the refused one)
    if field != "name":
        assert 'value="Initech Coupa"' in answer.text
    # And nothing was stored
    assert "Initech Coupa" not in browser.get(LIST).text


def test_a_buyer_identity_in_use_is_refused_next_to_the_identity(
    api: Any, console: dict[str, Any]
) -> None:
    browser = _admin_browser(api, console)
    assert _create(browser, COUPA_FORM).status == 201
    again = _create(browser, {**COUPA_FORM, "name": "Twin"})
    assert again.status == 409
    assert 'data-error-for="buyer_identity"' in again.text and "already belongs" in again.text


def test_an_account_the_operator_has_not_created_gets_a_clear_form_error(
    api: Any, console: dict[str, Any]
) -> None:
    browser = Browser(api)
    browser.sign_in(new_user(console, "999988887777"))
    answer = _create(browser, COUPA_FORM)
    assert answer.status == 409 and "not set up for integrations yet" in answer.text
    assert "/admin/accounts" not in answer.text


def test_editing_keeps_the_record_the_api_s_and_refusals_change_nothing(
    api: Any, console: dict[str, Any]
) -> None:
    browser = _admin_browser(api, console)
    integration_id = _integration_id(_create(browser, COUPA_FORM))
    page = f"{LIST}/{integration_id}"
    edit = browser.get(f"{page}/edit")
    assert edit.status == 200 and 'value="Initech Coupa"' in edit.text
    # A refusal: the form again, 400, nothing changed
    refused = browser.post(page, {**COUPA_FORM, "tax_rate": "abc"})
    assert refused.status == 400 and 'data-error-for="tax_rate"' in refused.text
    assert _stored(api, integration_id)["tax_rate"] == "0"
    # A change, with invoice delivery: saved and redirected (303) to the integration
    saved = browser.post(page, {
        **COUPA_FORM, "name": "Initech Coupa EU", "test_mode": "", "tax_rate": "0.2",
        "tax_description": "VAT 20%", "tax_category": "vat", "approval_redirect_url":
        "https://initech.coupahost.com/requisition_headers", "delivery": "on",
        "delivery_url": "https://initech.coupahost.com/cxml/invoices",
        "delivery_from_domain": "NetworkID", "delivery_from_identity": "procurement-gateway",
        "delivery_to_domain": "DUNS", "delivery_to_identity": "initech-coupa",
        "delivery_sender_domain": "NetworkID", "delivery_sender_identity": "procurement-gateway",
        "delivery_secret": "coupa-invoice-secret", "order_confirmations": "on",
    })  # fmt: skip
    assert saved.status == 303 and saved.header("Location").endswith(page)
    stored = _stored(api, integration_id)
    assert stored["name"] == "Initech Coupa EU" and stored["test_mode"] is False
    assert (stored["tax_rate"], stored["tax_category"]) == ("0.2", "vat")
    assert stored["invoice_delivery"]["shared_secret"] == "set"  # sealed, never shown
    assert stored["order_confirmations"] is True
    # The invoice secret is never put back into the edit form; saving without it keeps it
    edit = browser.get(f"{page}/edit")
    assert "coupa-invoice-secret" not in edit.text
    fields = {**COUPA_FORM, "name": "Initech Coupa EU", "delivery": "on",
              "delivery_url": "https://initech.coupahost.com/cxml/invoices",
              "delivery_from_domain": "NetworkID", "delivery_from_identity": "pg",
              "delivery_to_domain": "DUNS", "delivery_to_identity": "initech-coupa",
              "delivery_sender_domain": "NetworkID", "delivery_sender_identity": "pg"}  # fmt: skip
    assert browser.post(page, fields).status == 303
    kept = _stored(api, integration_id)["invoice_delivery"]
    assert kept["from"]["identity"] == "pg" and kept["shared_secret"] == "set"
    # The system and buyer identity stay as created, whatever the form says
    browser.get(f"{page}/edit")
    browser.post(page, {**COUPA_FORM, "system": "ariba", "buyer_identity": "hijack"})
    stored = _stored(api, integration_id)
    assert stored["system"] == "coupa"
    assert stored["buyer_identity"]["identity"] == "initech-coupa"
    assert stored["invoice_delivery"] is None  # the box was unchecked: delivery removed


def test_rotating_shows_the_new_secret_once_and_the_old_one_stops_working(
    api: Any, console: dict[str, Any]
) -> None:
    browser = _admin_browser(api, console)
    created = _create(browser, COUPA_FORM)
    old = _purchase(created.text)["shared_secret"]
    integration_id = _integration_id(created)
    browser.get(f"{LIST}/{integration_id}")
    rotated = browser.post(f"{LIST}/{integration_id}/secret", {})
    assert rotated.status == 200 and "stopped working at once" in rotated.text
    new = _purchase(rotated.text)["shared_secret"]
    assert new and new != old
    assert new not in (rotated.header("Location") or "")
    assert new not in browser.get(f"{LIST}/{integration_id}").text
    # The old secret is refused by a punchout, the new one accepted
    refused = _punch_out(api, "initech-coupa", old)
    assert refused.code == 401, refused.message
    assert _punch_out(api, "initech-coupa", new).code == 200


def test_an_ariba_integration_has_no_secret_to_rotate(api: Any, console: dict[str, Any]) -> None:
    browser = _admin_browser(api, console)
    integration_id = _integration_id(_create(browser, ARIBA_FORM))
    page = browser.get(f"{LIST}/{integration_id}")
    assert "Rotate the shared secret" not in page.text
    before = _stored(api, integration_id)
    answer = browser.post(f"{LIST}/{integration_id}/secret", {})
    assert answer.status == 400 and "none to rotate" in answer.text
    assert _stored(api, integration_id) == before


def test_disabling_refuses_punchouts_and_enabling_restores_them(
    api: Any, console: dict[str, Any]
) -> None:
    browser = _admin_browser(api, console)
    created = _create(browser, COUPA_FORM)
    secret = _purchase(created.text)["shared_secret"]
    integration_id = _integration_id(created)
    page = browser.get(f"{LIST}/{integration_id}")
    assert "punchouts and purchase orders from Coupa for this integration are refused" in page.text
    disabled = browser.post(f"{LIST}/{integration_id}/disable", {})
    assert disabled.status == 303
    assert _stored(api, integration_id)["enabled"] is False
    assert _punch_out(api, "initech-coupa", secret).code != 200
    page = browser.get(f"{LIST}/{integration_id}")
    assert 'data-state="disabled"' in page.text and "Disabled" in browser.get(LIST).text
    browser.get(f"{LIST}/{integration_id}")
    assert browser.post(f"{LIST}/{integration_id}/enable", {}).status == 303
    assert _stored(api, integration_id)["enabled"] is True
    assert _punch_out(api, "initech-coupa", secret).code == 200


def test_members_get_403_on_every_page_and_form(api: Any, console: dict[str, Any]) -> None:
    owner = _admin_browser(api, console)
    integration_id = _integration_id(_create(owner, COUPA_FORM))
    before = _stored(api, integration_id)
    member = Browser(api)
    member.sign_in(new_user(console, ACCOUNT, role="member"))
    home = member.get("/console")
    assert "Procurement integrations" not in home.text
    for path in (LIST, f"{LIST}/new", f"{LIST}/{integration_id}", f"{LIST}/{integration_id}/edit"):
        assert member.get(path).status == 403, path
    member.get("/console")  # a genuine CSRF token of the member's session
    for path, fields in ((LIST, COUPA_FORM), (f"{LIST}/{integration_id}", COUPA_FORM),
                         (f"{LIST}/{integration_id}/secret", {}),
                         (f"{LIST}/{integration_id}/disable", {})):  # fmt: skip
        member.get("/console")
        assert member.post(path, fields).status == 403, path
    assert _stored(api, integration_id) == before
    assert len(admin(api, "GET", "/admin/integrations")[1]["integrations"]) == 1


def test_another_account_s_integration_is_not_found_and_unchanged(
    api: Any, console: dict[str, Any]
) -> None:
    # Given an integration of another account (made by the operator)
    ensure_account(api, OTHER)
    status, theirs = admin(api, "POST", "/admin/integrations", ariba_integration())
    assert status == 201
    their_id = theirs["id"]
    before = _stored(api, their_id)
    # When an admin of our account tries every route with its id
    browser = _admin_browser(api, console)
    for path in (f"{LIST}/{their_id}", f"{LIST}/{their_id}/edit"):
        answer = browser.get(path)
        assert answer.status == 404 and "Integration not found" in answer.text, path
        assert "Globex" not in answer.text
    for path in (f"{LIST}/{their_id}", f"{LIST}/{their_id}/secret",
                 f"{LIST}/{their_id}/disable", f"{LIST}/{their_id}/enable"):  # fmt: skip
        browser.get(LIST)
        assert browser.post(path, {**ARIBA_FORM, "name": "Taken"}).status == 404, path
    # Then nothing changed, and the unknown id reads the same
    assert _stored(api, their_id) == before
    assert browser.get(f"{LIST}/int_unknown").status == 404
    # And their integration is not in our list
    assert "Globex" not in browser.get(LIST).text


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    api: Any, console: dict[str, Any]
) -> None:
    browser = _admin_browser(api, console)
    integration_id = _integration_id(_create(browser, COUPA_FORM))
    before = _stored(api, integration_id)
    for path, fields in ((LIST, {**COUPA_FORM, "buyer_identity": "other"}),
                         (f"{LIST}/{integration_id}", {**COUPA_FORM, "name": "Changed"}),
                         (f"{LIST}/{integration_id}/secret", {}),
                         (f"{LIST}/{integration_id}/disable", {})):  # fmt: skip
        answer = browser.post(path, fields, csrf=False)
        assert answer.status == 403 and "This form has expired" in answer.text, path
        forged = browser.post(path, {**fields, "csrf_token": "0" * 64}, csrf=False)
        assert forged.status == 403, path
    assert _stored(api, integration_id) == before
    assert len(admin(api, "GET", "/admin/integrations")[1]["integrations"]) == 1


@pytest.mark.parametrize(
    "hostile",
    [
        {"name": "x" * 5000},
        {"name": "Acme\x00\x07Coupa"},
        {"description": "line\r\nbreak"},
        {"name": "<script>alert(1)</script>", "buyer_identity": '"><img src=x onerror=1>'},
        {"unit_mapping": "\n".join(f"U{i} = V{i}" for i in range(500))},
        {"unit_mapping": "=\n=="},
        {"tax_rate": "NaN"},
        {"tax_rate": "1e999999999"},
        {"system": "coupa\x00"},
        {"test_mode": "x" * 60000},
        {"delivery": "on", "delivery_url": "https://u:p@x.example/"},
    ],
)
def test_hostile_input_is_never_a_server_error_nor_unescaped(
    api: Any, console: dict[str, Any], hostile: dict[str, str]
) -> None:
    browser = _admin_browser(api, console)
    answer = _create(browser, {**COUPA_FORM, **hostile})
    assert answer.status < 500, answer.text
    assert "<script>alert" not in answer.text and "<img src=x" not in answer.text
    if answer.status == 201:  # accepted: shown escaped, stored as the API stores it
        assert _stored(api, _integration_id(answer))["account_id"] == ACCOUNT


def test_the_copy_buttons_script_is_allowed_by_its_hash_and_nothing_looser(
    api: Any, console: dict[str, Any]
) -> None:
    browser = _admin_browser(api, console)
    created = _create(browser, COUPA_FORM)
    scripts = re.findall(r"<script>(.*?)</script>", created.text, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    csp = created.header("Content-Security-Policy")
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == f"'sha256-{digest}'"
    assert "unsafe-inline" not in directives["script-src"] and "*" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"
    # Without the script, each value can still be selected in a readonly input
    assert re.search(r'id="copy-punchout_url"[^>]*readonly', created.text)
    assert re.search(r'data-copy="copy-punchout_url"[^>]*hidden', created.text)
    # Pages without copy buttons still allow no script at all
    listing = browser.get(LIST)
    assert "script-src 'none'" in listing.header("Content-Security-Policy")


def test_signed_out_visitors_are_sent_to_sign_in(api: Any, console: dict[str, Any]) -> None:
    answer = Browser(api).get(LIST)
    assert answer.status == 303 and answer.header("Location").endswith("/console/sign-in")


def test_the_operator_s_integration_of_the_account_shows_in_the_console(
    api: Any, console: dict[str, Any]
) -> None:
    ensure_account(api, ACCOUNT)
    status, made = admin(api, "POST", "/admin/integrations",
                         coupa_integration(buyer_identity={"domain": "DUNS", "identity": "op"}))  # fmt: skip
    assert status == 201
    browser = _admin_browser(api, console)
    assert "Acme Coupa" in browser.get(LIST).text
    page = browser.get(f"{LIST}/{made['id']}")
    assert page.status == 200 and _purchase(page.text)["buyer_identity"] == "op"


def test_the_integration_page_leads_to_its_activity_where_the_punchout_shows(
    api: Any, console: dict[str, Any]
) -> None:
    # Given an integration created in the console and one punchout with its secret
    browser = _admin_browser(api, console)
    created = _create(browser, COUPA_FORM)
    integration_id = _integration_id(created)
    secret = _purchase(created.text)["shared_secret"]
    assert _punch_out(api, "initech-coupa", secret).code == 200
    # When the admin follows the integration page's Activity link
    page = browser.get(f"{LIST}/{integration_id}")
    link = re.search(
        r'href="https://gateway\.test(/console/integrations/[^"]+/activity)"', page.text
    )
    assert link, page.text
    activity = browser.get(link.group(1))
    # Then the punchout is there, with its code
    assert activity.status == 200, activity.text
    assert "PunchOutSetupRequest" in activity.text and "200" in activity.text
