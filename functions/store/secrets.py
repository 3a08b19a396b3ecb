"""The marketplace's Ariba shared secret: from the environment locally, from Secrets Manager
when deployed. Fetched only when an Ariba request needs it, then cached for a few minutes so a
rotation takes effect without a redeploy."""

from __future__ import annotations

import threading
from typing import Any

from functions.clock import now
from functions.config import Settings
from functions.errors import Transient

CACHE_SECONDS = 300


class AribaSecret:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._value: str | None = None
        self._fetched_at: float = 0.0
        self._client: Any = None
        self._lock = threading.Lock()

    def __call__(self) -> str | None:
        if self._settings.ariba_shared_secret:
            return self._settings.ariba_shared_secret
        if not self._settings.ariba_secret_arn:
            return None
        with self._lock:
            moment = now().timestamp()
            if self._value is None or moment - self._fetched_at > CACHE_SECONDS:
                self._value = self._fetch(self._settings.ariba_secret_arn)
                self._fetched_at = moment
            return self._value

    def _fetch(self, arn: str) -> str:
        if self._client is None:
            import boto3  # only Ariba requests pay for this client, and only once

            self._client = boto3.client("secretsmanager", region_name=self._settings.region)
        try:
            return str(self._client.get_secret_value(SecretId=arn)["SecretString"])
        except Exception as exc:  # any AWS failure here is ours, and retryable
            raise Transient(
                "Temporary failure reading the Ariba shared secret; please retry."
            ) from exc
