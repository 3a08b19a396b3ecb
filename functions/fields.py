"""Validation of plain fields in JSON bodies, shared by the APIs: a refusal names the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.errors import BadRequest


def text(data: Mapping[str, Any], name: str, *, required: bool, limit: int) -> str:
    """A trimmed, single-line string of at most `limit` characters ("" when absent)."""
    value = data.get(name)
    if value is None:
        if required:
            raise BadRequest(f"'{name}' is required.", field=name)
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string.", field=name)
    value = value.strip()
    if required and not value:
        raise BadRequest(f"'{name}' must not be empty.", field=name)
    if len(value) > limit:
        raise BadRequest(f"'{name}' is longer than {limit} characters.", field=name)
    if any(ord(ch) < 32 for ch in value):
        raise BadRequest(f"'{name}' contains control characters.", field=name)
    return value


_ASCII_DIGITS = frozenset("0123456789")


def ascii_digits(raw: str, max_digits: int) -> int | None:
    """A whole number written in ASCII digits, at most `max_digits` long, or None.
    `str.isdigit()` accepts "²" and other digits `int()` refuses, and `int()` of thousands of
    digits is slow or refused: both reached the 500 path before authentication."""
    if not raw or len(raw) > max_digits or not _ASCII_DIGITS.issuperset(raw):
        return None
    return int(raw)
