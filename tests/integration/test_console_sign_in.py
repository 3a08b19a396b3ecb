"""The console's sign-in through the web handler, against moto's Cognito: cookies, CSRF, the
invited user's first password, refusals, and a home scoped to the signed-in user's account."""

from __future__ import annotations

from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.console_support import PASSWORD, Browser, console, console_pool, new_user
from tests.order_support import post_accepted_po
from tests.storefront_support import (
    CONTRACT_PAYG,
    cart_of,
    create_integration,
    create_products,
    post_form,
    punch_out,
)
from tests.support import BASE_URL, coupa_integration

__all__ = ["console", "console_pool"]  # fixtures


def test_signing_in_sets_secure_http_only_console_cookies_and_shows_the_home(
    api: Any, console: dict[str, Any]
) -> None:
    # Given an admin of account 111122223333
    email = new_user(console)
    browser = Browser(api)
    # When they sign in with their password
    answer = browser.sign_in(email)
    # Then they are sent to the console home, with the session in console-only cookies
    assert answer.status == 303 and answer.header("Location") == f"{BASE_URL}/console"
    session_cookies = {h.split("=", 1)[0]: h for h in browser.set_cookie_headers}
    assert set(session_cookies) >= {"console_id", "console_refresh"}
    for name in ("console_id", "console_refresh"):
        attributes = [part.strip() for part in session_cookies[name].split(";")]
        assert {"Path=/console", "Secure", "HttpOnly", "SameSite=Lax"} <= set(attributes)
    assert "Max-Age=2592000" in session_cookies["console_refresh"]
    home = browser.get("/console")
    assert home.status == 200
    assert email in home.text and "111122223333" in home.text
    csp = home.header("Content-Security-Policy") or ""
    assert "frame-ancestors 'none'" in csp
    assert home.header("Cache-Control") == "no-store"


def test_a_wrong_password_shows_the_form_again_with_a_clear_message(
    api: Any, console: dict[str, Any]
) -> None:
    email = new_user(console)
    browser = Browser(api)
    answer = browser.sign_in(email, "Not-The-Password-1!")
    assert answer.status == 400
    assert "The email address or password is not correct." in answer.text
    assert "console_id" not in browser.cookies
    # An unknown user reads the same: nobody learns which addresses have accounts
    unknown = Browser(api).sign_in("nobody@initech.example")
    assert unknown.status == 400
    assert "The email address or password is not correct." in unknown.text


def test_an_invited_user_chooses_a_password_at_first_sign_in(
    api: Any, console: dict[str, Any]
) -> None:
    # Given a member invited with a temporary password
    email = new_user(console, role="member", temporary_password="Temporary-Pass-1!")
    browser = Browser(api)
    # When they sign in with it, Cognito asks for a new password
    challenge = browser.sign_in(email, "Temporary-Pass-1!")
    assert challenge.status == 200 and 'data-step="new_password"' in challenge.text
    assert "console_id" not in browser.cookies
    # A mistyped confirmation is caught on the page
    mismatch = browser.post("/console/sign-in", _challenge_fields(challenge.text,
                            new_password="Brand-New-Pass-2!", new_password_again="x"))  # fmt: skip
    assert mismatch.status == 400 and "not the same" in mismatch.text
    # And once they choose one, they are signed in
    done = browser.post("/console/sign-in", _challenge_fields(mismatch.text,
                        new_password="Brand-New-Pass-2!", new_password_again="Brand-New-Pass-2!"))  # fmt: skip
    assert done.status == 303 and "console_id" in browser.cookies
    home = browser.get("/console")
    assert home.status == 200 and "member" in home.text
    # And the new password is the one that works from now on
    assert Browser(api).sign_in(email, "Brand-New-Pass-2!").status == 303


def _challenge_fields(page: str, **fields: str) -> dict[str, str]:
    import re

    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    hidden.pop("csrf_token", None)  # Browser.post adds the page's own
    return {**hidden, **fields}


