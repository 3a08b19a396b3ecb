"""Rate limits and the web application firewall, on the synthesized template: a flood of the
anonymous storefront must not starve punchouts and purchase orders, and a 1 MB cXML purchase
order must still pass the firewall."""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra import constants
from tests.infra.support import Synthesized

ANONYMOUS_METHODS = [
    ("/~1catalog", "GET"),
    ("/~1catalog~1{proxy+}", "*"),
    ("/~1health", "GET"),
    *[
        (f"/~1openbuy~1{operation}~1{constants.OPENBUY_VERSION}", "POST")
        for operation in constants.OPENBUY_OPERATIONS
    ],
]
CXML_METHODS = [("/~1cxml~1orders", "POST"), ("/~1cxml~1punchout", "POST")]


def _method_settings(stack: Synthesized) -> dict[tuple[str, str], dict[str, Any]]:
    (stage,) = stack.of_type("AWS::ApiGateway::Stage").values()
    return {(s["ResourcePath"], s["HttpMethod"]): s for s in stage["Properties"]["MethodSettings"]}


def _web_acl(stack: Synthesized) -> tuple[str, dict[str, Any]]:
    ((logical_id, acl),) = stack.of_type("AWS::WAFv2::WebACL").items()
    return logical_id, acl["Properties"]


def _rules(stack: Synthesized) -> dict[str, dict[str, Any]]:
    return {rule["Name"]: rule for rule in _web_acl(stack)[1]["Rules"]}


# --- throttling -----------------------------------------------------------------------------


def test_every_method_keeps_the_stage_default_throttle_logging_and_no_body_traces(
    stack: Synthesized,
) -> None:
    settings = _method_settings(stack)

    default = settings[("/*", "*")]
    assert default["ThrottlingRateLimit"] == constants.THROTTLING_RATE_LIMIT
    assert default["ThrottlingBurstLimit"] == constants.THROTTLING_BURST_LIMIT
    for setting in settings.values():
        assert setting["DataTraceEnabled"] is False  # bodies carry shared secrets
        assert setting["LoggingLevel"] in {"ERROR", "INFO"}
        assert setting["MetricsEnabled"] is True


@pytest.mark.parametrize(("path", "method"), CXML_METHODS)
def test_purchase_orders_and_punchouts_have_their_own_larger_budget(
    stack: Synthesized, path: str, method: str
) -> None:
    settings = _method_settings(stack)

    cxml = settings[(path, method)]
    assert cxml["ThrottlingRateLimit"] >= 2 * constants.THROTTLING_RATE_LIMIT
    assert cxml["ThrottlingBurstLimit"] >= 2 * constants.THROTTLING_BURST_LIMIT


def test_the_anonymous_storefront_together_stays_below_one_cxml_route(stack: Synthesized) -> None:
    """API Gateway gives each method its own bucket: a flood of /catalog and /openbuy is
    refused at their small limits, and all of them at full rate still take less than one cXML
    route's budget from the account's shared request rate and Lambda concurrency."""
    settings = _method_settings(stack)
    orders = settings[("/~1cxml~1orders", "POST")]

    anonymous = [settings[key] for key in ANONYMOUS_METHODS]

    assert all(s["ThrottlingRateLimit"] <= 20 for s in anonymous)
    assert sum(s["ThrottlingRateLimit"] for s in anonymous) < orders["ThrottlingRateLimit"]
    assert sum(s["ThrottlingBurstLimit"] for s in anonymous) < orders["ThrottlingBurstLimit"]


def test_every_throttled_method_exists_in_the_api(stack: Synthesized) -> None:
    from tests.infra.support import routes

    known = set(routes(stack))
    known |= {(path, "*") for path, _ in known}

    for resource_path, method in _method_settings(stack):
        if (resource_path, method) == ("/*", "*"):
            continue
        path = resource_path.replace("~1", "/")[1:]
        assert (path, method) in known, (resource_path, method)


# --- web application firewall ----------------------------------------------------------------


def test_a_regional_web_acl_is_associated_with_the_api_stage(stack: Synthesized) -> None:
    acl_id, acl = _web_acl(stack)
    (association,) = stack.of_type("AWS::WAFv2::WebACLAssociation").values()
    (api_id,) = stack.of_type("AWS::ApiGateway::RestApi")
    (stage_id,) = stack.of_type("AWS::ApiGateway::Stage")

    assert acl["Scope"] == "REGIONAL"
    assert acl["DefaultAction"] == {"Allow": {}}
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    arn = json.dumps(association["Properties"]["ResourceArn"])
    assert f'{{"Ref": "{api_id}"}}' in arn
    assert f'{{"Ref": "{stage_id}"}}' in arn
    assert "/restapis/" in arn and "/stages/" in arn


def test_addresses_on_the_aws_ip_reputation_list_are_blocked(stack: Synthesized) -> None:
    rule = _rules(stack)["AwsIpReputationList"]

    assert rule["Statement"]["ManagedRuleGroupStatement"] == {
        "VendorName": "AWS",
        "Name": "AWSManagedRulesAmazonIpReputationList",
    }
    assert rule["OverrideAction"] == {"None": {}}  # the group's own Block actions apply


