"""Secrets the handlers need: from the environment locally, from Secrets Manager when deployed.
Each is fetched only when a request needs it, then cached for a few minutes so a rotation takes
effect without a redeploy.

- `AribaSecret`: the marketplace's Ariba shared secret (Ariba punchouts only).
- `LinkSigningKey`: the HMAC key of the signed "Your subscriptions" links (`functions.links`):
  the email worker signs with it, the web handler verifies with it."""

from __future__ import annotations

import threading
from typing import Any

from functions.clock import now
from functions.config import ConfigurationError, Settings
from functions.errors import Transient
from functions.store.timeouts import client_config

CACHE_SECONDS = 300


class _ManagedSecret:
    """One Secrets Manager value, read lazily (the boto3 client too) and kept CACHE_SECONDS."""

    def __init__(self, arn: str, region: str, what: str) -> None:
        self._arn = arn
        self._region = region
        self._what = what
        self._value: str | None = None
        self._fetched_at: float = 0.0
        self._client: Any = None
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            moment = now().timestamp()
            if self._value is None or moment - self._fetched_at > CACHE_SECONDS:
                self._value = self._fetch()
                self._fetched_at = moment
            return self._value

    def _fetch(self) -> str:
        if self._client is None:
            import boto3  # only the requests needing the secret pay for this client, once

            self._client = boto3.client(
                "secretsmanager", region_name=self._region, config=client_config()
            )
        try:
            return str(self._client.get_secret_value(SecretId=self._arn)["SecretString"])
        except Exception as exc:  # any AWS failure here is ours, and retryable
            raise Transient(f"Temporary failure reading the {self._what}; please retry.") from exc


class AribaSecret:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._managed = (
            _ManagedSecret(settings.ariba_secret_arn, settings.region, "Ariba shared secret")
            if settings.ariba_secret_arn
            else None
        )

    def __call__(self) -> str | None:
        if self._settings.ariba_shared_secret:
            return self._settings.ariba_shared_secret
        return self._managed() if self._managed is not None else None


class LinkSigningKey:
    """The key as bytes. Missing entirely is a deployment mistake: signing or verifying links
    without a key would make them forgeable, so it fails loudly instead."""

    def __init__(self, settings: Settings) -> None:
        self._local = settings.link_signing_key
        self._managed = (
            _ManagedSecret(settings.link_key_secret_arn, settings.region, "link-signing key")
            if settings.link_key_secret_arn
            else None
        )

    def __call__(self) -> bytes:
        if self._local:
            return self._local.encode("utf-8")
        if self._managed is None:
            raise ConfigurationError("neither LINK_SIGNING_KEY nor LINK_KEY_SECRET_ARN is set")
        key = self._managed()
        if not key:
            raise ConfigurationError("the link-signing key secret is empty")
        return key.encode("utf-8")
