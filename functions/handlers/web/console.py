"""The buyer console's sign-in, sign-out and home (`/console`): Cognito users, cookie sessions
(`functions.console_session`), tokens verified by `functions.console_auth`. Every page is
scoped to the account of the VERIFIED ID token, never to an id in the URL.

Everything console-only (joserfc, the Cognito client) is imported inside the routes: the web
function's storefront cold start does not pay for the console."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from functions.clock import now
from functions.config import settings
from functions.console_session import (
    CONSOLE_PATH,
    CSRF_FIELD,
    ID_COOKIE,
    PRE_SESSION_COOKIE,
    PRE_SESSION_SECONDS,
    REFRESH_COOKIE,
    REFRESH_LIFETIME_SECONDS,
    clear_cookie,
    csrf_key,
    csrf_token,
    csrf_valid,
    new_pre_session,
    read_cookies,
    set_cookie,
)
from functions.handlers import html_edge
from functions.handlers.http import form_fields, query_params
from functions.handlers.web.pages import event_of, links_of
from functions.web.render import render

if TYPE_CHECKING:  # imported by the routes on first use (cold start)
    from functions.console_auth import ConsoleUser

router = Router()

SIGN_IN = f"{CONSOLE_PATH}/sign-in"
HOME = CONSOLE_PATH
INTEGRATIONS = f"{CONSOLE_PATH}/integrations"
"""Admins: the account's procurement integrations (and /integrations/<integration_id>/...)."""
MEMBERS = f"{CONSOLE_PATH}/members"
"""Admins: the account's users, invited and removed."""
STEPS = {"password": None, "new_password": "NEW_PASSWORD_REQUIRED", "mfa": "SOFTWARE_TOKEN_MFA"}
"""The sign-in form's steps and the Cognito challenge each answers."""
_STEP_OF = {challenge: step for step, challenge in STEPS.items() if challenge}


@cache
def _pool() -> Any:
    from functions.console_auth import console_pool

    return console_pool()


@cache
def _keys() -> Any:
    from functions.store.jwks import PoolKeys

    return PoolKeys(_pool().jwks_url)


@cache
def _cognito() -> Any:
    from functions.store.cognito import CognitoSignIn

    pool = _pool()
    return CognitoSignIn(pool.client_id, pool.region)


@cache
def csrf_signing_key() -> bytes:
    from functions.store.secrets import LinkSigningKey

    return csrf_key(LinkSigningKey(settings())())


def url(path: str) -> str:
    """`path` under the public base URL (with API Gateway's stage when there is no domain)."""
    return f"{links_of(event_of(router)).root}{path}"


def cookie_path() -> str:
    return f"{urlsplit(links_of(event_of(router)).root).path}{CONSOLE_PATH}"


def _cookies() -> dict[str, str]:
    return read_cookies(event_of(router).headers.get("cookie"))


def _with_cookies(response: Response, cookies: list[str]) -> Response:
    if cookies:
        response.headers["Set-Cookie"] = cookies
    return response


def redirect(url: str, cookies: list[str] | None = None) -> Response:
    response = Response(303, "text/plain", "", {"Location": url, "Cache-Control": "no-store"})
    return _with_cookies(response, cookies or [])


def _user_of(id_token: str) -> ConsoleUser | None:
    from functions.console_auth import TokenRejected, console_user

    try:
        return console_user(id_token, _pool(), _keys(), now())
    except TokenRejected:
        return None


def signed_in() -> tuple[ConsoleUser | None, list[str]]:
    """The verified user of this request and the cookies to set: a renewed ID token when the
    refresh token gave one, or cleared cookies when the session is over (user None)."""
    from functions.store.cognito import SignInRefused

    cookies = _cookies()
    user = _user_of(cookies.get(ID_COOKIE, ""))
    if user is not None:
        return user, []
    refresh = cookies.get(REFRESH_COOKIE)
    if refresh:
        try:
            renewed = _cognito().renew(refresh)
        except SignInRefused:
            renewed = ""
        user = _user_of(renewed) if renewed else None
        if user is not None:
            return user, [set_cookie(ID_COOKIE, renewed, None, cookie_path())]
    ended = [
        clear_cookie(name, cookie_path()) for name in (ID_COOKIE, REFRESH_COOKIE) if name in cookies
    ]
    return None, ended


