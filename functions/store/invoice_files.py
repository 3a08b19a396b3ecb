"""Amazon S3: the invoice documents, `invoices/<integration id>/<YYYY-MM>/<invoice id>.xml` and
its JSON summary beside it (`.json`). The bucket is private, encrypted and versioned (infra/),
so an overwritten document keeps its earlier version."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from functions.errors import Transient
from functions.store.timeouts import LazyClient

PREFIX = "invoices"
XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json"

_bound: dict[str, str] = {}
_s3 = LazyClient("s3")


class FileNotStored(Transient):
    """S3 did not take or give the document (throttled, unreachable...): retry."""


def bind(bucket: str, region: str) -> None:
    """Called once at start-up by `functions.store.bind`."""
    _bound["bucket"] = bucket
    _s3.bind(region)


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
