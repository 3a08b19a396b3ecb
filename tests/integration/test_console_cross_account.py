"""Every console route, tried with another account's ids and another account's token (issue
15): each route of the console's resolver, found by reading the resolver itself, is called by
account A's admin and member with account B's ids (and the mirror), without a session, and with
a forged token claiming B; it must answer 403/404 (or the sign-in) with nothing stored changed
and nothing of the other account on the page. How to teach the suite a new route:
tests/cross_account_support.py."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.console_support import CSRF, PASSWORD, Browser, console, console_pool
from tests.cross_account_support import (
    FORMS,
    ID_FIELDS,
    Account,
    Route,
    World,
    changes,
    concerning,
    console_routes,
    leaks,
    snapshot,
    stale_entries,
    unprobeable,
    world,
)
from tests.support import BASE_URL, admin

__all__ = ["console", "console_pool"]  # fixtures

ROUTES = console_routes()
SIGN_IN_URL = f"{BASE_URL}/console/sign-in"


@pytest.fixture
def accounts(api: Any, tables: dict[str, Any], console: dict[str, Any]) -> World:
    return world(api, tables, console)


def _state(tables: dict[str, Any], console: dict[str, Any]) -> dict[str, str]:
    return snapshot(tables)


def _signed_in(api: Any, email: str) -> tuple[Browser, str]:
    """A browser signed in as `email`, and the CSRF token of its session (from the home's
    sign-out form, as any of its pages carries it)."""
    browser = Browser(api)
    assert browser.sign_in(email, PASSWORD).status == 303
    found = CSRF.search(browser.get("/console").text)
    assert found, "the console home carries the session's CSRF token"
    return browser, found.group(1)


def _send(browser: Browser, route: Route, path: str, target: Account, csrf: str) -> Any:
    """The route called at `path` with `target`'s ids in every id-like field (the query string
    of a GET, the form of a POST, with the CSRF token `csrf` or the sign-in's nonce)."""
    ids = {name: value(target) for name, value in ID_FIELDS.items()}
    if route.method == "GET":
        return browser.get(path, query=urlencode(ids))
    form = FORMS[route.name]
    fields = {**ids, **form.fields(target)}
    if form.csrf == "pre-session":
        from functions.console_session import PRE_SESSION_COOKIE, csrf_token, new_pre_session
        from functions.handlers.console.kit import csrf_signing_key

        nonce = new_pre_session()
        browser.cookies[PRE_SESSION_COOKIE] = nonce
        fields["csrf_token"] = csrf_token(csrf_signing_key(), nonce)
    else:
        fields["csrf_token"] = csrf
    return browser.post(path, fields, csrf=False)


def _teach(route: Route) -> None:
    problems = unprobeable(route)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def test_the_suite_reads_the_console_routes_from_the_resolver() -> None:
    # The routes main has: if reading Powertools' route table broke, nothing would be probed
    names = {route.name for route in ROUTES}
    assert {"GET /console", "GET /console/sign-in", "POST /console/sign-in",
            "POST /console/sign-out"} <= names  # fmt: skip


def test_the_suite_can_probe_every_console_route() -> None:
    problems = [problem for route in ROUTES for problem in unprobeable(route)]
    problems += stale_entries(ROUTES)
    assert not problems, "\n".join(problems)


def test_a_route_outside_the_vocabulary_or_without_a_form_is_refused_with_advice() -> None:
    widget = Route("POST", "/console/widgets/<widget_id>", ("widget_id",))
    problems = unprobeable(widget)
    assert len(problems) == 2
    assert "<widget_id> is not in the vocabulary" in problems[0]
    assert "add 'widget_id' to PARAMETERS" in problems[0]
    assert 'add "POST /console/widgets/<widget_id>": Form(' in problems[1]
    assert unprobeable(Route("DELETE", "/console/x"))[0].startswith("DELETE /console/x: ")


