"""UN/CEFACT Rec. 20 units Coupa and Ariba accept (an unknown UOM breaks Coupa's cart import).
A module of constants only, so any path may import it for free."""

from __future__ import annotations

UNITS = {
    "HUR": "hour",
    "MIN": "minute",
    "DAY": "day",
    "MON": "month",
    "ANN": "year",
    "EA": "item",
    "C62": "unit",
    "E34": "GB",
    "E35": "TB",
}
PERIOD_UNITS = {"month": "MON", "year": "ANN"}
COUNT_UNITS = ("EA", "C62")
