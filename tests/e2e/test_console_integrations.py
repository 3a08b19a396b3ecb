"""The buyer admin's path in Chromium against `make run`: the operator invites an admin through
the admin API, the admin signs in (choosing a password), creates a Coupa integration in the
console, copies its purchase information into the buyer simulator's supplier setup and punches
out to the storefront. Every integrations page fits 320 px and has no axe-core violation."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.e2e.layout_support import assert_page_fits, axe_page

ACCOUNT = "210987654321"
NEW_PASSWORD = "Chosen-Pass-2026!"
COPIED = ("punchout_url", "supplier_domain", "supplier_identity", "buyer_domain",
          "buyer_identity", "shared_secret")  # fmt: skip


@pytest.fixture
def console_page(browser: Browser) -> Iterator[Page]:
    with axe_page(browser) as page:
        yield page


def _operator(stack: dict[str, Any], path: str, payload: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{stack['base']}{path}",
        json=payload,
        headers={"Authorization": f"Bearer {stack['banner']['admin_token']}"},
        timeout=10,
    )


def _invited_admin(stack: dict[str, Any]) -> tuple[str, str]:
    """The operator creates the account and invites its first admin; the temporary password
    is the one Cognito's invitation mail carries (the local mailbox receives it)."""
    account = {"id": ACCOUNT, "name": "Initech", "contact_email": "it@initech.example"}
    assert _operator(stack, "/admin/accounts", account).status_code in (200, 201)
    email = f"admin-{uuid.uuid4().hex[:8]}@initech.example"
    invited = _operator(stack, f"/admin/accounts/{ACCOUNT}/users", {"email": email,
                                                                    "role": "admin"})  # fmt: skip
    assert invited.status_code == 201, invited.text
    mails = requests.get(f"{stack['base']}/_local/mailbox.json", timeout=10).json()
    (mail,) = [m for m in mails if email in str(m["destinations"])]
    found = re.search(r"temporary password (\S+) \(valid", str(mail["body"]))
    assert found, mail
    return email, found.group(1)


def _sign_in_first_time(page: Page, stack: dict[str, Any], email: str, temporary: str) -> None:
    page.goto(f"{stack['base']}/console/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(temporary)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password, again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{stack['base']}/console")


def test_an_invited_admin_creates_a_coupa_integration_and_punches_out_with_it(
    console_page: Page, stack: dict[str, Any]
) -> None:
    page = console_page
    base = stack["base"]
    # Given an admin the operator invited, signed in with a password of their choosing
    email, temporary = _invited_admin(stack)
    _sign_in_first_time(page, stack, email, temporary)
    # When they open Procurement integrations and create a Coupa integration
    page.get_by_role("link", name="Procurement integrations").click()
    expect(page.get_by_role("heading", name="Procurement integrations")).to_be_visible()
    assert_page_fits(page, "console-integrations-empty")
    page.get_by_role("link", name="Create an integration").click()
    assert_page_fits(page, "console-integration-new")
    # A refusal first: the message is next to the field, the page still fits
    page.get_by_role("button", name="Create the integration").click()
    expect(page.locator("#name-error")).to_contain_text("'name' must not be empty.")
    assert_page_fits(page, "console-integration-refused")
    page.get_by_label("Name", exact=True).fill("Initech Coupa")
    page.get_by_label("Coupa", exact=True).check()
    page.get_by_label("Domain", exact=True).first.fill("DUNS")
    page.get_by_label("Identity", exact=True).first.fill("initech-e2e")
    page.get_by_role("button", name="Create the integration").click()
    # Then the purchase information is shown, the secret this once, with copy buttons
    expect(page.get_by_role("heading", name="Initech Coupa", level=1)).to_be_visible()
    expect(page.get_by_text("The shared secret is shown only now.")).to_be_visible()
    assert_page_fits(page, "console-integration-created")
    values = {key: page.locator(f"#copy-{key}").input_value() for key in COPIED}
    assert values["punchout_url"] == f"{base}/cxml/punchout"
    assert values["buyer_identity"] == "initech-e2e" and len(values["shared_secret"]) >= 32
    # The copy button puts the value on the clipboard (the one script the CSP allows)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page.get_by_role("button", name="Copy Shared secret").click()
    expect(page.locator("#copy-status")).to_have_text("Shared secret copied.")
    assert page.evaluate("navigator.clipboard.readText()") == values["shared_secret"]
    # When they paste each value into the buyer system's supplier setup (the simulator)
    page.goto(f"{base}/_local/simulator")
    setup = page.locator("#supplier-setup")
    setup.get_by_label("Coupa").check()
    setup.get_by_label("Supplier name").fill("Marketplace (Initech)")
    for key in COPIED:
        label = key.replace("_", " ").capitalize().replace("url", "URL")
        setup.get_by_label(label, exact=True).fill(values[key])
    setup.get_by_role("button", name="Save the supplier").click()
    # And punch out from it
    added = page.locator("section.integration", has_text="Marketplace (Initech)")
    added.get_by_role("button", name="Shop at the marketplace").click()
    # Then the storefront opens in the procurement session
    page.wait_for_url(f"{base}/s/**")
    expect(page.get_by_role("region", name="Procurement session")).to_contain_text("Initech Coupa")
    # And every other integrations page fits and passes axe-core too
    page.goto(f"{base}/console/integrations")
    expect(page.get_by_role("link", name="Initech Coupa")).to_be_visible()
    assert_page_fits(page, "console-integrations")
    page.get_by_role("link", name="Initech Coupa").click()
    assert_page_fits(page, "console-integration")
    page.get_by_role("link", name="Edit settings").click()
    assert_page_fits(page, "console-integration-edit")


def test_the_values_can_be_selected_without_javascript(
    browser: Browser, stack: dict[str, Any]
) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(stack["banner"]["console"]["sign_in"])
        page.get_by_label("Email address").fill(stack["banner"]["console"]["email"])
        page.get_by_label("Password").fill(stack["banner"]["console"]["password"])
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{stack['base']}/console/integrations")
        page.locator("table.lines a").first.click()
        punchout_url = page.locator("#copy-punchout_url")
        assert punchout_url.get_attribute("readonly") is not None
        assert punchout_url.input_value() == f"{stack['base']}/cxml/punchout"
        expect(page.locator("button[data-copy]").first).to_be_hidden()
    finally:
        context.close()


def test_the_simulator_refuses_a_supplier_setup_pointing_elsewhere(stack: dict[str, Any]) -> None:
    fields = {"system": "coupa", "name": "Elsewhere", "punchout_url": "https://evil.example/p",
              "supplier_domain": "NetworkID", "supplier_identity": "pg", "buyer_domain": "DUNS",
              "buyer_identity": "x", "shared_secret": "s"}  # fmt: skip
    answer = requests.post(f"{stack['base']}/_local/simulator/suppliers", data=fields, timeout=10)
    assert answer.status_code == 400 and "punches out to this server only" in answer.text
    missing = requests.post(f"{stack['base']}/_local/simulator/suppliers",
                            data={**fields, "shared_secret": ""}, timeout=10)  # fmt: skip
    assert missing.status_code == 400 and "shared_secret" in missing.text
    assert "Elsewhere" not in requests.get(f"{stack['base']}/_local/simulator", timeout=10).text
