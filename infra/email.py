"""Mail: the sender identity in SES, and what makes the email worker run: the outbox table's
stream, retried record by record, with a dead-letter queue for what never goes out."""

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants
from infra.compliance import acknowledge
from infra.data import new_outbox_items


class GatewayEmail(Construct):
    """`Sender`: the SES email identity mail is sent as (SES emails the address a verification
    link on deployment). `DeadLetters`: where the stream coordinates of outbox records the worker
    could not send within its retries go; the outbox item itself stays in the table."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        sender: str,
        outbox_table: dynamodb.ITable,
        worker: lambda_.Function,
    ) -> None:
        super().__init__(scope, construct_id)

        self.sender_identity = ses.EmailIdentity(
            self, "Sender", identity=ses.Identity.email(sender)
        )
        # SendEmail/SendRawEmail as this identity only: never as any other address of the account.
        self.sender_identity.grant_send_email(worker)

        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=constants.EMAIL_DLQ_RETENTION,
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This is the dead-letter queue: Lambda sends it the coordinates of the outbox "
            "stream records the email worker gave up on (on-failure destination); nothing "
            "consumes it, so it needs no dead-letter queue of its own.",
        )

        # Report each failed record (the worker returns batchItemFailures), split a failing
        # batch to isolate it, give up after the retries or the age, then dead-letter it.
        worker.add_event_source(
            event_sources.DynamoEventSource(
                outbox_table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=constants.EMAIL_BATCH_SIZE,
                report_batch_item_failures=True,
                bisect_batch_on_error=True,
                retry_attempts=constants.EMAIL_RETRY_ATTEMPTS,
                max_record_age=constants.EMAIL_MAX_RECORD_AGE,
                on_failure=event_sources.SqsDlq(self.dead_letter_queue),
                # Only new mail wakes the worker: not its own claim/sent updates, TTL deletions,
                # nor the outbox's `invoice#` items (the billing worker's, infra/invoicing.py).
                filters=[new_outbox_items(constants.OUTBOX_EMAIL_PREFIX)],
            )
        )
