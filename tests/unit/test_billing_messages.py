"""The billing run's messages, pure: what the billing queue carries survives the trip, anything
else is refused as unreadable, and what one page of a shard sends on."""

from __future__ import annotations

import json

import pytest

from functions import subscriptions
from functions.billing_messages import (
    BatchMessage,
    Message,
    ShardMessage,
    UnreadableMessage,
    after_page,
    contract_subscription_of,
    message_of,
    run_messages,
)
from functions.errors import BadRequest

PERIOD = "2026-11"


def test_a_period_must_be_a_month() -> None:
    with pytest.raises(BadRequest, match="2026-11"):
        run_messages("November")


@pytest.mark.parametrize(
    "message",
    [
        ShardMessage(PERIOD, "15"),
        ShardMessage(PERIOD, "3", {"pk": "req-1", "created_at": "2026-10-01T00:00:00+00:00"}),
        BatchMessage(PERIOD, ("req-1", "req-2")),
    ],
)
def test_messages_survive_the_queue(message: Message) -> None:
    assert message_of(json.dumps(message.body())) == message


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"kind": "shard", "period": PERIOD, "shard": "16", "cursor": None}),
        json.dumps({"kind": "shard", "period": "2026-13", "shard": "1", "cursor": None}),
        json.dumps({"kind": "shard", "period": PERIOD, "shard": "1", "cursor": {"pk": 1}}),
        json.dumps({"kind": "batch", "period": PERIOD, "subscription_ids": "req-1"}),
        json.dumps({"kind": "batch", "period": PERIOD, "subscription_ids": ["r"] * 101}),
        json.dumps({"kind": "walk", "period": PERIOD}),
    ],
)
def test_anything_else_on_the_billing_queue_is_unreadable(body: str) -> None:
    with pytest.raises(UnreadableMessage):
        message_of(body)


def test_a_page_sends_its_ids_as_a_batch_and_the_next_page_while_there_is_one() -> None:
    page = ShardMessage(PERIOD, "4")
    cursor = {"pk": "req-9", "created_at": "t"}

    assert after_page(page, ["req-1", "req-9"], cursor) == [
        BatchMessage(PERIOD, ("req-1", "req-9")),
        ShardMessage(PERIOD, "4", cursor),
    ]
    assert after_page(page, ["req-1"], None) == [BatchMessage(PERIOD, ("req-1",))]
    assert after_page(page, [], cursor) == [ShardMessage(PERIOD, "4", cursor)]
    assert after_page(page, [], None) == []


def test_outbox_keys_for_contract_invoices() -> None:
    key = subscriptions.contract_outbox_key("req-0123456789abcdef")

    assert key == "invoice#req-0123456789abcdef#contract"
    assert contract_subscription_of(key) == "req-0123456789abcdef"
    assert contract_subscription_of("email#req-1#ready") is None
