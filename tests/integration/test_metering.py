"""Metering through the API against moto, with a subscription a real purchase order activated:
what a seller's BatchMeterUsage call gets back, what the usage table holds, and what the billing
worker reads (`usage_for`)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from functions.metric_names import METERING_RECORDS
from tests.log_support import captured_metrics
from tests.order_support import BUYER, order_request, post_order, subscribe, table_items
from tests.storefront_support import (
    CONTRACT_PAYG,
    cart_of,
    create_integration,
    create_products,
    post_form,
    punch_out,
)
from tests.support import SELLER, coupa_integration, meter, seller_token

OTHER_SELLER = "210987654321"  # cloudguard-waf's
CUSTOMER = "111122223333"  # coupa_integration()'s account
SUBSCRIBED_AT = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)


@pytest.fixture
def coupa(api: Any, clock: Any) -> dict[str, Any]:
    clock.freeze(SUBSCRIBED_AT)
    create_products(api, {**CONTRACT_PAYG, "seller_account": SELLER})
    return create_integration(api, coupa_integration(test_mode=False))


@pytest.fixture
def subscription(api: Any, tables: dict[str, Any], coupa: dict[str, Any]) -> dict[str, Any]:
    """An active contract_payg subscription of CUSTOMER to datastream-pro (dimension `hours`)."""
    subscribe(api, coupa)
    (item,) = table_items(tables, "subscriptions")
    document: dict[str, Any] = json.loads(item["document"]["S"])
    assert document["state"] == "active" and document["test"] is False
    return document


def _usage(tables: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The usage table as `{sk: item}` (one subscription in these tests)."""
    return {item["sk"]["S"]: item for item in table_items(tables, "usage")}


def _totals(tables: dict[str, Any]) -> dict[str, str]:
    return {sk: item["q_hours"]["N"] for sk, item in _usage(tables).items() if "q_hours" in item}


def _record(at: datetime, quantity: int = 5, **overrides: Any) -> dict[str, Any]:
    record = {
        "Timestamp": at.isoformat(),
        "CustomerIdentifier": CUSTOMER,
        "Dimension": "hours",
        "Quantity": quantity,
    }
    record.update(overrides)
    return record


def _batch(*records: dict[str, Any]) -> dict[str, Any]:
    return {"ProductCode": "datastream-pro", "UsageRecords": list(records)}


def _statuses(body: dict[str, Any]) -> list[str]:
    return [result["Status"] for result in body["Results"]]


def test_success_records_the_hour_and_adds_to_the_period_and_all_time_totals(
    api: Any, tables: dict[str, Any], subscription: dict[str, Any]
) -> None:
    record = _record(SUBSCRIBED_AT - timedelta(minutes=10))

    status, body = meter(api, _batch(record))

    assert status == 200, body
    (result,) = body["Results"]
    assert result["Status"] == "Success" and result["UsageRecord"] == record
    assert body["UnprocessedRecords"] == []
    usage = _usage(tables)
    assert set(usage) == {"hours#2026-11-26T12:00:00+00:00", "total#2026-11", "total#all"}
    hourly = usage["hours#2026-11-26T12:00:00+00:00"]
    assert hourly["pk"]["S"] == f"usage#{subscription['id']}"
    assert hourly["quantity"]["N"] == "5"
    assert hourly["customer"]["S"] == CUSTOMER
    assert hourly["product_code"]["S"] == "datastream-pro"
    assert hourly["metering_record_id"]["S"] == result["MeteringRecordId"]
    assert hourly["recorded_at"]["S"] == "2026-11-26T12:30:00+00:00"
    assert _totals(tables) == {"total#2026-11": "5", "total#all": "5"}


def test_a_retried_batch_succeeds_again_and_counts_nothing_twice(
    api: Any, tables: dict[str, Any], subscription: dict[str, Any]
) -> None:
    batch = _batch(_record(SUBSCRIBED_AT), _record(SUBSCRIBED_AT - timedelta(hours=2), 3))
    _, first = meter(api, batch)
    before = _usage(tables)

    status, retry = meter(api, batch)

    assert status == 200
    assert _statuses(retry) == ["Success", "Success"]
    assert [r["MeteringRecordId"] for r in retry["Results"]] == [
        r["MeteringRecordId"] for r in first["Results"]
    ]
    assert _usage(tables) == before
    assert _totals(tables) == {"total#2026-11": "8", "total#all": "8"}


