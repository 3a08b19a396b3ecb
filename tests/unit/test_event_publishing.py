"""Publishing seller events (functions/event_publishing.py) with an in-memory outbox and bus:
once per item, never marked sent unpublished, nothing published that is not a seller event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from functions import seller_events
from functions.errors import Transient
from functions.event_publishing import UnpublishableEvent, publish
from functions.notifications import OutboxMail
from functions.store.event_bus import EventNotPublished
from functions.subscriptions import ACTIVE, Subscription

AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SELLER = "444455556666"


def _event(action: str = seller_events.SUBSCRIBE_SUCCESS) -> seller_events.SellerEvent:
    subscription = Subscription(
        id="req-0123456789abcdef",
        account_id="111122223333",
        integration_id="int-1",
        integration_name="Acme Coupa",
        product_id="prod-datastream",
        offer_id="offer-platform",
        product_name="DataStream Pro",
        offer_name="Platform",
        pricing_model="contract",
        currency="USD",
        lines=(),
        state=ACTIVE,
    )
    return seller_events.subscription_event(action, subscription, SELLER, "2026-11-30T11:59:00Z")


def _item(event: seller_events.SellerEvent, template: str = seller_events.TEMPLATE) -> OutboxMail:
    """As the outbox holds it (part C1 writes it in the state change's transaction)."""
    context = {"source": event.source, "detail_type": event.detail_type, "detail": event.detail}
    return OutboxMail(key=event.key, template=template, recipients=(), context=context, attempts=1)


class FakeOutbox:
    def __init__(self, item: OutboxMail | None, fail_marking: bool = False) -> None:
        self.item = item
        self.status = "pending" if item else "gone"
        self.fail_marking = fail_marking
        self.event_id: str | None = None

    def claim(self, key: str, now: datetime, lease_seconds: int = 60) -> OutboxMail | None:
        if self.status != "pending":
            return None
        self.status = "sending"
        return self.item

    def mark_sent(self, key: str, message_id: str, now: datetime) -> None:
        if self.fail_marking:
            raise Transient("storage down")
        self.status, self.event_id = "sent", message_id

    def release(self, key: str) -> None:
        self.status = "pending"


class FakeBus:
    """EventBridge: `refuse` answers as PutEvents does for a refused entry (FailedEntryCount)."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.published: list[dict[str, Any]] = []

    def publish(self, source: str, detail_type: str, detail: dict[str, Any], time: datetime) -> str:
        if self.refuse:
            raise EventNotPublished("EventBridge refused the event: InternalFailure.")
        self.published.append(
            {"source": source, "detail_type": detail_type, "detail": detail, "time": time}
        )
        return f"evt-{len(self.published)}"


def test_a_pending_event_is_published_once_and_marked_sent_with_its_event_id():
    # Given a pending subscribe-success event for seller 444455556666
    event = _event()
    outbox, bus = FakeOutbox(_item(event)), FakeBus()

    # When the worker publishes it, and the stream delivers the record again
    first = publish(event.key, outbox, bus, AT)
    again = publish(event.key, outbox, bus, AT)

    # Then the bus got it once, from the seller's own source, with the seller-facing detail
    assert [p["source"] for p in bus.published] == ["procurement-gateway.444455556666"]
    published = bus.published[0]
    assert published["detail_type"] == seller_events.DETAIL_TYPE
    assert published["detail"]["action"] == "subscribe-success"
    assert published["detail"]["customer-identifier"] == "111122223333"
    assert published["detail"]["product-code"] == "prod-datastream"
    # And an id a seller can drop repeats by, and the time the change happened (not the retry's)
    assert published["detail"]["id"] == "event#req-0123456789abcdef#subscribe-success"
    assert published["time"] == datetime(2026, 11, 30, 11, 59, tzinfo=UTC)
    # And the item is sent, with EventBridge's id; the repeat found nothing to do
    assert (outbox.status, outbox.event_id) == ("sent", "evt-1")
    assert (first.outcome, first.action) == ("published", "subscribe-success")
    assert again.outcome == "already_handled"


def test_a_refused_entry_is_released_for_the_retry_and_never_marked_sent():
    # Given EventBridge refuses the entry (FailedEntryCount 1)
    event = _event(seller_events.UNSUBSCRIBE_PENDING)
    outbox = FakeOutbox(_item(event))

    # When the worker tries
    with pytest.raises(EventNotPublished):
        publish(event.key, outbox, FakeBus(refuse=True), AT)

    # Then the item is pending again, not sent: the retried record publishes it
    assert outbox.status == "pending"
    assert outbox.event_id is None
    bus = FakeBus()
    assert publish(event.key, outbox, bus, AT).outcome == "published"
    assert [p["detail"]["action"] for p in bus.published] == ["unsubscribe-pending"]


def test_an_event_already_sent_publishes_nothing():
    # Given an item already published and marked sent
    event = _event()
    outbox, bus = FakeOutbox(_item(event)), FakeBus()
    outbox.status = "sent"

    # When its stream record arrives again
    outcome = publish(event.key, outbox, bus, AT)

    # Then nothing is published
    assert outcome.outcome == "already_handled"
    assert bus.published == []


@pytest.mark.parametrize(
    "change",
    [
        {"template": "subscription_ready"},
        {"source": "aws.marketplace"},  # not a marketplace seller's source
        {"source": seller_events.SOURCE_PREFIX},  # no seller in it
        {"detail": {"action": "subscribe-everything"}},
        {"detail": "not a document"},
        {"detail_type": ""},
    ],
)
def test_what_is_not_a_seller_event_is_never_published(change):
    # Given an `event#` item that is not a well-formed seller event
    event = _event()
    item = _item(event, template=change.pop("template", seller_events.TEMPLATE))
    outbox = FakeOutbox(OutboxMail(item.key, item.template, (), {**item.context, **change}, 1))
    bus = FakeBus()

    # When the worker handles it
    with pytest.raises(UnpublishableEvent):
        publish(event.key, outbox, bus, AT)

    # Then nothing reaches the bus, and it is not marked sent (it ends in the dead-letter queue)
    assert bus.published == []
    assert outbox.status == "pending"


def test_published_but_not_marked_sent_is_reported_not_retried():
    # Given marking the item sent fails after EventBridge took the event
    event = _event()
    outbox, bus = FakeOutbox(_item(event), fail_marking=True), FakeBus()

    # When the worker publishes it
    outcome = publish(event.key, outbox, bus, AT)

    # Then it says so instead of raising (a retry would publish it twice), and the claim stays
    assert outcome.outcome == "published_unrecorded"
    assert outbox.status == "sending"
    assert len(bus.published) == 1


class _PutEvents:
    """The `events` client's PutEvents, answering as given (HTTP 200 even for a refused entry)."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.entries: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.entries.extend(Entries)
        return self.answer


@pytest.mark.parametrize(
    "answer",
    [
        {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "x"}]},
        {"FailedEntryCount": 0, "Entries": [{}]},  # no event id: not taken
    ],
)
def test_the_adapter_treats_a_refused_entry_as_not_published(answer):
    # Given PutEvents answers 200 but did not take the entry
    from functions.store.event_bus import EventBridgeBus

    bus = EventBridgeBus("us-east-1", "seller-events")
    client = _PutEvents(answer)
    bus._events = lambda: client  # type: ignore[assignment,method-assign]

    # When an event is published
    with pytest.raises(EventNotPublished):
        bus.publish("procurement-gateway.1", seller_events.DETAIL_TYPE, {"action": "x"}, AT)

    # Then it was sent on the named bus, and reported as not published
    assert client.entries[0]["EventBusName"] == "seller-events"
