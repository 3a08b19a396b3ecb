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