def test_the_same_hour_with_another_quantity_is_a_duplicate_record(
    api: Any, tables: dict[str, Any], subscription: dict[str, Any]
) -> None:
    meter(api, _batch(_record(SUBSCRIBED_AT, 5)))

    status, body = meter(api, _batch(_record(SUBSCRIBED_AT - timedelta(minutes=20), 6)))

    assert status == 200 and _statuses(body) == ["DuplicateRecord"]
    assert _totals(tables) == {"total#2026-11": "5", "total#all": "5"}


def test_a_customer_without_a_subscription_is_not_subscribed_and_nothing_is_written(
    api: Any, tables: dict[str, Any], subscription: dict[str, Any]
) -> None:
    stranger = _record(SUBSCRIBED_AT, CustomerIdentifier="999988887777")

    status, body = meter(api, _batch(stranger))

    assert status == 200
    assert body["Results"] == [{"Status": "CustomerNotSubscribed", "UsageRecord": stranger}]
    assert _usage(tables) == {}


def test_a_pending_subscription_is_not_subscribed(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any]
) -> None:
    session = punch_out(api, coupa)
    form = {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "1000"}
    contract, _ = cart_of(post_form(api, f"{session}/requests", form)).lines
    secret = coupa["purchase_information"]["shared_secret"]
    post_order(api, order_request([contract], buyer=BUYER, secret=secret))

    _, body = meter(api, _batch(_record(SUBSCRIBED_AT)))

    assert _statuses(body) == ["CustomerNotSubscribed"]


def test_a_cancelled_subscription_takes_usage_up_to_its_cancellation(
    api: Any, tables: dict[str, Any], coupa: dict[str, Any], clock: Any
) -> None:
    lines, secret = subscribe(api, coupa)
    clock.freeze(SUBSCRIBED_AT + timedelta(hours=2))  # 14:30
    post_order(
        api,
        order_request(lines, buyer=BUYER, secret=secret, order_type="delete", version=2),
    )
    clock.advance(timedelta(hours=1))

    _, body = meter(
        api,
        _batch(
            _record(SUBSCRIBED_AT + timedelta(hours=1, minutes=50)),  # 14:20, before
            _record(SUBSCRIBED_AT + timedelta(hours=2, minutes=10)),  # 14:40, after
        ),
    )

    assert _statuses(body) == ["Success", "CustomerNotSubscribed"]
    assert _totals(tables) == {"total#2026-11": "5", "total#all": "5"}


def test_a_test_subscription_is_metered_but_never_billable(
    api: Any, tables: dict[str, Any], clock: Any
) -> None:
    clock.freeze(SUBSCRIBED_AT)
    create_products(api, {**CONTRACT_PAYG, "seller_account": SELLER})
    subscribe(api, create_integration(api, coupa_integration()))  # test mode by default

    _, body = meter(api, _batch(_record(SUBSCRIBED_AT)))

    assert _statuses(body) == ["Success"]
    (item,) = table_items(tables, "subscriptions")
    assert json.loads(item["document"]["S"])["test"] is True
    assert "billing_shard" not in item, "test subscriptions stay out of the billing run"


# --- who may meter ----------------------------------------------------------------------------


def test_the_products_seller_token_may_meter_it_another_sellers_may_not(
    api: Any, tables: dict[str, Any], subscription: dict[str, Any]
) -> None:
    batch = _batch(_record(SUBSCRIBED_AT))

    refused_status, refused = meter(api, batch, token=seller_token(OTHER_SELLER))
    assert refused_status == 403
    assert "not the seller of product 'datastream-pro'" in refused["error"]["message"]
    assert _usage(tables) == {}

    status, body = meter(api, batch, token=seller_token(SELLER))
    assert status == 200 and _statuses(body) == ["Success"]


def test_the_admin_token_may_meter_any_product(
    api: Any, tables: dict[str, Any], subscription: dict[str, Any]
) -> None:
    status, body = meter(api, _batch(_record(SUBSCRIBED_AT)))  # the admin token by default
    assert status == 200 and _statuses(body) == ["Success"]


@pytest.mark.parametrize(("token", "code"), [(None, 401), ("", 401), ("guessed", 403)])
def test_no_token_is_401_an_unknown_token_403(
    api: Any, tables: dict[str, Any], subscription: dict[str, Any], token: str | None, code: int
) -> None:
    status, body = meter(api, _batch(_record(SUBSCRIBED_AT)), token=token)
    assert status == code and body["error"]["status"] == code
    assert _usage(tables) == {}


