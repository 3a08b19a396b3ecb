"""The AWS WAF web ACL in front of the API stage: IP reputation, request rates per IP, and a
body size limit on the anonymous routes that leaves 1 MB cXML documents alone.

WAF inspects only the first 16 KB of a body behind API Gateway (REGIONAL, the default limit;
64 KB at most, at a price). So no rule here may look into cXML bodies: a body-inspecting rule
with the default oversize handling would judge a 1 MB purchase order on its first 16 KB, and
AWS's common rule set (SizeRestrictions_BODY) blocks anything over 8 KB. cXML bodies are bounded
by the functions (and by API Gateway's 10 MB), authenticated by their shared secret.
"""

from dataclasses import dataclass

from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra import constants

# A procurement system's egress (Coupa, SAP Business Network) sends every buyer's punchouts and
# orders from a few addresses, so the limit for all routes is generous; a browser needs far
# fewer requests on the anonymous storefront.
RATE_WINDOW_SECONDS = 300
RATE_LIMIT_PER_IP = 3000  # requests per 5 minutes, any route (10 r/s sustained)
ANONYMOUS_RATE_LIMIT_PER_IP = 600  # requests per 5 minutes on the anonymous routes (2 r/s)
# Forms and Open Buy JSON are small; a larger body on an anonymous route is not ours.
BODY_INSPECTION_LIMIT = "KB_16"
ANONYMOUS_BODY_LIMIT_BYTES = 16 * 1024
# Anonymous routes, with or without the stage in the path (execute-api URL or custom domain).
ANONYMOUS_PATHS = ("catalog", "openbuy", "s", "subscriptions", "health")
ANONYMOUS_PATH_PATTERN = rf"^/({constants.API_STAGE}/)?({'|'.join(ANONYMOUS_PATHS)})(/|$)"
IP_REPUTATION_RULE_GROUP = "AWSManagedRulesAmazonIpReputationList"
THROTTLED_STATUS = 429


@dataclass(frozen=True)
class RuleNames:
    ip_reputation: str = "AwsIpReputationList"
    rate_per_ip: str = "RatePerIp"
    anonymous_rate_per_ip: str = "AnonymousRoutesRatePerIp"
    anonymous_body_size: str = "AnonymousRoutesBodySize"


RULES = RuleNames()


class ApiFirewall(Construct):
    """A REGIONAL web ACL associated with one API Gateway stage (`stage_arn`)."""

    def __init__(self, scope: Construct, construct_id: str, *, stage_arn: str) -> None:
        super().__init__(scope, construct_id)
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            description="Procurement Gateway API: IP reputation, per-IP rates, body sizes.",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(constants.SERVICE_NAME),
            association_config=wafv2.CfnWebACL.AssociationConfigProperty(
                request_body={
                    "API_GATEWAY": wafv2.CfnWebACL.RequestBodyAssociatedResourceTypeConfigProperty(
                        default_size_inspection_limit=BODY_INSPECTION_LIMIT
                    )
                }
            ),
            rules=[
                _ip_reputation(0),
                _rate_per_ip(1, RULES.rate_per_ip, RATE_LIMIT_PER_IP, scope_down=None),
                _rate_per_ip(
                    2,
                    RULES.anonymous_rate_per_ip,
                    ANONYMOUS_RATE_LIMIT_PER_IP,
                    scope_down=_anonymous_paths(),
                ),
                _anonymous_body_size(3),
            ],
        )
        self.association = wafv2.CfnWebACLAssociation(
            self,
            "StageAssociation",
            resource_arn=stage_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def _ip_reputation(priority: int) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=RULES.ip_reputation,
        priority=priority,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name=IP_REPUTATION_RULE_GROUP
            )
        ),
        visibility_config=_visibility(RULES.ip_reputation),
    )


def _rate_per_ip(
    priority: int,
    name: str,
    limit: int,
    scope_down: wafv2.CfnWebACL.StatementProperty | None,
) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        action=wafv2.CfnWebACL.RuleActionProperty(
            block=wafv2.CfnWebACL.BlockActionProperty(
                custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                    response_code=THROTTLED_STATUS
                )
            )
        ),
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                aggregate_key_type="IP",
                limit=limit,
                evaluation_window_sec=RATE_WINDOW_SECONDS,
                scope_down_statement=scope_down,
            )
        ),
        visibility_config=_visibility(name),
    )


def _anonymous_paths() -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        regex_match_statement=wafv2.CfnWebACL.RegexMatchStatementProperty(
            regex_string=ANONYMOUS_PATH_PATTERN,
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
            text_transformations=[
                wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="URL_DECODE")
            ],
        )
    )


def _anonymous_body_size(priority: int) -> wafv2.CfnWebACL.RuleProperty:
    """Bodies over 16 KB on anonymous routes. OversizeHandling MATCH: WAF sees 16 KB at most,
    so a larger body is blocked without being read. cXML, admin and metering are out of scope:
    authenticated, with their own bounds in the functions."""
    too_large = wafv2.CfnWebACL.StatementProperty(
        size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
            comparison_operator="GT",
            size=ANONYMOUS_BODY_LIMIT_BYTES,
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                body=wafv2.CfnWebACL.BodyProperty(oversize_handling="MATCH")
            ),
            text_transformations=[
                wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
            ],
        )
    )
    return wafv2.CfnWebACL.RuleProperty(
        name=RULES.anonymous_body_size,
        priority=priority,
        action=wafv2.CfnWebACL.RuleActionProperty(block={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            and_statement=wafv2.CfnWebACL.AndStatementProperty(
                statements=[_anonymous_paths(), too_large]
            )
        ),
        visibility_config=_visibility(RULES.anonymous_body_size),
    )
