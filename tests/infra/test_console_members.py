"""The console's Members pages: ConsoleFunction may list, invite, re-role, sign out and remove
users in the buyers' user pool, exactly those actions, on that pool's ARN only."""

from __future__ import annotations

import json
from typing import Any

from infra import constants
from tests.infra.support import Synthesized, _actions


def _cognito_statements(stack: Synthesized, handler: str) -> list[dict[str, Any]]:
    role = stack.resources[stack.function_id(handler)]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in stack.of_type("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(a.startswith("cognito-idp:") for a in _actions(statement))
    ]


def test_the_console_manages_members_with_exactly_these_actions_on_the_pool_only(
    stack: Synthesized,
) -> None:
    (pool,) = stack.of_type("AWS::Cognito::UserPool")
    (statement,) = _cognito_statements(stack, constants.CONSOLE_HANDLER)

    assert statement["Effect"] == "Allow"
    assert sorted(_actions(statement)) == sorted(
        [
            "cognito-idp:AdminCreateUser",
            "cognito-idp:CreateGroup",
            "cognito-idp:AdminAddUserToGroup",
            "cognito-idp:AdminGetUser",
            "cognito-idp:AdminUserGlobalSignOut",
            "cognito-idp:AdminDeleteUser",
            "cognito-idp:ListUsersInGroup",
            "cognito-idp:AdminUpdateUserAttributes",
        ]
    )
    assert statement["Resource"] == {"Fn::GetAtt": [pool, "Arn"]}
    assert "*" not in json.dumps(statement["Resource"])


def test_the_operator_path_also_adds_users_to_their_accounts_group(stack: Synthesized) -> None:
    # Operator-invited users must be listed on Members too (one group per account)
    (statement,) = _cognito_statements(stack, constants.ADMIN_HANDLER)

    assert {"cognito-idp:CreateGroup", "cognito-idp:AdminAddUserToGroup"} <= set(
        _actions(statement)
    )
    assert "cognito-idp:ListUsersInGroup" not in _actions(statement)


def test_the_console_knows_the_pool_it_manages(stack: Synthesized) -> None:
    (pool,) = stack.of_type("AWS::Cognito::UserPool")
    console = stack.resources[stack.function_id(constants.CONSOLE_HANDLER)]

    variables = console["Properties"]["Environment"]["Variables"]
    assert variables[constants.ENV_USER_POOL_ID] == {"Ref": pool}
