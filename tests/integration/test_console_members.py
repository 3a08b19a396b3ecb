"""The console's Members pages through the console handler, against moto's Cognito: invite,
list, change a role, remove; members refused everywhere; other accounts' users out of reach;
the last admin kept; CSRF; hostile input never a 5xx."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from functions.console_users import account_group
from tests.console_support import PASSWORD, Browser, console, console_pool, new_user
from tests.support import BASE_URL

__all__ = ["console", "console_pool"]  # fixtures

OURS = "111122223333"
THEIRS = "444455556666"
TEMPORARY = "Temporary-Pass-9!"


def _admin(api: Any, pool: dict[str, Any], account_id: str = OURS) -> tuple[Browser, str]:
    """A signed-in admin of `account_id`, on the Members page; their email."""
    email = new_user(pool, account_id, "admin")
    browser = Browser(api)
    assert browser.sign_in(email).status == 303
    assert browser.get("/console/members").status == 200
    return browser, email


def _username(pool: dict[str, Any], email: str) -> str:
    found = pool["cognito"].admin_get_user(UserPoolId=pool["CONSOLE_USER_POOL_ID"], Username=email)
    return str(found["Username"])


def _attributes(pool: dict[str, Any], email: str) -> dict[str, str]:
    found = pool["cognito"].admin_get_user(UserPoolId=pool["CONSOLE_USER_POOL_ID"], Username=email)
    return {a["Name"]: a["Value"] for a in found["UserAttributes"]}


def _exists(pool: dict[str, Any], email: str) -> bool:
    cognito = pool["cognito"]
    try:
        cognito.admin_get_user(UserPoolId=pool["CONSOLE_USER_POOL_ID"], Username=email)
    except cognito.exceptions.UserNotFoundException:
        return False
    return True


def _row(page: str, email: str) -> str:
    """The table row of `email` on a Members page."""
    for row in re.findall(r"<tr data-username=.*?</tr>", page, re.S):
        if email in row:
            return str(row)
    raise AssertionError(f"{email} is not listed")


def _email(tag: str) -> str:
    import uuid

    return f"{tag}-{uuid.uuid4().hex[:8]}@initech.example"


def test_an_admin_invites_a_member_who_is_listed_and_signs_in_with_the_temporary_password(
    api: Any, console: dict[str, Any]
) -> None:
    # Given a signed-in admin on the Members page
    browser, me = _admin(api, console)
    invitee = _email("ann")
    # When they invite a colleague as a member
    answer = browser.post("/console/members", {"email": invitee.upper(), "role": "member"})
    # Then the page redirects (POST-redirect-GET) with a notice, and lists the invitee
    assert answer.status == 303
    assert answer.header("Location") == f"{BASE_URL}/console/members?done=invited"
    listed = browser.get("/console/members", query="done=invited")
    assert listed.status == 200 and "Invitation sent" in listed.text
    row = _row(listed.text, invitee)
    assert "Invited, not signed in yet" in row and 'value="member" selected' in row
    assert "you" in _row(listed.text, me)
    # And Cognito holds them in this account, with the role chosen, in the account's group
    attributes = _attributes(console, invitee)
    assert attributes["custom:account_id"] == OURS and attributes["custom:role"] == "member"
    in_group = console["cognito"].list_users_in_group(
        UserPoolId=console["CONSOLE_USER_POOL_ID"], GroupName=account_group(OURS)
    )["Users"]
    assert _username(console, invitee) in {u["Username"] for u in in_group}
    # When the invitee uses the temporary password Cognito mailed (set here: moto sends none)
    console["cognito"].admin_set_user_password(UserPoolId=console["CONSOLE_USER_POOL_ID"],
        Username=invitee, Password=TEMPORARY, Permanent=False)  # fmt: skip
    newcomer = Browser(api)
    challenge = newcomer.sign_in(invitee, TEMPORARY)
    assert challenge.status == 200 and 'data-step="new_password"' in challenge.text
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', challenge.text))
    hidden.pop("csrf_token")
    done = newcomer.post("/console/sign-in", {**hidden, "new_password": "Chosen-Pass-77!",
                                              "new_password_again": "Chosen-Pass-77!"})  # fmt: skip
    # Then they are signed in to the account as a member, and listed as active
    assert done.status == 303
    home = newcomer.get("/console")
    assert home.status == 200 and OURS in home.text and "member" in home.text
    assert "Active" in _row(browser.get("/console/members").text, invitee)


def test_an_admin_invites_an_admin_who_may_then_manage_members(
    api: Any, console: dict[str, Any]
) -> None:
    browser, _ = _admin(api, console)
    colleague = _email("bob")
    assert browser.post("/console/members", {"email": colleague, "role": "admin"}).status == 303
    assert _attributes(console, colleague)["custom:role"] == "admin"
    console["cognito"].admin_set_user_password(UserPoolId=console["CONSOLE_USER_POOL_ID"],
        Username=colleague, Password=PASSWORD, Permanent=True)  # fmt: skip
    other = Browser(api)
    other.sign_in(colleague)
    assert other.get("/console/members").status == 200


def test_an_admin_changes_a_role_and_the_next_token_carries_it(
    api: Any, console: dict[str, Any]
) -> None:
    # Given an admin and a member of the account
    browser, _ = _admin(api, console)
    member = new_user(console, OURS, "member")
    page = browser.get("/console/members")
    # When the admin makes the member an admin
    answer = browser.post(f"/console/members/{_username(console, member)}/role", {"role": "admin"})
    # Then the role is stored, and the page says so
    assert answer.status == 303 and answer.header("Location").endswith("?done=role")
    assert _attributes(console, member)["custom:role"] == "admin"
    assert 'value="admin" selected' in _row(browser.get("/console/members").text, member)
    # And the former member, signing in, reaches Members
    promoted = Browser(api)
    promoted.sign_in(member)
    assert promoted.get("/console/members").status == 200
    assert page.status == 200


def test_an_admin_removes_a_user_who_is_deleted_signed_out_and_no_longer_listed(
    api: Any, console: dict[str, Any]
) -> None:
    # Given an admin, and a member who is signed in
    browser, _ = _admin(api, console)
    member = new_user(console, OURS, "member")
    leaver = Browser(api)
    leaver.sign_in(member)
    assert leaver.get("/console").status == 200
    browser.get("/console/members")
    # When the admin removes the member
    answer = browser.post(f"/console/members/{_username(console, member)}/remove", {})
    # Then the user is gone from Cognito and from the list
    assert answer.status == 303 and answer.header("Location").endswith("?done=removed")
    assert not _exists(console, member)
    listed = browser.get("/console/members", query="done=removed")
    assert "User removed" in listed.text and member not in listed.text
    # And their session cannot be renewed with the refresh token any more
    leaver.cookies["console_id"] = "expired"
    assert leaver.get("/console").header("Location") == f"{BASE_URL}/console/sign-in"
    # And they cannot sign in again
    assert Browser(api).sign_in(member).status == 400


def test_a_removed_or_demoted_admin_whose_id_token_still_lives_is_refused_on_members(
    api: Any, console: dict[str, Any]
) -> None:
    # Given two admins, both signed in
    first, _ = _admin(api, console)
    second, second_email = _admin(api, console)
    # When the first demotes the second (whose ID token still says admin for up to an hour)
    first.get("/console/members")
    demoted = first.post(f"/console/members/{_username(console, second_email)}/role",
                         {"role": "member"})  # fmt: skip
    assert demoted.status == 303
    # Then the second's stale token no longer opens Members, nor changes anything
    assert second.get("/console/members").status == 403
    victim = new_user(console, OURS, "member")
    second.get("/console")
    forged = second.post(f"/console/members/{_username(console, victim)}/remove", {})
    assert forged.status == 403 and _exists(console, victim)


def test_a_member_is_refused_on_every_members_route(api: Any, console: dict[str, Any]) -> None:
    # Given a signed-in member, and another member of the account
    member = Browser(api)
    member.sign_in(new_user(console, OURS, "member"))
    colleague = new_user(console, OURS, "member")
    target = _username(console, colleague)
    # Then the page is 403, and so is every form posted with the member's own CSRF token
    assert member.get("/console/members").status == 403
    for path, fields in (
        ("/console/members", {"email": _email("x"), "role": "admin"}),
        (f"/console/members/{target}/role", {"role": "admin"}),
        (f"/console/members/{target}/remove", {}),
    ):
        member.get("/console")  # a page with the member's CSRF token
        assert member.post(path, fields).status == 403
    # And nothing changed
    assert _attributes(console, colleague)["custom:role"] == "member"
    # The member's home shows no Members link
    assert "/console/members" not in member.get("/console").text


def test_another_accounts_username_is_a_404_and_nothing_changes(
    api: Any, console: dict[str, Any]
) -> None:
    # Given an admin of our account, and an admin and a member of another account
    browser, _ = _admin(api, console)
    _, their_admin = _admin(api, console, THEIRS)
    their_member = new_user(console, THEIRS, "member")
    # Then the other account's users are not listed to us
    page = browser.get("/console/members")
    assert their_member not in page.text and their_admin not in page.text
    # And naming them is a 404, the same as an unknown user, with nothing changed
    for email in (their_member, their_admin):
        username = _username(console, email)
        browser.get("/console/members")
        assert browser.post(f"/console/members/{username}/role", {"role": "admin"}).status == 404
        browser.get("/console/members")
        assert browser.post(f"/console/members/{username}/remove", {}).status == 404
        assert _exists(console, email)
    assert _attributes(console, their_member)["custom:role"] == "member"
    browser.get("/console/members")
    unknown = browser.post("/console/members/00000000-0000-0000-0000-000000000000/remove", {})
    assert unknown.status == 404
    # And an invitation never lands in another account, whatever the form says
    browser.get("/console/members")
    invitee = _email("carol")
    answer = browser.post("/console/members", {"email": invitee, "role": "member",
                                                "account_id": THEIRS})  # fmt: skip
    assert answer.status == 303
    assert _attributes(console, invitee)["custom:account_id"] == OURS


def test_an_admin_cannot_remove_themself_nor_demote_the_last_admin(
    api: Any, console: dict[str, Any]
) -> None:
    # Given the only admin of a fresh account
    browser, me = _admin(api, console, "777788889999")
    mine = _username(console, me)
    # When they try to remove themself
    removed = browser.post(f"/console/members/{mine}/remove", {})
    # Then the page says why, and they remain
    assert removed.status == 409 and "cannot remove yourself" in removed.text
    assert _exists(console, me)
    # When they try to make themself a member
    demoted = browser.post(f"/console/members/{mine}/role", {"role": "member"})
    assert demoted.status == 409 and "last admin" in demoted.text
    assert _attributes(console, me)["custom:role"] == "admin"
    # With a second admin, stepping down is allowed (and leads away from Members)
    browser.post("/console/members", {"email": _email("dan"), "role": "admin"})
    browser.get("/console/members")
    stepped_down = browser.post(f"/console/members/{mine}/role", {"role": "member"})
    assert stepped_down.status == 303
    assert stepped_down.header("Location") == f"{BASE_URL}/console"
    assert _attributes(console, me)["custom:role"] == "member"


def test_inviting_an_email_already_signed_up_shows_the_form_again_with_a_409(
    api: Any, console: dict[str, Any]
) -> None:
    browser, _ = _admin(api, console)
    ours = new_user(console, OURS, "member")
    theirs = new_user(console, THEIRS, "admin")
    # An email of this account: named as such
    again = browser.post("/console/members", {"email": ours, "role": "admin"})
    assert again.status == 409
    assert "already a user of account" in again.text and 'id="invite-email-error"' in again.text
    assert f'value="{ours}"' in again.text  # the form keeps what was typed
    assert _attributes(console, ours)["custom:role"] == "member"
    # An email of another account: refused without naming the account
    elsewhere = browser.post("/console/members", {"email": theirs, "role": "member"})
    assert elsewhere.status == 409
    assert "another account" in elsewhere.text and THEIRS not in elsewhere.text
    assert _attributes(console, theirs)["custom:account_id"] == THEIRS


@pytest.mark.parametrize("email", ["", "not-an-email", "a@b", "<script>@x.example", "x" * 300])
def test_a_bad_email_is_a_400_with_the_message_next_to_the_field(
    api: Any, console: dict[str, Any], email: str
) -> None:
    browser, _ = _admin(api, console)
    answer = browser.post("/console/members", {"email": email, "role": "member"})
    assert answer.status == 400
    assert 'id="invite-email-error"' in answer.text and 'aria-invalid="true"' in answer.text
    assert "<script>" not in answer.text


def test_a_bad_role_is_a_400_next_to_the_role(api: Any, console: dict[str, Any]) -> None:
    browser, _ = _admin(api, console)
    invitee = _email("eve")
    answer = browser.post("/console/members", {"email": invitee, "role": "owner"})
    assert answer.status == 400 and 'id="invite-role-error"' in answer.text
    assert not _exists(console, invitee)
    member = new_user(console, OURS, "member")
    browser.get("/console/members")
    bad = browser.post(f"/console/members/{_username(console, member)}/role", {"role": "root"})
    assert bad.status == 400 and "must be" in bad.text
    assert _attributes(console, member)["custom:role"] == "member"


def test_forms_without_the_sessions_csrf_token_are_refused(
    api: Any, console: dict[str, Any]
) -> None:
    browser, _ = _admin(api, console)
    member = new_user(console, OURS, "member")
    target = _username(console, member)
    invitee = _email("mallory")
    for path, fields in (
        ("/console/members", {"email": invitee, "role": "admin"}),
        (f"/console/members/{target}/role", {"role": "admin"}),
        (f"/console/members/{target}/remove", {}),
    ):
        assert browser.post(path, fields, csrf=False).status == 403
        assert browser.post(path, {**fields, "csrf_token": "0" * 64}, csrf=False).status == 403
    assert not _exists(console, invitee)
    assert _exists(console, member) and _attributes(console, member)["custom:role"] == "member"


def test_without_a_session_members_routes_lead_to_sign_in(
    api: Any, console: dict[str, Any]
) -> None:
    browser = Browser(api)
    assert browser.get("/console/members").header("Location") == f"{BASE_URL}/console/sign-in"
    posted = browser.post("/console/members", {"email": _email("z"), "role": "admin"})
    assert posted.status == 303


def test_a_long_list_is_paged_with_sealed_short_lived_cursors(
    api: Any, console: dict[str, Any]
) -> None:
    from functions.handlers.console.members import PAGE_SIZE

    # Given an account with more users than a page holds
    account = "121212121212"
    browser, _ = _admin(api, console, account)
    emails = {new_user(console, account, "member") for _ in range(PAGE_SIZE + 2)}
    # When the admin pages through the list
    seen: set[str] = set()
    page = browser.get("/console/members")
    pages = 1
    while True:
        seen |= set(re.findall(r"user-[0-9a-f]{10}@initech\.example", page.text))
        found = re.search(r'<a href="([^"]+)" rel="next">', page.text)
        if not found:
            break
        next_url = found.group(1).replace("&amp;", "&")
        cursor = urlsplit(next_url).query.removeprefix("page=")
        # The cursor is sealed: Cognito's token does not appear in it
        assert "NextToken" not in cursor and len(cursor) > 40
        page = browser.get("/console/members", query=f"page={cursor}")
        assert page.status == 200 and "First page" in page.text
        pages += 1
    # Then every user is listed, across more than one page
    assert emails <= seen and pages >= 2
    # And a cursor from another admin's session, or altered, gives the first page, not a 5xx
    other, _ = _admin(api, console, account)
    stolen = other.get("/console/members", query=f"page={quote(cursor)}")
    assert stolen.status == 200 and "has expired" in stolen.text
    for junk in ("x", "A" * 60, "%00", "'\"<>", "=" * 20, "a" * 9000):
        answer = browser.get("/console/members", query=f"page={quote(junk)}")
        assert answer.status == 200


@pytest.mark.parametrize(
    "username",
    ["..", "a" * 300, "%00", "<script>", "x'--", "%2e%2e%2fadmin", "a%20b", "ü" * 10, "-"],
)
def test_hostile_usernames_are_404_never_a_5xx(
    api: Any, console: dict[str, Any], username: str
) -> None:
    browser, me = _admin(api, console)
    for action in ("role", "remove"):
        browser.get("/console/members")
        answer = browser.post(f"/console/members/{username}/{action}", {"role": "member"})
        assert answer.status in (404, 405), answer.status
        assert "<script>" not in answer.text
    assert _exists(console, me)


@pytest.mark.parametrize(
    "fields",
    [
        {"email": "\x00@x.example", "role": "member"},
        {"email": "a@b.example\r\nBcc: x@y.example", "role": "member"},
        {"email": "ok@example.com", "role": "member" * 1000},
        {"email": ["x"], "role": "member"},
        {},
    ],
)
def test_hostile_invitation_forms_are_answered_without_a_5xx(
    api: Any, console: dict[str, Any], fields: dict[str, Any]
) -> None:
    browser, _ = _admin(api, console)
    answer = browser.post("/console/members", {k: str(v) for k, v in fields.items()})
    assert 400 <= answer.status < 500
