"""Where the gateway keeps state: the integrations, sessions, products, subscription-request,
order, subscription and outbox tables, the Ariba secret and the link-signing key."""

from collections.abc import Mapping

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import constants
from infra.compliance import acknowledge


class GatewayData(Construct):
    """The tables and the secrets. Retained on stack deletion: they hold buyers' setups, the
    catalog, requests, the purchase orders received and the subscriptions they started."""

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
        self.orders_table = _table(self, constants.ORDERS_TABLE_ID)
        self.subscriptions_table = _table(
            self, constants.SUBSCRIPTIONS_TABLE_ID, indexes=constants.SUBSCRIPTIONS_INDEXES
        )
        # Mail to send, written in the transaction that changes what it announces; the stream
        # (new images only: the worker needs nothing older) triggers the email worker.
        self.outbox_table = _table(
            self,
            constants.OUTBOX_TABLE_ID,
            time_to_live_attribute=constants.OUTBOX_TTL_ATTRIBUTE,
            stream=dynamodb.StreamViewType.NEW_IMAGE,
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

        self.link_signing_key = secretsmanager.Secret(
            self,
            constants.LINK_SIGNING_KEY_ID,
            description=(
                "Signs the 'Your subscriptions' links mailed to buyers (HMAC); a link is the "
                "only credential of the page it opens."
            ),
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True,
                password_length=constants.LINK_SIGNING_KEY_LENGTH,
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.link_signing_key,
            "AwsSolutions-SMG4",
            "Rotating the link-signing key invalidates every link already mailed, so it is not "
            "rotated on a schedule: rotate it by hand when needed (e.g. after a leak). Links "
            "expire after 30 days anyway, so no signature outlives that.",
        )


def _table(
    scope: Construct,
    construct_id: str,
    *,
    time_to_live_attribute: str | None = None,
    indexes: Mapping[str, tuple[str, str | None]] | None = None,
    stream: dynamodb.StreamViewType | None = None,
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
        stream=stream,
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
