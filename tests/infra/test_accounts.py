"""Buyer accounts' infrastructure: the admin function alone may invite, read and remove users,
in the buyers' user pool only, and knows that pool by CONSOLE_USER_POOL_ID."""

from __future__ import annotations

import json
from typing import Any

from infra import constants
from tests.infra.support import FUNCTION_HANDLERS, Synthesized, _actions


def _pool_id(stack: Synthesized) -> str:
    """The logical id of the stack's one user pool (the console's, infra/console.py)."""
    (pool,) = stack.of_type("AWS::Cognito::UserPool")
    return str(pool)


def _cognito_statements(stack: Synthesized, handler: str) -> list[dict[str, Any]]:
    role = stack.resources[stack.function_id(handler)]["Properties"]["Role"]["Fn::GetAtt"][0]
    found = []
    for policy in stack.of_type("AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if any(a.startswith("cognito-idp:") for a in _actions(statement)):
                found.append(statement)
    return found


def test_the_admin_function_manages_users_in_the_buyers_pool_only(stack: Synthesized) -> None:
    (statement,) = _cognito_statements(stack, constants.ADMIN_HANDLER)

    assert sorted(_actions(statement)) == sorted(constants.USER_POOL_ADMIN_ACTIONS)
    assert statement["Resource"] == {"Fn::GetAtt": [_pool_id(stack), "Arn"]}
    assert "*" not in json.dumps(statement["Resource"])


def test_no_other_function_may_touch_the_user_pool(stack: Synthesized) -> None:
    # The console's Members pages have their own grant: tests/infra/test_console_members.py
    others = [
        h
        for h in FUNCTION_HANDLERS
        if h not in (constants.ADMIN_HANDLER, constants.CONSOLE_HANDLER)
    ]

    assert others
    assert {h: _cognito_statements(stack, h) for h in others} == {h: [] for h in others}


def test_the_admin_function_knows_the_pool(stack: Synthesized) -> None:
    admin = stack.resources[stack.function_id(constants.ADMIN_HANDLER)]
    variables = admin["Properties"]["Environment"]["Variables"]

    assert variables[constants.ENV_USER_POOL_ID] == {"Ref": _pool_id(stack)}
