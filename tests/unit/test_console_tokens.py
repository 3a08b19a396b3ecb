"""Console token verification: only a current RS256 token of our pool's app client, of the use
asked for, names a signed-in user. Keys are generated here; nothing is fetched."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from functions.console_auth import (
    ConsolePool,
    TokenRejected,
    console_user,
    verify_token,
)
from functions.store.jwks import PoolKeys

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
POOL = ConsolePool(
    pool_id="us-east-1_Console1",
    client_id="console-client",
    region="us-east-1",
    issuer="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Console1",
    jwks_url="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Console1/.well-known/jwks.json",
)
KEY = RSAKey.generate_key(2048, parameters={"kid": "pool-key"})
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "pool-key"})


def _keys(*keys: RSAKey) -> PoolKeys:
    document = json.dumps({"keys": [k.as_dict(private=False) for k in keys]}).encode()
    return PoolKeys(POOL.jwks_url, fetch=lambda _url: document)


def _claims(token_use: str = "id", **changes: object) -> dict[str, object]:  # noqa: S107
    at = int(NOW.timestamp())
    claims: dict[str, object] = {
        "iss": POOL.issuer,
        "sub": "5f1c-user",
        "token_use": token_use,
        "iat": at - 60,
        "auth_time": at - 60,
        "exp": at + 3540,
        "jti": "jti-1",
        "origin_jti": "origin-1",
    }
    if token_use == "id":
        claims.update({"aud": POOL.client_id, "email": "it-admin@initech.example",
                       "custom:account_id": "111122223333", "custom:role": "admin"})  # fmt: skip
    else:
        claims.update({"client_id": POOL.client_id, "username": "5f1c-user"})
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims: dict[str, object], key: RSAKey = KEY, kid: str = "pool-key") -> str:
    return jwt.encode({"alg": "RS256", "kid": kid}, claims, key)


def _b64(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_a_genuine_id_token_names_the_user_and_their_account():
    # Given an ID token our pool signed for the console's client
    token = _sign(_claims())
    # When it is verified
    user = console_user(token, POOL, _keys(KEY), NOW)
    # Then the user, their account and role come from its claims
    assert (user.email, user.account_id, user.role, user.session_id) == (
        "it-admin@initech.example", "111122223333", "admin", "origin-1")  # fmt: skip
    assert user.is_admin


def test_a_genuine_access_token_verifies_as_access():
    assert verify_token(_sign(_claims("access")), "access", POOL, _keys(KEY), NOW)["sub"]


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        (_claims(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"), "issuer"),
        (_claims(aud="another-client"), "audience"),
        (_claims(exp=int(NOW.timestamp()) - 31), "expired"),
        (_claims(exp=None), "expired"),
        (_claims(iat=int(NOW.timestamp()) + 120), "iat"),
        (_claims(nbf=int(NOW.timestamp()) + 120), "nbf"),
        (_claims("access"), "token_use"),
        (_claims(**{"custom:account_id": None}), "account_id"),
        (_claims(**{"custom:role": "owner"}), "role"),
        (_claims(exp="tomorrow"), "number"),
    ],
    ids=[
        "wrong issuer",
        "wrong audience",
        "expired",
        "no expiry",
        "issued in the future",
        "not yet valid",
        "access token where id expected",
        "no account",
        "unknown role",
        "expiry not a number",
    ],
)
def test_a_token_that_is_not_a_current_console_id_token_is_refused(claims, reason):
    # Given a token signed by the pool's key but wrong in one claim
    token = _sign(claims)
    # When it is verified as a console ID token
    # Then it is refused, for that reason
    with pytest.raises(TokenRejected, match=reason):
        console_user(token, POOL, _keys(KEY), NOW)


def test_an_id_token_where_an_access_token_is_expected_is_refused():
    with pytest.raises(TokenRejected, match="token_use"):
        verify_token(_sign(_claims("id")), "access", POOL, _keys(KEY), NOW)


def test_an_access_token_of_another_client_is_refused():
    with pytest.raises(TokenRejected, match="audience"):
        verify_token(_sign(_claims("access", client_id="x")), "access", POOL, _keys(KEY), NOW)


def test_a_small_clock_skew_is_tolerated():
    token = _sign(_claims(exp=int(NOW.timestamp()) - 10, iat=int(NOW.timestamp()) + 10))
    assert console_user(token, POOL, _keys(KEY), NOW).account_id == "111122223333"


def test_a_token_signed_by_another_key_with_the_same_kid_is_refused():
    # Given a token signed by a key that is not the pool's, naming the pool's key id
    token = _sign(_claims(), key=OTHER_KEY)
    # Then its signature does not verify
    with pytest.raises(TokenRejected, match="signature"):
        console_user(token, POOL, _keys(KEY), NOW)


def test_a_token_naming_an_unknown_key_is_refused_after_one_refresh():
    # Given a JWKS without the token's key id
    fetched: list[str] = []
    document = json.dumps({"keys": [KEY.as_dict(private=False)]}).encode()
    keys = PoolKeys(POOL.jwks_url, fetch=lambda url: fetched.append(url) or document)
    token = _sign(_claims(), kid="rotated-away")
    # When two such tokens arrive
    for _ in range(2):
        with pytest.raises(TokenRejected, match="unknown key"):
            console_user(token, POOL, keys, NOW)
    # Then the JWKS was read once and refreshed at most once: not once per token
    assert len(fetched) == 2


def test_a_key_rotated_in_is_found_by_refreshing_the_cached_jwks():
    # Given a cache that read the JWKS before the pool's new key was published
    new_key = RSAKey.generate_key(2048, parameters={"kid": "new-key"})
    documents = [[KEY], [KEY, new_key]]
    keys = PoolKeys(
        POOL.jwks_url,
        fetch=lambda _url: json.dumps(
            {"keys": [k.as_dict(private=False) for k in documents.pop(0)]}
        ).encode(),
    )
    assert console_user(_sign(_claims()), POOL, keys, NOW)
    # When a token signed with the new key arrives
    # Then the cache re-reads the JWKS and the token verifies
    assert console_user(_sign(_claims(), key=new_key, kid="new-key"), POOL, keys, NOW)


def test_alg_none_is_refused():
    token = f"{_b64({'alg': 'none', 'kid': 'pool-key'})}.{_b64(_claims())}."
    with pytest.raises(TokenRejected, match="algorithm"):
        console_user(token, POOL, _keys(KEY), NOW)


def test_hs256_signed_with_the_public_key_is_refused():
    # Given the classic confusion: HMAC with the RSA public key's bytes as the secret
    public_pem = KEY.as_pem(private=False)
    signing_input = f"{_b64({'alg': 'HS256', 'kid': 'pool-key'})}.{_b64(_claims())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    # Then it is refused before any key is used
    with pytest.raises(TokenRejected, match="algorithm"):
        console_user(token, POOL, _keys(KEY), NOW)


def test_an_rs256_header_over_an_hmac_signature_is_refused():
    genuine = _sign(_claims())
    header, payload, _ = genuine.split(".")
    forged = f"{header}.{_b64(_claims(**{'custom:account_id': '444455556666'}))}.{_.upper()}"
    with pytest.raises(TokenRejected):
        console_user(forged, POOL, _keys(KEY), NOW)
    assert payload


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not-a-token",
        "a.b.c",
        "....",
        "x" * 9000,
        f"{_b64({'alg': 'RS256'})}.e30.sig",
        f"{_b64({'alg': 'RS256', 'kid': 'pool-key'})}.!!!.sig",
        "eyJ.eyJ.",
        "[].[].[]",
    ],
)
def test_garbage_is_refused_not_crashed_on(garbage):
    with pytest.raises(TokenRejected):
        console_user(garbage, POOL, _keys(KEY), NOW)


def test_an_expired_token_is_refused_an_hour_later():
    token = _sign(_claims())
    later = NOW + timedelta(hours=1)
    with pytest.raises(TokenRejected, match="expired"):
        console_user(token, POOL, _keys(KEY), later)
