"""Validation of an integration's tax and invoice-partner settings (the rate and its
description are `admin._tax`): each a typed value or a 400 naming the field. What they mean on
an invoice: `functions.invoice_terms`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from functions import fields
from functions.errors import BadRequest
from functions.taxes import CATEGORIES, EXEMPTIONS

_LOCATION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?\Z")
_TAX_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./-]{0,49}\Z")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _./:-]{0,99}\Z")


def _choice(merged: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = merged.get(name, allowed[0])
    if value not in allowed:
        raise BadRequest(f"'{name}' must be one of {', '.join(allowed)}.", field=name)
    return str(value)


def _pattern(
    merged: Mapping[str, Any], name: str, pattern: re.Pattern[str], limit: int, what: str
) -> str:
    value = fields.text(merged, name, required=False, limit=limit)
    if value and not pattern.match(value):
        raise BadRequest(f"'{name}' must be {what}.", field=name)
    return value


def tax_category(merged: Mapping[str, Any]) -> str:
    """`sales` (the default), `vat` or `gst`: the TaxDetail category."""
    return _choice(merged, "tax_category", CATEGORIES)


def tax_location(merged: Mapping[str, Any]) -> str:
    """Where the tax is due: an ISO 3166 country code, optionally with its region (`GB`,
    `US-CA`, `CA-ON`), upper case. Empty: the country of the PO's BillTo."""
    raw = merged.get("tax_location")
    upper = {**merged, "tax_location": raw.strip().upper()} if isinstance(raw, str) else merged
    what = "an ISO 3166 country code, optionally with a region, like GB or US-CA"
    return _pattern(upper, "tax_location", _LOCATION, 6, what)


def tax_exemption(merged: Mapping[str, Any]) -> str:
    """At a zero rate, how the detail says so: `zeroRated` (the default) or `exempt`."""
    return _choice(merged, "tax_exemption", EXEMPTIONS)


def tax_exemption_reason(merged: Mapping[str, Any]) -> str:
    """At a zero rate, why (Coupa requires a reason on an exempt detail); empty: the tax
    description."""
    return fields.text(merged, "tax_exemption_reason", required=False, limit=200)


def buyer_tax_id(merged: Mapping[str, Any]) -> str:
    """The buyer's tax registration (VAT, GST or federal tax number), shown on soldTo."""
    return _pattern(merged, "buyer_tax_id", _TAX_ID, 50,
                    "a tax registration number: letters, digits, spaces, '.', '/' or '-', "
                    "at most 50")  # fmt: skip


def remit_to_code(merged: Mapping[str, Any]) -> str:
    """The remit-to code the buyer assigned to us (Coupa: the remit-to address's code on the
    supplier portal), sent as the remitTo partner's addressID."""
    return _pattern(merged, "remit_to_code", _CODE, 100,
                    "a code of letters, digits and ' _./:-', at most 100")  # fmt: skip
