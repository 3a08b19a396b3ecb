"""Sealed page cursors: opaque in a URL, good only for the account, session and 15 minutes
they were sealed for, and never an exception on junk."""

from __future__ import annotations

import pytest

from functions.page_cursor import CURSOR_SECONDS, cursor_key, seal, unseal

KEY = cursor_key(b"link-signing-key-for-tests")
BOUND = {"account_id": "111122223333", "session_id": "session-1"}
TOKEN = "cognito-next-token/with+odd=chars"


def test_a_cursor_opens_to_its_token_and_does_not_show_it() -> None:
    cursor = seal(KEY, TOKEN, now=1000, **BOUND)

    assert "cognito" not in cursor and TOKEN not in cursor
    assert unseal(KEY, cursor, now=1000 + CURSOR_SECONDS, **BOUND) == TOKEN


@pytest.mark.parametrize(
    ("account_id", "session_id", "now"),
    [
        ("444455556666", "session-1", 1000),
        ("111122223333", "session-2", 1000),
        ("111122223333", "session-1", 1001 + CURSOR_SECONDS),
    ],
)
def test_a_cursor_of_another_account_session_or_expired_opens_to_nothing(
    account_id: str, session_id: str, now: int
) -> None:
    cursor = seal(KEY, TOKEN, now=1000, **BOUND)

    assert unseal(KEY, cursor, account_id=account_id, session_id=session_id, now=now) is None


def test_another_key_or_an_altered_cursor_opens_to_nothing() -> None:
    cursor = seal(KEY, TOKEN, now=1000, **BOUND)
    altered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")

    assert unseal(cursor_key(b"another-key"), cursor, now=1000, **BOUND) is None
    assert unseal(KEY, altered, now=1000, **BOUND) is None


@pytest.mark.parametrize("junk", ["", "x", "====", "é", "A" * 40, "A" * 9000, "..%00"])
def test_junk_opens_to_nothing(junk: str) -> None:
    assert unseal(KEY, junk, now=1000, **BOUND) is None


def test_no_key_no_cursor() -> None:
    with pytest.raises(ValueError, match="no link-signing key"):
        cursor_key(b"")
