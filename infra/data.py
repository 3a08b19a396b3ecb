"""Where the gateway keeps state: the integrations, sessions, products, subscription-request,
order, subscription, outbox, usage and invoice tables, the invoice bucket (and its access logs),
the Ariba secret, the link-signing key and the KMS key sealing invoice endpoints' secrets."""

from collections.abc import Mapping
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions import contracts
from infra import constants
from infra.compliance import acknowledge


class GatewayData(Construct):
    """The tables, the invoice bucket and the secrets. Retained on stack deletion: they hold
    buyers' setups, the catalog, requests, the purchase orders received, the subscriptions they
    started, metered usage and the invoices sent."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        self.integrations_table = _table(
            self, constants.INTEGRATIONS_TABLE_ID, indexes=contracts.INTEGRATIONS_INDEXES
        )
        self.sessions_table = _table(
            self,
            constants.SESSIONS_TABLE_ID,
            time_to_live_attribute=constants.SESSION_TTL_ATTRIBUTE,
        )
        self.products_table = _table(
            self, constants.PRODUCTS_TABLE_ID, indexes=contracts.PRODUCTS_INDEXES
        )
        # A request a buyer started on the public storefront waits 7 days for a punchout;
        # then TTL removes it (requests in a cart carry no TTL: their PO may come later).
        self.requests_table = _table(
            self,
            constants.REQUESTS_TABLE_ID,
            time_to_live_attribute=constants.REQUESTS_TTL_ATTRIBUTE,
            indexes=contracts.REQUESTS_INDEXES,
        )
        self.orders_table = _table(self, constants.ORDERS_TABLE_ID)
        self.subscriptions_table = _table(
            self, constants.SUBSCRIPTIONS_TABLE_ID, indexes=contracts.SUBSCRIPTIONS_INDEXES
        )
        # Mail to send, written in the transaction that changes what it announces; the stream
        # (new images only: the worker needs nothing older) triggers the email worker.
        self.outbox_table = _table(
            self,
            constants.OUTBOX_TABLE_ID,
            time_to_live_attribute=constants.OUTBOX_TTL_ATTRIBUTE,
            stream=dynamodb.StreamViewType.NEW_IMAGE,
        )
        # Metered usage: hourly records and the period and all-time totals of one subscription
        # share its partition (`usage#<subscription id>`), told apart by the sort key.
        self.usage_table = _table(self, constants.USAGE_TABLE_ID, sort_key=constants.SORT_KEY)
        self.invoices_table = _table(
            self, constants.INVOICES_TABLE_ID, indexes=contracts.INVOICES_INDEXES
        )
        # Each integration's cXML exchanges (docs/CONSOLE.md "Activity"): its id, then time
        # and entry id in the sort key, so its console page is one Query, newest first; TTL
        # forgets an entry after 30 days (functions/activity.py KEPT).
        self.activity_table = _table(
            self,
            constants.ACTIVITY_TABLE_ID,
            sort_key=constants.SORT_KEY,
            time_to_live_attribute=constants.ACTIVITY_TTL_ATTRIBUTE,
        )

        # Server access logs of the invoice bucket: who read or wrote which invoice. S3 delivers
        # them with SSE-S3 only (not KMS), through the bucket policy CDK writes for the logging
        # service (feature flag @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy, set in app.py).
        # It has no access logs of its own (they would log every log delivery): cdk-nag's S1
        # accepts that of a bucket that is another bucket's log destination.
        self.access_log_bucket = s3.Bucket(
            self,
            constants.ACCESS_LOG_BUCKET_ID,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs", expiration=constants.ACCESS_LOG_EXPIRATION
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        # The invoices as sent (cXML) and their summaries (JSON): records a buyer's accounts
        # payable may ask about for years. Versioned, so an overwrite keeps the earlier object
        # for INVOICE_NONCURRENT_VERSION_EXPIRATION.
        self.invoice_bucket = s3.Bucket(
            self,
            constants.INVOICE_BUCKET_ID,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix="invoice-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-overwritten-invoices",
                    noncurrent_version_expiration=constants.INVOICE_NONCURRENT_VERSION_EXPIRATION,
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
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

        # Coupa's invoice-endpoint secrets must be sent in clear, so they are encrypted, not
        # digested: the integrations table holds only this key's ciphertexts. The admin
        # function may only encrypt, the delivery worker only decrypt (infra/functions.py).
        self.invoice_secret_key = kms.Key(
            self,
            constants.INVOICE_SECRET_KEY_ID,
            description=(
                "Seals the shared secrets of the buyers' Coupa invoice endpoints, stored in "
                "the integrations table (encryption context: the integration id)."
            ),
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )


def new_outbox_items(key_prefix: str) -> Mapping[str, Any]:
    """The event filter of an outbox stream trigger: new items (INSERT) whose key starts with
    `key_prefix`. The workers' own updates (MODIFY), TTL deletions (REMOVE) and the other
    worker's items never invoke a function that would do nothing with them."""
    return lambda_.FilterCriteria.filter(
        {
            "eventName": lambda_.FilterRule.is_equal("INSERT"),
            "dynamodb": {
                "Keys": {constants.PARTITION_KEY: {"S": lambda_.FilterRule.begins_with(key_prefix)}}
            },
        }
    )


def outbox_trigger(
    scope: Construct,
    dead_letters_id: str,
    *,
    outbox_table: dynamodb.ITable,
    worker: lambda_.Function,
    key_prefix: str | tuple[str, ...],
    what: str,
) -> sqs.Queue:
    """Run `worker` on the outbox stream's new `key_prefix` items, record by record (it reports
    each failed record, a failing batch is split to isolate it), retried, then dead-lettered in
    the queue this returns (stream coordinates only: the item itself stays in the table)."""
    dead_letters = sqs.Queue(
        scope,
        dead_letters_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=constants.OUTBOX_DLQ_RETENTION,
    )
    acknowledge(
        dead_letters,
        "AwsSolutions-SQS3",
        f"This is the dead-letter queue: Lambda sends it the coordinates of the outbox stream "
        f"records ({what}) the worker gave up on (on-failure destination); nothing consumes "
        "it, so it needs no dead-letter queue of its own.",
    )
    worker.add_event_source(
        event_sources.DynamoEventSource(
            outbox_table,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=constants.OUTBOX_BATCH_SIZE,
            report_batch_item_failures=True,
            bisect_batch_on_error=True,
            retry_attempts=constants.OUTBOX_RETRY_ATTEMPTS,
            max_record_age=constants.OUTBOX_MAX_RECORD_AGE,
            on_failure=event_sources.SqsDlq(dead_letters),
            filters=[
                new_outbox_items(prefix)
                for prefix in ((key_prefix,) if isinstance(key_prefix, str) else key_prefix)
            ],
        )
    )
    return dead_letters


def _table(
    scope: Construct,
    construct_id: str,
    *,
    sort_key: str | None = None,
    time_to_live_attribute: str | None = None,
    indexes: Mapping[str, tuple[str, str | None]] | None = None,
    stream: dynamodb.StreamViewType | None = None,
) -> dynamodb.Table:
    table = dynamodb.Table(
        scope,
        construct_id,
        partition_key=_string(constants.PARTITION_KEY),
        sort_key=_string(sort_key) if sort_key else None,
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
