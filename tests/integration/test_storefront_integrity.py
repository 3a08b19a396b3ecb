"""Issue 8, the storefront's cases, through the web handler against moto: pre-approved mail
(4), disabled integrations on session routes (7), many subscriptions per account (8), requests
started on the public storefront (9) and duplicate pre-approved subscriptions (10)."""

from __future__ import annotations

from typing import Any

import pytest

from functions.config import settings
from local import mailbox
from local.outbox import OutboxPump, streams_client
from tests.conftest import _sent_messages
from tests.order_support import table_items
from tests.storefront_support import (
    FREE_AND_BYOL,
    cart_of,
    create_integration,
    create_products,
    post_form,
    punch_out,
)
from tests.support import coupa_integration


@pytest.fixture(scope="module")
def streams(aws: dict[str, Any]) -> Any:
    return streams_client("us-east-1")


@pytest.fixture
def pump(tables: dict[str, Any], streams: Any) -> OutboxPump:
    return OutboxPump(settings().outbox_table, dynamodb=tables["dynamodb"], streams=streams)


@pytest.fixture
def trusting(api: Any) -> dict[str, Any]:
    """A Coupa integration that pre-approves free and BYOL offers, in production mode."""
    create_products(api, FREE_AND_BYOL)
    return create_integration(
        api,
        coupa_integration(
            name="Trusting Coupa", preapprove_free=True, preapprove_byol=True, test_mode=False
        ),
    )


def _mail(tables: dict[str, Any]) -> list[dict[str, Any]]:
    """The outbox's mail (it holds the seller events too: `event#...`)."""
    return [i for i in table_items(tables, "outbox") if i["pk"]["S"].startswith("email#")]


def _subscribe(api: Any, session: str, product: str = "open-notes", offer: str = "free") -> Any:
    return post_form(api, f"{session}/requests", {"product_id": product, "offer_id": offer})


# --- 4. pre-approved subscriptions announce themselves, once ----------------------------------


def test_a_preapproved_subscription_mails_once_without_naming_a_purchase_order(
    api: Any, tables: dict[str, Any], trusting: dict[str, Any], pump: OutboxPump
) -> None:
    # Given a buyer who subscribes to a pre-approved free offer
    page = _subscribe(api, punch_out(api, trusting))
    assert page.status == 200 and "You are subscribed to Open Notes" in page.text

    # When the outbox stream reaches the email worker (twice: nothing more goes out)
    first = pump.pump_once()
    pump.pump_once()

    # Then exactly one mail went out, telling a subscription without a PO
    assert (first.failed, pump.dead_letters()) == (0, [])
    assert len(_sent_messages()) == 1
    (message,) = mailbox.messages()
    assert message["subject"] == "Your subscription to Open Notes is ready"
    for part in (message["text"], message["html"]):
        assert "pre-approve" in part
        assert "no purchase order" in part
        assert "PO number" not in part
    (item,) = _mail(tables)
    assert item["status"]["S"] == "sent"


# --- 10. one pre-approved subscription per account and offer ----------------------------------


def test_pressing_subscribe_five_times_makes_one_subscription(
    api: Any, tables: dict[str, Any], trusting: dict[str, Any]
) -> None:
    # Given a buyer on a pre-approved free offer
    session = punch_out(api, trusting)

    # When they press Subscribe five times (each press a fresh page, as after a reload)
    pages = [_subscribe(api, session) for _ in range(5)]

    # Then the first subscribed them; the others say the account has it and create nothing
    assert [p.status for p in pages] == [200, 409, 409, 409, 409]
    for page in pages[1:]:
        assert "already has an active subscription to Open Notes" in page.text
    subscriptions = [i for i in table_items(tables, "subscriptions") if "account_id" in i]
    assert [s["state"]["S"] for s in subscriptions] == ["active"]
    assert len(_mail(tables)) == 1
    # And the subscribe page says so before anyone presses again, from any session
    again = api.handle(
        "GET", f"{punch_out(api, trusting)}/products/open-notes/subscribe", query="offer=free"
    )
    assert "already has an active subscription to Open Notes" in again.text
    assert ">Subscribe</button>" not in again.text
    # While another offer of the same product is still open to subscribe
    byol = api.handle("GET", f"{session}/products/open-notes/subscribe", query="offer=byol")
    assert ">Subscribe</button>" in byol.text
    assert _subscribe(api, session, offer="byol").status == 200