def page(
    template: str,
    status: int = 200,
    cookies: list[str] | None = None,
    form_targets: tuple[str, ...] = (),
    **context: Any,
) -> Response:
    """A console page: never framed (`frame-ancestors 'none'`), forms post only to us (and to
    the sellers' registration pages of the Set up your account forms it shows)."""
    body = render(template, session=None, **context)
    reply = html_edge.html_reply(body, status, form_targets=form_targets)
    return _with_cookies(reply, cookies or [])


def refused_form() -> Response:
    return page(
        "error.html",
        403,
        heading="This form has expired",
        message="The page was open too long, or it did not come from this console.",
        advice="Open the page again and resubmit.",
        sign_in_url=url(SIGN_IN),
    )


def csrf_context(user: ConsoleUser) -> dict[str, str]:
    """The template values of a console form's CSRF field for this user's session."""
    return {"csrf_field": CSRF_FIELD, "csrf_token": csrf_token(csrf_signing_key(), user.session_id)}


def genuine_form(user: ConsoleUser, fields: dict[str, str]) -> bool:
    """Whether a POSTed form carries this session's CSRF token: check before anything else."""
    return csrf_valid(csrf_signing_key(), user.session_id, fields.get(CSRF_FIELD))


def chrome(user: ConsoleUser, section: str = "subscriptions") -> dict[str, str]:
    """What `_console_bar.html` needs on every signed-in page (as `console`): the sections'
    URLs, the one marked current, and the sign-out form's CSRF field."""
    return {
        "section": section,
        "home_url": url(HOME),
        "integrations_url": url(INTEGRATIONS),
        "members_url": url(MEMBERS),
        "catalog_url": links_of(event_of(router)).catalog(),
        "sign_out_url": url(f"{CONSOLE_PATH}/sign-out"),
        **csrf_context(user),
    }


def console_page(
    user: ConsoleUser,
    template: str,
    status: int = 200,
    cookies: list[str] | None = None,
    section: str = "subscriptions",
    **context: Any,
) -> Response:
    """A signed-in console page (a template extending `console_base.html`): the bar's values
    as `console`, `user`, and this page's own context (its forms add `**csrf_context(user)`)."""
    return page(template, status, cookies, user=user, console=chrome(user, section), **context)


def _sign_in_form(
    status: int = 200,
    *,
    step: str = "password",
    error: str = "",
    notice: str = "",
    username: str = "",
    challenge_session: str = "",
    cookies: list[str] | None = None,
) -> Response:
    """The form of one sign-in step, bound to a fresh pre-session nonce (login CSRF)."""
    nonce = new_pre_session()
    return page(
        "console_sign_in.html",
        status,
        [
            *(cookies or []),
            set_cookie(PRE_SESSION_COOKIE, nonce, PRE_SESSION_SECONDS, cookie_path()),
        ],
        step=step,
        error=error,
        notice=notice,
        username=username,
        challenge_session=challenge_session,
        csrf_field=CSRF_FIELD,
        csrf_token=csrf_token(csrf_signing_key(), nonce),
        action=url(SIGN_IN),
    )


@router.get(SIGN_IN)
def sign_in_page() -> Response:
    user, cookies = signed_in()
    if user is not None:
        return redirect(url(HOME), cookies)
    notice = "You have signed out." if "signed-out" in query_params(event_of(router)) else ""
    return _sign_in_form(notice=notice, cookies=cookies)