def test_a_sign_in_form_without_its_csrf_token_is_refused(
    api: Any, console: dict[str, Any]
) -> None:
    email = new_user(console)
    browser = Browser(api)
    browser.get("/console/sign-in")
    answer = browser.post("/console/sign-in", {"username": email, "password": PASSWORD},
                          csrf=False)  # fmt: skip
    assert answer.status == 403 and "console_id" not in browser.cookies
    # Nor does another browser's token do
    other = Browser(api)
    other.get("/console/sign-in")
    browser.last = other.last
    stolen = browser.post("/console/sign-in", {"username": email, "password": PASSWORD})
    assert stolen.status == 403 and "console_id" not in browser.cookies


def test_sign_out_needs_the_csrf_token_and_then_ends_the_session(
    api: Any, console: dict[str, Any]
) -> None:
    email = new_user(console)
    browser = Browser(api)
    browser.sign_in(email)
    browser.get("/console")
    # A sign-out posted without the page's token (a cross-site form) is refused
    forged = browser.post("/console/sign-out", {}, csrf=False)
    assert forged.status == 403 and "console_id" in browser.cookies
    # The page's own sign-out works, and clears both cookies
    browser.get("/console")
    answer = browser.post("/console/sign-out", {})
    assert answer.status == 303 and answer.header("Location").startswith(
        f"{BASE_URL}/console/sign-in"
    )
    assert not {"console_id", "console_refresh"} & set(browser.cookies)
    assert browser.get("/console").header("Location") == f"{BASE_URL}/console/sign-in"


def test_without_a_valid_session_the_home_redirects_to_sign_in(
    api: Any, console: dict[str, Any]
) -> None:
    browser = Browser(api)
    assert browser.get("/console").status == 303
    browser.cookies["console_id"] = "garbage.token.value"
    answer = browser.get("/console")
    assert answer.status == 303 and answer.header("Location") == f"{BASE_URL}/console/sign-in"
    assert "console_id" not in browser.cookies  # the bad cookie is cleared


def test_an_expired_id_token_is_renewed_quietly_with_the_refresh_token(
    api: Any, console: dict[str, Any]
) -> None:
    email = new_user(console)
    browser = Browser(api)
    browser.sign_in(email)
    first = browser.cookies["console_id"]
    browser.cookies["console_id"] = "expired.or.gone"
    home = browser.get("/console")
    assert home.status == 200 and email in home.text
    assert browser.cookies["console_id"] != first  # a fresh ID token was set


