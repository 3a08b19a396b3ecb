"""CDK entry point: `python app.py` (make synth) or `cdk deploy` builds the stack from infra/.

Needs no AWS credentials: the stack is environment-agnostic unless CDK_DEFAULT_ACCOUNT and
CDK_DEFAULT_REGION are set (the CDK CLI sets them from the active profile).
Exits non-zero when any AwsSolutions (cdk-nag) finding is left unacknowledged, and when the
dependency layer or the function asset was not built (`make layer`): such functions fail at
import, or compile every module at each cold start. `-c allowPlaceholderLayer=true` (make synth
PLACEHOLDER_LAYER=1) synthesizes anyway, for a template to read, never to deploy.
"""

import os
import sys
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import cx_api
from cdk_nag import AwsSolutionsChecks

from infra.compliance import unacknowledged_findings
from infra.constants import CONTEXT_ALLOW_PLACEHOLDER_LAYER, REPO_ROOT, STACK_NAME
from infra.functions import PLACEHOLDER_WARNING
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


def unbuilt_artifacts(assembly: cx_api.CloudAssembly) -> list[str]:
    """What the synthesis used in place of a built layer or asset (warnings), else nothing."""
    artifact = assembly.get_stack_by_name(STACK_NAME)
    return [
        str(message.entry.data)
        for message in artifact.messages
        if PLACEHOLDER_WARNING in str(message.entry.data)
    ]


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
    unbuilt = unbuilt_artifacts(assembly)
    if unbuilt and str(app.node.try_get_context(CONTEXT_ALLOW_PLACEHOLDER_LAYER)).lower() != "true":
        print(
            "Refusing to synthesize functions without their built layer and asset:",
            *unbuilt,
            "Run `make layer` first, or synthesize a template to read (never to deploy) with "
            "`make synth PLACEHOLDER_LAYER=1` (-c allowPlaceholderLayer=true).",
            sep="\n  ",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
