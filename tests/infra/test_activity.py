"""The activity table (docs/CONSOLE.md "Activity"): keyed for the console's one Query, expiring
through TTL, encrypted and retained as every table, and least privilege around it: the cXML,
orders and delivery functions may only put entries, the console may only query them."""

from __future__ import annotations

from infra import constants
from tests.infra.support import FUNCTION_HANDLERS, Synthesized, _allowed

LIST_STREAMS = "dynamodb:ListStreams"
"""CDK's stream grant on `*` (the outbox's readers): it lists stream ARNs and reads no item."""
RECORDERS = (constants.CXML_HANDLER, constants.ORDERS_HANDLER, constants.DELIVERY_HANDLER)


def _table(stack: Synthesized) -> tuple[str, dict[str, object]]:
    logical_id = stack.logical_id("AWS::DynamoDB::Table", constants.ACTIVITY_TABLE_ID)
    return logical_id, stack.resources[logical_id]["Properties"]


def test_entries_are_keyed_by_integration_then_time_and_expire_through_ttl(
    stack: Synthesized,
) -> None:
    _, properties = _table(stack)

    assert properties["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert properties["TimeToLiveSpecification"] == {
        "AttributeName": constants.ACTIVITY_TTL_ATTRIBUTE,
        "Enabled": True,
    }
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert "GlobalSecondaryIndexes" not in properties and "StreamSpecification" not in properties


def test_recorders_only_put_and_the_console_only_queries(stack: Synthesized) -> None:
    table, _ = _table(stack)
    on_table = {
        handler: {
            a
            for a in _allowed(stack, handler, table)
            if a.startswith("dynamodb:") and a != LIST_STREAMS
        }
        for handler in FUNCTION_HANDLERS
    }

    assert on_table == {
        handler: (
            {"dynamodb:PutItem"}
            if handler in RECORDERS
            else {"dynamodb:Query"}
            if handler == constants.CONSOLE_HANDLER
            else set()
        )
        for handler in FUNCTION_HANDLERS
    }


def test_the_console_reads_single_integrations_to_scope_the_page(stack: Synthesized) -> None:
    integrations = stack.logical_id("AWS::DynamoDB::Table", constants.INTEGRATIONS_TABLE_ID)

    allowed = _allowed(stack, constants.CONSOLE_HANDLER, integrations)

    assert "dynamodb:GetItem" in allowed
    # Puts are the integrations part's (conditional creates and replaces); never an update or
    # a delete.
    assert allowed.isdisjoint({"dynamodb:UpdateItem", "dynamodb:DeleteItem"})


def test_every_function_knows_the_table_name(stack: Synthesized) -> None:
    table, _ = _table(stack)

    for function_id, function in stack.of_type("AWS::Lambda::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables[constants.ENV_ACTIVITY_TABLE] == {"Ref": table}, function_id
