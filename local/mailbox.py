"""Local only: the emails the stack sent through (mocked) SES, as a page at /_local/mailbox
and as JSON at /_local/mailbox.json."""

from __future__ import annotations

import html
import json
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends


def messages(region: str = "us-east-1") -> list[dict[str, Any]]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID][region]
    found = []
    for message in backend.sent_messages:
        body = getattr(message, "body", None) or getattr(message, "raw_data", "")
        found.append({
            "id": message.id,
            "source": message.source,
            "destinations": getattr(message, "destinations", None),
            "subject": getattr(message, "subject", ""),
            "body": body,
        })  # fmt: skip
    return found


def page(path: str) -> tuple[int, str, str]:
    if path == "/_local/mailbox.json":
        return 200, "application/json", json.dumps(messages(), default=str)
    if path != "/_local/mailbox":
        return 404, "text/plain; charset=utf-8", "not found"
    items = messages()
    rows = "".join(
        f"<article><h2>{html.escape(str(m['subject']))}</h2>"
        f"<p>From {html.escape(str(m['source']))} to {html.escape(str(m['destinations']))}</p>"
        f"<pre>{html.escape(str(m['body']))}</pre></article>"
        for m in reversed(items)
    )
    body = (
        "<!doctype html><meta charset=utf-8><title>Local mailbox</title>"
        f"<h1>Local mailbox ({len(items)} sent)</h1>{rows or '<p>No email sent yet.</p>'}"
    )
    return 200, "text/html; charset=utf-8", body