def test_concurrent_presses_make_one_subscription(
    api: Any, tables: dict[str, Any], trusting: dict[str, Any], atomic_moto: None
) -> None:
    import threading

    from functions import store
    from functions.store.catalog import DynamoProductStore
    from functions.store.sessions import DynamoSessionStore
    from functions.store.subscriptions import save_preapproved
    from functions.subscription_requests import PREAPPROVED, new_request
    from functions.subscriptions import AlreadySubscribed, announce, preapproved

    # Given eight presses that each built their own request for the same offer
    store.bind(settings())
    session_path = punch_out(api, trusting)
    (session_item,) = table_items(tables, "sessions")
    session = DynamoSessionStore().get(session_item["pk"]["S"])
    assert session is not None and session_path
    product = DynamoProductStore().get("open-notes")
    assert product is not None
    (offer,) = [o for o in product.offers if o.id == "free"]
    requests = [
        new_request(
            product,
            offer,
            {},
            integration_id=session.integration_id,
            session=session,
            state=PREAPPROVED,
        )
        for _ in range(8)
    ]
    outcomes: list[str] = []
    start = threading.Barrier(len(requests))

    def press(request: Any) -> None:
        from functions.clock import now

        subscription = preapproved(request, "Trusting Coupa", "111122223333", False, now())
        mail = announce("ready", subscription, "it@acme.example", "preapproved", "https://x")
        start.wait()
        try:
            save_preapproved(request, subscription, mail, None)
            outcomes.append("subscribed")
        except AlreadySubscribed:
            outcomes.append("refused")

    # When they reach the store at the same moment
    threads = [threading.Thread(target=press, args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # Then exactly one subscribed, and the store holds one subscription and one mail
    assert sorted(outcomes) == ["refused"] * 7 + ["subscribed"]
    assert len([i for i in table_items(tables, "subscriptions") if "account_id" in i]) == 1
    assert len(_mail(tables)) == 1


# --- 7. a disabled integration stops its live sessions ----------------------------------------


def _session_routes(session: str) -> list[tuple[str, str, dict[str, str] | None]]:
    """Every route of a punchout session, as (method, path, form)."""
    return [
        ("GET", session, None),
        ("GET", f"{session}/catalog", None),
        ("GET", f"{session}/products/open-notes", None),
        ("GET", f"{session}/products/open-notes/subscribe", None),
        ("GET", f"{session}/subscriptions", None),
        ("GET", f"{session}/requests/req-0123456789abcdef", None),
        ("POST", f"{session}/requests/req-0123456789abcdef/dismiss", {}),
        ("POST", f"{session}/requests", {"product_id": "open-notes", "offer_id": "free"}),
        ("POST", f"{session}/requests", {"product_id": "open-notes", "offer_id": "byol"}),
    ]


def test_disabling_an_integration_stops_its_live_sessions_at_once(
    api: Any, tables: dict[str, Any]
) -> None:
    from tests.support import admin

    # Given live sessions of an integration (one pre-approving free offers), then disabled
    create_products(api, FREE_AND_BYOL)
    integration = create_integration(api, coupa_integration(preapprove_free=True, test_mode=False))
    session = punch_out(api, integration)
    assert api.handle("GET", session).status == 200
    status, _ = admin(api, "POST", f"/admin/integrations/{integration['id']}/disable")
    assert status == 200

    # When the buyer goes on with any session page
    for method, path, form in _session_routes(session):
        page = api.handle(method, path) if form is None else post_form(api, path, form)

        # Then a page says the integration is disabled, and no cart goes back
        assert page.status == 403, (method, path)
        assert page.header("Content-Type") == "text/html; charset=utf-8"
        assert "This integration is disabled" in page.text, (method, path)
        assert "cart-return" not in page.text
    # And Return still leads back to Coupa, with an empty cart (it changes nothing; issue 12:
    # no dead end inside the procurement frame)
    returned = post_form(api, f"{session}/cancel", {})
    assert returned.status == 200 and cart_of(returned).lines == []
    # And nothing was created
    assert table_items(tables, "requests") == []
    assert table_items(tables, "subscriptions") == []
    assert table_items(tables, "outbox") == []
    # And enabling it again lets the same session go on
    admin(api, "POST", f"/admin/integrations/{integration['id']}/enable")
    assert api.handle("GET", f"{session}/catalog").status == 200


def test_a_session_token_without_its_integration_is_checked_too(
    api: Any, tables: dict[str, Any]
) -> None:
    """Tokens issued before they named the integration still live for up to an hour."""
    from functions import ids
    from functions.store.sessions import DynamoSessionStore
    from tests.support import admin

    # Given a live session stored under an older, integration-less token
    create_products(api, FREE_AND_BYOL)
    integration = create_integration(api, coupa_integration())
    punch_out(api, integration)
    (item,) = table_items(tables, "sessions")
    stored = DynamoSessionStore().get(item["pk"]["S"])
    assert stored is not None
    token = ids.session_token()
    from dataclasses import replace

    DynamoSessionStore().put(replace(stored, token_digest=ids.digest(token)))
    assert api.handle("GET", f"/s/{token}/catalog").status == 200

    # When the integration is disabled, Then that session stops too
    admin(api, "POST", f"/admin/integrations/{integration['id']}/disable")
    page = post_form(api, f"/s/{token}/requests", {"product_id": "open-notes", "offer_id": "free"})
    assert page.status == 403 and "This integration is disabled" in page.text


# --- 8. accounts with many subscriptions ------------------------------------------------------


def _many_subscriptions(count: int, account: str = "111122223333", start: Any = None) -> list[str]:
    """`count` active subscriptions of `account` to other products, written as the order path
    writes them, one second apart (newest last); their ids, newest first."""
    from datetime import UTC, datetime, timedelta

    from functions import store
    from functions.clock import iso
    from functions.store.models import SubscriptionRecord
    from functions.store.subscriptions import subscription_record
    from functions.subscriptions import Subscription

    store.bind(settings())
    start = start or datetime(2026, 1, 1, tzinfo=UTC)
    ids = []
    with SubscriptionRecord.batch_write() as batch:
        for n in range(count):
            subscription = Subscription(
                id=f"req-{n:016x}", account_id=account, integration_id="int_x",
                integration_name="Acme Coupa", product_id=f"other-{n % 7}", offer_id="free",
                product_name=f"Other {n}", offer_name="Free", pricing_model="free",
                currency="USD", lines=(), state="active",
                created_at=iso(start + timedelta(seconds=n)), version=1,
            )  # fmt: skip
            batch.save(subscription_record(subscription))
            ids.append(subscription.id)
    return ids[::-1]


def test_metering_finds_a_subscription_behind_hundreds_of_others(
    api: Any, tables: dict[str, Any], clock: Any
) -> None:
    from datetime import UTC, datetime

    from tests.order_support import subscribe
    from tests.storefront_support import CONTRACT_PAYG
    from tests.support import SELLER, meter

    # Given an account whose metered subscription is older than 250 others
    clock.freeze(datetime(2026, 11, 26, 12, 30, tzinfo=UTC))
    create_products(api, {**CONTRACT_PAYG, "seller_account": SELLER})
    integration = create_integration(api, coupa_integration(test_mode=False))
    subscribe(api, integration)
    _many_subscriptions(250, start=datetime(2026, 11, 26, 12, 31, tzinfo=UTC))
    clock.freeze(datetime(2026, 11, 26, 13, 30, tzinfo=UTC))

    # When the seller meters an hour of its usage
    record = {"Timestamp": "2026-11-26T13:10:00+00:00", "CustomerIdentifier": "111122223333",
              "Dimension": "hours", "Quantity": 3}  # fmt: skip
    status, body = meter(api, {"ProductCode": "datastream-pro", "UsageRecords": [record]})

    # Then it is recorded against that subscription
    assert status == 200, body
    assert [r["Status"] for r in body["Results"]] == ["Success"]


def test_your_subscriptions_pages_through_every_subscription(
    api: Any, tables: dict[str, Any]
) -> None:
    import re

    # Given an account with 260 subscriptions, seen from a punchout session
    create_products(api, FREE_AND_BYOL)
    session = punch_out(api, create_integration(api, coupa_integration()))
    newest_first = _many_subscriptions(260)

    # When the buyer follows "Older subscriptions" to the end, then "Newer" back to the start
    seen: list[list[str]] = []
    page = api.handle("GET", f"{session}/subscriptions")
    while True:
        assert page.status == 200
        seen.append(_ids_on(page.text))
        older = re.search(r'<a rel="next" href="[^"]*?(/s/[^"?]+)\?([^"]+)"', page.text)
        if older is None:
            break
        page = api.handle("GET", older.group(1), query=_unescape(older.group(2)))
    back = 0
    while newer := re.search(r'<a rel="prev" href="[^"]*?(/s/[^"?]+)\?([^"]+)"', page.text):
        page = api.handle("GET", newer.group(1), query=_unescape(newer.group(2)))
        back += 1

    # Then each page is bounded, every subscription shows once, newest first, and the way
    # back leads to the first page
    assert all(len(ids) <= 25 for ids in seen)
    assert [i for ids in seen for i in ids] == newest_first
    assert back == len(seen) - 1
    assert _ids_on(page.text) == seen[0]


def _ids_on(text: str) -> list[str]:
    import re

    return re.findall(r'data-subscription="(req-[0-9a-f]{16})"', text)


def _unescape(query: str) -> str:
    import html

    return html.unescape(query)


# --- 9. requests started on the public storefront ---------------------------------------------


def _start_outside(api: Any, **fields: str) -> Any:
    form = {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "50",
            "account_id": "111122223333", "email": "jim@acme.example", **fields}  # fmt: skip
    return post_form(api, "/catalog/requests", form)


@pytest.fixture
def marketplace(api: Any) -> dict[str, Any]:
    """A Coupa integration that accepts requests started on the marketplace."""
    from tests.storefront_support import CONTRACT_PAYG

    create_products(api, CONTRACT_PAYG, FREE_AND_BYOL)
    return create_integration(
        api, coupa_integration(approval_redirect_url="https://acme.coupahost.com/requisitions/new")
    )


def test_a_caller_chosen_request_id_is_refused_outside_a_punchout(
    api: Any, tables: dict[str, Any], marketplace: dict[str, Any]
) -> None:
    # Given the public subscribe page, which mints no request id
    page = api.handle("GET", "/catalog/products/datastream-pro/subscribe", query="offer=annual")
    assert 'name="request_key"' not in page.text

    # When a caller posts ids of their choosing
    answers = [
        _start_outside(api, request_key="req-00000000000000aa"),
        _start_outside(api, request_id="req-00000000000000bb"),
    ]

    # Then both are refused and nothing is stored; without them, our id is used
    assert [a.status for a in answers] == [400, 400]
    assert "gets its ID from the marketplace" in answers[0].text
    assert table_items(tables, "requests") == []
    assert _start_outside(api).status == 200  # the "what happens next" page
    (stored,) = table_items(tables, "requests")
    assert stored["pk"]["S"] not in ("req-00000000000000aa", "req-00000000000000bb")


def test_a_waiting_request_expires_after_the_documented_week(
    api: Any, tables: dict[str, Any], marketplace: dict[str, Any], clock: Any
) -> None:
    from datetime import UTC, datetime

    # Given a request started on the marketplace at a known moment
    clock.freeze(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    assert _start_outside(api).status == 200

    # Then DynamoDB's TTL removes it 7 days later
    (stored,) = table_items(tables, "requests")
    assert int(stored["expires_at"]["N"]) == int(
        datetime(2026, 12, 7, 9, 0, tzinfo=UTC).timestamp()
    )
    described = tables["dynamodb"].describe_time_to_live(TableName="local-requests")
    assert described["TimeToLiveDescription"]["AttributeName"] == "expires_at"

    # And once a punchout sends it to the cart, it no longer expires (its PO may come later)
    session = punch_out(api, marketplace)
    request_id = stored["pk"]["S"]
    form = {"product_id": "datastream-pro", "offer_id": "annual", "request_id": request_id,
            "estimate.hours": "50"}  # fmt: skip
    assert post_form(api, f"{session}/requests", form).status == 200
    (in_cart,) = table_items(tables, "requests")
    assert in_cart["state"]["S"] == "in_cart" and "expires_at" not in in_cart


def test_an_estimate_outside_a_punchout_is_bounded(
    api: Any, tables: dict[str, Any], marketplace: dict[str, Any]
) -> None:
    # When someone outside a punchout estimates 1,000,000,000 broker hours (80,000,000 USD)
    answer = _start_outside(api, **{"estimate.hours": "1000000000"})

    # Then they are told the limit, and nothing waits for the victim's next punchout
    assert answer.status == 400
    assert "at most 100,000.00 USD of usage" in answer.text
    assert "80,000,000.00 USD" in answer.text
    assert table_items(tables, "requests") == []


def test_an_account_has_a_bounded_number_of_waiting_requests(
    api: Any, tables: dict[str, Any], marketplace: dict[str, Any]
) -> None:
    # Given ten requests already waiting for the account's punchouts
    assert [_start_outside(api).status for _ in range(10)] == [200] * 10

    # When an eleventh is started
    answer = _start_outside(api)

    # Then it is refused with what to do, and the ten stay
    assert answer.status == 409
    assert "already has 10 requests started on the marketplace" in answer.text
    assert len(table_items(tables, "requests")) == 10


def test_the_punchout_page_shows_who_started_a_request_and_can_dismiss_it(
    api: Any, tables: dict[str, Any], marketplace: dict[str, Any], clock: Any
) -> None:
    import re
    from datetime import UTC, datetime

    # Given a request someone started on the marketplace
    clock.freeze(datetime(2026, 11, 30, 9, 15, tzinfo=UTC))
    _start_outside(api, email="mallory@elsewhere.example")
    (stored,) = table_items(tables, "requests")
    request_id = stored["pk"]["S"]

    # When a Coupa user punches out
    session = punch_out(api, marketplace)
    page = api.handle("GET", session)

    # Then they see who started it and when, with a way to dismiss it
    assert "started by mallory@elsewhere.example" in page.text
    assert "2026-11-30 09:15 UTC" in page.text
    dismiss = f"{session}/requests/{request_id}/dismiss"
    assert re.search(rf'<form method="post" action="[^"]*{re.escape(dismiss)}"', page.text)
    # An inspect session, or an unknown one, cannot dismiss it
    inspect = punch_out(api, marketplace, operation="inspect")
    assert post_form(api, f"{inspect}/requests/{request_id}/dismiss", {}).status == 403
    assert post_form(api, f"/s/{'x' * 43}/requests/{request_id}/dismiss", {}).status == 404

    # When they dismiss it
    answer = post_form(api, dismiss, {})

    # Then it is offered to no punchout again, and expires with the others
    assert answer.status == 303
    assert "Requests you started on the marketplace" not in api.handle("GET", session).text
    (dismissed,) = table_items(tables, "requests")
    assert dismissed["state"]["S"] == "dismissed" and "awaiting_integration" not in dismissed
    assert "expires_at" in dismissed
    assert post_form(api, dismiss, {}).status == 404
    assert api.handle("GET", f"{session}/requests/{request_id}").status == 404


def test_subscriptions_stored_before_the_index_are_found_after_the_backfill(
    api: Any, tables: dict[str, Any], clock: Any
) -> None:
    from datetime import UTC, datetime

    from functions.store.backfill import backfill_account_product
    from tests.order_support import subscribe
    from tests.storefront_support import CONTRACT_PAYG
    from tests.support import SELLER, meter

    # Given a metered subscription stored as before the by-account-product index
    clock.freeze(datetime(2026, 11, 26, 12, 30, tzinfo=UTC))
    create_products(api, {**CONTRACT_PAYG, "seller_account": SELLER})
    subscribe(api, create_integration(api, coupa_integration(test_mode=False)))
    (item,) = [i for i in table_items(tables, "subscriptions") if "account_id" in i]
    tables["dynamodb"].update_item(
        TableName="local-subscriptions", Key={"pk": item["pk"]},
        UpdateExpression="REMOVE account_product",
    )  # fmt: skip
    record = {"Timestamp": "2026-11-26T12:10:00+00:00", "CustomerIdentifier": "111122223333",
              "Dimension": "hours", "Quantity": 3}  # fmt: skip
    batch = {"ProductCode": "datastream-pro", "UsageRecords": [record]}
    assert [r["Status"] for r in meter(api, batch)[1]["Results"]] == ["CustomerNotSubscribed"]

    # When the operator runs the backfill (twice: the second changes nothing)
    first = backfill_account_product(tables["dynamodb"], "local-subscriptions")
    second = backfill_account_product(tables["dynamodb"], "local-subscriptions")

    # Then metering finds the subscription
    assert (first, second) == (1, 0)
    assert [r["Status"] for r in meter(api, batch)[1]["Results"]] == ["Success"]


def test_the_mailed_link_pages_through_subscriptions_and_keeps_its_signature(
    api: Any, tables: dict[str, Any], clock: Any
) -> None:
    import html
    import re
    from datetime import timedelta

    from functions.clock import now
    from functions.links import sign_subscriptions_link

    # Given an account with 30 subscriptions and the link its mail carries
    newest_first = _many_subscriptions(30)
    key = (settings().link_signing_key or "").encode()
    link = sign_subscriptions_link(
        key, "https://gateway.test", "111122223333", now() + timedelta(days=30)
    )
    path, _, query = link.removeprefix("https://gateway.test").partition("?")

    # When the buyer opens it and follows "Older subscriptions"
    first = api.handle("GET", path, query=query)
    older = re.search(r'<a rel="next" href="https://gateway\.test([^"?]+)\?([^"]+)"', first.text)
    assert older is not None
    second = api.handle("GET", older.group(1), query=html.unescape(older.group(2)))

    # Then the second page is still signed for the account and holds the rest
    assert second.status == 200
    assert _ids_on(first.text) + _ids_on(second.text) == newest_first
    assert 'rel="next"' not in second.text and 'rel="prev"' in second.text
