"""Where the gateway keeps state: the integrations, sessions, products and subscription-request
tables, and the Ariba secret."""

from collections.abc import Mapping

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import constants
from infra.compliance import acknowledge


class GatewayData(Construct):
    """The tables and the secret. Retained on stack deletion: they hold buyers' setups, the
    catalog and requests waiting for a purchase order."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        self.integrations_table = _table(
            self, constants.INTEGRATIONS_TABLE_ID, indexes=constants.INTEGRATIONS_INDEXES
        )
        self.sessions_table = _table(
            self,
            constants.SESSIONS_TABLE_ID,
            time_to_live_attribute=constants.SESSION_TTL_ATTRIBUTE,
        )
        self.products_table = _table(
            self, constants.PRODUCTS_TABLE_ID, indexes=constants.PRODUCTS_INDEXES
        )
        self.requests_table = _table(
            self, constants.REQUESTS_TABLE_ID, indexes=constants.REQUESTS_INDEXES
        )

        self.ariba_secret = secretsmanager.Secret(
            self,
            constants.ARIBA_SECRET_ID,
            description=(
                "The marketplace's Ariba Network shared secret: Ariba Network puts it in every "
                "punchout it forwards, in place of the buyer's credential."
            ),
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True,
                password_length=40,
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.ariba_secret,
            "AwsSolutions-SMG4",
            "The Ariba secret is pasted into Ariba Network by hand; rotation is a coordinated "
            "manual step, documented in README.",
        )


def _table(
    scope: Construct,
    construct_id: str,
    *,
    time_to_live_attribute: str | None = None,
    indexes: Mapping[str, tuple[str, str | None]] | None = None,
) -> dynamodb.Table:
    table = dynamodb.Table(
        scope,
        construct_id,
        partition_key=_string(constants.PARTITION_KEY),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        time_to_live_attribute=time_to_live_attribute,
        deletion_protection=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
    for index_name, (partition_key, sort_key) in (indexes or {}).items():
        table.add_global_secondary_index(
            index_name=index_name,
            partition_key=_string(partition_key),
            sort_key=_string(sort_key) if sort_key else None,
            projection_type=dynamodb.ProjectionType.ALL,
        )
    return table


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)
