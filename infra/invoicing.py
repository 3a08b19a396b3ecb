"""Invoicing's moving parts (docs/INVOICING.md): the billing and delivery queues with their
dead-letter queues, and what starts each worker: its queue, the outbox stream (a contract
invoice when a subscription becomes active) and the monthly schedule. The usage and invoice
tables and the invoice bucket are in data.py; the functions and their grants in functions.py."""

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions import contracts
from infra import constants
from infra.data import outbox_trigger


class InvoicingQueues(Construct):
    """`BillingQueue` (a billing run's "shard" and "batch" messages) and `DeliveryQueue` (one
    invoice to send). After MAX_RECEIVES receives a message moves to the queue's
    dead-letter queue, kept INVOICING_DLQ_RETENTION, where an alarm notices it. Made before the
    functions, which are told the queue URLs."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        self.billing_queue, self.billing_dead_letter_queue = _queue_with_dead_letters(
            self,
            constants.BILLING_QUEUE_ID,
            consumer_timeout_seconds=constants.BILLING_TIMEOUT_SECONDS,
        )
        self.delivery_queue, self.delivery_dead_letter_queue = _queue_with_dead_letters(
            self,
            constants.DELIVERY_QUEUE_ID,
            consumer_timeout_seconds=constants.DELIVERY_TIMEOUT_SECONDS,
        )


class InvoicingTriggers(Construct):
    """BillingFunction runs on the billing queue and on new `invoice#` outbox items (retried
    record by record; what it gives up on goes to `ContractInvoiceDeadLetters`);
    DeliveryFunction on the delivery queue; BillingScheduleFunction at 02:00 UTC on the 1st of
    each month (the rule `MonthlyBillingRun`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        queues: InvoicingQueues,
        outbox_table: dynamodb.ITable,
        billing_worker: lambda_.Function,
        delivery_worker: lambda_.Function,
        billing_schedule: lambda_.Function,
    ) -> None:
        super().__init__(scope, construct_id)

        # Each worker reports the messages it failed (batchItemFailures): only those come back.
        # Neither takes more than its maximum concurrency, so a billing run of thousands of
        # messages cannot starve the purchase-order and punchout functions.
        billing_worker.add_event_source(
            event_sources.SqsEventSource(
                queues.billing_queue,
                batch_size=constants.BILLING_BATCH_SIZE,
                max_concurrency=constants.BILLING_MAX_CONCURRENCY,
                report_batch_item_failures=True,
            )
        )
        delivery_worker.add_event_source(
            event_sources.SqsEventSource(
                queues.delivery_queue,
                batch_size=constants.DELIVERY_BATCH_SIZE,
                max_concurrency=constants.DELIVERY_MAX_CONCURRENCY,
                report_batch_item_failures=True,
            )
        )

        # The PO transaction that activates a subscription writes `invoice#<subscription>#
        # contract` to the outbox; the billing worker reads those, the email worker the `email#`
        # ones. Two readers per stream shard is what DynamoDB Streams serves without throttling.
        self.contract_invoice_dead_letter_queue = outbox_trigger(
            self,
            "ContractInvoiceDeadLetters",
            outbox_table=outbox_table,
            worker=billing_worker,
            key_prefix=(
                contracts.OUTBOX_CONTRACT_INVOICE_PREFIX,
                contracts.OUTBOX_CONFIRMATION_PREFIX,  # queued for the delivery worker
            ),
            what="contract invoices and order confirmations",
        )

        # EventBridge invokes the function asynchronously: Lambda retries a failed run twice,
        # and an alarm (infra/alarms.py) reports a run that still failed.
        self.monthly_billing_run = events.Rule(
            self,
            "MonthlyBillingRun",
            description="Starts the billing run of the month that just ended.",
            schedule=events.Schedule.cron(**constants.BILLING_SCHEDULE_CRON),
            targets=[targets.LambdaFunction(billing_schedule)],
        )


def _queue_with_dead_letters(
    scope: Construct, construct_id: str, *, consumer_timeout_seconds: int
) -> tuple[sqs.Queue, sqs.Queue]:
    # cdk-nag (SQS3) knows a queue named in a redrive policy is a dead-letter queue.
    dead_letter_queue = _dead_letter_queue(scope, f"{construct_id}DeadLetters")
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=constants.INVOICING_QUEUE_RETENTION,
        visibility_timeout=Duration.seconds(
            constants.VISIBILITY_TIMEOUT_FACTOR * consumer_timeout_seconds
        ),
        dead_letter_queue=sqs.DeadLetterQueue(
            max_receive_count=contracts.MAX_RECEIVES, queue=dead_letter_queue
        ),
    )
    return queue, dead_letter_queue


def _dead_letter_queue(scope: Construct, construct_id: str) -> sqs.Queue:
    """Read by nobody but an operator (after an alarm), who redrives or inspects it."""
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=constants.INVOICING_DLQ_RETENTION,
    )
