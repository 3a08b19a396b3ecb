"""The console's sign-in, sign-out and home (`/console`): the signed-in user's account and its
subscriptions, as the signed "Your subscriptions" page shows them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from functions.console_session import (
    CONSOLE_PATH,
    CSRF_FIELD,
    ID_COOKIE,
    PRE_SESSION_COOKIE,
    PRE_SESSION_SECONDS,
    REFRESH_COOKIE,
    REFRESH_LIFETIME_SECONDS,
    clear_cookie,
    csrf_token,
    csrf_valid,
    new_pre_session,
    set_cookie,
)
from functions.handlers.console.kit import (
    HOME,
    SIGN_IN,
    chrome,
    cognito_sign_in,
    cookie_path,
    csrf_signing_key,
    genuine_form,
    page,
    redirect,
    refused_form,
    request_cookies,
    signed_in,
    url,
    user_of,
)
from functions.handlers.http import form_fields, query_params
from functions.handlers.page_links import event_of

router = Router()

STEPS = {"password": None, "new_password": "NEW_PASSWORD_REQUIRED", "mfa": "SOFTWARE_TOKEN_MFA"}
"""The sign-in form's steps and the Cognito challenge each answers."""
_STEP_OF = {challenge: step for step, challenge in STEPS.items() if challenge}


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
    nonce = request_cookies().get(PRE_SESSION_COOKIE, "")
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
            outcome = cognito_sign_in().password(username, fields["password"][:256])
        elif step == "new_password":
            new = fields.get("new_password", "")[:256]
            if not new or new != fields.get("new_password_again", ""):
                return _sign_in_form(400, step=step, username=username,
                                     challenge_session=challenge_session,
                                     error="The two passwords are not the same.")  # fmt: skip
            outcome = cognito_sign_in().respond(STEPS[step], username, challenge_session, new)
        else:
            code = fields.get("code", "").strip()[:16]
            outcome = cognito_sign_in().respond(STEPS[step], username, challenge_session, code)
    except SignInRefused as refused:
        if refused.restart:
            return _sign_in_form(refused.status, error=refused.message, username=username)
        return _sign_in_form(refused.status, step=step, error=refused.message, username=username,
                             challenge_session=challenge_session)  # fmt: skip
    if isinstance(outcome, Challenge):
        return _sign_in_form(step=_STEP_OF[outcome.name], username=outcome.username,
                             challenge_session=outcome.session)  # fmt: skip
    user = user_of(outcome.id_token)
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
    cookies = request_cookies()
    if user is not None and not genuine_form(user, form_fields(event_of(router))):
        return refused_form()
    if cookies.get(REFRESH_COOKIE):
        cognito_sign_in().revoke(cookies[REFRESH_COOKIE])
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
