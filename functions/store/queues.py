"""Amazon SQS, sending only: message bodies as JSON, ten to a `SendMessageBatch` (the API's
limit), entries SQS refused sent again once. Receiving is Lambda's event source mapping."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.errors import Transient
from functions.store.timeouts import LazyClient

BATCH = 10
"""SendMessageBatch takes at most ten entries."""
ATTEMPTS = 2

_sqs = LazyClient("sqs")


class MessagesNotSent(Transient):
    """SQS did not take every message: the caller fails, and its own trigger retries it."""


def bind(region: str) -> None:
    """Called once at start-up by `functions.store.bind`."""
    _sqs.bind(region)


def send(queue_url: str, bodies: Sequence[Mapping[str, Any]]) -> int:
    """Send every body (JSON) to the queue, ten per call; the number sent. Raises
    `MessagesNotSent` if some are still refused after a second try: the ones sent stay sent, so
    receivers must take a message twice in their stride (SQS delivers at least once anyway)."""
    for start in range(0, len(bodies), BATCH):
        entries = [
            {"Id": str(n), "MessageBody": json.dumps(body, separators=(",", ":"))}
            for n, body in enumerate(bodies[start : start + BATCH])
        ]
        for _ in range(ATTEMPTS):
            try:
                answer = _sqs().send_message_batch(QueueUrl=queue_url, Entries=entries)
            except (ClientError, BotoCoreError) as exc:
                raise MessagesNotSent(
                    f"Temporary failure sending {len(entries)} message(s) to SQS; please retry."
                ) from exc
            refused = {failure["Id"] for failure in answer.get("Failed") or ()}
            entries = [entry for entry in entries if entry["Id"] in refused]
            if not entries:
                break
        else:
            raise MessagesNotSent(f"SQS refused {len(entries)} message(s); please retry.")
    return len(bodies)
