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
    (what Coupa and Ariba see as a cXML 500), and purchase orders the function failed on.
    Each alarm notifies `Topic`, which mails `alarm_email` when given."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rest_api: apigateway.RestApi,
        orders_function: lambda_.IFunction,
        email_dead_letter_queue: sqs.IQueue,
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

        self.email_dead_letters = self._alarm(
            "EmailDeadLetters",
            email_dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=constants.ALARM_PERIOD, statistic=cloudwatch.Stats.MAXIMUM
            ),
            "Mail the email worker gave up on: read the dead-letter queue's messages (stream "
            "shard and sequence numbers), fix the cause, then resend from the outbox table.",
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

    def _alarm(
        self, construct_id: str, metric: cloudwatch.Metric, description: str
    ) -> cloudwatch.Alarm:
        """Any datapoint above zero in one period; no data (nothing happened) is fine."""
        alarm = metric.create_alarm(
            self,
            construct_id,
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))
        return alarm
