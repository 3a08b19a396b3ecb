"""URLs from outside (a BrowserFormPost, an invoice endpoint, an approval URL), checked strictly
and taken apart once. Origins for security headers are built from the checked parts, never from
`netloc` text: `https://a.example;frame-ancestors *;x/cart` must not reach a CSP header."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_CHARS = 2000
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
"""A DNS label as a CSP host-source accepts it (letters, digits, inner hyphens)."""


class BadUrl(ValueError):
    """Why a URL is refused, in words a buyer's admin can act on."""


@dataclass(frozen=True)
class WebUrl:
    text: str
    scheme: str
    host: str  # lower-case ASCII: IDNA for names, brackets around IPv6
    port: int | None
    fragment: str

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host}" + (f":{self.port}" if self.port else "")


def _ascii_host(hostname: str, *, bracketed: bool) -> str:
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        if bracketed:
            raise BadUrl("has a bracketed host that is not an IPv6 address") from None
    else:
        return f"[{address.compressed}]" if address.version == 6 else address.compressed
    try:
        host = hostname.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise BadUrl("has a host name that is not a valid domain name") from None
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in host.split(".")):
        raise BadUrl("has a host name that is not a valid domain name")
    return host


def parse_web_url(
    text: str, schemes: tuple[str, ...] = ("https",), *, max_chars: int = MAX_URL_CHARS
) -> WebUrl:
    """An absolute URL with one of `schemes`, a valid host and port, no user or password."""
    if len(text) > max_chars:
        raise BadUrl(f"is longer than {max_chars} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise BadUrl("contains spaces or control characters")
    try:
        parts = urlsplit(text)
        hostname = parts.hostname
        port = parts.port
    except ValueError:
        raise BadUrl("is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in schemes or not hostname:
        raise BadUrl(f"must be an absolute {' or '.join(schemes)} URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise BadUrl("must not carry a user name or password")
    if port == 0:
        raise BadUrl("has port 0")
    return WebUrl(
        text, scheme, _ascii_host(hostname, bracketed="[" in parts.netloc), port, parts.fragment
    )


def origin_of(text: str, schemes: tuple[str, ...] = ("https", "http")) -> str | None:
    """The origin of a URL stored earlier, or None when it does not pass today's check."""
    try:
        return parse_web_url(text, schemes).origin
    except BadUrl:
        return None
