"""Cross-account attempts in Chromium against `make run`: Initech's demo admin (account
111122223333), signed in to the console, tries Globex's (444455556666) pages. Every route and
every id is tried by tests/integration/test_console_cross_account.py; this shows what the
person sees: the 404 page, a refused link, their own account only, and no axe violation.

The console pages with ids (integrations, subscriptions, invoices) land in other parts of
issue 15: extend `test_another_accounts_pages_are_the_404_page` with their URLs as they do."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from functions.links import sign_subscriptions_link
from tests.e2e.conftest import run_stack
from tests.e2e.layout_support import assert_page_fits, axe_page

LINK_KEY = secrets.token_urlsafe(32)
INITECH, GLOBEX = "111122223333", "444455556666"


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, Any]]:
    """`make run` with a link-signing key the test knows, to sign "Your subscriptions" links
    as the success mail does."""
    yield from run_stack(LINK_SIGNING_KEY=LINK_KEY)


@pytest.fixture
def initech_admin(browser: Browser, stack: dict[str, Any]) -> Iterator[Page]:
    """A page signed in to the console as Initech's demo admin."""
    with axe_page(browser) as page:
        admin = stack["banner"]["console"]
        page.goto(admin["sign_in"])
        page.get_by_label("Email address").fill(admin["email"])
        page.get_by_label("Password").fill(admin["password"])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{stack['base']}/console")
        yield page


def _globex(stack: dict[str, Any]) -> dict[str, Any]:
    (integration,) = [i for i in stack["banner"]["integrations"] if i["account_id"] == GLOBEX]
    return integration


def _link(stack: dict[str, Any], account_id: str) -> str:
    expires = datetime.now(UTC) + timedelta(days=1)
    return sign_subscriptions_link(LINK_KEY.encode(), stack["base"], account_id, expires)


def test_the_console_home_shows_only_the_signed_in_account_whatever_the_url_asks(
    initech_admin: Page, stack: dict[str, Any]
) -> None:
    page = initech_admin
    page.goto(f"{stack['base']}/console?account_id={GLOBEX}&integration_id={_globex(stack)['id']}")
    main = page.inner_text("main")
    assert INITECH in main
    assert GLOBEX not in page.content() and "Globex" not in page.content()
    assert_page_fits(page, "console-home-other-account", screenshot=False)


def test_another_accounts_pages_are_the_404_page(
    initech_admin: Page, stack: dict[str, Any]
) -> None:
    page = initech_admin
    integration = _globex(stack)
    for path in (f"/console/integrations/{integration['id']}",):
        answer = page.goto(f"{stack['base']}{path}")
        assert answer is not None and answer.status == 404, path
        # the same page as an unknown id's: on main, the console's "Page not found"
        assert page.get_by_role("heading", level=1).is_visible()
        assert integration["name"] not in page.content() and "Globex" not in page.content()
        assert_page_fits(page, "console-other-account-404", screenshot=False)


def test_a_subscriptions_link_with_a_tampered_signature_is_refused(
    initech_admin: Page, stack: dict[str, Any]
) -> None:
    page = initech_admin
    # Given the signed link Globex's success mail carries: it is the credential, and works
    genuine = _link(stack, GLOBEX)
    opened = page.goto(genuine)
    assert opened is not None and opened.status == 200
    # When its signature is altered, or Initech's own signature is put on Globex's path
    tampered = genuine[:-1] + ("0" if genuine[-1] != "0" else "1")
    initech_signature = _link(stack, INITECH).split("?", 1)[1]
    borrowed = f"{stack['base']}/subscriptions/{GLOBEX}?{initech_signature}"
    for url in (tampered, borrowed):
        answer = page.goto(url)
        # Then the page refuses it, shows nothing of Globex, and offers the console's sign-in
        assert answer is not None and answer.status == 403, url
        heading = page.get_by_role("heading", level=1).inner_text()
        assert heading == "This link has expired or is not valid"
        assert "Demo Ariba (Globex)" not in page.content()
        link = page.get_by_role("link", name="Sign in to the console")
        assert link.get_attribute("href") == f"{stack['base']}/console/sign-in"
        assert_page_fits(page, "subscriptions-link-tampered", screenshot=False)
