"""CDK entry point: `python app.py` (make synth) or `cdk deploy` builds the stack from infra/.

Needs no AWS credentials: the stack is environment-agnostic unless CDK_DEFAULT_ACCOUNT and
CDK_DEFAULT_REGION are set (the CDK CLI sets them from the active profile).
Exits non-zero when any AwsSolutions (cdk-nag) finding is left unacknowledged.
"""

import os
import sys
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.compliance import unacknowledged_findings
from infra.constants import REPO_ROOT, STACK_NAME
from infra.stack import ProcurementGatewayStack

# CDK feature flags the stack relies on: a flag not set stays at its old behaviour. Here, not in
# cdk.json, so that tests building the app get them too.
FEATURE_FLAGS = {
    # Server access logs reach their bucket through a bucket policy for the S3 logging service,
    # not the log-delivery ACL (new buckets have ACLs disabled).
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


def build_app(*, outdir: str | None = None, context: Mapping[str, Any] | None = None) -> cdk.App:
    """The app with its one stack and the AwsSolutions checks attached (cdk-nag 3.x form)."""
    if outdir is None and "CDK_OUTDIR" not in os.environ:
        outdir = str(REPO_ROOT / "cdk.out")
    app = cdk.App(outdir=outdir, context={**FEATURE_FLAGS, **(context or {})})
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = os.environ.get("CDK_DEFAULT_REGION")
    ProcurementGatewayStack(
        app,
        STACK_NAME,
        stack_name=STACK_NAME,
        description="Procurement Gateway: cXML punchout for Coupa and SAP Ariba buyers",
        env=cdk.Environment(account=account, region=region) if account and region else None,
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(verbose=True))
    return app


def main() -> int:
    app = build_app()
    try:
        assembly = app.synth()
    except RuntimeError as error:
        # An unacknowledged error-level finding makes synth() raise once CDK has printed the
        # report; say so in one line rather than with a jsii traceback.
        if "ValidationFailed" not in str(error):
            raise
        print(f"cdk-nag: {error}", file=sys.stderr)
        return 1
    # Warning-level findings do not stop synthesis on their own, and under the CDK CLI
    # (CDK_APP_MODE=process) errors only set the Node process's exit code: fail on both here.
    findings = unacknowledged_findings(assembly.directory)
    if findings:
        print("Unacknowledged cdk-nag findings:", *findings, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
