"""Registration tokens: what `issue` signs, `verify` gives back, and everything it refuses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions import links, registration
from functions.registration import ExpiredToken, InvalidToken

KEY = b"link-signing-key-for-tests"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _issue(**overrides: object) -> str:
    claims: dict[str, object] = {
        "subscription_id": "req-0123456789abcdef",
        "account_id": "111122223333",
        "product_id": "datastream-pro",
        "test": False,
        "now": NOW,
    }
    claims.update(overrides)
    return registration.issue(KEY, **claims)  # type: ignore[arg-type]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_token_round_trips_its_claims() -> None:
    found = registration.verify(KEY, _issue(test=True), NOW + timedelta(minutes=5))

    assert found == registration.Registration(
        subscription_id="req-0123456789abcdef",
        account_id="111122223333",
        product_id="datastream-pro",
        test=True,
        expires_at=int((NOW + registration.TOKEN_LIFETIME).timestamp()),
    )


def test_a_token_is_valid_until_the_second_before_its_expiry() -> None:
    token = _issue()
    expiry = NOW + registration.TOKEN_LIFETIME

    assert registration.verify(KEY, token, expiry - timedelta(seconds=1)).test is False
    with pytest.raises(ExpiredToken):
        registration.verify(KEY, token, expiry)


def test_a_forged_signature_altered_claims_or_another_key_are_invalid() -> None:
    token = _issue()
    version, body, mac = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    altered = _b64(json.dumps({**claims, "acc": "999988887777"}).encode())

    for forged in (
        f"{version}.{body}.{_b64(b'0' * 32)}",
        f"{version}.{altered}.{mac}",
        f"v2.{body}.{mac}",
    ):
        with pytest.raises(InvalidToken):
            registration.verify(KEY, forged, NOW)
    with pytest.raises(InvalidToken):
        registration.verify(b"another key", token, NOW)


def test_a_token_signed_with_the_link_key_itself_is_invalid() -> None:
    # What a "Your subscriptions" link signer could compute: HMAC with the link key, not the
    # key derived for tokens.
    version, body, _ = _issue().split(".")
    with_link_key = hmac.new(KEY, f"{version}.{body}".encode(), hashlib.sha256).digest()

    with pytest.raises(InvalidToken):
        registration.verify(KEY, f"{version}.{body}.{_b64(with_link_key)}", NOW)
    assert links.sign_subscriptions_link(KEY, "https://x", "111122223333", NOW)


def test_an_empty_key_never_signs_or_verifies() -> None:
    with pytest.raises(ValueError, match="empty"):
        registration.issue(b"", subscription_id="s", account_id="a", product_id="p",
                           test=False, now=NOW)  # fmt: skip


@pytest.mark.parametrize(
    "garbage",
    [None, 7, "", "v1", "v1..", "v1.a.b.c", "v1.!!!.???", "v1." + "A" * 2000 + ".x", b"v1.a.b"],
)
def test_garbage_and_huge_input_is_invalid(garbage: object) -> None:
    with pytest.raises(InvalidToken):
        registration.verify(KEY, garbage, NOW)


@given(st.text(max_size=300))
def test_no_text_is_anything_but_invalid(text: str) -> None:
    with pytest.raises(InvalidToken):
        registration.verify(KEY, text, NOW)
