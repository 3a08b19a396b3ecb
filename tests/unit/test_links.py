"""The signed "Your subscriptions" link: what it looks like, and every way it must be refused."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from functions.config import ConfigurationError, settings
from functions.links import (
    SUBSCRIPTIONS_LINK_LIFETIME,
    sign_subscriptions_link,
    verify_subscriptions_link,
)
from functions.store.secrets import CACHE_SECONDS, LinkSigningKey

KEY = b"0123456789abcdef0123456789abcdef"
ACCOUNT = "111122223333"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
EXPIRES = NOW + SUBSCRIPTIONS_LINK_LIFETIME


def _parts(link: str) -> tuple[str, str, str]:
    url = urlsplit(link)
    query = parse_qs(url.query)
    return url.path.rsplit("/", 1)[-1], query["expires"][0], query["signature"][0]


def _verify(expires: str | None, signature: str | None, **kw: Any) -> bool:
    return verify_subscriptions_link(
        kw.get("key", KEY), kw.get("account", ACCOUNT), expires, signature, kw.get("now", NOW)
    )


def test_link_names_the_account_page_with_expiry_and_hmac_signature() -> None:
    link = sign_subscriptions_link(KEY, "https://gateway.test/", ACCOUNT, EXPIRES)

    epoch = int(EXPIRES.timestamp())
    expected = hmac.new(KEY, f"subscriptions:{ACCOUNT}:{epoch}".encode(), hashlib.sha256)
    assert link == (
        f"https://gateway.test/subscriptions/{ACCOUNT}"
        f"?expires={epoch}&signature={expected.hexdigest()}"
    )


def test_link_lives_thirty_days() -> None:
    assert timedelta(days=30) == SUBSCRIPTIONS_LINK_LIFETIME


def test_genuine_link_is_accepted_until_it_expires() -> None:
    _, expires, signature = _parts(sign_subscriptions_link(KEY, "https://g", ACCOUNT, EXPIRES))

    assert _verify(expires, signature)
    assert _verify(expires, signature, now=EXPIRES - timedelta(seconds=1))
    assert not _verify(expires, signature, now=EXPIRES)
    assert not _verify(expires, signature, now=EXPIRES + timedelta(days=1))


def test_link_for_one_account_does_not_open_another() -> None:
    _, expires, signature = _parts(sign_subscriptions_link(KEY, "https://g", ACCOUNT, EXPIRES))

    assert not _verify(expires, signature, account="444455556666")
    assert not _verify(expires, signature, account="")


def test_tampered_links_are_refused() -> None:
    _, expires, signature = _parts(sign_subscriptions_link(KEY, "https://g", ACCOUNT, EXPIRES))
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    later = str(int(expires) + 86400)

    assert not _verify(expires, flipped)
    assert not _verify(later, signature)  # extending the expiry breaks the signature
    assert not _verify(expires, signature, key=b"another key entirely, 32 bytes!!")


@pytest.mark.parametrize(
    ("expires", "signature"),
    [
        (None, "ab" * 32),
        ("", "ab" * 32),
        ("1795000000", None),
        ("1795000000", ""),
        ("-1795000000", "ab" * 32),
        ("1795000000.5", "ab" * 32),
        ("1e10", "ab" * 32),
        ("17950000000000000000", "ab" * 32),
        ("1795000000", "AB" * 32),
        ("1795000000", "ab" * 31),
        ("1795000000", "ab" * 33),
        ("1795000000", "zz" * 32),
        ("1795000000", "ab" * 32 + "\n"),
        ("1795000000\n", "ab" * 32),
    ],
)
def test_malformed_links_are_refused(expires: str | None, signature: str | None) -> None:
    assert not _verify(expires, signature)


def test_no_key_means_no_links() -> None:
    with pytest.raises(ValueError, match="empty"):
        sign_subscriptions_link(b"", "https://g", ACCOUNT, EXPIRES)
    _, expires, signature = _parts(sign_subscriptions_link(KEY, "https://g", ACCOUNT, EXPIRES))
    assert not _verify(expires, signature, key=b"")


def test_account_id_is_quoted_in_the_path() -> None:
    link = sign_subscriptions_link(KEY, "https://g", "a/b?c", EXPIRES)

    assert urlsplit(link).path == "/subscriptions/a%2Fb%3Fc"


def test_local_key_comes_from_the_environment() -> None:
    config = settings()._replace(link_signing_key="local-key", link_key_secret_arn=None)

    assert LinkSigningKey(config)() == b"local-key"


def test_missing_key_is_a_deployment_error() -> None:
    config = settings()._replace(link_signing_key=None, link_key_secret_arn=None)

    with pytest.raises(ConfigurationError, match="LINK_SIGNING_KEY"):
        LinkSigningKey(config)()


def test_deployed_key_is_read_from_secrets_manager_and_cached(aws: Any, clock: Any) -> None:
    # Given a key in Secrets Manager
    clock.freeze(NOW)
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    arn = secrets.create_secret(Name=f"link-key-{id(clock)}", SecretString="first-key")["ARN"]
    key = LinkSigningKey(settings()._replace(link_signing_key=None, link_key_secret_arn=arn))

    # When it is read, then rotated
    first = key()
    secrets.put_secret_value(SecretId=arn, SecretString="second-key")

    # Then the cached value serves for CACHE_SECONDS, the rotated one after
    assert first == b"first-key"
    clock.advance(timedelta(seconds=CACHE_SECONDS - 1))
    assert key() == b"first-key"
    clock.advance(timedelta(seconds=2))
    assert key() == b"second-key"
