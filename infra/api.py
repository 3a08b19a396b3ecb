"""The REST API: routes to the six request functions, and cXML answers for gateway-level
errors."""

import json
from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import constants
from infra.compliance import acknowledge
from infra.waf import ApiFirewall

PUBLIC_ROUTES_REASON = (
    "cXML authenticates with the shared secret in the document body; the storefront with the "
    "session token in the URL; the health check is public."
)
CATALOG_REASON = (
    "The public storefront: anyone may browse the listed products, as on a marketplace's "
    "website. A subscription request started here is only stored as awaiting punchout: it "
    "reaches no buyer until the buyer's procurement system punches out with its shared secret."
)
SUBSCRIPTIONS_REASON = (
    "The 'Your subscriptions' page is opened from a link mailed to the buyer's account address: "
    "the link's HMAC signature (key in Secrets Manager) and expiry are its credential, checked "
    "by WebFunction before anything is read; buyers have no AWS or Cognito identity."
)
CONSOLE_REASON = (
    "The buyer console signs users in with the Cognito user pool itself: ConsoleFunction verifies "
    "the ID token in the console's HttpOnly cookie (RS256 signature against the pool's JWKS, "
    "issuer, audience, expiry, token_use) before reading anything, and scopes every page to "
    "the token's account. A Cognito authorizer reads headers, not cookies, and the sign-in "
    "page must be reachable signed out."
)
OPENBUY_REASON = (
    "Coupa Open Buy calls these server to server and cannot sign with SigV4 nor hold Cognito "
    "tokens: /openbuy/authentication trades the integration's Coupa shared secret for a "
    "short-lived bearer token that search, detail and checkout must present; OpenBuyFunction "
    "issues and checks those tokens."
)


@dataclass(frozen=True)
class MethodThrottle:
    """A token bucket of its own for one method (API Gateway throttles each method separately;
    the stage's figures are only the default for methods not listed)."""

    rate_limit: int
    burst_limit: int


# Purchase orders and punchouts get their own, larger budgets; the anonymous storefront and
# Open Buy get small ones, so a flood there is refused at the gateway before it reaches a
# function (nor the account-wide request rate and Lambda concurrency the cXML routes share).
CXML_THROTTLE = MethodThrottle(rate_limit=100, burst_limit=200)
ANONYMOUS_THROTTLE = MethodThrottle(rate_limit=20, burst_limit=40)
SMALL_ANONYMOUS_THROTTLE = MethodThrottle(rate_limit=10, burst_limit=20)
# Method keys as CDK's StageOptions.method_options reads them: `<resource path>/<METHOD or *>`.
METHOD_THROTTLES: dict[str, MethodThrottle] = {
    f"{constants.ORDERS_PATH}/POST": CXML_THROTTLE,
    f"{constants.PUNCHOUT_PATH}/POST": CXML_THROTTLE,
    "/catalog/GET": ANONYMOUS_THROTTLE,
    "/catalog/{proxy+}/*": ANONYMOUS_THROTTLE,
    "/console/*": ANONYMOUS_THROTTLE,
    "/console/{proxy+}/*": ANONYMOUS_THROTTLE,
    "/health/GET": SMALL_ANONYMOUS_THROTTLE,
    **{
        f"/openbuy/{operation}/{constants.OPENBUY_VERSION}/POST": SMALL_ANONYMOUS_THROTTLE
        for operation in constants.OPENBUY_OPERATIONS
    },
}


@dataclass(frozen=True)
class CxmlGatewayError:
    """A gateway response rendered as a cXML `Response`, so buyers see a cXML status."""

    response_type: apigateway.ResponseType
    cxml_code: int
    cxml_text: str
    message: str


# 500 tells the buyer to retry; 4xx not to. The HTTP status stays the gateway's own.
CXML_GATEWAY_ERRORS = [
    CxmlGatewayError(
        apigateway.ResponseType.DEFAULT_5_XX,
        500,
        "Internal Server Error",
        "The gateway could not process the document. Retry later.",
    ),
    CxmlGatewayError(
        apigateway.ResponseType.INTEGRATION_FAILURE,
        500,
        "Internal Server Error",
        "The gateway could not reach its backend. Retry later.",
    ),
    CxmlGatewayError(
        apigateway.ResponseType.INTEGRATION_TIMEOUT,
        500,
        "Internal Server Error",
        "The gateway timed out processing the document. Retry later.",
    ),
    CxmlGatewayError(
        apigateway.ResponseType.THROTTLED,
        500,
        "Internal Server Error",
        "Too many requests. Retry later.",
    ),
    CxmlGatewayError(
        apigateway.ResponseType.QUOTA_EXCEEDED,
        500,
        "Internal Server Error",
        "Request quota exceeded. Retry later.",
    ),
    CxmlGatewayError(
        apigateway.ResponseType.REQUEST_TOO_LARGE,
        400,
        "Bad Request",
        "Document too large.",
    ),
    CxmlGatewayError(
        apigateway.ResponseType.UNSUPPORTED_MEDIA_TYPE,
        406,
        "Not Acceptable",
        "Unsupported media type: send the cXML document as text/xml.",
    ),
]

