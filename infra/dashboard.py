"""What an operator looks at and is woken by, beyond the dead-letter alarms (alarms.py): one
CloudWatch dashboard with the business metrics the functions write (functions/metric_names.py,
EMF) and every function's errors, throttles and duration; an alarm on errors and on throttles of
every function, and on invoices the buyers rejected or that could not be sent."""

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from functions import metric_names
from infra import constants
from infra.alarms import above_zero_alarm

WIDGET_WIDTH = 8  # three graphs a row (the dashboard grid is 24 wide)


class GatewayDashboard(Construct):
    """`Dashboard`, and per function `<Function>Errors` (unless `errors_alarmed_elsewhere`
    names it) and `<Function>Throttles`; `InvoicesRejected`, `InvoicesFailed`,
    `InvoicesRejectedByBuyer`. Every alarm notifies `topic`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Sequence[lambda_.Function],
        topic: sns.ITopic,
        errors_alarmed_elsewhere: Sequence[lambda_.IFunction] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self._topic = topic
        period = constants.ALARM_PERIOD
        sum_ = cloudwatch.Stats.SUM
        alarmed_elsewhere = {f.node.path for f in errors_alarmed_elsewhere}

        self.alarms: list[cloudwatch.Alarm] = []
        for function in functions:
            name = function.node.id
            if function.node.path not in alarmed_elsewhere:
                self._alarm(
                    f"{name}Errors",
                    function.metric_errors(period=period, statistic=sum_),
                    f"{name} failed (a crash or a timeout; a queue or stream item is retried).",
                )
            self._alarm(
                f"{name}Throttles",
                function.metric_throttles(period=period, statistic=sum_),
                f"{name} was throttled: its reserved or maximum concurrency, or the account's, "
                "is exhausted. Callers got 429/5xx or their events waited.",
            )
        self._alarm(
            "InvoicesRejected",
            _business(metric_names.INVOICES, outcome="rejected"),
            "A buyer's procurement system rejected an invoice (4xx): fix it with the buyer, "
            "then POST /admin/invoices/{id}/deliver.",
        )
        self._alarm(
            "InvoicesFailed",
            _business(metric_names.INVOICES, outcome="failed"),
            "Invoices could not be made or sent (billing errors, or the buyer endpoint is not "
            "allowed / failed every attempt): see BillingFunction and DeliveryFunction logs.",
        )

        self._alarm(
            "InvoicesRejectedByBuyer",
            _business(metric_names.BUYER_STATUS_UPDATES, subject="invoice", status="rejected"),
            "A buyer's accounts payable rejected an invoice after receiving it (a "
            "StatusUpdateRequest): GET /admin/invoices/{id} shows the reason under buyer_status; "
            "correct it with the buyer (credit memo or new invoice).",
        )

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            default_interval=Duration.hours(24),
        )
        self.dashboard.add_widgets(
            _search_graph("Punchouts by system and cXML outcome", metric_names.PUNCHOUTS),
            _search_graph("Carts returned, by system", metric_names.CARTS_RETURNED),
            _search_graph("Purchase orders by outcome and cXML code", metric_names.PURCHASE_ORDERS),
        )
        self.dashboard.add_widgets(
            _graph(
                "Subscriptions",
                [
                    _business(metric_names.SUBSCRIPTIONS_ACTIVATED, label="activated"),
                    _business(metric_names.SUBSCRIPTIONS_CANCELLED, label="cancelled"),
                ],
            ),
            _graph(
                "Mail",
                [
                    _business(metric_names.MAILS_SENT, label="sent"),
                    _business(metric_names.MAILS_FAILED, label="failed (retried)"),
                    _business(metric_names.SELLER_EVENTS_FAILED, label="seller event failed"),
                ],
            ),
            _search_graph("Invoices by outcome", metric_names.INVOICES),
        )
        self.dashboard.add_widgets(
            _search_graph("Metering records by result", metric_names.METERING_RECORDS),
            _search_graph(
                "Billing message duration (ms, max)",
                metric_names.BILLING_MESSAGE_DURATION,
                statistic="Maximum",
            ),
            cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=self.alarms, width=WIDGET_WIDTH, height=6
            ),
        )
        self.dashboard.add_widgets(
            _search_graph(
                "Seller events published, by action", metric_names.SELLER_EVENTS_PUBLISHED
            )
        )
        self.dashboard.add_widgets(
            _graph(
                "Errors per function",
                [f.metric_errors(period=period, statistic=sum_) for f in functions],
            ),
            _graph(
                "Throttles per function",
                [f.metric_throttles(period=period, statistic=sum_) for f in functions],
            ),
            _graph(
                "Duration per function (p99, ms)",
                [f.metric_duration(period=period, statistic="p99") for f in functions],
            ),
        )
        self.dashboard.add_widgets(
            _search_graph(
                "Buyer status updates by document and status", metric_names.BUYER_STATUS_UPDATES
            ),
        )

    def _alarm(self, construct_id: str, metric: cloudwatch.Metric, description: str) -> None:
        self.alarms.append(above_zero_alarm(self, construct_id, metric, description, self._topic))


def _business(name: str, label: str | None = None, **dimensions: str) -> cloudwatch.Metric:
    """A metric as the functions write it: Powertools adds the `service` dimension."""
    return cloudwatch.Metric(
        namespace=metric_names.NAMESPACE,
        metric_name=name,
        dimensions_map={"service": constants.SERVICE_NAME, **dimensions},
        period=constants.ALARM_PERIOD,
        statistic=cloudwatch.Stats.SUM,
        label=label,
    )


def _search_graph(title: str, name: str, statistic: str = "Sum") -> cloudwatch.GraphWidget:
    """One line per value of the metric's dimensions, whatever values appear."""
    dimensions = ",".join((metric_names.NAMESPACE, *metric_names.DIMENSIONS[name], "service"))
    seconds = int(constants.ALARM_PERIOD.to_seconds())
    expression = f"SEARCH('{{{dimensions}}} MetricName=\"{name}\"', '{statistic}', {seconds})"
    return _graph(
        title,
        [cloudwatch.MathExpression(expression=expression, using_metrics={}, label="")],
    )


def _graph(title: str, metrics: Sequence[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=list(metrics), width=WIDGET_WIDTH, height=6)