def test_each_ip_is_rate_limited_everywhere_and_more_tightly_on_anonymous_routes(
    stack: Synthesized,
) -> None:
    rules = _rules(stack)
    everywhere = rules["RatePerIp"]
    anonymous = rules["AnonymousRoutesRatePerIp"]

    for rule in (everywhere, anonymous):
        statement = rule["Statement"]["RateBasedStatement"]
        assert statement["AggregateKeyType"] == "IP"
        assert statement["EvaluationWindowSec"] == 300
        assert rule["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    assert "ScopeDownStatement" not in everywhere["Statement"]["RateBasedStatement"]
    assert (
        anonymous["Statement"]["RateBasedStatement"]["Limit"]
        < everywhere["Statement"]["RateBasedStatement"]["Limit"]
    )
    scope = anonymous["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    assert scope["RegexMatchStatement"]["FieldToMatch"] == {"UriPath": {}}


def _anonymous_pattern(stack: Synthesized) -> re.Pattern[str]:
    scope = _rules(stack)["AnonymousRoutesRatePerIp"]["Statement"]["RateBasedStatement"]
    return re.compile(scope["ScopeDownStatement"]["RegexMatchStatement"]["RegexString"])


@pytest.mark.parametrize(
    ("path", "anonymous"),
    [
        ("/catalog", True),
        ("/prod/catalog/products/x", True),
        ("/openbuy/search/v1.0.0", True),
        ("/prod/s/token/requests", True),
        ("/subscriptions/111122223333", True),
        ("/health", True),
        ("/cxml/orders", False),
        ("/prod/cxml/punchout", False),
        ("/admin/products", False),
        ("/metering/batch-meter-usage", False),
        ("/catalogue", False),
        ("/scxml/orders", False),
    ],
)
def test_the_anonymous_route_pattern_matches_storefront_paths_and_never_cxml(
    stack: Synthesized, path: str, anonymous: bool
) -> None:
    assert bool(_anonymous_pattern(stack).search(path)) is anonymous


def test_large_bodies_are_blocked_only_on_anonymous_routes_so_1_mb_cxml_passes(
    stack: Synthesized,
) -> None:
    _, acl = _web_acl(stack)
    rule = _rules(stack)["AnonymousRoutesBodySize"]
    scope, size = rule["Statement"]["AndStatement"]["Statements"]

    assert acl["AssociationConfig"]["RequestBody"]["API_GATEWAY"] == {
        "DefaultSizeInspectionLimit": "KB_16"
    }
    assert rule["Action"] == {"Block": {}}
    assert (
        scope
        == _rules(stack)["AnonymousRoutesRatePerIp"]["Statement"]["RateBasedStatement"][
            "ScopeDownStatement"
        ]
    )
    constraint = size["SizeConstraintStatement"]
    assert constraint["ComparisonOperator"] == "GT"
    assert constraint["Size"] == 16 * 1024
    # WAF reads 16 KB at most: a larger body on these routes matches without being read.
    assert constraint["FieldToMatch"] == {"Body": {"OversizeHandling": "MATCH"}}


def test_no_rule_inspects_a_body_outside_the_anonymous_routes(stack: Synthesized) -> None:
    """A body rule reaching /cxml would judge a 1 MB purchase order on its first 16 KB (and
    AWS's common rule set blocks bodies over 8 KB): only the scoped size rule reads bodies."""
    for name, rule in _rules(stack).items():
        text = json.dumps(rule["Statement"])
        if name == "AnonymousRoutesBodySize":
            continue
        assert '"Body"' not in text and '"JsonBody"' not in text, name
        if "ManagedRuleGroupStatement" in rule["Statement"]:
            assert rule["Statement"]["ManagedRuleGroupStatement"]["Name"] in {
                "AWSManagedRulesAmazonIpReputationList"
            }


def test_every_rule_reports_metrics_and_samples(stack: Synthesized) -> None:
    _, acl = _web_acl(stack)
    for visibility in [acl["VisibilityConfig"], *(r["VisibilityConfig"] for r in acl["Rules"])]:
        assert visibility["CloudWatchMetricsEnabled"] is True
        assert visibility["SampledRequestsEnabled"] is True
    priorities = [rule["Priority"] for rule in acl["Rules"]]
    assert len(set(priorities)) == len(priorities)


def test_the_waf_finding_is_resolved_not_acknowledged(stack: Synthesized) -> None:
    report_file = Path(stack.assembly_dir) / "validation-report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    apig3 = [
        violation
        for plugin in report.get("pluginReports", [])
        for violation in plugin.get("violations", [])
        if violation.get("ruleName") == "AwsSolutions-APIG3"
    ]
    acknowledged = json.dumps(stack.template).count("AwsSolutions-APIG3")

    assert apig3 == []
    assert acknowledged == 0
