"""The console's cookie and CSRF rules: attributes every session cookie carries, cookies read
back, and CSRF tokens valid only for the session they were made for."""

from __future__ import annotations

from functions.console_session import (
    clear_cookie,
    csrf_key,
    csrf_token,
    csrf_valid,
    read_cookies,
    set_cookie,
)

KEY = csrf_key(b"link-signing-key")


def test_a_session_cookie_is_secure_http_only_lax_and_only_for_the_console():
    header = set_cookie("console_id", "a.b.c", None)
    assert header == "console_id=a.b.c; Path=/console; Secure; HttpOnly; SameSite=Lax"
    assert set_cookie("console_refresh", "r", 60, "/prod/console").endswith(
        "Path=/prod/console; Secure; HttpOnly; SameSite=Lax; Max-Age=60"
    )
    assert clear_cookie("console_id").endswith("Max-Age=0")


def test_cookies_are_read_back_and_a_malformed_header_is_none():
    assert read_cookies("console_id=a.b.c; other=1") == {"console_id": "a.b.c", "other": "1"}
    assert read_cookies(None) == {}
    assert read_cookies('console_id="unterminated') == {}
    assert read_cookies("x=" + "y" * 20000) == {}


def test_a_csrf_token_is_valid_for_its_own_session_only():
    token = csrf_token(KEY, "session-1")
    assert csrf_valid(KEY, "session-1", token)
    assert not csrf_valid(KEY, "session-2", token)
    assert not csrf_valid(KEY, "session-1", None)
    assert not csrf_valid(KEY, "session-1", "")
    assert not csrf_valid(KEY, "", token)
    assert not csrf_valid(KEY, "session-1", token[:-1] + ("0" if token[-1] != "0" else "1"))
    assert not csrf_valid(KEY, "session-1", "é" * 64)


def test_the_csrf_key_is_derived_not_the_link_key_itself():
    assert KEY != b"link-signing-key"
    assert csrf_key(b"another key") != KEY
    assert csrf_token(csrf_key(b"another key"), "session-1") != csrf_token(KEY, "session-1")
