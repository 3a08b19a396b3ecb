"""The console's Members (admins only): the account's users, listed a page at a time; inviting
a colleague as admin or member; changing a role; removing a user (docs/CONSOLE.md, "Members").

The account is always the signed-in admin's, from the verified token; a username of another
account is a 404, as an unknown one. Invitations go through the operator's own code
(`functions.accounts.invitation`, `CognitoUserDirectory`), so both paths make the same users.
Because an ID token keeps its role for up to an hour, every route here also asks Cognito
whether the signed-in admin still exists, is enabled and is still an admin (`current_admin`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from functions.handlers.console.kit import (
    HOME,
    MEMBERS,
    SIGN_IN,
    console_page,
    csrf_context,
    genuine_form,
    page,
    redirect,
    refused_form,
    signed_in,
    url,
)
from functions.handlers.http import form_fields, query_params
from functions.handlers.page_links import event_of
from functions.observability import logger

if TYPE_CHECKING:  # the Cognito client and cryptography are imported on first use
    from functions.accounts import AccountUser
    from functions.console_auth import ConsoleUser
    from functions.store.users import CognitoUserDirectory

router = Router()

PAGE_SIZE = 25
"""Users per page (ListUsersInGroup gives at most 60)."""
DONE = {
    "invited": "Invitation sent: Cognito has emailed a temporary password (valid for 7 days).",
    "role": "Role changed. It applies from the user's next sign-in or token renewal.",
    "removed": "User removed and signed out everywhere.",
}
"""The notices after a change, named in the redirect's query (never an email in a URL)."""
STATUS_TEXT = {
    "FORCE_CHANGE_PASSWORD": "Invited, not signed in yet",
    "CONFIRMED": "Active",
    "RESET_REQUIRED": "Must reset their password",
    "EXTERNAL_PROVIDER": "Signs in with company SSO",
    "UNCONFIRMED": "Not confirmed",
}


def directory() -> CognitoUserDirectory:
    from functions.config import settings
    from functions.store.users import CognitoUserDirectory

    config = settings()
    return CognitoUserDirectory(config.user_pool_id, config.region)


def _cursor_key() -> bytes:
    from functions.config import settings
    from functions.page_cursor import cursor_key
    from functions.store.secrets import LinkSigningKey

    return cursor_key(LinkSigningKey(settings())())


def current_admin(user: ConsoleUser) -> bool:
    """Whether the token's admin is still one in Cognito: not removed, disabled or demoted
    since the token was issued (an ID token lives an hour and cannot be recalled)."""
    found = directory().user(user.account_id, user.username)
    return found is not None and found.enabled and found.role == "admin"


def _forbidden() -> Response:
    return page(
        "error.html",
        403,
        heading="Admins only",
        message="Only an admin of your account can see and change its members.",
        advice="Ask an admin of your account, or sign in again if your role has changed.",
        sign_in_url=url(SIGN_IN),
    )


def _no_such_user() -> Response:
    return page(
        "error.html",
        404,
        heading="No such user",
        message="There is no user at this address in your account.",
        advice="Open Members again: the user may have been removed.",
    )


def _admin_or_refusal(post: bool) -> tuple[ConsoleUser | Response, list[str]]:
    """The signed-in admin of this request, or the answer to give instead: the sign-in page,
    the refused form (a POST without this session's CSRF token: checked first) or a 403."""
    user, cookies = signed_in()
    if user is None:
        return redirect(url(SIGN_IN), cookies), cookies
    if post and not genuine_form(user, form_fields(event_of(router))):
        return refused_form(), cookies
    if not user.is_admin or not current_admin(user):
        return _forbidden(), cookies
    return user, cookies


def _view(user: AccountUser, me: ConsoleUser) -> dict[str, Any]:
    return {
        "username": user.username,
        "email": user.email,
        "role": user.role,
        "status": STATUS_TEXT.get(user.status, user.status.replace("_", " ").capitalize()),
        "invited": user.status == "FORCE_CHANGE_PASSWORD",
        "enabled": user.enabled,
        "is_me": user.username == me.username,
        "role_url": url(f"{MEMBERS}/{user.username}/role"),
        "remove_url": url(f"{MEMBERS}/{user.username}/remove"),
    }


