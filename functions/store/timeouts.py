"""How long any AWS call may take: short enough that an AWS hiccup becomes a clean, retryable
answer (a cXML 500, a failed batch item) within the function's own time, never a Lambda timeout.

botocore's and pynamodb's defaults (connect 15 s, read 30 s, then retries) exceed the 10 s and
25 s function timeouts. Here: at most ATTEMPTS tries in botocore's `standard` retry mode (which
backs off at most a second before the second try), each CONNECT_SECONDS to connect and
READ_SECONDS to read: WORST_CASE_SECONDS for one call, below the shortest function timeout
(10 s). DynamoDB, S3, SQS, SES and Secrets Manager answer in milliseconds when healthy."""

from __future__ import annotations

import threading
from typing import Any

CONNECT_SECONDS = 1.0
READ_SECONDS = 2.0
ATTEMPTS = 2  # the first try and one retry
RETRY_MODE = "standard"
BACKOFF_CAP_SECONDS = 1.0  # standard mode: random(0, 1) * 2 ** (attempt - 1), the first retry
WORST_CASE_SECONDS = ATTEMPTS * (CONNECT_SECONDS + READ_SECONDS) + BACKOFF_CAP_SECONDS


def client_config() -> Any:
    """For every boto3 client the adapters create."""
    from botocore.config import Config  # botocore is loaded already by then

    return Config(
        connect_timeout=CONNECT_SECONDS,
        read_timeout=READ_SECONDS,
        retries={"mode": RETRY_MODE, "total_max_attempts": ATTEMPTS},
    )


class LazyClient:
    """A boto3 client with these timeouts, created on first use (once per Lambda container: only
    the requests that need it pay for it) in the region `functions.store.bind` gives; binding
    another region drops a client made for the old one. Call it for the client."""

    def __init__(self, service: str, region: str | None = None) -> None:
        self._service = service
        self._region = region
        self._client: Any = None
        self._lock = threading.Lock()

    def bind(self, region: str) -> None:
        with self._lock:
            if self._region != region:
                self._region = region
                self._client = None

    def __call__(self) -> Any:
        with self._lock:
            if self._region is None:
                raise RuntimeError(
                    f"functions.store.bind was not called before using {self._service.upper()}"
                )
            if self._client is None:
                import boto3

                self._client = boto3.client(
                    self._service, region_name=self._region, config=client_config()
                )
            return self._client


def apply_to_model(meta: Any) -> None:
    """pynamodb: its connection builds the botocore client with these (its `max_retry_attempts`
    counts retries, in botocore's standard mode)."""
    meta.connect_timeout_seconds = CONNECT_SECONDS
    meta.read_timeout_seconds = READ_SECONDS
    meta.max_retry_attempts = ATTEMPTS - 1
