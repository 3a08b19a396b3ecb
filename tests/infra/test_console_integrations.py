"""What the console's Procurement integrations may do, as deployed: write the account's
integrations as the admin API's transactions do (puts, the account ConditionCheck, the
by-account index), never delete, and seal Coupa invoice secrets with KMS Encrypt only."""

from __future__ import annotations

from functions import contracts
from infra import constants
from tests.infra.support import WRITE_ACTIONS, Synthesized, _actions, _allowed


def _console_statements(stack: Synthesized) -> list[dict[str, object]]:
    role = stack.resources[stack.function_id(constants.CONSOLE_HANDLER)]["Properties"]["Role"]
    role_ref = {"Ref": role["Fn::GetAtt"][0]}
    return [
        statement
        for policy in stack.of_type("AWS::IAM::Policy").values()
        if role_ref in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_console_writes_integrations_as_the_admin_api_does_but_deletes_nothing(
    stack: Synthesized,
) -> None:
    integrations = stack.logical_id("AWS::DynamoDB::Table", "IntegrationsTable")
    allowed = _allowed(stack, constants.CONSOLE_HANDLER, integrations)
    # Create and replace: one TransactWriteItems of conditional puts and the account's check
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:ConditionCheckItem"} <= allowed
    assert allowed & WRITE_ACTIONS == {"dynamodb:PutItem"}
    assert "dynamodb:DeleteItem" not in allowed and "dynamodb:Scan" not in allowed
    # The account's integrations: a Query on the by-account index, and on no other index
    queried = {
        str(resource)
        for statement in _console_statements(stack)
        if "dynamodb:Query" in _actions(statement)  # type: ignore[arg-type]
        for resource in (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
        if integrations in str(resource)
    }
    assert len(queried) == 1
    assert f"/index/{contracts.INTEGRATIONS_BY_ACCOUNT_INDEX}" in queried.pop()


def test_the_console_may_seal_but_never_open_invoice_secrets(stack: Synthesized) -> None:
    key = stack.logical_id("AWS::KMS::Key", "InvoiceSecretKey")
    on_key = {a for a in _allowed(stack, constants.CONSOLE_HANDLER, key) if a.startswith("kms:")}
    assert on_key == {"kms:Encrypt"}
    context = f"kms:EncryptionContext:{contracts.INVOICE_SECRET_CONTEXT_KEY}"
    sealing = [
        s
        for s in _console_statements(stack)
        if "kms:Encrypt" in _actions(s)  # type: ignore[arg-type]
    ]
    assert sealing and all(s["Condition"] == {"StringLike": {context: "*"}} for s in sealing)
    environment = stack.resources[stack.function_id(constants.CONSOLE_HANDLER)]["Properties"][
        "Environment"
    ]["Variables"]
    assert environment["INVOICE_SECRET_KEY"] == {"Fn::GetAtt": [key, "Arn"]}


def test_the_console_reads_no_secret_of_the_ariba_network(stack: Synthesized) -> None:
    secret = stack.logical_id("AWS::SecretsManager::Secret", "AribaSharedSecret")
    assert not any(
        a.startswith("secretsmanager:") for a in _allowed(stack, constants.CONSOLE_HANDLER, secret)
    )
