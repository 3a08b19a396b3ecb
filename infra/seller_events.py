"""Seller events: the one EventBridge bus subscription events are published on (issue 14), its
resource policy letting each seller's AWS account manage rules for its own events only, and the
email worker's right to publish there (docs/FULFILLMENT.md, "Publishing")."""

import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from functions import seller_events
from infra import constants

RULE_ACTIONS = (
    "events:PutRule",
    "events:DeleteRule",
    "events:DescribeRule",
    "events:DisableRule",
    "events:EnableRule",
    "events:PutTargets",
    "events:RemoveTargets",
)
"""What a seller's account may do on the bus: its rules and their targets (AWS's example policy
"Send events to the same account and restrict updates", EventBridge user guide)."""

_ACCOUNT = re.compile(r"[0-9]{12}")


def seller_accounts(raw: Any) -> list[str]:
    """The `sellerAccounts` context: a list (cdk.json) or a comma-separated string (`-c`) of
    12-digit AWS account ids. Anything else stops the synthesis: a typo would silently lock a
    seller out, or let a stranger in."""
    if raw is None or raw == "":
        return []
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, Sequence):
        raise ValueError(f"{constants.CONTEXT_SELLER_ACCOUNTS} must be a list of account ids")
    accounts = [str(item).strip() for item in items]
    wrong = [a for a in accounts if not _ACCOUNT.fullmatch(a)]
    if wrong:
        raise ValueError(
            f"{constants.CONTEXT_SELLER_ACCOUNTS}: {', '.join(map(repr, wrong))} "
            "is not a 12-digit AWS account id"
        )
    return sorted(set(accounts))


class SellerEventsBus(Construct):
    """`bus`: the EventBridge bus (`SELLER_EVENT_BUS_NAME`) with an archive of its events. For
    each seller account, a policy statement: its rules on this bus, only those it created
    (`events:creatorAccount`), only for its own source (`procurement-gateway.<account>`).
    `publisher` (the email worker) gets `EVENT_BUS_NAME` and PutEvents on this bus only."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        publisher: lambda_.Function,
        sellers: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(
            self,
            constants.SELLER_EVENT_BUS_ID,
            event_bus_name=constants.SELLER_EVENT_BUS_NAME,
            description="Subscription lifecycle events for the marketplace's sellers",
        )
        # Replayable for a while: a seller whose target was down can ask for a replay.
        self.bus.archive(
            "Archive",
            description="Every seller event, for replays",
            event_pattern=events.EventPattern(
                source=events.Match.prefix(seller_events.SOURCE_PREFIX)
            ),
            retention=Duration.days(constants.SELLER_EVENT_ARCHIVE_DAYS),
        )
        stack = Stack.of(self)
        rules = stack.format_arn(
            service="events",
            resource="rule",
            resource_name=f"{constants.SELLER_EVENT_BUS_NAME}/*",
        )
        for account in sellers:
            self.bus.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"SellerRules{account}",
                    principals=[iam.AccountPrincipal(account)],
                    actions=list(RULE_ACTIONS),
                    resources=[rules],
                    conditions={
                        "StringEqualsIfExists": {
                            "events:creatorAccount": "${aws:PrincipalAccount}",
                            "events:source": seller_events.source_for(account),
                        }
                    },
                )
            )
        publisher.add_environment(constants.ENV_EVENT_BUS_NAME, self.bus.event_bus_name)
        self.bus.grant_put_events_to(publisher)
