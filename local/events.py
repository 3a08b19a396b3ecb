"""HTTP request → API Gateway REST proxy event (version 1.0), kept faithful to what Lambda
receives: path parameters, single- and multi-value headers and query strings, stage, request
context, base64 bodies for binary media types."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

BINARY_MEDIA_TYPES = (
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/xml",
    "application/xml",
)


def rest_event(
    *,
    method: str,
    path: str,
    query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    resource: str,
    path_parameters: dict[str, str],
    host: str,
    source_ip: str = "127.0.0.1",
    stage: str = "local",
    identity: dict[str, Any] | None = None,
) -> dict[str, Any]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    pairs = parse_qsl(query, keep_blank_values=True)
    query_single = {k: v for k, v in pairs} or None
    query_multi: dict[str, list[str]] = {}
    for k, v in pairs:
        query_multi.setdefault(k, []).append(v)
    content_type = next((v for k, v in single.items() if k.lower() == "content-type"), "")
    binary = content_type.split(";")[0].strip().lower() in BINARY_MEDIA_TYPES
    encoded_body: str | None
    if not body:
        encoded_body, is_base64 = None, False
    elif binary:
        encoded_body, is_base64 = base64.b64encode(body).decode("ascii"), True
    else:
        try:
            encoded_body, is_base64 = body.decode("utf-8"), False
        except UnicodeDecodeError:
            encoded_body, is_base64 = base64.b64encode(body).decode("ascii"), True
    caller = {
        "sourceIp": source_ip,
        "userAgent": single.get("User-Agent") or single.get("user-agent"),
        "accessKey": None,
        "userArn": None,
        "caller": None,
        "user": None,
        "accountId": None,
    }
    caller.update(identity or {})
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": query_single,
        "multiValueQueryStringParameters": query_multi or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "body": encoded_body,
        "isBase64Encoded": is_base64,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": uuid.uuid4().hex,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "path": f"/{stage}{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": host.split(".")[0],
            "requestTimeEpoch": int(time.time() * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": caller,
            "domainName": host,
            "apiId": "local",
        },
    }


@dataclass
class LambdaContext:
    """What Powertools reads from the Lambda context object."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 25_000
