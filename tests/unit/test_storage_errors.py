"""Storage failures as the edges see them: retryable, or refused for good."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import GetError

from functions.errors import Transient
from functions.store.errors import NotStorable, storage_errors


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"}}, "BatchGetItem")


@pytest.mark.parametrize(
    "error",
    [_client_error("ValidationException"), GetError(cause=_client_error("ValidationException"))],
)
def test_what_storage_refuses_as_invalid_is_a_400_never_a_retryable_500(error: Exception) -> None:
    with pytest.raises(NotStorable) as refused, storage_errors("reading the order"):
        raise error
    assert refused.value.status == 400
    assert "a retry will not change that" in refused.value.message


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "InternalServerError", "ThrottlingException"]
)
def test_throttling_and_outages_stay_retryable(code: str) -> None:
    with pytest.raises(Transient) as failed, storage_errors("reading the order"):
        raise _client_error(code)
    assert failed.value.status == 500 and not isinstance(failed.value, NotStorable)
