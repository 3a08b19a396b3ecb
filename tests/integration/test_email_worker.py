"""From outbox item to sent email, against moto: items put as the order handler writes them, the
outbox stream read by the local pump (the stand-in for Lambda's stream trigger), the real email
worker, SES. One email per item, whatever the stream delivers twice and whatever fails."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from functions import store
from functions.clock import iso, now
from functions.config import settings
from functions.links import verify_subscriptions_link
from functions.store.models import OutboxRecord
from functions.store.secrets import LinkSigningKey
from local import mailbox
from local.outbox import OutboxPump, streams_client
from tests.conftest import _sent_messages
from tests.outbox_support import invoke_email_worker, outbox_stream_records

ACCOUNT = "111122223333"
SENDER = "marketplace@procurement-gateway.example"


@pytest.fixture(scope="module")
def streams(aws: dict[str, Any]) -> Any:
    return streams_client("us-east-1")


@pytest.fixture
def outbox(tables: dict[str, Any]) -> Iterator[Any]:
    store.bind(settings())  # as the handlers do
    yield put_mail
    # SES may have been taken down by a test: bring it back for the next one
    tables["ses"].verify_email_identity(EmailAddress=settings().email_sender)


@pytest.fixture
def pump(tables: dict[str, Any], streams: Any) -> OutboxPump:
    return _pump(tables, streams)


def _pump(tables: dict[str, Any], streams: Any, **kw: Any) -> OutboxPump:
    return OutboxPump(settings().outbox_table, dynamodb=tables["dynamodb"], streams=streams, **kw)


def put_mail(
    subscription_id: str = "req-0123456789abcdef",
    event: str = "ready",
    status: str = "pending",
    **context: Any,
) -> str:
    """An outbox item as the order handler writes it, in its transaction."""
    key = f"email#{subscription_id}#{event}"
    moment = now()
    OutboxRecord(
        key,
        template=f"subscription_{event}",
        recipients=["it@acme.example", "jim@acme.example"],
        context={
            "base_url": "https://gateway.test",
            "account_id": ACCOUNT,
            "integration_name": "Acme Coupa",
            "product_name": "DataStream Pro",
            "offer_name": "Platform",
            "order_id": "PO-2026-0042",
            "subscription_id": subscription_id,
            "test": False,
            "usage_instructions": "Sign in at https://datastream.example/start",
            "requester_name": "Jim Halpert",
            "requester_email": "jim@acme.example",
            "cancelled_at": None,
            **context,
        },
        status=status,
        created_at=iso(moment),
        expires_at=moment + timedelta(days=30),
    ).save()
    return key


def _item(key: str) -> OutboxRecord:
    return OutboxRecord.get(key, consistent_read=True)


def _ses_down(tables: dict[str, Any]) -> None:
    """SES refuses every mail: the sender is no longer verified (MessageRejected)."""
    tables["ses"].delete_identity(Identity=settings().email_sender)


def _ses_up(tables: dict[str, Any]) -> None:
    tables["ses"].verify_email_identity(EmailAddress=settings().email_sender)


def test_pending_mail_is_sent_once_and_marked_sent(outbox: Any, pump: OutboxPump) -> None:
    # Given an item the order handler wrote
    key = outbox()

    # When the stream delivers it
    summary = pump.pump_once()

    # Then SES sent one mail to the recipients, and the item records it
    sent = _sent_messages()
    assert (summary.failed, len(sent)) == (0, 1)
    assert sent[0].source == SENDER
    assert sent[0].destinations["ToAddresses"] == ["it@acme.example", "jim@acme.example"]
    assert sent[0].subject == "Your subscription to DataStream Pro is ready"
    item = _item(key)
    assert (item.status, item.attempts, item.message_id) == ("sent", 1, sent[0].id)
    assert item.sent_at is not None


def test_both_parts_reach_ses_with_a_link_the_web_handler_accepts(
    outbox: Any, pump: OutboxPump
) -> None:
    outbox(order_id="PO-77", product_name="<script>x</script> Pro")

    pump.pump_once()

    [message] = mailbox.messages()
    assert "PO-77" in message["text"] and "PO-77" in message["html"]
    assert "<script>x</script> Pro" in message["text"]
    assert "<script>" not in message["html"]
    link = next(w for w in message["text"].split() if "/subscriptions/" in w)
    url = urlsplit(link)
    query = parse_qs(url.query)
    assert url.path == f"/subscriptions/{ACCOUNT}"
    key = LinkSigningKey(settings())()
    assert verify_subscriptions_link(
        key, ACCOUNT, query["expires"][0], query["signature"][0], now() + timedelta(days=29)
    )
    assert link.replace("&", "&amp;") in message["html"]
    page = mailbox.page("/_local/mailbox")[2]
    assert "Text part" in page and "HTML part" in page and "PO-77" in page


def test_test_mode_mail_says_so_in_the_subject(outbox: Any, pump: OutboxPump) -> None:
    outbox(test=True)

    pump.pump_once()

    [message] = _sent_messages()
    assert message.subject.startswith("[TEST] DataStream Pro")
    assert "no subscription was created" in message.body


def test_pumping_again_sends_nothing_more(outbox: Any, pump: OutboxPump) -> None:
    outbox()

    pump.pump_once()
    again = pump.pump_once()  # the worker's own writes (claim, sent) reach the stream too
    last = pump.pump_once()

    assert again.delivered == 2 and again.failed == 0
    assert last.delivered == 0
    assert len(_sent_messages()) == 1


def test_same_stream_record_delivered_twice_sends_once(
    outbox: Any, tables: dict[str, Any], streams: Any
) -> None:
    key = outbox()
    [insert] = outbox_stream_records(tables, streams)

    first = invoke_email_worker([insert, insert])  # twice in one batch
    second = invoke_email_worker([insert])  # and again later

    assert first == {"batchItemFailures": []} and second == {"batchItemFailures": []}
    assert len(_sent_messages()) == 1
    assert (_item(key).status, _item(key).attempts) == ("sent", 1)


def test_concurrent_pumps_send_each_mail_once(
    outbox: Any, tables: dict[str, Any], streams: Any
) -> None:
    # Given five mails and three pumps each reading the whole stream (duplicate delivery)
    keys = [outbox(f"req-{n:016x}") for n in range(5)]
    pumps = [_pump(tables, streams) for _ in range(3)]
    start = threading.Barrier(len(pumps))
    summaries: list[Any] = []

    def run(p: OutboxPump) -> None:
        start.wait(timeout=10)
        summaries.append(p.pump_once())

    # When they run at the same time
    threads = [threading.Thread(target=run, args=(p,)) for p in pumps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # Then every pump delivered every mail, and each mail went out once
    assert [s.delivered >= 5 for s in summaries] == [True, True, True]
    sent = _sent_messages()
    assert len(sent) == 5
    assert sorted(_item(k).message_id for k in keys) == sorted(m.id for m in sent)
    assert {_item(k).status for k in keys} == {"sent"}


def test_ses_down_keeps_the_mail_pending_then_sends_it_once_when_back(
    outbox: Any, pump: OutboxPump, tables: dict[str, Any]
) -> None:
    # Given SES refusing mail
    key = outbox()
    _ses_down(tables)

    # When the stream delivers the item, twice
    first = pump.pump_once()
    second = pump.pump_once()

    # Then nothing is sent, the record failed each time, the item waits, pending
    assert (first.failed, second.failed) == (1, 1)
    assert _sent_messages() == []
    item = _item(key)
    assert (item.status, item.attempts, item.message_id) == ("pending", 2, None)

    # When SES is back, the retry sends it, once
    _ses_up(tables)
    third = pump.pump_once()
    pump.pump_once()

    assert third.failed == 0
    assert len(_sent_messages()) == 1
    assert (_item(key).status, _item(key).attempts) == ("sent", 3)


def test_failing_mail_ends_as_a_dead_letter_and_the_stream_moves_on(
    outbox: Any, tables: dict[str, Any], streams: Any
) -> None:
    # Given SES refusing mail, and a pump allowing three attempts
    pump = _pump(tables, streams, max_attempts=3)
    key = outbox()
    _ses_down(tables)

    # When the record has failed three times
    summaries = [pump.pump_once() for _ in range(3)]

    # Then it is a dead letter, shown on the mailbox page, and is not delivered again
    assert [s.dead for s in summaries] == [0, 0, 1]
    [dead] = pump.dead_letters()
    assert (dead.key, dead.template, dead.attempts) == (key, "subscription_ready", 3)
    assert dead.recipients == ["it@acme.example", "jim@acme.example"]
    assert "MessageRejected" in dead.error
    page = mailbox.page("/_local/mailbox", pump.dead_letters())[2]
    assert "Dead letters (1)" in page and key in page
    dead_json = json.loads(mailbox.page("/_local/mailbox/dead-letters.json", [dead])[2])
    assert dead_json[0]["key"] == key
    _ses_up(tables)
    pump.pump_once()  # the later records (the worker's own writes) are passed, ignored
    assert pump.pump_once().delivered == 0
    assert _sent_messages() == []
    assert (_item(key).status, _item(key).attempts) == ("pending", 3)


def test_one_failing_record_does_not_resend_the_others(
    outbox: Any, pump: OutboxPump, tables: dict[str, Any]
) -> None:
    # Given a good mail and one whose context can never render, in one batch
    good = outbox("req-000000000000000a")
    bad = outbox("req-000000000000000b", product_name="")

    # When the batch is delivered and retried
    first = pump.pump_once()
    pump.pump_once()

    # Then the good one went out once; the bad one is retried, never sent
    assert first.failed == 1
    assert len(_sent_messages()) == 1
    assert _item(good).status == "sent"
    assert (_item(bad).status, _item(bad).attempts) == ("pending", 2)


def test_removed_and_already_sent_items_are_ignored(
    outbox: Any, pump: OutboxPump, tables: dict[str, Any]
) -> None:
    # Given an item written as already sent, then removed (as TTL does)
    key = outbox(status="sent")
    OutboxRecord(key).delete()

    # When the stream delivers the INSERT and the REMOVE
    summary = pump.pump_once()

    # Then nothing is sent and nothing fails
    assert (summary.delivered, summary.failed) == (2, 0)
    assert _sent_messages() == []


def test_item_removed_before_delivery_is_not_sent_nor_recreated(
    outbox: Any, pump: OutboxPump
) -> None:
    key = outbox()
    OutboxRecord(key).delete()

    summary = pump.pump_once()

    assert summary.failed == 0
    assert _sent_messages() == []
    with pytest.raises(OutboxRecord.DoesNotExist):
        _item(key)


def test_mail_claimed_by_a_worker_that_died_is_sent_once_its_lease_lapses(
    outbox: Any, pump: OutboxPump, clock: Any
) -> None:
    # Given an item claimed by a worker that died mid-send (lease for another 60 s)
    clock.freeze(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    key = outbox()
    lease = int(now().timestamp()) + 60
    OutboxRecord(key).update(
        actions=[
            OutboxRecord.status.set("sending"),
            OutboxRecord.attempts.set(1),
            OutboxRecord.lease_until.set(lease),
        ]
    )

    # When the stream delivers the INSERT while the lease runs, the record fails (retried)
    assert pump.pump_once().failed == 1
    assert _sent_messages() == []

    # Then, once the lease has lapsed, the retry sends it
    clock.advance(timedelta(seconds=61))
    assert pump.pump_once().failed == 0
    assert len(_sent_messages()) == 1
    assert (_item(key).status, _item(key).attempts) == ("sent", 2)
