"""The console's Members pages in Chromium against `make run`: the demo buyer admin invites a
member; the member, with the temporary password of Cognito's invitation mail (the local
mailbox), chooses a password, sees the account's subscriptions and neither Members nor
Procurement integrations, and is refused Members when visiting it directly. The Members page,
and its form with an error, fit every width with no axe-core violation."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page

from tests.e2e.layout_support import assert_page_fits, axe_page


@pytest.fixture
def admin_page(browser: Browser) -> Iterator[Page]:
    with axe_page(browser) as page:
        yield page


@pytest.fixture
def member_page(browser: Browser) -> Iterator[Page]:
    with axe_page(browser) as page:
        yield page


def _sign_in(page: Page, stack: dict[str, Any], email: str, password: str) -> None:
    page.goto(stack["banner"]["console"]["sign_in"])
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def _temporary_password(stack: dict[str, Any], email: str) -> str:
    """From Cognito's invitation mail, as the local mailbox received it."""
    mails = requests.get(f"{stack['base']}/_local/mailbox.json", timeout=5).json()
    (mail,) = [m for m in mails if email in str(m["destinations"])]
    found = re.search(r"temporary password (\S+) \(valid", str(mail["body"]))
    assert found, mail
    return found.group(1)


def test_an_admin_invites_a_member_who_signs_in_and_sees_only_the_subscriptions(
    admin_page: Page, member_page: Page, stack: dict[str, Any]
) -> None:
    admin = stack["banner"]["console"]
    page = admin_page
    # Given the demo admin, signed in, on Members
    _sign_in(page, stack, admin["email"], admin["password"])
    page.wait_for_url(f"{stack['base']}/console")
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Members").click()
    page.wait_for_url(f"{stack['base']}/console/members")
    assert page.get_by_role("heading", name=re.compile("Members of account")).is_visible()
    assert admin["email"] in page.inner_text("table")
    assert_page_fits(page, "console-members")
    # A mistyped address is said next to the field, and that page fits too
    page.get_by_label("Email address").fill("not-an-email")
    page.get_by_role("button", name="Send invitation").click()
    assert "not an email address" in page.locator("#invite-email-error").inner_text()
    assert_page_fits(page, "console-members-error")
    # When they invite a colleague as a member
    invitee = f"member-{uuid.uuid4().hex[:8]}@initech.example"
    page.get_by_label("Email address").fill(invitee)
    page.get_by_role("radio", name=re.compile("^Member")).check()
    page.get_by_role("button", name="Send invitation").click()
    page.wait_for_url(f"{stack['base']}/console/members?done=invited")
    # Then the page says so and lists them as invited
    assert "Invitation sent" in page.get_by_role("status").inner_text()
    row = page.locator("tr", has_text=invitee)
    assert "Invited, not signed in yet" in row.inner_text()
    assert_page_fits(page, "console-members-invited", screenshot=False)

    # When the member signs in with the mailed temporary password and chooses their own
    member = member_page
    _sign_in(member, stack, invitee, _temporary_password(stack, invitee))
    member.get_by_label("New password", exact=True).fill("Member-Chosen-42!")
    member.get_by_label("New password, again").fill("Member-Chosen-42!")
    member.get_by_role("button", name="Continue").click()
    member.wait_for_url(f"{stack['base']}/console")
    # Then they see the account's subscriptions, and no admin sections
    assert member.get_by_role("heading", name="Your subscriptions").is_visible()
    assert admin["account_id"] in member.inner_text("main")
    bar = member.get_by_role("navigation", name="Console")
    assert bar.get_by_role("link", name="Members").count() == 0
    assert bar.get_by_role("link", name="Procurement integrations").count() == 0
    # And Members, visited directly, is refused
    answer = member.goto(f"{stack['base']}/console/members")
    assert answer is not None and answer.status == 403
    assert member.get_by_role("heading", name="Admins only").is_visible()

    # And the admin sees them active, then removes them
    page.goto(f"{stack['base']}/console/members")
    row = page.locator("tr", has_text=invitee)
    assert "Active" in row.inner_text()
    row.get_by_role("button", name=re.compile("Remove")).click()
    page.wait_for_url(f"{stack['base']}/console/members?done=removed")
    assert invitee not in page.inner_text("main")
