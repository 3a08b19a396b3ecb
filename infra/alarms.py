"""Alarms worth waking someone for, and the SNS topic they notify."""

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants


class GatewayAlarms(Construct):
    """Mail that never went out (dead-letter queue not empty), server errors at the gateway
    (what Coupa and Ariba see as a cXML 500), purchase orders the function failed on, invoicing
    work given up on (a dead-letter queue of invoicing not empty) and a monthly billing run that
    did not start. Each alarm notifies `Topic`, which mails `alarm_email` when given."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rest_api: apigateway.RestApi,
        orders_function: lambda_.IFunction,
        email_dead_letter_queue: sqs.IQueue,
        billing_dead_letter_queue: sqs.IQueue,
        delivery_dead_letter_queue: sqs.IQueue,
        contract_invoice_dead_letter_queue: sqs.IQueue,
        billing_schedule_function: lambda_.IFunction,
        alarm_email: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)

        # A customer managed key, not alias/aws/sns: CloudWatch can only publish to an encrypted
        # topic whose key policy lets it use the key, and AWS managed key policies cannot change.
        self.topic_key = kms.Key(
            self,
            "TopicKey",
            description="Encrypts the Procurement Gateway alarm topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="Procurement Gateway alarms",
            master_key=self.topic_key,
            enforce_ssl=True,
        )
        # Topic policy: sns:Publish; key policy: kms:Decrypt and kms:GenerateDataKey*. Only for
        # this account's alarms.
        self.topic.grant_publish(
            iam.ServicePrincipal(
                "cloudwatch.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))

        self.email_dead_letters = self._dead_letters_alarm(
            "EmailDeadLetters",
            email_dead_letter_queue,
            "Mail the email worker gave up on: read the dead-letter queue's messages (stream "
            "shard and sequence numbers), fix the cause, then resend from the outbox table.",
        )
        self.billing_dead_letters = self._dead_letters_alarm(
            "BillingDeadLetters",
            billing_dead_letter_queue,
            "Billing-run messages the billing worker failed 5 times: some subscriptions have "
            "no invoice for the period. Fix the cause, then redrive the dead-letter queue to "
            "the billing queue (invoices already made are not made twice).",
        )
        self.delivery_dead_letters = self._dead_letters_alarm(
            "DeliveryDeadLetters",
            delivery_dead_letter_queue,
            "Invoices the delivery worker could not send in 5 attempts (buyer endpoint down or "
            "timing out): they are stored but not delivered. Redrive the dead-letter queue, or "
            "re-deliver with POST /admin/invoices/{id}/deliver.",
        )
        self.contract_invoice_dead_letters = self._dead_letters_alarm(
            "ContractInvoiceDeadLetters",
            contract_invoice_dead_letter_queue,
            "Contract invoices the billing worker gave up on: the messages name outbox stream "
            "records (shard and sequence numbers); the invoice# items are still in the outbox "
            "table. Fix the cause, then make those invoices again.",
        )
        self.api_server_errors = self._alarm(
            "ApiServerErrors",
            rest_api.metric_server_error(
                period=constants.ALARM_PERIOD, statistic=cloudwatch.Stats.SUM
            ),
            "API Gateway answered 5XX: buyers saw a cXML 500 (retry) or an error page.",
        )
        self.orders_errors = self._alarm(
            "OrdersFunctionErrors",
            orders_function.metric_errors(
                period=constants.ALARM_PERIOD, statistic=cloudwatch.Stats.SUM
            ),
            "OrdersFunction failed (crash or timeout): a purchase order got no cXML answer "
            "and the buyer's system will retry it.",
        )
        self.billing_schedule_errors = self._alarm(
            "BillingScheduleErrors",
            billing_schedule_function.metric_errors(
                period=constants.ALARM_PERIOD, statistic=cloudwatch.Stats.SUM
            ),
            "The monthly billing run failed to start (Lambda retried it twice): start it with "
            "POST /admin/billing-runs once the cause is fixed.",
        )

    def _dead_letters_alarm(
        self, construct_id: str, queue: sqs.IQueue, description: str
    ) -> cloudwatch.Alarm:
        return self._alarm(
            construct_id,
            queue.metric_approximate_number_of_messages_visible(
                period=constants.ALARM_PERIOD, statistic=cloudwatch.Stats.MAXIMUM
            ),
            description,
        )

    def _alarm(
        self, construct_id: str, metric: cloudwatch.Metric, description: str
    ) -> cloudwatch.Alarm:
        return above_zero_alarm(self, construct_id, metric, description, self.topic)


def above_zero_alarm(
    scope: Construct,
    construct_id: str,
    metric: cloudwatch.Metric,
    description: str,
    topic: sns.ITopic,
) -> cloudwatch.Alarm:
    """Any datapoint above zero in one period, to the alarm topic; no data (nothing happened)
    is fine. Every alarm of the stack has this shape (alarms.py and dashboard.py)."""
    alarm = metric.create_alarm(
        scope,
        construct_id,
        threshold=0,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=description,
    )
    alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
    return alarm
