"""The shared field validators: one bearer-token parser for the admin, metering and Open Buy
APIs, one text validator for every JSON API."""

from __future__ import annotations

import pytest

from functions import fields
from functions.errors import BadRequest


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        (" Bearer abc", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer   ", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert fields.bearer_token(header) == token


def test_bearer_token_longer_than_the_limit_is_refused() -> None:
    assert fields.bearer_token("Bearer " + "a" * 11, limit=10) is None
    assert fields.bearer_token("Bearer " + "a" * 10, limit=10) == "a" * 10


def test_text_names_the_field_by_its_path() -> None:
    with pytest.raises(BadRequest) as refused:
        fields.text({"name": "x" * 61}, "name", required=True, limit=60, path="plans[1].")
    assert refused.value.field == "plans[1].name"
    assert "'plans[1].name' is longer than 60 characters." in refused.value.message


def test_text_lets_newlines_through_only_when_multiline() -> None:
    data = {"description": "line one\n\tline two"}
    assert fields.text(data, "description", required=False, limit=100, multiline=True) == (
        "line one\n\tline two"
    )
    with pytest.raises(BadRequest):
        fields.text(data, "description", required=False, limit=100)
    with pytest.raises(BadRequest):
        fields.text({"d": "a\rb"}, "d", required=False, limit=100, multiline=True)


def test_text_keeps_an_identifier_as_sent_when_asked() -> None:
    assert fields.text({"id": " a b "}, "id", required=True, limit=10, trim=False) == " a b "
    assert fields.text({"id": " a b "}, "id", required=True, limit=10) == "a b"
    for blank in ("", "   ", None):
        with pytest.raises(BadRequest):
            fields.text({"id": blank}, "id", required=True, limit=10, trim=False)
    assert fields.text({"id": "  "}, "id", required=False, limit=10) == ""


def test_only_refuses_an_unknown_key_by_its_path_and_lists_the_fields() -> None:
    with pytest.raises(BadRequest) as refused:
        fields.only({"term": 1, "trem": 3}, {"term", "price"}, path="offers[0].pricing.")
    assert refused.value.field == "offers[0].pricing.trem"
    assert refused.value.message == (
        "'offers[0].pricing.trem' is not a field here; expected price, term."
    )
    fields.only({"term": 1}, {"term", "price"})


def test_metering_and_the_catalog_refuse_an_unknown_key_in_the_same_words() -> None:
    """One check, one wording: metering used to say "is not supported" in the order it listed
    its fields, the catalog "is not a field here" in sorted order."""
    from datetime import UTC, datetime

    from functions.metering_input import parse_batch

    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    record = {
        "Timestamp": "2026-11-30T11:00:00+00:00",
        "CustomerIdentifier": "c",
        "Dimension": "d",
        "Quantity": 1,
        "UsageAllocations": [],
    }
    with pytest.raises(BadRequest) as refused:
        parse_batch({"ProductCode": "p", "UsageRecords": [record]}, now)
    assert refused.value.field == "UsageRecords[0].UsageAllocations"
    assert refused.value.message == (
        "'UsageRecords[0].UsageAllocations' is not a field here; "
        "expected CustomerIdentifier, Dimension, Quantity, Timestamp."
    )


def test_an_entry_of_a_list_is_an_object_of_known_fields_named_by_its_path() -> None:
    allowed = {"id", "name"}
    assert fields.entry({"id": "a"}, allowed, name="offers[0]") == {"id": "a"}
    with pytest.raises(BadRequest) as not_an_object:
        fields.entry(["id"], allowed, name="offers[1]")
    assert not_an_object.value.field == "offers[1]"
    assert not_an_object.value.message == "'offers[1]' must be an object."
    with pytest.raises(BadRequest) as unknown:
        fields.entry({"id": "a", "nme": "b"}, allowed, name="offers[2]")
    assert unknown.value.field == "offers[2].nme"
