"""Units the buyer's system knows: an integration's optional mapping from our UN/CEFACT codes
(`HUR`, `MON`, `ANN`...) to the buyer's own (`HR`, `MO`...), since a Coupa instance's units are
per-instance codes and an unknown one fails the cart import (docs/PROTOCOL.md §5).

Used where a unit crosses to the buyer's system: the cart's `UnitOfMeasure`, the invoice's
`InvoiceDetailItem/UnitOfMeasure`, and matching a PO line, which may name the unit either way
(theirs, as their system sends it back, or ours). What we store and show of our own lines
(requests, subscriptions, invoice summaries) keeps our code. Plain Python."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from functions.errors import BadRequest

MAX_ENTRIES = 50
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,9}\Z")
"""A unit code: 1 to 10 letters, digits, `.`, `_` or `-`, starting with a letter or digit."""
FIELD = "unit_mapping"


@dataclass(frozen=True)
class UnitMapping:
    """Our code -> theirs. Codes are compared as the buyer's system does not promise a case:
    ours as stored (upper case, UN/CEFACT), theirs case-insensitively when matching a PO."""

    pairs: tuple[tuple[str, str], ...] = ()

    def theirs(self, ours: str) -> str:
        """What the buyer's system calls our unit `ours` (ours itself when not mapped)."""
        return next((t for o, t in self.pairs if o == ours), ours)

    def accepts(self, ours: str, sent: str) -> bool:
        """Whether a PO line naming unit `sent` is in our unit `ours`: our code or theirs.
        A unit with no mapping is not checked (as before mappings existed)."""
        if not any(o == ours for o, _ in self.pairs):
            return True
        named = sent.strip().upper()
        return not named or named in (ours.upper(), self.theirs(ours).upper())

    def to_json(self) -> dict[str, str]:
        return dict(self.pairs)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> UnitMapping:
        return cls(tuple((str(o), str(t)) for o, t in (data or {}).items()))


NO_UNIT_MAPPING = UnitMapping()


def parse_unit_mapping(value: Any) -> UnitMapping:
    """The admin API's `unit_mapping`: an object of our code -> theirs (null or {}: none).
    Refusals name the entry."""
    if value is None:
        return UnitMapping()
    if not isinstance(value, Mapping):
        raise BadRequest(
            f"'{FIELD}' must be an object mapping our unit codes to the buyer's, like "
            '{"HUR": "HR", "MON": "MO"}, or null.',
            field=FIELD,
        )
    if len(value) > MAX_ENTRIES:
        raise BadRequest(f"'{FIELD}' may have at most {MAX_ENTRIES} entries.", field=FIELD)
    pairs = []
    for ours, theirs in value.items():
        if not isinstance(ours, str) or not CODE.match(ours):
            raise BadRequest(
                f"'{FIELD}' key {str(ours)[:20]!r} is not a unit code: 1 to 10 letters, digits, "
                "'.', '_' or '-'.",
                field=FIELD,
            )
        if not isinstance(theirs, str) or not CODE.match(theirs):
            raise BadRequest(
                f"'{FIELD}.{ours}' must be the buyer's unit code: 1 to 10 letters, digits, "
                "'.', '_' or '-'.",
                field=f"{FIELD}.{ours}",
            )
        pairs.append((ours.upper(), theirs))
    if len({ours for ours, _ in pairs}) != len(pairs):
        raise BadRequest(f"'{FIELD}' names a unit twice (codes are case-insensitive).", field=FIELD)
    return UnitMapping(tuple(sorted(pairs)))
