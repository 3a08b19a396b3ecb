"""One BatchGetItem across tables: keys DynamoDB leaves unprocessed (throttling) are asked again
after a growing, jittered pause, as AWS advises, and a read that never completes is a
retryable error, never a partial answer."""

from __future__ import annotations

from typing import Any

import pytest

from functions.errors import Transient
from functions.store import batch


class _Client:
    """Answers each BatchGetItem with what is left in `script`, in order."""

    def __init__(self, script: list[dict[str, Any]]) -> None:
        self.script = script
        self.requests: list[dict[str, Any]] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(RequestItems)
        return self.script.pop(0)


def _model(client: _Client) -> Any:
    class Connection:
        pass

    class Record:
        class Meta:
            table_name = "sessions"

        @classmethod
        def _get_connection(cls) -> Any:
            outer = Connection()
            outer.connection = Connection()  # type: ignore[attr-defined]
            outer.connection.client = client  # type: ignore[attr-defined]
            return outer

        @classmethod
        def from_raw_data(cls, item: dict[str, Any]) -> str:
            return item["pk"]["S"]

    return Record


def _keys(*pks: str) -> dict[str, Any]:
    return {"sessions": {"Keys": [{"pk": {"S": pk}} for pk in pks]}}


def _found(*pks: str) -> dict[str, Any]:
    return {"sessions": [{"pk": {"S": pk}} for pk in pks]}


def test_unprocessed_keys_are_asked_again_after_a_growing_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given DynamoDB leaves one key unprocessed twice before answering it
    pauses: list[tuple[float, float]] = []
    monkeypatch.setattr(batch.random, "uniform", lambda low, high: pauses.append((low, high)))
    monkeypatch.setattr(batch.time, "sleep", lambda seconds: None)
    client = _Client(
        [
            {"Responses": _found("a"), "UnprocessedKeys": _keys("b")},
            {"Responses": {}, "UnprocessedKeys": _keys("b")},
            {"Responses": _found("b")},
        ]
    )
    model = _model(client)

    # When both records are read
    found = batch.get_many((model, "a"), (model, "b"), (model, "c"))

    # Then both come back, the missing one as None, after two pauses, the second longer
    assert found == ["a", "b", None]
    assert client.requests[1:] == [_keys("b"), _keys("b")]
    assert pauses == [(0, batch.BACKOFF_SECONDS), (0, 2 * batch.BACKOFF_SECONDS)]


def test_a_read_that_never_completes_is_a_retryable_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given DynamoDB never processes the key
    monkeypatch.setattr(batch.time, "sleep", lambda seconds: None)
    client = _Client([{"Responses": {}, "UnprocessedKeys": _keys("a")}] * batch.MAX_ATTEMPTS)

    # When it is read, Then the caller gets a Transient error (a retryable 500), not a partial read
    with pytest.raises(Transient):
        batch.get_many((_model(client), "a"))
    assert len(client.requests) == batch.MAX_ATTEMPTS