CXML_CONTENT_TYPE = "text/xml; charset=utf-8"
# The gateway picks a response template by content type; the same document serves them all.
TEMPLATE_CONTENT_TYPES = ["application/json", "text/xml", "application/xml", "text/html"]


def cxml_error_document(error: CxmlGatewayError) -> str:
    """The body template of a gateway response.

    Gateway-response templates are not run through VTL: API Gateway only substitutes `$context`
    and `$stageVariables` values (no `#if`, no date formatting). The only request times it offers
    are `$context.requestTimeEpoch` (milliseconds, not a date) and `$context.requestTime`
    (CLF: `dd/MMM/yyyy:HH:mm:ss +0000`). We use `$context.requestTime`: it is the real time of
    the request and carries the time zone the DTD asks for (`timestamp` is `%datetime.tz;`, i.e.
    CDATA, so any string is DTD-valid). It is not ISO 8601 as the User's Guide recommends; a
    fixed ISO value would parse everywhere but be false, and buyers act on the Status code.
    """
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<!DOCTYPE cXML SYSTEM "{constants.CXML_DTD_URL}">\n'
        f'<cXML payloadID="$context.requestId@{constants.SERVICE_NAME}" '
        'timestamp="$context.requestTime" xml:lang="en-US">'
        f'<Response><Status code="{error.cxml_code}" text="{error.cxml_text}">'
        f"{error.message}</Status></Response></cXML>"
    )


