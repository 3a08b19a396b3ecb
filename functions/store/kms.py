"""The invoice endpoints' shared secrets, sealed with AWS KMS (`functions.integrations.SecretBox`).

Coupa's shared secret must be sent in clear, so it cannot be a digest: it is encrypted under a
customer-managed key (infra/data.py) with the encryption context `{"integration_id": <id>}`, so a
ciphertext copied into another integration does not decrypt. The admin function may only
encrypt, the delivery worker only decrypt. The boto3 client is made on first use, never at
import (the handlers' cold start)."""

from __future__ import annotations

import base64
import binascii
import threading
from typing import Any

from functions import contracts
from functions.config import ConfigurationError
from functions.integrations.model import SealedSecret, SecretUnreadable
from functions.store.timeouts import client_config

CONTEXT_KEY = contracts.INVOICE_SECRET_CONTEXT_KEY
_UNREADABLE_CODES = {
    "InvalidCiphertextException",
    "IncorrectKeyException",
    "DisabledException",
    "KMSInvalidStateException",
    "NotFoundException",
}
"""KMS's answers no retry changes; anything else (throttling, a timeout) propagates and the
invoice's message comes back later."""


class KmsSecretBox:
    def __init__(self, key_id: str | None, region: str) -> None:
        self._key_id = key_id
        self._region = region
        self._client: Any = None
        self._lock = threading.Lock()

    def _kms(self) -> Any:
        if not self._key_id:
            raise ConfigurationError("environment variable INVOICE_SECRET_KEY is not set")
        with self._lock:
            if self._client is None:
                import boto3  # only the requests sealing or opening a secret pay for this

                self._client = boto3.client("kms", region_name=self._region, config=client_config())
            return self._client

    def seal(self, integration_id: str, clear: str) -> SealedSecret:
        answer = self._kms().encrypt(
            KeyId=self._key_id,
            Plaintext=clear.encode("utf-8"),
            EncryptionContext={CONTEXT_KEY: integration_id},
        )
        return SealedSecret(base64.b64encode(answer["CiphertextBlob"]).decode("ascii"))

    def open(self, integration_id: str, sealed: SealedSecret) -> str:
        from botocore.exceptions import ClientError

        try:
            blob = base64.b64decode(sealed.ciphertext, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SecretUnreadable("the stored ciphertext is not base64") from exc
        try:
            answer = self._kms().decrypt(
                KeyId=self._key_id,
                CiphertextBlob=blob,
                EncryptionContext={CONTEXT_KEY: integration_id},
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _UNREADABLE_CODES:
                raise SecretUnreadable(f"KMS refused to decrypt it ({code})") from exc
            raise
        return bytes(answer["Plaintext"]).decode("utf-8")
