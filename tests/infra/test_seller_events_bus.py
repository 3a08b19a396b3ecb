"""Seller events: the bus, its policy per seller account, the email worker's grant and trigger."""

import json
from typing import Any

import pytest

from infra import constants
from infra.seller_events import RULE_ACTIONS, seller_accounts
from tests.infra.support import SELLER_ACCOUNTS, Synthesized, _allowed, _triggers


def _bus_id(stack: Synthesized) -> str:
    return stack.logical_id("AWS::Events::EventBus", constants.SELLER_EVENT_BUS_ID)


def _policies(stack: Synthesized) -> list[dict[str, Any]]:
    bus = {"Ref": _bus_id(stack)}
    return [
        p["Properties"]["Statement"]
        for p in stack.of_type("AWS::Events::EventBusPolicy").values()
        if p["Properties"]["EventBusName"] == bus
    ]


def test_one_named_bus_archives_the_seller_events(stack: Synthesized) -> None:
    bus = stack.resources[_bus_id(stack)]["Properties"]
    assert bus["Name"] == "procurement-gateway-seller-events"

    [archive] = stack.of_type("AWS::Events::Archive").values()
    assert archive["Properties"]["SourceArn"] == {"Fn::GetAtt": [_bus_id(stack), "Arn"]}
    assert archive["Properties"]["RetentionDays"] == constants.SELLER_EVENT_ARCHIVE_DAYS
    assert json.loads(json.dumps(archive["Properties"]["EventPattern"])) == {
        "source": [{"prefix": "procurement-gateway."}]
    }
    assert stack.template["Outputs"]["SellerEventBusArn"]["Value"] == {
        "Fn::GetAtt": [_bus_id(stack), "Arn"]
    }


def test_each_seller_may_manage_only_rules_it_created_for_its_own_source(
    stack: Synthesized,
) -> None:
    statements = {s["Principal"]["AWS"]["Fn::Join"][1][2]: s for s in _policies(stack)}

    # One statement per seller account of `sellerAccounts`, nobody else
    assert sorted(statements) == [f":iam::{a}:root" for a in SELLER_ACCOUNTS]
    for account in SELLER_ACCOUNTS:
        statement = statements[f":iam::{account}:root"]
        assert statement["Effect"] == "Allow"
        # Rules and their targets: no PutEvents (sellers receive, they never publish)
        assert sorted(statement["Action"]) == sorted(RULE_ACTIONS)
        assert "events:PutEvents" not in statement["Action"]
        # Rules on this bus only
        resource = "".join(
            p if isinstance(p, str) else "|" for p in statement["Resource"]["Fn::Join"][1]
        )
        assert resource.endswith(":rule/procurement-gateway-seller-events/*")
        # Only rules it created, only matching its own source
        assert statement["Condition"] == {
            "StringEqualsIfExists": {
                "events:creatorAccount": "${aws:PrincipalAccount}",
                "events:source": f"procurement-gateway.{account}",
            }
        }


def test_the_email_worker_publishes_on_the_bus_and_only_there(stack: Synthesized) -> None:
    bus = _bus_id(stack)
    function = stack.resources[stack.function_id(constants.EMAIL_HANDLER)]["Properties"]

    assert function["Environment"]["Variables"]["EVENT_BUS_NAME"] == {"Ref": bus}
    on_bus = _allowed(stack, constants.EMAIL_HANDLER, bus)  # and what is allowed on `*`
    assert {a for a in on_bus if a.startswith("events:")} == {"events:PutEvents"}
    # No other function may publish seller events
    for handler in (constants.ORDERS_HANDLER, constants.BILLING_HANDLER, constants.ADMIN_HANDLER):
        assert "events:PutEvents" not in _allowed(stack, handler, bus)


def test_the_email_worker_is_woken_by_new_seller_events(stack: Synthesized) -> None:
    outbox = stack.logical_id("AWS::DynamoDB::Table", "OutboxTable")
    filters = _triggers(stack, constants.EMAIL_HANDLER)[outbox]["FilterCriteria"]["Filters"]

    prefixes = [json.loads(f["Pattern"])["dynamodb"]["Keys"]["pk"]["S"][0] for f in filters]
    assert {"prefix": "event#"} in prefixes


@pytest.mark.parametrize(
    ("context", "accounts"),
    [
        (None, []),
        ([], []),
        (["444455556666", "111122223333", "444455556666"], ["111122223333", "444455556666"]),
        ("444455556666, 111122223333", ["111122223333", "444455556666"]),  # -c sellerAccounts=
    ],
)
def test_seller_accounts_are_read_from_a_list_or_a_comma_separated_context(
    context: Any, accounts: list[str]
) -> None:
    assert seller_accounts(context) == accounts


@pytest.mark.parametrize("context", [["44445555666"], ["arn:aws:iam::444455556666:root"], ["*"], 7])
def test_anything_but_12_digit_accounts_stops_the_synthesis(context: Any) -> None:
    with pytest.raises(ValueError, match="sellerAccounts"):
        seller_accounts(context)
