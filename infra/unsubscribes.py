"""The hourly unsubscribe sweep: an EventBridge schedule invoking UnsubscribeSweepFunction
(functions/handlers/unsubscribe_sweep.py), and the alarm when a run still failed."""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra import constants
from infra.alarms import above_zero_alarm


class UnsubscribeSweepSchedule(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, sweep: lambda_.IFunction, topic: sns.ITopic
    ) -> None:
        super().__init__(scope, construct_id)
        # EventBridge invokes the function asynchronously: Lambda retries a failed run twice,
        # and the next hour's run picks up whatever this one missed.
        self.hourly_sweep = events.Rule(
            self,
            "HourlyUnsubscribeSweep",
            description="Announces unsubscribe-success for cancellations whose window closed.",
            schedule=events.Schedule.rate(constants.UNSUBSCRIBE_SWEEP_RATE),
            targets=[targets.LambdaFunction(sweep)],
        )
        self.errors = above_zero_alarm(
            self,
            "UnsubscribeSweepErrors",
            sweep.metric_errors(period=constants.ALARM_PERIOD, statistic=cloudwatch.Stats.SUM),
            "The unsubscribe sweep failed (Lambda retried it twice): sellers hear no "
            "unsubscribe-success until a run succeeds; the next hourly run retries.",
            topic,
        )
