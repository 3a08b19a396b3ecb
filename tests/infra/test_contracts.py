"""What the functions and the infrastructure share is defined once, in `functions/contracts.py`:
the synthesized template must use those values, and the module must stay importable without
CDK (the functions import it inside Lambda, where CDK is not installed)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from functions import contracts
from infra import constants
from tests.infra.support import QUEUE_OF_VARIABLE, Synthesized

INDEXES_OF_TABLE = {
    constants.INTEGRATIONS_TABLE_ID: contracts.INTEGRATIONS_INDEXES,
    constants.PRODUCTS_TABLE_ID: contracts.PRODUCTS_INDEXES,
    constants.REQUESTS_TABLE_ID: contracts.REQUESTS_INDEXES,
    constants.SUBSCRIPTIONS_TABLE_ID: contracts.SUBSCRIPTIONS_INDEXES,
    constants.INVOICES_TABLE_ID: contracts.INVOICES_INDEXES,
}


def test_contracts_import_nothing_beyond_the_standard_library() -> None:
    # Given the module's source
    tree = ast.parse(Path(contracts.__file__).read_text())

    # Then it imports nothing at all (constants need no library)
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


def test_every_queue_redrives_after_max_receives(stack: Synthesized) -> None:
    for construct_id in QUEUE_OF_VARIABLE.values():
        queue = stack.resources[stack.logical_id("AWS::SQS::Queue", construct_id)]["Properties"]
        assert queue["RedrivePolicy"]["maxReceiveCount"] == contracts.MAX_RECEIVES, construct_id


def test_tables_have_exactly_the_indexes_the_models_query(stack: Synthesized) -> None:
    from functions.store import models

    queried = {
        index.Meta.index_name
        for model in vars(models).values()
        if isinstance(model, type)
        for index in vars(model).values()
        if hasattr(getattr(index, "Meta", None), "index_name")
    }
    deployed: dict[str, dict[str, tuple[str, str | None]]] = {}
    for construct_id in INDEXES_OF_TABLE:
        table = stack.resources[stack.logical_id("AWS::DynamoDB::Table", construct_id)]
        deployed[construct_id] = {
            index["IndexName"]: (
                next(k["AttributeName"] for k in index["KeySchema"] if k["KeyType"] == "HASH"),
                next(
                    (k["AttributeName"] for k in index["KeySchema"] if k["KeyType"] == "RANGE"),
                    None,
                ),
            )
            for index in table["Properties"].get("GlobalSecondaryIndexes", [])
        }

    assert deployed == INDEXES_OF_TABLE
    assert queried == {name for indexes in INDEXES_OF_TABLE.values() for name in indexes}


def test_outbox_stream_filters_use_the_outbox_prefixes(stack: Synthesized) -> None:
    prefixes = {
        prefix["prefix"]
        for mapping in stack.of_type("AWS::Lambda::EventSourceMapping").values()
        for criteria in [mapping["Properties"].get("FilterCriteria", {"Filters": []})]
        for pattern in criteria["Filters"]
        for prefix in json.loads(pattern["Pattern"])["dynamodb"]["Keys"]["pk"]["S"]
    }

    assert prefixes == {
        contracts.OUTBOX_EMAIL_PREFIX,
        contracts.OUTBOX_CONTRACT_INVOICE_PREFIX,
        contracts.OUTBOX_CONFIRMATION_PREFIX,
        contracts.OUTBOX_EVENT_PREFIX,
    }


def test_bucket_grants_use_the_object_prefixes(stack: Synthesized) -> None:
    policies = json.dumps(stack.of_type("AWS::IAM::Policy"))

    for prefix in (contracts.INVOICE_OBJECT_PREFIX, contracts.ORDER_OBJECT_PREFIX):
        assert f"/{prefix}*" in policies, prefix


def test_the_functions_use_the_shared_values() -> None:
    from functions import billing_messages, billing_run, delivery, subscriptions
    from functions.store import billing_ports, invoices
    from functions.store import subscriptions as stored_subscriptions
    from local import aws

    assert delivery.MAX_RECEIVES == aws.MAX_RECEIVES == contracts.MAX_RECEIVES
    assert (
        billing_messages.SHARDS == stored_subscriptions.BILLING_SHARDS == contracts.BILLING_SHARDS
    )
    assert delivery.STATES == invoices.STATES == contracts.INVOICE_STATES
    assert billing_run.CREATED == contracts.INVOICE_CREATED
    assert billing_ports.BILLABLE_INDEX == contracts.SUBSCRIPTIONS_BILLABLE_INDEX
    assert subscriptions.contract_outbox_key("s-1").startswith(
        contracts.OUTBOX_CONTRACT_INVOICE_PREFIX
    )
