"""An integration's activity in Chromium against `make run`: the demo Coupa buyer punches out
once with its secret and once with a wrong one; the demo admin sees both, the refusal marked,
on a page that fits every width with no axe-core violation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page

from tests.e2e.layout_support import assert_page_fits, axe_page
from tests.support import punchout_setup


@pytest.fixture
def console_page(browser: Browser) -> Iterator[Page]:
    with axe_page(browser) as page:
        yield page


def _punch_out(base: str, integration: dict[str, Any], secret: str) -> int:
    """The cXML status code of a PunchOutSetupRequest posted as the buyer's system posts it."""
    info = integration["purchase_information"]
    document = punchout_setup(
        from_credentials=[(info["buyer_domain"], info["buyer_identity"])], secret=secret
    )
    answer = requests.post(
        f"{base}/cxml/punchout",
        data=document.encode(),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=10,
    )
    found = re.search(r'<Status code="(\d+)"', answer.text)
    assert found, answer.text[:300]
    return int(found.group(1))  # the cXML code (a refusal may travel as HTTP 200)


def test_the_admin_reads_the_activity_with_the_refusal_marked(
    console_page: Page, stack: dict[str, Any]
) -> None:
    page, base = console_page, stack["base"]
    admin = stack["banner"]["console"]
    (coupa,) = [
        i
        for i in stack["banner"]["integrations"]
        if i["system"] == "coupa" and i["account_id"] == admin["account_id"]
    ]
    # Given a punchout of the demo Coupa integration, and one with a wrong shared secret
    assert _punch_out(base, coupa, coupa["purchase_information"]["shared_secret"]) == 200
    assert _punch_out(base, coupa, "a-wrong-secret-for-the-test") == 401
    # When the demo admin signs in and opens the integration's activity
    page.goto(admin["sign_in"])
    page.get_by_label("Email address").fill(admin["email"])
    page.get_by_label("Password").fill(admin["password"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/console")
    page.goto(f"{base}/console/integrations/{coupa['id']}/activity")
    # Then both exchanges are listed, newest (the refusal) first and marked as an error
    assert page.get_by_role("heading", name=f"Activity of {coupa['name']}").is_visible()
    rows = page.get_by_role("table").locator("tbody tr")
    assert rows.count() >= 2
    assert "Shared secret does not match" in rows.nth(0).inner_text()
    assert "Error 401" in rows.nth(0).inner_text()
    assert "Jim Halpert" in page.inner_text("main")
    assert "a-wrong-secret-for-the-test" not in page.content()
    assert_page_fits(page, "console-activity")
