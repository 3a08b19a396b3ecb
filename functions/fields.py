"""Validation of plain fields in JSON bodies and headers, shared by the APIs (admin, catalog,
Open Buy, metering): a refusal names the field."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from functions.errors import BadRequest


def only(data: Mapping[str, Any], allowed: Collection[str], *, path: str = "") -> None:
    """Refuse a key that is not in `allowed`: a misspelt one ("trem": 3) or one this API does
    not take must not be silently ignored (it could change a price or drop usage). `path`
    prefixes the name in the refusal (`offers[0].pricing.trem`)."""
    for name in data:
        if name not in allowed:
            field = f"{path}{name}"
            raise BadRequest(
                f"'{field}' is not a field here; expected {', '.join(sorted(allowed))}.",
                field=field,
            )


def entry(value: Any, allowed: Collection[str], *, name: str) -> Mapping[str, Any]:
    """An object in a list (`offers[0]`, `UsageRecords[3]`): refused unless it is a JSON object
    of `allowed` fields only; `name` is its path, prefixing its fields' in a refusal."""
    if not isinstance(value, Mapping):
        raise BadRequest(f"'{name}' must be an object.", field=name)
    only(value, allowed, path=f"{name}.")
    return value


def text(
    data: Mapping[str, Any],
    name: str,
    *,
    required: bool,
    limit: int,
    path: str = "",
    multiline: bool = False,
    trim: bool = True,
) -> str:
    """A trimmed, single-line string of at most `limit` characters ("" when absent or blank).
    `path` prefixes the name in the refusal (`products[2].name`); `multiline` lets newlines and
    tabs through (descriptions); `trim=False` keeps the value as sent (identifiers others
    compare byte for byte), though a blank one is still refused when required."""
    field = f"{path}{name}"
    value = data.get(name)
    if value is None:
        if required:
            raise BadRequest(f"'{field}' is required.", field=field)
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"'{field}' must be a string.", field=field)
    if not value.strip():
        if required:
            raise BadRequest(f"'{field}' must not be empty.", field=field)
        return ""
    if trim:
        value = value.strip()
    if len(value) > limit:
        raise BadRequest(f"'{field}' is longer than {limit} characters.", field=field)
    allowed = "\n\t" if multiline else ""
    if any(ord(ch) < 32 and ch not in allowed for ch in value):
        raise BadRequest(f"'{field}' contains control characters.", field=field)
    return value


def bearer_token(authorization: str | None, *, limit: int | None = None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None: absent, another
    scheme, empty, or longer than `limit`. The one parser of the admin, metering and Open Buy
    APIs; each answers None with its own 401."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or (limit is not None and len(token) > limit):
        return None
    return token


_ASCII_DIGITS = frozenset("0123456789")


def ascii_digits(raw: str, max_digits: int) -> int | None:
    """A whole number written in ASCII digits, at most `max_digits` long, or None.
    `str.isdigit()` accepts "²" and other digits `int()` refuses, and `int()` of thousands of
    digits is slow or refused: both reached the 500 path before authentication."""
    if not raw or len(raw) > max_digits or not _ASCII_DIGITS.issuperset(raw):
        return None
    return int(raw)
