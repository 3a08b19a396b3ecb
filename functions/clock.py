"""The one clock. Tests move it (session TTL, billing periods, the metering window)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        """Aware UTC now, or the instant tests froze."""
        return self._frozen if self._frozen is not None else datetime.now(UTC)

    def freeze(self, at: datetime) -> None:
        self._frozen = at if at.tzinfo else at.replace(tzinfo=UTC)

    def advance(self, by: timedelta) -> None:
        self._frozen = self.now() + by

    def unfreeze(self) -> None:
        self._frozen = None


CLOCK = Clock()


def now() -> datetime:
    return CLOCK.now()


def iso(moment: datetime) -> str:
    """ISO 8601 with a numeric offset (`+00:00`, never `Z`: the cXML User's Guide forbids it)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")
