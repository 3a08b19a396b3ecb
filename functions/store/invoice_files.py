"""Amazon S3: the invoice documents, `invoices/<integration id>/<YYYY-MM>/<invoice id>.xml` and
its JSON summary beside it (`.json`). The bucket is private, encrypted and versioned (infra/),
so an overwritten document keeps its earlier version."""

from __future__ import annotations

import threading
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.errors import Transient
from functions.store.timeouts import client_config

PREFIX = "invoices"
XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json"

_bound: dict[str, str] = {}
_client: Any = None
_lock = threading.Lock()


class FileNotStored(Transient):
    """S3 did not take or give the document (throttled, unreachable...): retry."""


def bind(bucket: str, region: str) -> None:
    """Called once at start-up by `functions.store.bind`."""
    global _client
    with _lock:
        if _bound.get("bucket") != bucket or _bound.get("region") != region:
            _bound.update(bucket=bucket, region=region)
            _client = None


def _s3() -> Any:
    global _client
    with _lock:
        if not _bound:
            raise RuntimeError("functions.store.bind was not called before using S3")
        if _client is None:
            import boto3  # created on first use, once per Lambda container

            _client = boto3.client("s3", region_name=_bound["region"], config=client_config())
        return _client


def document_key(integration_id: str, period: str, invoice_id: str, extension: str) -> str:
    """Sorted by integration, then period: an integration's year is one prefix listing."""
    return f"{PREFIX}/{integration_id}/{period}/{invoice_id}.{extension}"


def put(key: str, body: bytes, content_type: str) -> None:
    try:
        _s3().put_object(Bucket=_bound["bucket"], Key=key, Body=body, ContentType=content_type)
    except (ClientError, BotoCoreError) as exc:
        raise FileNotStored(f"Temporary failure storing {key} in S3; please retry.") from exc


def read(key: str) -> bytes:
    """The current version of a stored document (the delivery worker sends the `.xml`)."""
    try:
        answer = _s3().get_object(Bucket=_bound["bucket"], Key=key)
        return bytes(answer["Body"].read())
    except (ClientError, BotoCoreError) as exc:
        raise FileNotStored(f"Temporary failure reading {key} from S3; please retry.") from exc
