"""cdk-nag plumbing: acknowledging a finding with its reason, and reading what is left.

cdk-nag 3.x runs as a CDK policy-validation plugin. Its findings are not construct annotations:
CDK writes them to `validation-report.json` in the cloud assembly and, by default, throws from
`app.synth()` when an error-level finding is not acknowledged. Warning-level findings do not
stop synthesis on their own, so `unacknowledged_findings` reads the report and lets the caller
fail on those too.
"""

import json
from pathlib import Path
from typing import Any

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

VALIDATION_REPORT_FILE = "validation-report.json"
AWS_SOLUTIONS_PREFIX = "AwsSolutions-"


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Accept `rule_id` on `scope` and everything under it, for the written `reason`.

    The replacement of cdk-nag 2.x `NagSuppressions.add_resource_suppressions(...,
    apply_to_children=True)`: cdk-nag 3.x looks for acknowledgments on the resource and its
    ancestors. Findings with a detail (IAM5, IAM4) must be named with it, e.g.
    `AwsSolutions-IAM5[Resource::*]`: there is no prefix matching.
    """
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def unacknowledged_findings(assembly_dir: str | Path) -> list[str]:
    """Every AwsSolutions finding, of any severity, that no acknowledgment covers.

    One line per violating resource: `<severity> <rule> at <construct path>: <description>`.
    """
    report_path = Path(assembly_dir) / VALIDATION_REPORT_FILE
    if not report_path.exists():
        return []
    report: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
    findings: list[str] = []
    for plugin_report in report.get("pluginReports", []):
        for violation in plugin_report.get("violations", []):
            rule = str(violation.get("ruleName", ""))
            if not rule.startswith(AWS_SOLUTIONS_PREFIX):
                continue
            resources = violation.get("violatingConstructs") or violation.get(
                "violatingResources", [{}]
            )
            for resource in resources:
                where = resource.get("constructPath") or resource.get("resourceLogicalId", "?")
                findings.append(
                    f"{violation.get('severity', '?')} {rule} at {where}: "
                    f"{violation.get('description', '')}"
                )
    return findings
