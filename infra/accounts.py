"""Buyer accounts' users (issue 15): the admin function invites them into the buyers' Cognito
user pool and removes them, with nothing more than that on that pool; the console function
also lists an account's users and changes their roles, for the account's admins."""

from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_

from infra import constants


def grant_user_pool_admin(admin_function: lambda_.Function, pool: cognito.IUserPool) -> None:
    """CONSOLE_USER_POOL_ID, and USER_POOL_ADMIN_ACTIONS (invite, read, remove) on `pool` only."""
    admin_function.add_environment(constants.ENV_USER_POOL_ID, pool.user_pool_id)
    pool.grant(admin_function, *constants.USER_POOL_ADMIN_ACTIONS)


def grant_user_pool_members(console_function: lambda_.Function, pool: cognito.IUserPool) -> None:
    """CONSOLE_MEMBERS_ACTIONS on `pool` only: the console's Members pages (the console already
    knows the pool's id: infra/console.py `serve`)."""
    pool.grant(console_function, *constants.CONSOLE_MEMBERS_ACTIONS)
