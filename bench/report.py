"""Figures with their targets, as a table for people and one JSON line for tools (the last line
of the output, so `tail -n 1` is enough to track the figures over time)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PASS = "PASS"
ABOVE = "ABOVE TARGET"
ERROR = "NOT MEASURED"
REPORTED = "REPORTED"  # the issue asks for the figure but names no target


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    target: float | None
    value: float | None
    """None when the measurement itself failed (reported, never silently passed)."""
    decimals: int = 2

    @property
    def verdict(self) -> str:
        if self.value is None:
            return ERROR
        if self.target is None:
            return REPORTED
        return PASS if self.value <= self.target else ABOVE

    def shown(self, number: float | None) -> str:
        return "-" if number is None else f"{number:.{self.decimals}f}"


def table(figures: list[Figure]) -> str:
    width = max(len(f.label) for f in figures)
    header = f"{'figure':<{width}}  {'value':>8}  {'target':>8}  verdict"
    rows = [
        f"{f.label:<{width}}  {f.shown(f.value):>8}  "
        f"{('<= ' + f.shown(f.target)) if f.target is not None else '-':>8}  {f.verdict}"
        for f in figures
    ]
    return "\n".join([header, "-" * max(len(line) for line in [header, *rows]), *rows])


def json_line(figures: list[Figure], details: dict[str, Any]) -> str:
    return json.dumps(
        {
            "bench": "punchout",
            "figures": {
                f.key: {"value": f.value, "target": f.target, "verdict": f.verdict} for f in figures
            },
            "all_pass": all(f.verdict in (PASS, REPORTED) for f in figures),
            **details,
        },
        sort_keys=True,
    )
