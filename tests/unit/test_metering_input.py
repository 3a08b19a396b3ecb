"""Metering's input, pure: the batch as a seller sends it (window, sizes, quantities,
timestamps) and the usage dimensions a product prices (`functions.metering_input`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from functions.catalog_input import product_from_json
from functions.errors import BadRequest
from functions.metering_input import parse_batch, product_dimensions
from tests.metering_support import CUSTOMER, NOW, usage_batch, usage_record
from tests.storefront_support import CONTRACT_PAYG, FREE_TRIAL
from tests.support import SELLER


def _refusal(payload: Any, now: datetime = NOW) -> BadRequest:
    with pytest.raises(BadRequest) as refused:
        parse_batch(payload, now)
    return refused.value


# --- the batch as sent ----------------------------------------------------------------------


def test_a_valid_batch_is_parsed_and_its_timestamp_truncated_to_the_hour() -> None:
    batch = parse_batch(usage_batch(usage_record(Timestamp="2026-11-26T12:59:59.999Z")), NOW)

    assert batch.product_code == "datastream-pro"
    (record,) = batch.records
    assert (record.customer, record.dimension, record.quantity) == (CUSTOMER, "hours", 5)
    assert record.hour == datetime(2026, 11, 26, 12, tzinfo=UTC)
    assert record.sent == usage_record(Timestamp="2026-11-26T12:59:59.999Z")


@pytest.mark.parametrize(
    ("timestamp", "hour"),
    [
        ("2026-11-26T12:10:00+00:00", datetime(2026, 11, 26, 12, tzinfo=UTC)),
        ("2026-11-26T13:10:00+01:00", datetime(2026, 11, 26, 12, tzinfo=UTC)),
        ("2026-11-26T07:40:00-05:00", datetime(2026, 11, 26, 12, tzinfo=UTC)),
        ("2026-11-26T17:40:00+05:30", datetime(2026, 11, 26, 12, tzinfo=UTC)),
        (
            int(datetime(2026, 11, 26, 11, 5, tzinfo=UTC).timestamp()),
            datetime(2026, 11, 26, 11, tzinfo=UTC),
        ),
        (
            Decimal(int(datetime(2026, 11, 26, 9, 0, tzinfo=UTC).timestamp())) - Decimal("0.5"),
            datetime(2026, 11, 26, 8, tzinfo=UTC),
        ),
    ],
)
def test_iso_timestamps_with_offsets_and_epoch_seconds_land_in_the_utc_hour(
    timestamp: Any, hour: datetime
) -> None:
    (record,) = parse_batch(usage_batch(usage_record(Timestamp=timestamp)), NOW).records
    assert record.hour == hour


def test_an_epoch_with_decimals_is_echoed_as_a_json_number() -> None:
    (record,) = parse_batch(
        usage_batch(usage_record(Timestamp=Decimal("1795688000.5"))), NOW
    ).records
    assert record.sent["Timestamp"] == 1795688000.5


def test_exactly_six_hours_old_is_accepted_one_second_more_refuses_the_batch() -> None:
    edge = NOW - timedelta(hours=6)
    parse_batch(usage_batch(usage_record(Timestamp=edge.isoformat())), NOW)

    too_old = (edge - timedelta(seconds=1)).isoformat()
    refused = _refusal(usage_batch(usage_record(), usage_record(Timestamp=too_old)))

    assert refused.field == "UsageRecords[1].Timestamp"
    assert "more than 6 hours old" in refused.message
    assert "no record of this batch was recorded" in refused.message


def test_a_few_minutes_of_clock_skew_are_allowed_later_is_the_future() -> None:
    parse_batch(usage_batch(usage_record(Timestamp=(NOW + timedelta(minutes=5)).isoformat())), NOW)

    refused = _refusal(
        usage_batch(usage_record(Timestamp=(NOW + timedelta(minutes=6)).isoformat()))
    )

    assert "is in the future" in refused.message and refused.field == "UsageRecords[0].Timestamp"


@pytest.mark.parametrize(
    ("timestamp", "words"),
    [
        ("2026-11-26T12:10:00", "has no UTC offset"),
        ("26/11/2026 12:10", "is not ISO 8601"),
        ("", "is not ISO 8601"),
        (None, "must be ISO 8601"),
        (True, "must be ISO 8601"),
        (10**20, "is not a valid epoch time"),
        ([], "must be ISO 8601"),
    ],
)
def test_unreadable_timestamps_are_400_naming_the_record(timestamp: Any, words: str) -> None:
    refused = _refusal(usage_batch(usage_record(Timestamp=timestamp)))
    assert words in refused.message and refused.field == "UsageRecords[0].Timestamp"


@pytest.mark.parametrize("quantity", [-1, 1.5, Decimal("2.0"), "3", None, True, 2**31])
def test_quantity_must_be_a_whole_number_from_zero(quantity: Any) -> None:
    refused = _refusal(usage_batch(usage_record(Quantity=quantity)))
    assert refused.field == "UsageRecords[0].Quantity" and "whole number" in refused.message


def test_zero_is_a_quantity() -> None:
    (record,) = parse_batch(usage_batch(usage_record(Quantity=0)), NOW).records
    assert record.quantity == 0


def test_one_to_twenty_five_records() -> None:
    assert len(parse_batch(usage_batch(*[usage_record()] * 25), NOW).records) == 25

    too_many = _refusal(usage_batch(*[usage_record()] * 26))
    empty = _refusal({"ProductCode": "datastream-pro", "UsageRecords": []})

    assert "1 to 25 records; got 26" in too_many.message and too_many.field == "UsageRecords"
    assert "got 0" in empty.message


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([], None),
        ({"UsageRecords": [usage_record()]}, "ProductCode"),
        ({"ProductCode": "datastream-pro"}, "UsageRecords"),
        ({**usage_batch(), "Extra": 1}, "Extra"),
        (usage_batch(usage_record(UsageAllocations=[])), "UsageRecords[0].UsageAllocations"),
        (usage_batch(usage_record(CustomerIdentifier="")), "UsageRecords[0].CustomerIdentifier"),
        (usage_batch(usage_record(Dimension=7)), "UsageRecords[0].Dimension"),
        (usage_batch(usage_record(Dimension="x" * 65)), "UsageRecords[0].Dimension"),
        ({"ProductCode": "datastream-pro", "UsageRecords": ["x"]}, "UsageRecords[0]"),
    ],
)
def test_malformed_batches_are_400_naming_the_field(payload: Any, field: str | None) -> None:
    assert _refusal(payload).field == field


# --- the product's dimensions -------------------------------------------------------------------


def test_the_dimensions_a_free_trial_converts_to_are_the_products() -> None:
    assert product_dimensions(product_from_json(FREE_TRIAL)) == {"hours"}
    assert product_dimensions(product_from_json({**CONTRACT_PAYG, "seller_account": SELLER})) == {
        "hours"
    }