class GatewayApi(Construct):
    """REST API `prod` stage: /cxml (cXML, open), /admin (IAM), /metering (IAM), /health,
    /catalog and /s (open), /subscriptions (signed links), /console (Cognito cookie sessions,
    checked in the function), /openbuy (Coupa Open Buy, token
    checked in the function)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cxml_function: lambda_.IFunction,
        orders_function: lambda_.IFunction,
        admin_function: lambda_.IFunction,
        web_function: lambda_.IFunction,
        console_function: lambda_.IFunction,
        openbuy_function: lambda_.IFunction,
        metering_function: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)

        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=constants.LOG_RETENTION,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.rest_api = apigateway.RestApi(
            self,
            "RestApi",
            rest_api_name=constants.API_NAME,
            description=(
                "Procurement Gateway: cXML punchout, admin API, storefront and Coupa Open Buy."
            ),
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            binary_media_types=constants.BINARY_MEDIA_TYPES,
            # The account-level role API Gateway needs to write access and execution logs.
            cloud_watch_role=True,
            deploy_options=apigateway.StageOptions(
                stage_name=constants.API_STAGE,
                # No X-Ray: a stage trace records the request URL, and /s/<token> URLs carry
                # session tokens (README, "Observability").
                tracing_enabled=False,
                metrics_enabled=True,
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                # Never log bodies: cXML requests carry shared secrets.
                data_trace_enabled=False,
                throttling_rate_limit=constants.THROTTLING_RATE_LIMIT,
                throttling_burst_limit=constants.THROTTLING_BURST_LIMIT,
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=_access_log_format(),
                # A method's own settings replace the stage's for it, field by field with
                # API Gateway's defaults (logging off): repeat logging and metrics in each.
                method_options={
                    path: apigateway.MethodDeploymentOptions(
                        throttling_rate_limit=throttle.rate_limit,
                        throttling_burst_limit=throttle.burst_limit,
                        logging_level=apigateway.MethodLoggingLevel.ERROR,
                        metrics_enabled=True,
                        data_trace_enabled=False,
                    )
                    for path, throttle in METHOD_THROTTLES.items()
                },
            ),
        )
        self._add_routes(
            cxml_function,
            orders_function,
            admin_function,
            web_function,
            console_function,
            openbuy_function,
            metering_function,
        )
        for error in CXML_GATEWAY_ERRORS:
            self.rest_api.add_gateway_response(
                f"Cxml{error.response_type.response_type}",
                type=error.response_type,
                response_headers={"Content-Type": f"'{CXML_CONTENT_TYPE}'"},
                templates=dict.fromkeys(TEMPLATE_CONTENT_TYPES, cxml_error_document(error)),
            )
        self.firewall = ApiFirewall(
            self, "Firewall", stage_arn=self.rest_api.deployment_stage.stage_arn
        )
        self._acknowledge_api_findings()

    @property
    def punchout_url(self) -> str:
        return self.rest_api.url_for_path(constants.PUNCHOUT_PATH)

    @property
    def orders_url(self) -> str:
        return self.rest_api.url_for_path(constants.ORDERS_PATH)

    def _add_routes(
        self,
        cxml_function: lambda_.IFunction,
        orders_function: lambda_.IFunction,
        admin_function: lambda_.IFunction,
        web_function: lambda_.IFunction,
        console_function: lambda_.IFunction,
        openbuy_function: lambda_.IFunction,
        metering_function: lambda_.IFunction,
    ) -> None:
        root = self.rest_api.root
        cxml = _integration(cxml_function)
        orders = _integration(orders_function)
        admin = _integration(admin_function)
        web = _integration(web_function)
        console = _integration(console_function)
        openbuy = _integration(openbuy_function)
        metering = _integration(metering_function)

        # /cxml answers every method and path with cXML. API Gateway matches the most specific
        # resource first and does not fall back to {proxy+} when that resource lacks the method:
        # it answers {"message": "Missing Authentication Token"}. So /cxml, /cxml/punchout and
        # /cxml/orders take ANY too (the explicit POST wins for POST).
        self.cxml_resource = root.add_resource("cxml")
        self.cxml_resource.add_method("ANY", cxml)
        punchout = self.cxml_resource.add_resource("punchout")
        punchout.add_method("POST", cxml)
        punchout.add_method("ANY", cxml)
        # Purchase orders: their own function (longer work, other grants), same cXML rules.
        order_requests = self.cxml_resource.add_resource("orders")
        order_requests.add_method("POST", orders)
        order_requests.add_method("ANY", orders)
        self.cxml_resource.add_proxy(default_integration=cxml, any_method=True)

        iam_only = apigateway.MethodOptions(authorization_type=apigateway.AuthorizationType.IAM)
        self.admin_resource = root.add_resource("admin", default_method_options=iam_only)
        integrations = self.admin_resource.add_resource("integrations")
        integrations.add_method("GET", admin)
        integrations.add_method("POST", admin)
        integration = integrations.add_resource("{id}")
        integration.add_method("GET", admin)
        integration.add_method("PATCH", admin)
        for action in ("secret", "disable", "enable"):
            integration.add_resource(action).add_method("POST", admin)
        integration.add_resource("orders").add_resource("{order_id}").add_method("GET", admin)
        subscriptions = self.admin_resource.add_resource("subscriptions")
        subscriptions.add_resource("{id}").add_method("GET", admin)
        products = self.admin_resource.add_resource("products")
        products.add_method("GET", admin)
        products.add_method("POST", admin)
        product = products.add_resource("{id}")
        for method in ("GET", "PATCH", "DELETE"):
            product.add_method(method, admin)
        invoices = self.admin_resource.add_resource("invoices")
        invoices.add_method("GET", admin)
        invoice = invoices.add_resource("{id}")
        invoice.add_method("GET", admin)
        invoice.add_resource("deliver").add_method("POST", admin)
        invoice.add_resource("credit-memos").add_method("POST", admin)  # corrections
        invoice.add_resource("cancel").add_method("POST", admin)
        self.admin_resource.add_resource("billing-runs").add_method("POST", admin)
        accounts = self.admin_resource.add_resource("accounts")  # buyer accounts and users
        accounts.add_method("GET", admin)
        accounts.add_method("POST", admin)
        account = accounts.add_resource("{id}")
        account.add_method("GET", admin)
        users = account.add_resource("users")
        users.add_method("POST", admin)
        users.add_resource("{username}").add_method("DELETE", admin)

        # Sellers report usage with SigV4, as to AWS Marketplace's BatchMeterUsage.
        self.metering_resource = root.add_resource("metering", default_method_options=iam_only)
        self.metering_resource.add_resource("batch-meter-usage").add_method("POST", metering)
        # ResolveCustomer and GetEntitlements: the same function, the same SigV4 as metering.
        self.marketplace_resource = root.add_resource(
            "marketplace", default_method_options=iam_only
        )
        for operation in ("resolve-customer", "entitlements"):
            self.marketplace_resource.add_resource(operation).add_method("POST", metering)

        self.health_resource = root.add_resource("health")
        self.health_resource.add_method("GET", web)
        self.catalog_resource = root.add_resource("catalog")
        self.catalog_resource.add_method("GET", web)
        self.catalog_resource.add_proxy(default_integration=web, any_method=True)
        self.session_resource = root.add_resource("s")
        session = self.session_resource.add_resource("{token}")
        session.add_method("GET", web)
        session.add_proxy(default_integration=web, any_method=True)
        self.subscriptions_resource = root.add_resource("subscriptions")
        self.subscriptions_resource.add_resource("{account_id}").add_method("GET", web)
        # The buyer console: sign-in, sign-out, pages (cookie sessions, checked in
        # ConsoleFunction).
        self.console_resource = root.add_resource("console")
        self.console_resource.add_method("ANY", console)
        self.console_resource.add_proxy(default_integration=console, any_method=True)

        # Coupa Open Buy: POST only, one versioned resource per operation.
        self.openbuy_resource = root.add_resource("openbuy")
        for operation in constants.OPENBUY_OPERATIONS:
            self.openbuy_resource.add_resource(operation).add_resource(
                constants.OPENBUY_VERSION
            ).add_method("POST", openbuy)

    def _acknowledge_api_findings(self) -> None:
        for public, reason in (
            (self.cxml_resource, PUBLIC_ROUTES_REASON),
            (self.health_resource, PUBLIC_ROUTES_REASON),
            (self.session_resource, PUBLIC_ROUTES_REASON),
            (self.catalog_resource, CATALOG_REASON),
            (self.subscriptions_resource, SUBSCRIPTIONS_REASON),
            (self.openbuy_resource, OPENBUY_REASON),
        ):
            acknowledge(public, "AwsSolutions-APIG4", reason)
            acknowledge(public, "AwsSolutions-COG4", f"No user pool: {reason}")
        acknowledge(self.console_resource, "AwsSolutions-APIG4", CONSOLE_REASON)
        acknowledge(self.console_resource, "AwsSolutions-COG4", f"No authorizer: {CONSOLE_REASON}")
        acknowledge(
            self.admin_resource,
            "AwsSolutions-COG4",
            "The admin API is called by the marketplace's back office with AWS SigV4: every "
            "/admin method uses AWS_IAM authorization, not a Cognito user pool.",
        )
        acknowledge(
            self.metering_resource,
            "AwsSolutions-COG4",
            "Sellers call the metering API from their own servers with AWS SigV4, as they call "
            "AWS Marketplace's BatchMeterUsage: the method uses AWS_IAM authorization, not a "
            "Cognito user pool.",
        )
        acknowledge(
            self.marketplace_resource,
            "AwsSolutions-COG4",
            "Sellers call ResolveCustomer and GetEntitlements from their own servers with AWS "
            "SigV4, as they call AWS Marketplace's: every method uses AWS_IAM authorization, "
            "not a Cognito user pool.",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG2",
            "Bodies are cXML documents, form posts and page requests that API Gateway models "
            "(JSON Schema) cannot describe; the functions validate them (defusedxml parser, "
            "cXML checks) and answer with a cXML status. Coupa Open Buy's JSON bodies are "
            "validated by OpenBuyFunction next to its token check, one place for every rule.",
        )
        cloud_watch_role = self.rest_api.node.try_find_child("CloudWatchRole")
        if cloud_watch_role is not None:
            acknowledge(
                cloud_watch_role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                "API Gateway's account-level logging role: AmazonAPIGatewayPushToCloudWatchLogs "
                "is the AWS-documented policy for it and only grants log delivery.",
            )


def _integration(function: lambda_.IFunction) -> apigateway.LambdaIntegration:
    # allow_test_invoke=False: no extra Lambda permission for the console's test-invoke stage.
    return apigateway.LambdaIntegration(function, proxy=True, allow_test_invoke=False)


def _access_log_format() -> apigateway.AccessLogFormat:
    """JSON access log. The resource path is the template (/s/{token}), never the token."""
    field = apigateway.AccessLogField
    return apigateway.AccessLogFormat.custom(
        json.dumps(
            {
                "requestId": field.context_request_id(),
                "requestTime": field.context_request_time(),
                "sourceIp": field.context_identity_source_ip(),
                "userAgent": field.context_identity_user_agent(),
                "caller": field.context_identity_user_arn(),
                "httpMethod": field.context_http_method(),
                "resourcePath": field.context_resource_path(),
                "protocol": field.context_protocol(),
                "status": field.context_status(),
                "responseLength": field.context_response_length(),
                "responseLatency": field.context_response_latency(),
                "integrationStatus": field.context_integration_status(),
                "integrationLatency": field.context_integration_latency(),
                "errorType": field.context_error_response_type(),
                "errorMessage": field.context_error_message(),
            }
        )
    )