def _members_page(
    user: ConsoleUser,
    cookies: list[str],
    status: int = 200,
    *,
    cursor: str = "",
    notice: str = "",
    error: str = "",
    error_field: str = "",
    row_errors: dict[str, str] | None = None,
    invite_form: dict[str, str] | None = None,
) -> Response:
    from functions.clock import now
    from functions.page_cursor import seal, unseal

    stamp = int(now().timestamp())
    token = None
    if cursor:
        key = _cursor_key()
        token = unseal(key, cursor, account_id=user.account_id, session_id=user.session_id,
                       now=stamp)  # fmt: skip
        if token is None:
            notice = "That page of the list has expired: here is the first page."
    listed = directory().page(user.account_id, PAGE_SIZE, token)
    next_url = ""
    if listed.next_token:
        sealed = seal(_cursor_key(), listed.next_token, account_id=user.account_id,
                      session_id=user.session_id, now=stamp)  # fmt: skip
        next_url = url(f"{MEMBERS}?{urlencode({'page': sealed})}")
    return console_page(
        user,
        "console_members.html",
        status,
        cookies,
        section="members",
        members=[_view(u, user) for u in listed.users],
        later_page=bool(token),
        first_url=url(MEMBERS),
        next_url=next_url,
        invite_url=url(MEMBERS),
        notice=notice,
        error=error,
        error_field=error_field,
        row_errors=row_errors or {},
        invite_form=invite_form or {"email": "", "role": "member"},
        **csrf_context(user),
    )


def _done(what: str, cookies: list[str]) -> Response:
    return redirect(url(f"{MEMBERS}?{urlencode({'done': what})}"), cookies)


@router.get(MEMBERS)
def members() -> Response:
    user, cookies = _admin_or_refusal(post=False)
    if isinstance(user, Response):
        return user
    params = query_params(event_of(router))
    return _members_page(
        user,
        cookies,
        cursor=params.get("page", "")[:8192],
        notice=DONE.get(params.get("done", ""), ""),
    )


@router.post(MEMBERS)
def invite() -> Response:
    """Invite into the signed-in admin's account only (the form names no account)."""
    from functions.accounts import invitation
    from functions.errors import BadRequest, Conflict

    user, cookies = _admin_or_refusal(post=True)
    if isinstance(user, Response):
        return user
    fields = form_fields(event_of(router))
    typed = {"email": fields.get("email", "").strip()[:254], "role": fields.get("role", "")}
    try:
        invited = directory().invite(user.account_id, invitation(typed))
    except (BadRequest, Conflict) as refused:
        # 409 for an email already signed up (a conflict with stored state, as the admin API
        # answers), 400 for a malformed one: the form again, the message by its field
        return _members_page(user, cookies, refused.status, error=refused.message,
                             error_field=refused.field or "email", invite_form=typed)  # fmt: skip
    logger.info("user invited from the console",
                extra={"account_id": user.account_id, "role": invited.role})  # fmt: skip
    return _done("invited", cookies)


@router.post(f"{MEMBERS}/<username>/role")
def change_role(username: str) -> Response:
    from functions.accounts import check_role_change, role_of
    from functions.errors import BadRequest, Conflict

    user, cookies = _admin_or_refusal(post=True)
    if isinstance(user, Response):
        return user
    users = directory()
    target = users.user(user.account_id, username)
    if target is None:
        return _no_such_user()
    try:
        role = role_of(form_fields(event_of(router)).get("role"))
        if role == target.role:
            return _done("role", cookies)
        check_role_change(target, role, users.admins(user.account_id))
    except (BadRequest, Conflict) as refused:
        return _members_page(user, cookies, refused.status, error=refused.message,
                             row_errors={target.username: refused.message})  # fmt: skip
    users.set_role(user.account_id, target.username, role)
    logger.info("role changed from the console", extra={"account_id": user.account_id,
                                                        "role": role})  # fmt: skip
    if target.username == user.username:  # no longer an admin: Members is not theirs any more
        return redirect(url(HOME), cookies)
    return _done("role", cookies)


@router.post(f"{MEMBERS}/<username>/remove")
def remove(username: str) -> Response:
    from functions.accounts import check_removal
    from functions.errors import Conflict

    user, cookies = _admin_or_refusal(post=True)
    if isinstance(user, Response):
        return user
    users = directory()
    target = users.user(user.account_id, username)
    if target is None:
        return _no_such_user()
    try:
        check_removal(user.username, target, users.admins(user.account_id))
    except Conflict as refused:
        return _members_page(user, cookies, refused.status, error=refused.message,
                             row_errors={target.username: refused.message})  # fmt: skip
    users.remove(user.account_id, target.username)
    logger.info("user removed from the console", extra={"account_id": user.account_id})
    return _done("removed", cookies)
