"""Units the buyer's system knows, pure: the admin's mapping as given and refused, the codes
an invoice carries, and a PO line naming the unit either way."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from functions import billing, billing_run, integrations
from functions.cxml.model import Credential, ItemRef, Money
from functions.cxml.parse import OrderLine
from functions.errors import BadRequest, Conflict
from functions.orders.checks import check_line
from functions.unit_mapping import MAX_ENTRIES, UnitMapping, parse_unit_mapping
from tests.billing_support import subscription
from tests.support import coupa_integration, dtd_errors

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
MAPPED = UnitMapping((("ANN", "YR"), ("HUR", "HR")))


def test_a_mapping_is_read_with_our_codes_in_upper_case() -> None:
    assert parse_unit_mapping({"hur": "HR", "ANN": "yr"}) == UnitMapping(
        (("ANN", "yr"), ("HUR", "HR"))
    )
    assert parse_unit_mapping(None) == UnitMapping() == parse_unit_mapping({})


@pytest.mark.parametrize(
    ("value", "field", "says"),
    [
        (["HUR", "HR"], "unit_mapping", "must be an object"),
        ({"HOUR-LONGER-THAN-10": "HR"}, "unit_mapping", "is not a unit code"),
        ({"": "HR"}, "unit_mapping", "is not a unit code"),
        ({"HUR": "H R"}, "unit_mapping.HUR", "the buyer's unit code"),
        ({"HUR": "<HR>"}, "unit_mapping.HUR", "the buyer's unit code"),
        ({"HUR": 3}, "unit_mapping.HUR", "the buyer's unit code"),
        ({"HUR": ""}, "unit_mapping.HUR", "the buyer's unit code"),
        ({"hur": "HR", "HUR": "H"}, "unit_mapping", "names a unit twice"),
        ({f"U{n}": "X" for n in range(MAX_ENTRIES + 1)}, "unit_mapping", "at most 50"),
    ],
)
def test_a_bad_mapping_is_refused_naming_the_entry(value: Any, field: str, says: str) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_unit_mapping(value)

    assert refused.value.field == field and says in refused.value.message


def test_the_admin_sets_shows_keeps_and_removes_a_mapping() -> None:
    created, _ = integrations.new_integration(coupa_integration(unit_mapping={"HUR": "HR"}))
    assert created.public_view()["unit_mapping"] == {"HUR": "HR"}

    renamed = integrations.patched(created, {"name": "Acme (renamed)"})
    assert renamed.unit_mapping == created.unit_mapping, "absent: kept"

    removed = integrations.patched(created, {"unit_mapping": None})
    assert removed.public_view()["unit_mapping"] == {}


def test_their_code_or_ours_and_an_unmapped_unit_is_not_checked() -> None:
    assert MAPPED.theirs("HUR") == "HR" and MAPPED.theirs("MON") == "MON"
    assert MAPPED.accepts("HUR", "hr") and MAPPED.accepts("HUR", " HUR ")
    assert not MAPPED.accepts("HUR", "MIN")
    assert MAPPED.accepts("MON", "anything"), "no mapping for MON: as before mappings existed"


def test_an_invoice_document_carries_their_units_and_the_summary_ours() -> None:
    # Given a usage invoice in hours
    invoice = billing.usage_invoice(
        subscription(), "2026-11", {"hours": Decimal(10)}, {"hours": Decimal(10)}, NOW
    )
    assert invoice is not None
    us = Credential("NetworkID", "procurement-gateway")
    parties = billing_run.Parties(us, Credential("DUNS", "acme-coupa"), us)

    # When its document is made for an integration mapping HUR to HR
    document = billing_run.document_of(invoice, parties, MAPPED)

    # Then the line's UnitOfMeasure is theirs, the document DTD-valid, the summary ours
    root = etree.fromstring(document)
    assert [u.text for u in root.iter("UnitOfMeasure")] == ["HR"]
    assert dtd_errors(document, "InvoiceDetail.dtd") == []
    assert [line["unit_of_measure"] for line in billing.summary_json(invoice)["lines"]] == ["HUR"]


def _po_line(unit: str) -> tuple[OrderLine, str]:
    wanted = subscription().lines[0]  # the contract line, per year (ANN)
    item = ItemRef(wanted.supplier_part_id, wanted.auxiliary_id)
    price = Money(wanted.unit_price, wanted.currency)
    line = OrderLine(1, wanted.requested_quantity, item, price, unit_of_measure=unit)
    return line, wanted.auxiliary_id


@pytest.mark.parametrize("unit", ["YR", "yr", "ANN"])
def test_a_po_line_in_their_unit_or_ours_matches(unit: str) -> None:
    line, aux = _po_line(unit)

    check_line(line, aux, subscription(), "PO-7", MAPPED)


def test_a_po_line_in_another_unit_is_a_conflict_naming_both() -> None:
    line, aux = _po_line("MON")

    with pytest.raises(
        Conflict, match="unit 'MON' differs from the requested 'YR' \\(ours: 'ANN'\\)"
    ):
        check_line(line, aux, subscription(), "PO-7", MAPPED)