@router.post(SIGN_IN)
def sign_in() -> Response:
    from functions.store.cognito import Challenge, SignInRefused

    fields = form_fields(event_of(router))
    nonce = _cookies().get(PRE_SESSION_COOKIE, "")
    if not csrf_valid(csrf_signing_key(), nonce, fields.get(CSRF_FIELD)):
        return refused_form()
    step = fields.get("step", "password")
    username = fields.get("username", "").strip()[:256]
    challenge_session = fields.get("session", "")[:4096]
    if step not in STEPS:
        step = "password"
    try:
        if step == "password":
            if not username or not fields.get("password"):
                return _sign_in_form(400, error="Enter your email address and password.",
                                     username=username)  # fmt: skip
            outcome = _cognito().password(username, fields["password"][:256])
        elif step == "new_password":
            new = fields.get("new_password", "")[:256]
            if not new or new != fields.get("new_password_again", ""):
                return _sign_in_form(400, step=step, username=username,
                                     challenge_session=challenge_session,
                                     error="The two passwords are not the same.")  # fmt: skip
            outcome = _cognito().respond(STEPS[step], username, challenge_session, new)
        else:
            code = fields.get("code", "").strip()[:16]
            outcome = _cognito().respond(STEPS[step], username, challenge_session, code)
    except SignInRefused as refused:
        if refused.restart:
            return _sign_in_form(refused.status, error=refused.message, username=username)
        return _sign_in_form(refused.status, step=step, error=refused.message, username=username,
                             challenge_session=challenge_session)  # fmt: skip
    if isinstance(outcome, Challenge):
        return _sign_in_form(step=_STEP_OF[outcome.name], username=outcome.username,
                             challenge_session=outcome.session)  # fmt: skip
    user = _user_of(outcome.id_token)
    if user is None:
        return page(
            "error.html",
            403,
            heading="No marketplace account",
            message="Your user is not linked to a marketplace account, or its role is unknown.",
            advice="Ask your account's admin to invite you again.",
        )
    cookies = [
        set_cookie(ID_COOKIE, outcome.id_token, None, cookie_path()),
        clear_cookie(PRE_SESSION_COOKIE, cookie_path()),
    ]
    if outcome.refresh_token:
        cookies.append(
            set_cookie(
                REFRESH_COOKIE, outcome.refresh_token, REFRESH_LIFETIME_SECONDS, cookie_path()
            )
        )
    return redirect(url(HOME), cookies)


@router.post(f"{CONSOLE_PATH}/sign-out")
def sign_out() -> Response:
    user, _ = signed_in()
    cookies = _cookies()
    if user is not None and not genuine_form(user, form_fields(event_of(router))):
        return refused_form()
    if cookies.get(REFRESH_COOKIE):
        _cognito().revoke(cookies[REFRESH_COOKIE])
    ended = [clear_cookie(name, cookie_path()) for name in (ID_COOKIE, REFRESH_COOKIE)]
    return redirect(url(f"{SIGN_IN}?{urlencode({'signed-out': '1'})}"), ended)


@router.get(HOME)
def home() -> Response:
    """Who is signed in, and the subscriptions of their account (as "Your subscriptions")."""
    from functions.handlers.web.subscriptions import account_listing

    user, cookies = signed_in()
    if user is None:
        return redirect(url(SIGN_IN), cookies)
    listing = account_listing(user.account_id, query_params(event_of(router)))
    more_before, more_after = listing.pop("more_before"), listing.pop("more_after")
    form_targets = listing.pop("form_targets")
    listed = listing["subscriptions"]

    def link(name: str, subscription: Any) -> str:
        return url(f"{HOME}?{urlencode({name: f'{subscription.created_at}~{subscription.id}'})}")

    return page(
        "console_home.html",
        200,
        cookies,
        form_targets=form_targets,
        user=user,
        console=chrome(user),
        handoff_in_new_tab=False,
        previous_page=link("before", listed[0]) if listed and more_before else "",
        next_page=link("after", listed[-1]) if listed and more_after else "",
        **listing,
    )
