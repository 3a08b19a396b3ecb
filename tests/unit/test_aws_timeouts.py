"""An AWS hiccup must become a clean, retryable answer within the function's time: every client
the adapters make gives up well before the shortest function timeout."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from functions.config import settings
from functions.errors import Transient
from functions.store import bind, invoice_files, queues, timeouts
from functions.store.mail import SesMailer
from functions.store.models import IntegrationRecord, OrderRecord
from functions.store.secrets import _ManagedSecret
from infra import constants

SHORTEST_FUNCTION_TIMEOUT = min(
    constants.DEFAULT_TIMEOUT_SECONDS,
    constants.CXML_TIMEOUT_SECONDS,
    constants.ORDERS_TIMEOUT_SECONDS,
    constants.METERING_TIMEOUT_SECONDS,
)


def _assert_bounded(client: Any) -> None:
    config = client.meta.config
    assert config.connect_timeout == timeouts.CONNECT_SECONDS
    assert config.read_timeout == timeouts.READ_SECONDS
    assert config.retries["mode"] == "standard"
    assert config.retries["total_max_attempts"] == timeouts.ATTEMPTS


def test_one_call_in_the_worst_case_ends_before_the_shortest_function_timeout() -> None:
    assert timeouts.WORST_CASE_SECONDS < SHORTEST_FUNCTION_TIMEOUT
    # botocore's defaults (60 s connect and read) and pynamodb's (15 s, 30 s) did not
    assert timeouts.CONNECT_SECONDS + timeouts.READ_SECONDS < SHORTEST_FUNCTION_TIMEOUT / 2


@pytest.mark.parametrize("model", [IntegrationRecord, OrderRecord])
def test_pynamodb_models_bound_at_start_up_use_the_short_timeouts(
    aws: dict[str, Any], model: Any
) -> None:
    # Given the store bound the way every handler binds it at start-up
    bind(settings())
    model._connection = None  # a fresh container's first connection

    # When the model's botocore client is made
    client = model._get_connection().connection.client

    # Then it is bounded, in the standard retry mode
    _assert_bounded(client)


def test_boto3_clients_of_the_adapters_use_the_short_timeouts(aws: dict[str, Any]) -> None:
    bind(settings())
    mailer = SesMailer("us-east-1")
    secret = _ManagedSecret("arn:aws:secretsmanager:us-east-1:1:secret:x", "us-east-1", "x")
    with contextlib.suppress(Transient):  # no such secret in moto: only the client matters
        secret()

    for client in (mailer._ses(), invoice_files._s3(), queues._sqs(), secret._client):
        _assert_bounded(client)


def test_a_lazy_client_is_made_once_per_region_and_only_after_binding(aws: dict[str, Any]) -> None:
    from functions.store.timeouts import LazyClient

    sqs = LazyClient("sqs")
    with pytest.raises(RuntimeError, match="before using SQS"):
        sqs()

    sqs.bind("us-east-1")
    first = sqs()
    sqs.bind("us-east-1")
    assert sqs() is first, "one client per Lambda container"
    sqs.bind("eu-west-1")
    assert sqs().meta.region_name == "eu-west-1"
    _assert_bounded(sqs())