@pytest.fixture
def iam_mode(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The deployed mode: API Gateway has checked SigV4 and put the caller in the context."""
    from functions.config import settings

    monkeypatch.setenv("ADMIN_AUTH", "iam")
    settings.cache_clear()
    yield
    monkeypatch.undo()
    settings.cache_clear()


@pytest.mark.parametrize(
    ("account", "code"),
    [
        (SELLER, 200),  # the product's seller
        ("123456789012", 200),  # the marketplace itself: the account owning the API
        (OTHER_SELLER, 403),
        (None, 403),  # unsigned
    ],
)
def test_deployed_the_iam_callers_account_must_be_the_products_seller(
    api: Any,
    tables: dict[str, Any],
    subscription: dict[str, Any],
    iam_mode: None,
    account: str | None,
    code: int,
) -> None:
    identity = {"accountId": account, "userArn": f"arn:aws:iam::{account}:role/metering"}

    status, body = meter(api, _batch(_record(SUBSCRIBED_AT)), token=None, identity=identity)

    assert status == code, body


# --- refused batches --------------------------------------------------------------------------


def test_one_bad_timestamp_refuses_the_whole_batch_and_writes_nothing(
    api: Any, tables: dict[str, Any], subscription: dict[str, Any]
) -> None:
    too_old = _record(SUBSCRIBED_AT - timedelta(hours=6, seconds=1))

    status, body = meter(api, _batch(_record(SUBSCRIBED_AT), too_old, _record(SUBSCRIBED_AT)))

    assert status == 400
    assert body["error"]["field"] == "UsageRecords[1].Timestamp"
    assert "more than 6 hours old" in body["error"]["message"]
    assert _usage(tables) == {}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"ProductCode": "no-such-product"}, "ProductCode", "'no-such-product'"),
        (
            {"UsageRecords": [_record(SUBSCRIBED_AT, Dimension="gb")]},
            "UsageRecords[0].Dimension",
            "'gb' is not a usage dimension",
        ),
        ({"UsageRecords": [_record(SUBSCRIBED_AT)] * 26}, "UsageRecords", "got 26"),
        (
            {"UsageRecords": [_record(SUBSCRIBED_AT, quantity=-1)]},
            "UsageRecords[0].Quantity",
            "whole number",
        ),
    ],
)
def test_bad_input_is_a_json_400_naming_the_field(
    api: Any,
    tables: dict[str, Any],
    subscription: dict[str, Any],
    change: dict[str, Any],
    field: str,
    words: str,
) -> None:
    status, body = meter(api, {**_batch(_record(SUBSCRIBED_AT)), **change})

    assert status == 400
    assert body["error"]["field"] == field and words in body["error"]["message"]
    assert _usage(tables) == {}


def test_a_body_that_is_not_json_is_400(api: Any, tables: dict[str, Any]) -> None:
    from tests.support import ADMIN_TOKEN

    answer = api.handle(
        "POST",
        "/metering/batch-meter-usage",
        headers=[("Authorization", f"Bearer {ADMIN_TOKEN}")],
        body=b"{not json",
    )

    assert answer.status == 400 and json.loads(answer.body)["error"]["status"] == 400


def test_storage_down_is_a_retryable_500_and_the_retry_then_succeeds(
    api: Any, tables: dict[str, Any], subscription: dict[str, Any]
) -> None:
    dynamodb = tables["dynamodb"]
    dynamodb.delete_table(TableName="local-usage")
    batch = _batch(_record(SUBSCRIBED_AT))

    status, body = meter(api, batch)

    assert status == 500 and "retry" in body["error"]["message"]
    dynamodb.create_table(
        TableName="local-usage",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    status, body = meter(api, batch)
    assert status == 200 and _statuses(body) == ["Success"]
    assert _totals(tables) == {"total#2026-11": "5", "total#all": "5"}


# --- totals and what the billing worker reads -------------------------------------------------


def test_totals_per_period_and_all_time_across_hours_and_months(
    api: Any, tables: dict[str, Any], subscription: dict[str, Any], clock: Any
) -> None:
    from functions.store.usage import usage_for

    clock.freeze(datetime(2026, 11, 30, 23, 40, tzinfo=UTC))
    meter(
        api,
        _batch(
            _record(datetime(2026, 11, 30, 22, 15, tzinfo=UTC), 3),
            _record(datetime(2026, 11, 30, 23, 5, tzinfo=UTC), 4),
        ),
    )
    clock.freeze(datetime(2026, 12, 1, 1, 20, tzinfo=UTC))
    _, body = meter(
        api,
        _batch(
            _record(datetime(2026, 12, 1, 0, 59, 59, tzinfo=UTC), 10),
            _record(datetime(2026, 12, 1, 1, 0, tzinfo=UTC), 1),
            _record(datetime(2026, 11, 30, 23, 50, tzinfo=UTC), 4),  # November's, again
        ),
    )

    assert _statuses(body) == ["Success", "Success", "Success"]
    assert _totals(tables) == {"total#2026-11": "7", "total#2026-12": "11", "total#all": "18"}
    sid = subscription["id"]
    assert usage_for([sid, "req-never-metered"], "2026-11") == {
        sid: ({"hours": Decimal(7)}, {"hours": Decimal(18)}),
        "req-never-metered": ({}, {}),
    }
    assert usage_for([sid], "2026-12")[sid] == ({"hours": Decimal(11)}, {"hours": Decimal(18)})
    assert usage_for([sid], "2026-10")[sid] == ({}, {"hours": Decimal(18)})


class _Stingy:
    """A DynamoDB client whose BatchGetItem answers at most `per_call` keys and leaves the rest
    unprocessed, as DynamoDB does under load or past 16 MB; it records the keys asked."""

    def __init__(self, client: Any, per_call: int) -> None:
        self.client = client
        self.per_call = per_call
        self.asked: list[int] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((table, request),) = RequestItems.items()
        keys = request["Keys"]
        self.asked.append(len(keys))
        served, rest = keys[: self.per_call], keys[self.per_call :]
        answer: dict[str, Any] = self.client.batch_get_item(
            RequestItems={table: {**request, "Keys": served}}
        )
        answer["UnprocessedKeys"] = {table: {**request, "Keys": rest}} if rest else {}
        return answer


def test_usage_for_reads_in_chunks_of_100_keys_and_retries_unprocessed_ones(
    api: Any, tables: dict[str, Any], subscription: dict[str, Any]
) -> None:
    from functions.store.usage import DynamoUsageStore, usage_store

    meter(api, _batch(_record(SUBSCRIBED_AT, 9)))
    sid = subscription["id"]
    others = [f"req-{n:016x}" for n in range(60)]  # 61 subscriptions: 122 keys
    client = _Stingy(usage_store().client, per_call=70)
    store = DynamoUsageStore("local-usage", client)

    found = store.usage_for([*others[:30], sid, *others[30:], sid], "2026-11")

    assert client.asked == [100, 30, 22], "100 keys, the 30 left over, then the last 22"
    assert len(found) == 61
    assert found[sid] == ({"hours": Decimal(9)}, {"hours": Decimal(9)})
    assert all(found[other] == ({}, {}) for other in others)


# --- concurrency ------------------------------------------------------------------------------


def test_concurrent_identical_batches_count_once(
    api: Any, tables: dict[str, Any], subscription: dict[str, Any], atomic_moto: None
) -> None:
    """Ten copies of one batch at once (a seller's retries racing each other): every copy gets
    Success with the same ids, and the totals count the usage once."""
    from functions import metering, store
    from functions.clock import now
    from functions.config import settings
    from functions.store.catalog import DynamoProductStore
    from functions.store.subscriptions import DynamoSubscriptionStore
    from functions.store.usage import usage_store

    store.bind(settings())
    products, subscriptions, usage = DynamoProductStore(), DynamoSubscriptionStore(), usage_store()
    batch = _batch(_record(SUBSCRIBED_AT, 5), _record(SUBSCRIBED_AT - timedelta(hours=1), 2))
    answers: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(10)

    def send() -> None:
        start.wait()
        try:
            answers.append(
                metering.batch_meter_usage(
                    batch,
                    metering.Caller(admin=True),
                    now(),
                    products=products,
                    subscriptions=subscriptions,
                    usage=usage,
                )
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(answers) == 10
    assert all(_statuses(answer) == ["Success", "Success"] for answer in answers)
    assert len({json.dumps(answer, sort_keys=True) for answer in answers}) == 1
    assert _totals(tables) == {"total#2026-11": "7", "total#all": "7"}


def test_the_metering_function_imports_no_templates_and_no_xml() -> None:
    """Its cold start pays only for what metering needs."""
    code = (
        "import sys, functions.handlers.metering_api; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'jinja2', 'defusedxml', 'lxml'}))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert found.stdout.strip() == "[]"


def test_metering_records_are_counted_by_their_result(
    api: Any, tables: dict[str, Any], subscription: dict[str, Any]
) -> None:
    # Given a subscribed customer and a stranger
    stranger = _record(SUBSCRIBED_AT, CustomerIdentifier="999988887777")

    # When a batch meters one record of each, then the same hour again with another quantity
    with captured_metrics() as emitted:
        meter(api, _batch(_record(SUBSCRIBED_AT, 5), stranger))
        meter(api, _batch(_record(SUBSCRIBED_AT - timedelta(minutes=20), 6)))

    # Then the operator sees each record under the status BatchMeterUsage answered for it
    assert emitted.by(METERING_RECORDS, "result") == {
        "Success": 1,
        "CustomerNotSubscribed": 1,
        "DuplicateRecord": 1,
    }
