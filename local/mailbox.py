"""Local only: the emails the stack sent through (mocked) SES and the outbox's dead letters, as
a page at /_local/mailbox and as JSON at /_local/mailbox.json and
/_local/mailbox/dead-letters.json.

moto keeps one body per `SendEmail` (the HTML part when there is one; the text part is dropped),
so the parts are also captured on their way to SES: a botocore hook, registered at import on
every boto3 session created afterwards (and on the default session if it exists), records both
parts under the message id SES answers. Import this module before the first SES client is
created (local/server.py and local/outbox.py do); mail sent through an earlier client shows
moto's body only."""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

import boto3
from botocore import handlers
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

_parts: dict[str, dict[str, str | None]] = {}
_parts_lock = threading.Lock()
_CONTEXT_KEY = "local_mailbox_parts"


def _remember_parts(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    body = params.get("Message", {}).get("Body", {})
    context[_CONTEXT_KEY] = {
        "text": body.get("Text", {}).get("Data"),
        "html": body.get("Html", {}).get("Data"),
    }


def _keep_parts(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    parts = context.get(_CONTEXT_KEY)
    if parts is not None and parsed.get("MessageId"):
        with _parts_lock:
            _parts[str(parsed["MessageId"])] = parts


_HOOKS = (
    ("before-parameter-build.ses.SendEmail", _remember_parts),
    ("after-call.ses.SendEmail", _keep_parts),
)


def _install() -> None:
    for event, hook in _HOOKS:
        if (event, hook) not in handlers.BUILTIN_HANDLERS:
            handlers.BUILTIN_HANDLERS.append((event, hook))
        if boto3.DEFAULT_SESSION is not None:
            boto3.DEFAULT_SESSION.events.register(event, hook, unique_id=f"local-mailbox-{event}")


_install()


def messages(region: str = "us-east-1") -> list[dict[str, Any]]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID][region]
    found = []
    for message in backend.sent_messages:
        stored = getattr(message, "body", None) or getattr(message, "raw_data", "")
        with _parts_lock:
            parts = _parts.get(message.id, {})
        found.append({
            "id": message.id,
            "source": message.source,
            "destinations": getattr(message, "destinations", None),
            "subject": getattr(message, "subject", ""),
            "text": parts.get("text"),
            "html": parts.get("html") if parts else stored,
            "body": stored,
        })  # fmt: skip
    return found


def _article(message: dict[str, Any]) -> str:
    to = message["destinations"]
    if isinstance(to, dict):
        to = ", ".join(a for addresses in to.values() for a in addresses)
    sections = [
        f"<article><h2>{html.escape(str(message['subject']))}</h2>"
        f"<p>From {html.escape(str(message['source']))} to {html.escape(str(to))}</p>"
    ]
    if message["text"]:
        sections.append(f"<h3>Text part</h3><pre>{html.escape(message['text'])}</pre>")
    if message["html"]:
        # Shown as the recipient would see it, in a sandbox (no scripts, no same-origin access).
        sections.append(
            "<h3>HTML part</h3>"
            f'<iframe sandbox srcdoc="{html.escape(message["html"], quote=True)}" '
            'style="width:100%;height:32rem;border:1px solid #ccc"></iframe>'
            f"<details><summary>HTML source</summary><pre>{html.escape(message['html'])}</pre>"
            "</details>"
        )
    return "".join(sections) + "</article>"


def _dead_letters_section(dead: list[dict[str, Any]]) -> str:
    if not dead:
        return ""
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(d[k]))}</td>"
            for k in ("key", "template", "recipients", "attempts", "error", "failed_at")
        )
        + "</tr>"
        for d in reversed(dead)
    )
    return (
        f"<section><h2>Dead letters ({len(dead)})</h2>"
        "<p>Outbox mail the worker failed to send after every retry (deployed, these would be "
        "in the email dead-letter queue). The outbox items stay pending.</p>"
        "<table><tr><th>Outbox key</th><th>Template</th><th>Recipients</th><th>Attempts</th>"
        f"<th>Last error</th><th>Given up at</th></tr>{rows}</table></section>"
    )


def page(path: str, dead_letters: Iterable[Any] = ()) -> tuple[int, str, str]:
    dead = [asdict(d) for d in dead_letters]
    if path == "/_local/mailbox.json":
        return 200, "application/json", json.dumps(messages(), default=str)
    if path == "/_local/mailbox/dead-letters.json":
        return 200, "application/json", json.dumps(dead, default=str)
    if path != "/_local/mailbox":
        return 404, "text/plain; charset=utf-8", "not found"
    items = messages()
    rows = "".join(_article(m) for m in reversed(items))
    body = (
        "<!doctype html><meta charset=utf-8><title>Local mailbox</title>"
        f"<h1>Local mailbox ({len(items)} sent)</h1>"
        "<p>Set up your account (in a success email, or on Your subscriptions) hands the buyer "
        'over to the demo seller\'s registration page: see <a href="/_local/seller">the fake '
        "seller applications</a> for the customers they resolved and the events they received."
        f"</p>{_dead_letters_section(dead)}"
        f"{rows or '<p>No email sent yet.</p>'}"
    )
    return 200, "text/html; charset=utf-8", body
