"""The buyer console's users: a Cognito user pool (invitation only, MFA available, email
recovery, kept on stack deletion like the tables) and the console's app client. The settings
both this and the local stack's moto pool use are in functions/console_users.py.

The web function verifies the pool's tokens itself (functions/console_auth.py) and calls the
user-pool API as a public client (InitiateAuth, RespondToAuthChallenge, RevokeToken need no IAM
permission): it only needs the pool and client ids. Enterprise SSO per account plugs in here
as UserPoolIdentityProviderSaml/Oidc plus a hosted UI domain (docs/CONSOLE.md)."""

from aws_cdk import Aws, Duration, Fn, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from functions import console_users as spec
from infra import constants
from infra.compliance import acknowledge


def default_console_url(rest_api_id: str) -> str:
    """The console on API Gateway's own domain (no custom domain): built from the API's id, not
    its stage, so the pool does not depend on the deployment (which depends on the function
    whose environment names the pool)."""
    return Fn.join(
        "",
        ["https://", rest_api_id, ".execute-api.", Aws.REGION, ".", Aws.URL_SUFFIX,
         f"/{constants.API_STAGE}/console"],
    )  # fmt: skip


class ConsoleUsers(Construct):
    """`user_pool`, `client`; `serve(function)` gives a function the ids it verifies against."""

    def __init__(self, scope: Construct, construct_id: str, *, console_url: str) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "Users",
            user_pool_name=f"{constants.SERVICE_NAME}-console-users",
            self_sign_up_enabled=False,  # users are invited: by the operator, then by admins
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            custom_attributes={
                spec.ACCOUNT_ID_ATTRIBUTE: cognito.StringAttribute(
                    min_len=1, max_len=64, mutable=False
                ),
                spec.ROLE_ATTRIBUTE: cognito.StringAttribute(min_len=5, max_len=6, mutable=True),
            },
            user_invitation=cognito.UserInvitationConfig(
                email_subject=spec.INVITATION_SUBJECT,
                email_body=spec.INVITATION_BODY.format(console_url=console_url),
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=spec.PASSWORD_MIN_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(spec.TEMPORARY_PASSWORD_DAYS),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.client = self.user_pool.add_client(
            "ConsoleClient",
            user_pool_client_name="console",
            generate_secret=False,  # the server signs in with USER_PASSWORD_AUTH (CONSOLE.md)
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            disable_o_auth=True,  # no hosted UI until federation needs one
            id_token_validity=Duration.minutes(spec.ID_TOKEN_MINUTES),
            access_token_validity=Duration.minutes(spec.ACCESS_TOKEN_MINUTES),
            refresh_token_validity=Duration.days(spec.REFRESH_TOKEN_DAYS),
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            read_attributes=cognito.ClientAttributes()
            .with_standard_attributes(email=True, email_verified=True)
            .with_custom_attributes(spec.ACCOUNT_ID_ATTRIBUTE, spec.ROLE_ATTRIBUTE),
            write_attributes=cognito.ClientAttributes().with_standard_attributes(email=True),
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG2",
            "MFA is OPTIONAL with TOTP (issue 15: 'MFA available'): buyers' users enable it "
            "themselves; enterprises that require it use their own IdP through federation.",
        )
        for rule in ("AwsSolutions-COG3", "AwsSolutions-COG8"):
            acknowledge(
                self.user_pool,
                rule,
                "Threat protection (advanced security) needs Cognito's Plus feature plan, "
                "billed per user; Cognito's built-in lockout after failed sign-ins and the API's "
                "WAF rate rule and method throttles guard the sign-in page (docs/CONSOLE.md).",
            )

    def serve(self, function: lambda_.Function) -> None:
        function.add_environment(spec.ENV_USER_POOL_ID, self.user_pool.user_pool_id)
        function.add_environment(spec.ENV_CLIENT_ID, self.client.user_pool_client_id)
