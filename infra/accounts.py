"""Buyer accounts' users (issue 15): the admin function invites them into the buyers' Cognito
user pool and removes them, with nothing more than that on that pool."""

from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_

from infra import constants


def grant_user_pool_admin(admin_function: lambda_.Function, pool: cognito.IUserPool) -> None:
    """CONSOLE_USER_POOL_ID, and AdminCreateUser, AdminGetUser, AdminDeleteUser on `pool` only."""
    admin_function.add_environment(constants.ENV_USER_POOL_ID, pool.user_pool_id)
    pool.grant(admin_function, *constants.USER_POOL_ADMIN_ACTIONS)