def test_a_token_of_another_pool_or_client_is_refused(api: Any, console: dict[str, Any]) -> None:
    # Given ID tokens moto's Cognito signed (its one key) for another client, and another pool
    cognito = console["cognito"]
    other_client = cognito.create_user_pool_client(
        UserPoolId=console["CONSOLE_USER_POOL_ID"], ClientName="other",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]  # fmt: skip
    email = new_user(console)
    foreign_client = cognito.initiate_auth(
        ClientId=other_client, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["IdToken"]  # fmt: skip
    from local.cognito import create_console_pool, invite

    other_pool = create_console_pool(cognito, "https://elsewhere.example/console")
    invite(cognito, other_pool["CONSOLE_USER_POOL_ID"], "x@globex.example", "444455556666",
           "admin", password=PASSWORD)  # fmt: skip
    foreign_pool = cognito.initiate_auth(
        ClientId=other_pool["CONSOLE_CLIENT_ID"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "x@globex.example", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["IdToken"]  # fmt: skip
    # And one we sign ourselves with a key the pool never published
    forged = jwt.encode(
        {"alg": "RS256", "kid": "dummy"},
        {"iss": f"https://cognito-idp.us-east-1.amazonaws.com/{console['CONSOLE_USER_POOL_ID']}",
         "aud": console["CONSOLE_CLIENT_ID"], "token_use": "id", "sub": "x", "exp": 4102444800,
         "jti": "j", "custom:account_id": "444455556666", "custom:role": "admin"},
        RSAKey.generate_key(2048),
    )  # fmt: skip
    for token in (foreign_client, foreign_pool, forged):
        browser = Browser(api)
        browser.cookies["console_id"] = token
        answer = browser.get("/console")
        # Then none of them opens the console
        assert answer.status == 303 and answer.header("Location") == f"{BASE_URL}/console/sign-in"


def test_the_home_shows_only_the_signed_in_users_account_subscriptions(
    api: Any, console: dict[str, Any]
) -> None:
    # Given a subscription of account 111122223333 (PO-111) and one of 444455556666 (PO-444)
    create_products(api, CONTRACT_PAYG)
    ours = create_integration(api, coupa_integration(test_mode=False))
    theirs = create_integration(api, coupa_integration(
        name="Globex Coupa", account_id="444455556666", test_mode=False,
        buyer_identity={"domain": "DUNS", "identity": "globex-coupa"}))  # fmt: skip
    for integration, po in ((ours, "PO-111"), (theirs, "PO-444")):
        session = punch_out(api, integration)
        cart = cart_of(post_form(api, f"{session}/requests",
                                 {"product_id": "datastream-pro", "offer_id": "annual",
                                  "estimate.hours": "1000"}))  # fmt: skip
        post_accepted_po(api, integration, cart.lines, order_id=po)
    # When a user of 111122223333 signs in, even asking for the other account in the URL
    browser = Browser(api)
    browser.sign_in(new_user(console, role="member"))
    home = browser.get("/console", query="account_id=444455556666")
    # Then they see their account's subscription and nothing of the other's
    assert home.status == 200
    assert "PO-111" in home.text and "DataStream Pro" in home.text
    assert "PO-444" not in home.text and "444455556666" not in home.text
    # And a user of the other account sees only theirs
    other = Browser(api)
    other.sign_in(new_user(console, account_id="444455556666"))
    page = other.get("/console")
    assert "PO-444" in page.text and "PO-111" not in page.text


def test_an_expired_subscriptions_link_offers_the_console_sign_in(api: Any, tables: Any) -> None:
    answer = api.handle("GET", "/subscriptions/111122223333", query="expires=1&signature=x")
    assert answer.status == 403
    assert f'href="{BASE_URL}/console/sign-in"' in answer.text


def test_a_user_with_an_authenticator_app_is_asked_for_its_code(
    api: Any, console: dict[str, Any]
) -> None:
    # Given a user who turned on TOTP MFA (moto's Cognito takes any six-digit code)
    email = new_user(console)
    cognito = console["cognito"]
    access = cognito.initiate_auth(
        ClientId=console["CONSOLE_CLIENT_ID"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["AccessToken"]  # fmt: skip
    cognito.associate_software_token(AccessToken=access)
    cognito.verify_software_token(AccessToken=access, UserCode="123456")
    cognito.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    browser = Browser(api)
    # When they enter their password, the console asks for the code, not yet signing them in
    challenge = browser.sign_in(email)
    assert challenge.status == 200 and 'data-step="mfa"' in challenge.text
    assert "console_id" not in browser.cookies
    # Then with the code they are signed in
    done = browser.post("/console/sign-in", _challenge_fields(challenge.text, code="123456"))
    assert done.status == 303 and "console_id" in browser.cookies


def test_the_home_offers_set_up_your_account_for_an_active_subscription(
    api: Any, console: dict[str, Any]
) -> None:
    # Given an active subscription of a product whose seller has a registration page
    seller_page = "https://register.streamline.example:8443/aws/register"
    create_products(api, {**CONTRACT_PAYG, "fulfillment_url": seller_page})
    integration = create_integration(api, coupa_integration(test_mode=False))
    session = punch_out(api, integration)
    cart = cart_of(post_form(api, f"{session}/requests",
                             {"product_id": "datastream-pro", "offer_id": "annual",
                              "estimate.hours": "1000"}))  # fmt: skip
    post_accepted_po(api, integration, cart.lines, order_id="PO-SETUP")
    # When a member of the account signs in to the console
    browser = Browser(api)
    browser.sign_in(new_user(console, role="member"))
    home = browser.get("/console")
    # Then the home posts a registration token to the seller's page, and its CSP allows that
    # origin (and no other) beside ourselves
    assert home.status == 200
    assert f'action="{seller_page}"' in home.text
    assert 'name="x-amzn-marketplace-token"' in home.text
    policy = home.header("Content-Security-Policy")
    assert "form-action 'self' https://register.streamline.example:8443;" in policy
    assert "frame-ancestors 'none'" in policy
