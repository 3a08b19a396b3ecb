"""Numbers, units, money, dates and text as people write them (functions/formatting.py): what
pages, emails and cart descriptions show instead of `3E+3 HUR` or `1 year(s)`."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from functions import formatting
from functions.catalog import Dimension
from functions.units import UNITS


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("3E+3"), "3,000"),
        (Decimal("2.6E+2"), "260"),
        (Decimal("1250"), "1,250"),
        (Decimal("1.50"), "1.5"),
        (Decimal("1234567.25"), "1,234,567.25"),
        (Decimal("0.0045"), "0.0045"),
        (7, "7"),
    ],
)
def test_numbers_are_grouped_in_plain_notation(value: Decimal, shown: str) -> None:
    assert formatting.number(value) == shown


@pytest.mark.parametrize(
    ("value", "code", "shown"),
    [
        (Decimal("3E+3"), "HUR", "3,000 hours"),
        (Decimal("1"), "ANN", "1 year"),
        (Decimal("12"), "MON", "12 months"),
        (Decimal("2.6E+2"), "EA", "260 items"),
        (Decimal("25"), "E34", "25 GB"),
    ],
)
def test_quantities_name_their_unit(value: Decimal, code: str, shown: str) -> None:
    assert formatting.quantity(value, code) == shown


def test_every_unit_we_accept_has_a_human_name() -> None:
    assert set(formatting.UNIT_NAMES) == set(UNITS)
    assert formatting.per("ANN") == "per year"
    assert formatting.per("HUR") == "per hour"
    assert formatting.per("E34") == "per GB"


def test_periods_never_read_year_s() -> None:
    assert formatting.periods(1, "year") == "1 year"
    assert formatting.periods(12, "month") == "12 months"


def test_money_groups_thousands_and_keeps_rate_decimals() -> None:
    assert formatting.money(Decimal("15000"), "USD") == "15,000.00 USD"
    assert formatting.money(Decimal("0.0045"), "EUR") == "0.0045 EUR"


def test_a_sentence_ends_with_one_period() -> None:
    assert formatting.sentence("Sold by Streamline Data Inc.") == "Sold by Streamline Data Inc."
    assert formatting.sentence("Sold by Perimeter Labs") == "Sold by Perimeter Labs."


def test_dates_read_as_written_in_utc() -> None:
    assert formatting.day("2026-11-30T23:30:00-02:00") == "1 December 2026"
    assert formatting.day(datetime(2026, 11, 30, tzinfo=UTC)) == "30 November 2026"
    assert formatting.day("") == ""


def test_lines_have_labels_not_ids() -> None:
    assert formatting.line_label("contract") == "Contract"
    assert formatting.line_label("usage") == "Usage budget"
    assert formatting.line_label("zero", "free_trial") == "Free trial"
    assert formatting.line_label("zero", "byol") == "Bring your own license"


def test_paragraphs_keep_line_breaks_and_escape() -> None:
    text = "1. Open the <console>.\n2. Add a source.\n\nDone & dusted."

    shown = formatting.paragraphs(text)

    assert shown == (
        "<p>1. Open the &lt;console&gt;.<br>\n2. Add a source.</p><p>Done &amp; dusted.</p>"
    )


@pytest.mark.parametrize(
    ("name", "unit", "rate", "amount"),
    [
        (
            "Million inspected requests",
            "EA",
            "0.60 USD per million inspected requests",
            "25 million inspected requests",
        ),
        ("Image scans", "EA", "0.60 USD per image scan", "25 image scans"),
        ("Pipeline hours", "HUR", "0.60 USD per hour (Pipeline hours)", "25 hours"),
        ("Ingested data", "E34", "0.60 USD per GB (Ingested data)", "25 GB"),
    ],
)
def test_usage_rates_read_as_sentences(name: str, unit: str, rate: str, amount: str) -> None:
    dimension = Dimension("d", name, unit, Decimal("0.60"))

    assert dimension.rate("USD") == rate
    assert dimension.amount(Decimal("25")) == amount
    assert "each (" not in dimension.rate("USD")
