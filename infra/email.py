"""Mail: the sender identity in SES, and what makes the email worker run: the outbox table's
stream, retried record by record, with a dead-letter queue for what never goes out."""

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ses as ses
from constructs import Construct

from functions import contracts
from infra.data import outbox_trigger


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

        # Only new mail and seller events wake the worker: not its own claim/sent updates, TTL
        # deletions, nor the outbox's `invoice#` items (the billing worker's, infra/invoicing.py).
        self.dead_letter_queue = outbox_trigger(
            self,
            "DeadLetters",
            outbox_table=outbox_table,
            worker=worker,
            key_prefix=contracts.EMAIL_WORKER_PREFIXES,
            what="mail and seller events",
        )