def test_the_snapshot_sees_a_change_to_the_other_account(
    api: Any, tables: dict[str, Any], console: dict[str, Any], accounts: World
) -> None:
    # The detector itself: a real change of B's integration is a change concerning B only
    before = _state(tables, console)
    status, _ = admin(api, "POST", f"/admin/integrations/{accounts.b.integration_id}/disable")
    assert status == 200
    changed = changes(before, _state(tables, console))
    assert changed and concerning(changed, accounts.b) and not concerning(changed, accounts.a)
    page = f"<p>{accounts.b.name}</p>"
    assert leaks(page, accounts.b, "/console") == [f"integration name {accounts.b.name!r}"]


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.name)
@pytest.mark.parametrize("direction", ["A-on-B", "B-on-A"])
def test_another_accounts_ids_answer_403_or_404_and_change_nothing(
    api: Any,
    tables: dict[str, Any],
    console: dict[str, Any],
    accounts: World,
    route: Route,
    direction: str,
) -> None:
    _teach(route)
    own, target = (accounts.a, accounts.b) if direction == "A-on-B" else (accounts.b, accounts.a)
    for role, email in (("admin", own.admin_email), ("member", own.member_email)):
        who = f"{route.name} as {own.id}'s {role} with {target.id}'s ids"
        browser, csrf = _signed_in(api, email)
        if route.parameters and route.method == "GET" and role == "admin":
            # Control: the same route on the admin's own objects answers, so a 404 below is
            # the scoping's, not a probe that names nothing
            control = browser.get(route.path(own))
            assert control.status < 400, f"{route.name} on {own.id}'s own ids: {control.status}"
        before = _state(tables, console)
        path = route.path(target)
        answer = _send(browser, route, path, target, csrf)
        changed = changes(before, _state(tables, console))
        assert answer.status < 500, f"{who}: {answer.status}\n{answer.text[:2000]}"
        if route.parameters:
            assert answer.status in (403, 404), f"{who}: {answer.status}, expected 403 or 404"
            assert not changed, f"{who} changed:\n" + "\n".join(changed)
        elif route.method == "GET":
            assert not changed, f"{who} changed:\n" + "\n".join(changed)
        else:  # a form of the user's own account: it may change that account, never the other
            touched = concerning(changed, target)
            assert not touched, f"{who} changed {target.id}'s data:\n" + "\n".join(touched)
        if route.method == "GET":
            found = leaks(answer.text, target, path)
            assert not found, f"{who}: the page shows {', '.join(found)}"


def _probe_without_a_user(
    api: Any, tables: dict[str, Any], console: dict[str, Any], route: Route,
    browser: Browser, target: Account, csrf: str, who: str,
) -> None:  # fmt: skip
    """The expectations of a request that has no (valid) user: the sign-in for a GET, a refusal
    for a POST (403, or the sign-in), nothing changed, nothing of `target` shown."""
    before = _state(tables, console)
    path = route.path(target)
    answer = _send(browser, route, path, target, csrf)
    changed = changes(before, _state(tables, console))
    assert answer.status < 500, f"{who}: {answer.status}\n{answer.text[:2000]}"
    assert not changed, f"{who} changed:\n" + "\n".join(changed)
    if route.method == "GET":
        found = leaks(answer.text, target, path)
        assert not found, f"{who}: the page shows {', '.join(found)}"
    if route.public:
        return
    to_sign_in = answer.status == 303 and answer.header("Location") == SIGN_IN_URL
    if route.method == "GET":
        assert to_sign_in, (
            f"{who}: {answer.status} {answer.header('Location')}, expected the sign-in"
        )
    else:
        assert answer.status == 403 or to_sign_in, f"{who}: {answer.status}, expected 403"


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.name)
def test_without_a_session_a_route_sends_to_sign_in_or_refuses(
    api: Any, tables: dict[str, Any], console: dict[str, Any], accounts: World, route: Route
) -> None:
    _teach(route)
    # Given a form token of A's admin's session, carried by a request with no cookie at all
    _, csrf = _signed_in(api, accounts.a.admin_email)
    _probe_without_a_user(api, tables, console, route, Browser(api), accounts.a, csrf,
                          f"{route.name} without a session")  # fmt: skip


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    return _decoded(header), _decoded(payload), signature


def _decoded(segment: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return value


def _encoded(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def forged_tokens(id_token: str, account_id: str) -> dict[str, str]:
    """A's real ID token claiming `account_id`: re-signed with a key the pool never published
    (same `kid`), unsigned (`alg: none`), and with A's own signature kept."""
    header, claims, signature = _segments(id_token)
    claims = {**claims, "custom:account_id": account_id}
    resigned = jwt.encode({"alg": "RS256", "kid": header["kid"]}, claims,
                          RSAKey.generate_key(2048))  # fmt: skip
    unsigned = f"{_encoded({'alg': 'none', 'typ': 'JWT'})}.{_encoded(claims)}."
    spliced = f"{_encoded(header)}.{_encoded(claims)}.{signature}"
    return {"re-signed": resigned, "unsigned": unsigned, "signature kept": spliced}


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.name)
def test_a_token_with_a_tampered_account_is_treated_as_signed_out(
    api: Any, tables: dict[str, Any], console: dict[str, Any], accounts: World, route: Route
) -> None:
    _teach(route)
    # Given A's admin's session, its ID token altered to claim account B
    signed_in, csrf = _signed_in(api, accounts.a.admin_email)
    for how, token in forged_tokens(signed_in.cookies["console_id"], accounts.b.id).items():
        browser = Browser(api)
        browser.cookies["console_id"] = token  # no refresh token: it would renew as A
        _probe_without_a_user(api, tables, console, route, browser, accounts.b, csrf,
                              f"{route.name} with A's token claiming B ({how})")  # fmt: skip
