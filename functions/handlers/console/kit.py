"""What every console page is built with: the signed-in user (`signed_in`), the page and its
bar (`console_page`), CSRF (`csrf_context`, `genuine_form`, `refused_form`), URLs and
redirects. Cognito users, cookie sessions (`functions.console_session`), tokens verified by
`functions.console_auth`. Every page is scoped to the account of the VERIFIED ID token, never
to an id in the URL.

joserfc and the Cognito client are imported on first use: a cold start that only shows the
sign-in form does not load them."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from functions.clock import now
from functions.config import settings
from functions.console_session import (
    CONSOLE_PATH,
    CSRF_FIELD,
    ID_COOKIE,
    REFRESH_COOKIE,
    clear_cookie,
    csrf_key,
    csrf_token,
    csrf_valid,
    read_cookies,
    set_cookie,
)
from functions.handlers import html_edge
from functions.handlers.page_links import event_of, links_of
from functions.web.render import render

if TYPE_CHECKING:  # imported by the routes on first use (cold start)
    from functions.console_auth import ConsoleUser

router = Router()
"""Never included in an app: it only reads the request being resolved (Powertools keeps the
current event on every router), for the kit's URLs and cookies."""

SIGN_IN = f"{CONSOLE_PATH}/sign-in"
HOME = CONSOLE_PATH
INTEGRATIONS = f"{CONSOLE_PATH}/integrations"
"""Admins: the account's procurement integrations (and /integrations/<integration_id>/...)."""
MEMBERS = f"{CONSOLE_PATH}/members"
"""Admins: the account's users, invited and removed."""


@cache
def _pool() -> Any:
    from functions.console_auth import console_pool

    return console_pool()


@cache
def _keys() -> Any:
    from functions.store.jwks import PoolKeys

    return PoolKeys(_pool().jwks_url)


@cache
def cognito_sign_in() -> Any:
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


def request_cookies() -> dict[str, str]:
    return read_cookies(event_of(router).headers.get("cookie"))


def _with_cookies(response: Response, cookies: list[str]) -> Response:
    if cookies:
        response.headers["Set-Cookie"] = cookies
    return response


def redirect(url: str, cookies: list[str] | None = None) -> Response:
    response = Response(303, "text/plain", "", {"Location": url, "Cache-Control": "no-store"})
    return _with_cookies(response, cookies or [])


def user_of(id_token: str) -> ConsoleUser | None:
    from functions.console_auth import TokenRejected, console_user

    try:
        return console_user(id_token, _pool(), _keys(), now())
    except TokenRejected:
        return None


def signed_in() -> tuple[ConsoleUser | None, list[str]]:
    """The verified user of this request and the cookies to set: a renewed ID token when the
    refresh token gave one, or cleared cookies when the session is over (user None)."""
    from functions.store.cognito import SignInRefused

    cookies = request_cookies()
    user = user_of(cookies.get(ID_COOKIE, ""))
    if user is not None:
        return user, []
    refresh = cookies.get(REFRESH_COOKIE)
    if refresh:
        try:
            renewed = cognito_sign_in().renew(refresh)
        except SignInRefused:
            renewed = ""
        user = user_of(renewed) if renewed else None
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
    script_hashes: tuple[str, ...] = (),
    **context: Any,
) -> Response:
    """A console page: never framed (`frame-ancestors 'none'`), forms post only to us (and to
    the sellers' registration pages of the Set up your account forms it shows); no script but
    those named by the SHA-256 of their text (`script_hashes`)."""
    body = render(template, session=None, **context)
    reply = html_edge.html_reply(
        body, status, form_targets=form_targets, script_hashes=script_hashes
    )
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


def csrf_context(user: ConsoleUser) -> dict[str, Any]:
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
    script_hashes: tuple[str, ...] = (),
    **context: Any,
) -> Response:
    """A signed-in console page (a template extending `console_base.html`): the bar's values
    as `console`, `user`, and this page's own context (its forms add `**csrf_context(user)`)."""
    return page(template, status, cookies, script_hashes=script_hashes, user=user,
                console=chrome(user, section), **context)  # fmt: skip
