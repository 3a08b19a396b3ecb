"""Warnings on an integration the admin API accepts but a buyer's admin should look at again:
not refusals, since the rule is a convention the buyer system may not follow to the letter."""

from __future__ import annotations

import re

from functions.integrations.model import Integration

ANID = re.compile(r"^AN[0-9]{11}(-T)?\Z", re.IGNORECASE)
"""An SAP Business Network ID: AN and 11 digits; test accounts' end in -T (docs/PROTOCOL.md)."""


def warnings(integration: Integration) -> list[str]:
    """What to double-check, each a sentence an admin can act on; empty when nothing is odd."""
    found = []
    buyer = integration.buyer
    if integration.system == "ariba" and not (
        buyer.domain.lower() == "networkid" and ANID.match(buyer.identity)
    ):
        found.append(
            f"Ariba identifies a buyer by its NetworkID (ANID), like AN01000000001 or "
            f"AN01000000001-T for a test account; {buyer.domain}/{buyer.identity} does not look "
            "like one, so Ariba's punchouts may not find this integration. Check the ANID in "
            "Ariba's company profile."
        )
    return found
