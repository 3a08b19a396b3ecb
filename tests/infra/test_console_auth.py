"""The console's user pool and app client as deployed: invitation only, the password policy,
optional TOTP MFA, email recovery, kept on deletion, the account and role attributes the app
client may read but not write; the console routes and what the web function is told."""

import json

from functions import console_users as spec
from infra import constants
from tests.infra.support import Synthesized, routes


def _pool(stack: Synthesized) -> dict:
    (pool,) = stack.of_type("AWS::Cognito::UserPool").values()
    return pool


def _client(stack: Synthesized) -> dict:
    (client,) = stack.of_type("AWS::Cognito::UserPoolClient").values()
    return client["Properties"]


def test_the_user_pool_is_invitation_only_with_a_strong_password_policy(
    stack: Synthesized,
) -> None:
    pool = _pool(stack)
    properties = pool["Properties"]

    assert properties["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert properties["UsernameAttributes"] == ["email"]
    assert properties["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 12,
        "RequireLowercase": True,
        "RequireUppercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": spec.TEMPORARY_PASSWORD_DAYS,
    }
    assert properties["MfaConfiguration"] == "OPTIONAL"
    assert properties["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert properties["AccountRecoverySetting"] == {
        "RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]
    }
    assert properties["DeletionProtection"] == "ACTIVE"
    assert pool["DeletionPolicy"] == pool["UpdateReplacePolicy"] == "Retain"


def test_the_invitation_names_the_marketplace_and_the_console_url(stack: Synthesized) -> None:
    template = _pool(stack)["Properties"]["AdminCreateUserConfig"]["InviteMessageTemplate"]
    body = json.dumps(template["EmailMessage"])

    assert template["EmailSubject"] == spec.INVITATION_SUBJECT
    assert "Software Marketplace" in body and "{username}" in body and "{####}" in body
    assert f"/{constants.API_STAGE}/console" in body  # API Gateway's URL without a domain


def test_the_invitation_uses_the_custom_domain_when_there_is_one(variant: Synthesized) -> None:
    template = _pool(variant)["Properties"]["AdminCreateUserConfig"]["InviteMessageTemplate"]
    assert "https://punchout.example.com/console" in template["EmailMessage"]


def test_account_and_role_are_custom_attributes_the_console_can_read_but_not_write(
    stack: Synthesized,
) -> None:
    schema = {a["Name"]: a for a in _pool(stack)["Properties"]["Schema"]}
    client = _client(stack)

    assert schema[spec.ACCOUNT_ID_ATTRIBUTE]["Mutable"] is False
    assert schema[spec.ROLE_ATTRIBUTE]["Mutable"] is True
    assert set(client["ReadAttributes"]) >= {"custom:account_id", "custom:role", "email"}
    assert client["WriteAttributes"] == ["email"]


def test_the_console_client_signs_in_without_a_secret_and_tokens_live_an_hour(
    stack: Synthesized,
) -> None:
    client = _client(stack)

    assert client.get("GenerateSecret") in (None, False)
    assert set(client["ExplicitAuthFlows"]) == set(spec.AUTH_FLOWS)
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["EnableTokenRevocation"] is True
    assert (client["IdTokenValidity"], client["AccessTokenValidity"]) == (60, 60)
    assert client["RefreshTokenValidity"] == 30 * 24 * 60
    assert client["TokenValidityUnits"] == {
        "IdToken": "minutes", "AccessToken": "minutes", "RefreshToken": "minutes"}  # fmt: skip


def test_the_console_routes_reach_the_console_function_which_knows_the_pool(
    stack: Synthesized,
) -> None:
    web = stack.function_id(constants.CONSOLE_HANDLER)
    table = routes(stack)
    for route in (("/console", "ANY"), ("/console/{proxy+}", "ANY")):
        assert table[route].function_id == web

    environment = stack.resources[web]["Properties"]["Environment"]["Variables"]
    pool_id = stack.logical_id("AWS::Cognito::UserPool", "Users")
    assert environment[spec.ENV_USER_POOL_ID] == {"Ref": pool_id}
    assert environment[spec.ENV_CLIENT_ID] == {
        "Ref": stack.logical_id("AWS::Cognito::UserPoolClient", "ConsoleClient")
    }
    # Besides the console function, only the admin function knows the pool: the
    # operator invites users into it (infra/accounts.py)
    admin = stack.function_id(constants.ADMIN_HANDLER)
    others = [
        k for k, r in stack.of_type("AWS::Lambda::Function").items()
        if k not in (web, admin) and spec.ENV_USER_POOL_ID in json.dumps(r["Properties"])
    ]  # fmt: skip
    assert others == []


def test_the_outputs_name_the_console_and_its_user_pool(stack: Synthesized) -> None:
    outputs = stack.template["Outputs"]
    pool_id = stack.logical_id("AWS::Cognito::UserPool", "Users")

    assert outputs["ConsoleUserPoolId"]["Value"] == {"Ref": pool_id}
    assert json.dumps(outputs["ConsoleUrl"]["Value"]).endswith(
        f'"/{constants.API_STAGE}/console"]]}}'
    )
