"""Signed, expiring links to an account's "Your subscriptions" page. The link mailed to a buyer
is the page's only credential, so it carries an HMAC over the account and the expiry: anyone
holding it may look until it expires, nobody can make one for another account or a later date."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

SUBSCRIPTIONS_LINK_LIFETIME = timedelta(days=30)

_EPOCH = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


def _signature(key: bytes, account_id: str, epoch: int) -> str:
    message = f"subscriptions:{account_id}:{epoch}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign_subscriptions_link(key: bytes, base_url: str, account_id: str, expires: datetime) -> str:
    """`<base_url>/subscriptions/<account_id>?expires=<epoch>&signature=<hex>`."""
    if not key:
        raise ValueError("the link-signing key is empty: links would be forgeable")
    epoch = int(expires.timestamp())
    query = urlencode({"expires": epoch, "signature": _signature(key, account_id, epoch)})
    return f"{base_url.rstrip('/')}/subscriptions/{quote(account_id, safe='')}?{query}"


def verify_subscriptions_link(
    key: bytes,
    account_id: str,
    expires_raw: str | None,
    signature_raw: str | None,
    now: datetime,
) -> bool:
    """True only for a link we signed for this account that has not expired yet. Malformed,
    expired, tampered-with or other-account links are all just False (the page says so)."""
    if not key or not account_id or not expires_raw or not signature_raw:
        return False
    if not _EPOCH.fullmatch(expires_raw) or not _SIGNATURE.fullmatch(signature_raw):
        return False
    epoch = int(expires_raw)
    expected = _signature(key, account_id, epoch)
    # Compare first, decide on expiry after: the time taken never depends on the signature.
    genuine = hmac.compare_digest(expected.encode("ascii"), signature_raw.encode("ascii"))
    return genuine and now.timestamp() < epoch
