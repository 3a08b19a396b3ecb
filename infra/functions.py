"""The ten Lambda functions, their dependency layer, and exactly the DynamoDB, S3, SQS and
secret access each one needs (the email worker's trigger and SES permission: infra/email.py; the
invoicing workers' triggers: infra/invoicing.py)."""

import tempfile
from collections.abc import Sequence
from pathlib import Path

from aws_cdk import Annotations, Duration, IgnoreMode, RemovalPolicy, Stack, Stage
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions import contracts
from infra import constants
from infra.compliance import acknowledge
from infra.data import GatewayData
from infra.invoicing import InvoicingQueues

RUNTIME: lambda_.Runtime = getattr(
    lambda_.Runtime, "PYTHON_" + constants.LAMBDA_PYTHON_VERSION.replace(".", "_")
)
ARCHITECTURE = {
    "arm64": lambda_.Architecture.ARM_64,
    "x86_64": lambda_.Architecture.X86_64,
}[constants.LAMBDA_ARCHITECTURE]
PLACEHOLDER_WARNING = "procurement-gateway:layer-placeholder"
"""Marks a synthesis whose layer or asset was not built (app.py refuses it unless asked)."""

# Without a built asset (make layer), the source tree: git-style ignore rules applied to the
# repository root keep only the `functions` package.
# Everything else at the top level (.venv, tests, cdk.out, node_modules, local, infra...) is
# skipped without being walked, which also keeps asset fingerprinting fast.
FUNCTIONS_ASSET_EXCLUDE = [
    "/*",
    f"!/{constants.FUNCTIONS_PACKAGE}/",
    "__pycache__/",
    "*.pyc",
    ".DS_Store",
]

# DynamoDB access, by need. Item actions are granted on the table's ARN and Query on the indexes
# a function reads by name: never `<table>/index/*` (what CDK's Table.grant* add once a table
# has an index). pynamodb 6 never calls DescribeTable on reads and writes.
READ = ("dynamodb:GetItem", "dynamodb:BatchGetItem")  # items by key
LIST = ("dynamodb:Query", "dynamodb:Scan")  # admin listings
WRITE = (
    "dynamodb:PutItem",  # conditional puts, also inside transactions
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
)
# What one TransactWriteItems needs on each table it writes: there is no TransactWriteItems IAM
# action, each item of the transaction is authorized as its own Put, Update or ConditionCheck.
TRANSACT = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem")

STREAM_TRIGGER_REASON = (
    "The outbox stream trigger (infra/email.py, infra/invoicing.py) adds dynamodb:ListStreams "
    "on '*', as CDK's stream-read grant does: it only lists stream ARNs; reading records "
    "(DescribeStream, GetShardIterator, GetRecords) is granted on the outbox table's stream alone."
)
INVOICE_OBJECTS_REASON = (
    "Invoice objects are created per invoice at run time "
    "(invoices/<integration id>/<YYYY-MM>/<invoice id>.xml and .json), so their keys are only "
    "known by prefix: the grant is limited to that prefix of the invoice bucket and to the "
    "one object action this function needs."
)
ORDER_OBJECTS_REASON = (
    "Large purchase orders are kept per document at run time "
    "(orders/<integration id>/<sha256>.xml, credentials removed), so their keys are only known "
    "by prefix: the grant is limited to that prefix of the bucket and to s3:PutObject."
)


class GatewayFunctions(Construct):
    """CxmlFunction (punchout), OrdersFunction (purchase orders), AdminFunction (integrations,
    products, invoices, billing runs), WebFunction (storefront and subscription pages),
    ConsoleFunction (the buyer console), OpenBuyFunction (Coupa Open Buy), EmailFunction (the
    outbox's mail), MeteringFunction (the sellers' usage records), BillingFunction (invoices),
    BillingScheduleFunction (the monthly run), UnsubscribeSweepFunction (hourly seller events),
    DeliveryFunction (invoices to the buyers' procurement systems)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data: GatewayData,
        queues: InvoicingQueues,
        layer_dir: str,
        asset_dir: str,
        email_sender: str,
        log_level: str = constants.LOG_LEVEL,
        public_base_url: str | None = None,
        supplier_identity: dict[str, str] | None = None,
        business_network: dict[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if log_level not in constants.LOG_LEVELS:
            raise ValueError(f"logLevel must be one of {', '.join(constants.LOG_LEVELS)}")
        self.log_level = log_level
        self.all: list[lambda_.Function] = []
        """Every function, in the order made (the dashboard and alarms watch each)."""
        self.entry: dict[str, lambda_.IFunction] = {}
        """What API Gateway invokes, by function id: the `live` alias of the SnapStart
        functions (see `api_target`)."""

        self.code = self._function_code(asset_dir)
        self.layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(str(self._layer_source(layer_dir))),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Third-party packages from requirements.txt (make layer).",
        )

        environment = {
            constants.ENV_SERVICE_NAME: constants.SERVICE_NAME,
            constants.ENV_METRICS_NAMESPACE: constants.METRICS_NAMESPACE,
            constants.ENV_LOG_LEVEL: log_level,
            constants.ENV_INTEGRATIONS_TABLE: data.integrations_table.table_name,
            constants.ENV_SESSIONS_TABLE: data.sessions_table.table_name,
            constants.ENV_PRODUCTS_TABLE: data.products_table.table_name,
            constants.ENV_REQUESTS_TABLE: data.requests_table.table_name,
            constants.ENV_ORDERS_TABLE: data.orders_table.table_name,
            constants.ENV_SUBSCRIPTIONS_TABLE: data.subscriptions_table.table_name,
            constants.ENV_OUTBOX_TABLE: data.outbox_table.table_name,
            constants.ENV_USAGE_TABLE: data.usage_table.table_name,
            constants.ENV_INVOICES_TABLE: data.invoices_table.table_name,
            constants.ENV_ACTIVITY_TABLE: data.activity_table.table_name,
            constants.ENV_INVOICE_BUCKET: data.invoice_bucket.bucket_name,
            constants.ENV_BILLING_QUEUE_URL: queues.billing_queue.queue_url,
            constants.ENV_DELIVERY_QUEUE_URL: queues.delivery_queue.queue_url,
            constants.ENV_SESSION_TTL_SECONDS: str(constants.SESSION_TTL_SECONDS),
            constants.ENV_EMAIL_SENDER: email_sender,
            # An address, not the key: only EmailFunction, WebFunction, ConsoleFunction and
            # MeteringFunction (registration tokens) may read it.
            constants.ENV_LINK_KEY_SECRET_ARN: data.link_signing_key.secret_arn,
        }
        if public_base_url:
            environment[constants.ENV_PUBLIC_BASE_URL] = public_base_url.rstrip("/")
        environment.update(supplier_identity or {})

        self.cxml_function = self._function(
            constants.CXML_FUNCTION_ID,
            handler=constants.CXML_HANDLER,
            timeout_seconds=constants.CXML_TIMEOUT_SECONDS,
            environment={
                **environment,
                constants.ENV_ARIBA_SECRET_ARN: data.ariba_secret.secret_arn,
            },
            description="cXML endpoint: PunchOutSetupRequest, ProfileRequest; 450 elsewhere.",
            reserved_concurrency=constants.CXML_RESERVED_CONCURRENCY,
            snap_start=True,
        )
        self.orders_function = self._function(
            constants.ORDERS_FUNCTION_ID,
            handler=constants.ORDERS_HANDLER,
            timeout_seconds=constants.ORDERS_TIMEOUT_SECONDS,
            environment={
                **environment,
                constants.ENV_ARIBA_SECRET_ARN: data.ariba_secret.secret_arn,
            },
            description="cXML purchase orders: OrderRequest (new, update, delete).",
            reserved_concurrency=constants.ORDERS_RESERVED_CONCURRENCY,
            snap_start=True,
        )
        self.admin_function = self._function(
            constants.ADMIN_FUNCTION_ID,
            handler=constants.ADMIN_HANDLER,
            timeout_seconds=constants.DEFAULT_TIMEOUT_SECONDS,
            environment={
                **environment,
                constants.ENV_ADMIN_AUTH: constants.ADMIN_AUTH_IAM,
                constants.ENV_INVOICE_SECRET_KEY: data.invoice_secret_key.key_arn,
            },
            description=(
                "Admin API: buyer integrations, the product catalog, invoices and billing runs."
            ),
        )
        self.web_function = self._function(
            constants.WEB_FUNCTION_ID,
            handler=constants.WEB_HANDLER,
            timeout_seconds=constants.DEFAULT_TIMEOUT_SECONDS,
            environment=environment,
            description=(
                "Health check, the public catalog, the pages of a punchout session and the "
                "signed 'Your subscriptions' page."
            ),
            snap_start=True,
        )
        # The buyer console: its own role, so the storefront's never gains the console admins'
        # writes (docs/CONSOLE.md, "Where it runs"). No SnapStart: a few users per account.
        self.console_function = self._function(
            constants.CONSOLE_FUNCTION_ID,
            handler=constants.CONSOLE_HANDLER,
            timeout_seconds=constants.DEFAULT_TIMEOUT_SECONDS,
            environment=environment,
            description=(
                "The buyer console: sign-in, the account's subscriptions, and for its admins "
                "the procurement integrations and members."
            ),
        )
        self.openbuy_function = self._function(
            constants.OPENBUY_FUNCTION_ID,
            handler=constants.OPENBUY_HANDLER,
            timeout_seconds=constants.DEFAULT_TIMEOUT_SECONDS,
            environment=environment,
            description="Coupa Open Buy: authentication, search, detail and checkout.",
        )
        self.email_function = self._function(
            constants.EMAIL_FUNCTION_ID,
            handler=constants.EMAIL_HANDLER,
            timeout_seconds=constants.EMAIL_TIMEOUT_SECONDS,
            environment=environment,
            description="Sends the outbox's mail through SES, triggered by the outbox stream.",
            wildcard_reason=STREAM_TRIGGER_REASON,
        )
        self.metering_function = self._function(
            constants.METERING_FUNCTION_ID,
            handler=constants.METERING_HANDLER,
            timeout_seconds=constants.METERING_TIMEOUT_SECONDS,
            environment=environment,
            description="Seller APIs: BatchMeterUsage, ResolveCustomer, GetEntitlements.",
        )
        self.billing_function = self._function(
            constants.BILLING_FUNCTION_ID,
            handler=constants.BILLING_HANDLER,
            timeout_seconds=constants.BILLING_TIMEOUT_SECONDS,
            environment=environment,
            description=(
                "Makes invoices: billing-run messages from the billing queue, contract invoices "
                "from the outbox stream."
            ),
            wildcard_reason=STREAM_TRIGGER_REASON,
        )
        self.billing_schedule_function = self._function(
            constants.BILLING_SCHEDULE_FUNCTION_ID,
            handler=constants.BILLING_SCHEDULE_HANDLER,
            timeout_seconds=constants.DEFAULT_TIMEOUT_SECONDS,
            environment=environment,
            description="Starts the monthly billing run: one message per shard.",
        )
        self.unsubscribe_sweep_function = self._function(
            constants.UNSUBSCRIBE_SWEEP_FUNCTION_ID,
            handler=constants.UNSUBSCRIBE_SWEEP_HANDLER,
            timeout_seconds=constants.DEFAULT_TIMEOUT_SECONDS,
            environment=environment,
            description="Hourly: announces unsubscribe-success once a metering window closed.",
        )
        # Posts invoices to the buyers' public invoice endpoints over HTTPS: no VPC, so it
        # reaches the internet without a NAT gateway.
        self.delivery_function = self._function(
            constants.DELIVERY_FUNCTION_ID,
            handler=constants.DELIVERY_HANDLER,
            timeout_seconds=constants.DELIVERY_TIMEOUT_SECONDS,
            environment={
                **environment,
                constants.ENV_INVOICE_SECRET_KEY: data.invoice_secret_key.key_arn,
                # Ariba integrations' invoices: SAP Business Network, as our supplier ANID with
                # the marketplace's Ariba secret (its address here; the value read when sending).
                constants.ENV_ARIBA_SECRET_ARN: data.ariba_secret.secret_arn,
                **(business_network or {}),
            },
            description="Sends invoices (cXML InvoiceDetailRequest) to the buyers' endpoints.",
        )

        # Least privilege, one line per need.
        integrations, sessions = data.integrations_table, data.sessions_table
        products, requests = data.products_table, data.requests_table
        orders, subscriptions = data.orders_table, data.subscriptions_table
        outbox, usage, invoices = data.outbox_table, data.usage_table, data.invoices_table
        invoice_bucket = data.invoice_bucket
        billing_queue, delivery_queue = queues.billing_queue, queues.delivery_queue
        by_account = contracts.INTEGRATIONS_BY_ACCOUNT_INDEX
        catalog = contracts.PRODUCTS_CATALOG_INDEX
        awaiting_punchout = contracts.REQUESTS_AWAITING_PUNCHOUT_INDEX
        subscriptions_by_account = contracts.SUBSCRIPTIONS_BY_ACCOUNT_INDEX
        billable = contracts.SUBSCRIPTIONS_BILLABLE_INDEX
        subscriptions_by_account_product = contracts.SUBSCRIPTIONS_BY_ACCOUNT_PRODUCT_INDEX
        lifecycle = contracts.SUBSCRIPTIONS_LIFECYCLE_INDEX  # entitlements and unsubscribing
        invoices_by_integration = contracts.INVOICES_BY_INTEGRATION_INDEX
        invoices_by_subscription = contracts.INVOICES_BY_SUBSCRIPTION_INDEX

        cxml = self.cxml_function
        _grant(cxml, integrations, *READ)
        _grant(cxml, sessions, "dynamodb:PutItem")
        data.ariba_secret.grant_read(cxml)

        # A purchase order is one BatchGetItem (integration, requests, subscriptions, markers)
        # and one TransactWriteItems (order, markers, subscriptions, requests, outbox mail).
        orders_api = self.orders_function
        _grant(orders_api, integrations, *READ)
        _grant(orders_api, requests, *READ, *TRANSACT)
        _grant(orders_api, subscriptions, *READ, *TRANSACT)
        _grant(orders_api, orders, *READ, *TRANSACT)
        _grant(orders_api, outbox, *TRANSACT)
        # StatusUpdateRequests: the invoice read, its buyer status set in a transaction.
        _grant(orders_api, invoices, "dynamodb:GetItem", "dynamodb:UpdateItem")
        data.ariba_secret.grant_read(orders_api)
        # A PO too large for its item: the original (credentials removed) under orders/.
        _grant_objects(
            orders_api,
            invoice_bucket,
            "s3:PutObject",
            prefix=contracts.ORDER_OBJECT_PREFIX,
            reason=ORDER_OBJECTS_REASON,
        )

        admin = self.admin_function  # nothing on sessions and requests
        _grant(admin, integrations, *READ, *LIST, *WRITE, indexes=[by_account])
        _grant(admin, products, *READ, *LIST, *WRITE, indexes=[catalog])
        # Invoices are listed per integration or subscription and read; a re-delivery moves a
        # rejected, failed or stored invoice back to "created" (one conditional UpdateItem)
        # and queues it; a billing run is a message to the worker that does it. A credit memo
        # is stored as an invoice is (S3 puts, one conditional PutItem) and queued; a
        # cancellation keeps its document beside the invoice and marks it (UpdateItem).
        _grant(
            admin,
            invoices,
            "dynamodb:GetItem",
            "dynamodb:UpdateItem",
            "dynamodb:PutItem",
            indexes=[invoices_by_integration, invoices_by_subscription],
        )
        # The subscription and order views: single items only (its budget ledger in the usage
        # table, an order's confirmation in the outbox), no query, no write.
        _grant(admin, subscriptions, "dynamodb:GetItem")
        _grant(admin, usage, "dynamodb:GetItem")
        _grant(admin, orders, "dynamodb:GetItem")
        _grant(admin, outbox, "dynamodb:GetItem")
        _grant_send(admin, billing_queue, delivery_queue)
        _grant_objects(admin, invoice_bucket, "s3:GetObject", "s3:PutObject")
        _grant_key(admin, data.invoice_secret_key, "kms:Encrypt")  # seals Coupa's invoice secret

        web = self.web_function  # one BatchGetItem across sessions, products and requests
        _grant(web, sessions, *READ)
        _grant(web, integrations, *READ, indexes=[by_account])
        _grant(web, products, *READ, indexes=[catalog])
        _grant(web, requests, *READ, "dynamodb:PutItem", indexes=[awaiting_punchout])
        _grant(web, subscriptions, "dynamodb:GetItem", indexes=[subscriptions_by_account])
        # Pre-approved free/BYOL offers subscribe at once: one TransactWriteItems of conditional
        # puts (request, new subscription, its mail). Puts only: no update, no delete.
        _grant(web, subscriptions, "dynamodb:PutItem")
        _grant(web, outbox, "dynamodb:PutItem")
        _grant(web, usage, *READ)  # Your subscriptions: usage so far against the PO budget
        data.link_signing_key.grant_read(web)  # checks the signed "Your subscriptions" links

        # The console's home lists the signed-in account's subscriptions as "Your
        # subscriptions" does: a Query by account, the products in one BatchGetItem, usage.
        console = self.console_function
        _grant(console, subscriptions, "dynamodb:GetItem", indexes=[subscriptions_by_account])
        _grant(console, products, *READ)
        _grant(console, usage, *READ)
        data.link_signing_key.grant_read(console)  # CSRF and registration tokens derive from it

        # Console, procurement integrations (admins): the account's integrations (Query on the
        # by-account index), one read, and the admin API's transactions (create, replace):
        # conditional puts of the main and buyer-lookup items and the ConditionCheck on the
        # account item. No delete: the console never changes a buyer identity, the one change
        # that deletes a lookup item. KMS Encrypt only, to seal a Coupa invoice secret.
        _grant(console, integrations, "dynamodb:GetItem", "dynamodb:PutItem",
               "dynamodb:ConditionCheckItem", indexes=[by_account])  # fmt: skip
        _grant_key(console, data.invoice_secret_key, "kms:Encrypt")
        console.add_environment(constants.ENV_INVOICE_SECRET_KEY, data.invoice_secret_key.key_arn)

        # Console, activity of an integration (admins): one Query of the integration's
        # partition (newest first), after the integration's GetItem (granted above) proves it
        # is the account's.
        _grant(console, data.activity_table, "dynamodb:Query")
        # Recording it (docs/CONSOLE.md "Activity"): puts only, alone or inside the punchout's
        # and the purchase order's transactions; nobody but the console reads it.
        for recorder in (self.cxml_function, self.orders_function, self.delivery_function):
            _grant(recorder, data.activity_table, "dynamodb:PutItem")

        # Console, members (admins):
        # Cognito actions on the console's pool only: infra/stack.py (grant_user_pool_members),
        # where the pool exists. No table: users and their groups live in Cognito.

        # Console, a subscription's usage and invoices (everyone in the account):
        # One invoice by id, a subscription's invoices (its index), the documents under
        # invoices/ (the readable invoice's parties, the cXML download). Reads only; usage and
        # budget ledgers are the home's grant above.
        _grant(console, invoices, "dynamodb:GetItem", indexes=[invoices_by_subscription])
        _grant_objects(console, invoice_bucket, "s3:GetObject")

        openbuy = self.openbuy_function  # Open Buy tokens are short-lived items in sessions
        _grant(openbuy, integrations, *READ)
        _grant(openbuy, products, *READ, indexes=[catalog])
        _grant(openbuy, sessions, "dynamodb:PutItem", "dynamodb:GetItem")

        email = self.email_function  # claims and marks outbox items; signs the links it mails
        _grant(email, outbox, "dynamodb:GetItem", "dynamodb:UpdateItem")
        data.link_signing_key.grant_read(email)

        # Each usage record is one TransactWriteItems: the hourly record's conditional put and
        # the ADDs to the period and all-time totals. The customer's subscription is found by
        # account and product (one Query), the product's dimensions by id.
        metering = self.metering_function
        _grant(metering, products, "dynamodb:GetItem")
        _grant(metering, subscriptions, indexes=[subscriptions_by_account_product])
        # ResolveCustomer reads the product (GetItem, above) and checks the registration token
        # with a key derived from the link-signing key; GetEntitlements queries the sparse
        # lifecycle index's entitlement partition (one Query a page, no product read) and signs
        # its NextToken with that key too.
        _grant(metering, subscriptions, indexes=[lifecycle])
        data.link_signing_key.grant_read(metering)
        _grant(metering, usage, "dynamodb:GetItem", *TRANSACT)

        # "shard" messages walk the billable index a page at a time and send the next page;
        # "batch" messages read subscriptions, usage totals and integrations in batches, store
        # each invoice (S3, then a conditional put) and queue it for delivery. Its queue and
        # the outbox stream grant themselves (infra/invoicing.py).
        billing = self.billing_function
        _grant(billing, subscriptions, *READ, indexes=[billable])
        _grant(billing, usage, *READ)
        _grant(billing, integrations, *READ)
        _grant(billing, invoices, "dynamodb:PutItem", *READ)  # BatchGet: skip existing invoices
        # A refund credits a cancelled subscription's contract invoices: found on the
        # by-subscription index, their payloadID read from the document as sent.
        _grant(billing, invoices, indexes=[invoices_by_subscription])
        _grant_objects(billing, invoice_bucket, "s3:PutObject", "s3:GetObject")
        # A usage invoice's record is put in one TransactWriteItems with the subscription's
        # budget ledger (a put in the usage table) and, when usage becomes held, the budget mail.
        _grant(billing, usage, "dynamodb:PutItem")
        _grant(billing, outbox, "dynamodb:PutItem")
        _grant_send(billing, billing_queue, delivery_queue)

        _grant_send(self.billing_schedule_function, billing_queue)  # 16 "shard" messages

        # One Query of the lifecycle index's unsubscribing partition; per subscription one
        # TransactWriteItems (the subscription, conditioned on its version, and the event's
        # outbox item).
        sweep = self.unsubscribe_sweep_function
        _grant(sweep, subscriptions, "dynamodb:PutItem", indexes=[lifecycle])
        _grant(sweep, outbox, "dynamodb:PutItem")

        # Reads the invoice and the integration's endpoint, posts the stored document, records
        # the outcome on the invoice.
        delivery = self.delivery_function
        _grant(delivery, invoices, "dynamodb:GetItem", "dynamodb:UpdateItem")
        # Order confirmations: the outbox item is the confirmation's record (its state).
        _grant(delivery, outbox, "dynamodb:GetItem", "dynamodb:UpdateItem")
        _grant(delivery, integrations, "dynamodb:GetItem")
        _grant_objects(delivery, invoice_bucket, "s3:GetObject")
        _grant_key(delivery, data.invoice_secret_key, "kms:Decrypt")  # opens it, to send
        data.ariba_secret.grant_read(delivery)  # Sender of invoices to SAP Business Network

        acknowledge(
            self,
            "AwsSolutions-L1",
            f"Python {constants.LAMBDA_PYTHON_VERSION} on purpose: the newest CPython that "
            "this machine image, CDK and every pinned dependency support; the layer's and the "
            "asset's bytecode, the tests and the local stack use the same version "
            "(infra/constants.py LAMBDA_PYTHON_VERSION), so they move together in one change.",
        )

    def _function(
        self,
        construct_id: str,
        *,
        handler: str,
        timeout_seconds: int,
        environment: dict[str, str],
        description: str,
        wildcard_reason: str | None = None,
        reserved_concurrency: int | None = None,
        snap_start: bool = False,
    ) -> lambda_.Function:
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            retention=constants.LOG_RETENTION,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # An own role instead of the default one: the default attaches the AWS managed
        # AWSLambdaBasicExecutionRole (logs on every log group); this one writes to its own.
        role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {construct_id}",
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            construct_id,
            code=self.code,
            handler=handler,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            layers=[self.layer],
            memory_size=constants.FUNCTION_MEMORY_MB,
            timeout=Duration.seconds(timeout_seconds),
            reserved_concurrent_executions=reserved_concurrency,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
            # No X-Ray (README, "Observability"): the Tracer costs 190-280 ms of cold import,
            # and without it a trace holds only what the duration metrics and logs show.
            tracing=lambda_.Tracing.DISABLED,
            # Lambda's JSON log format: the level filter applies before CloudWatch ingests.
            # Powertools' Logger writes JSON lines (and EMF metrics) on its own.
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel(self.log_level),
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            log_group=log_group,
            role=role,
            environment=environment,
            description=description,
        )
        if wildcard_reason:
            acknowledge(role, "AwsSolutions-IAM5[Resource::*]", wildcard_reason)
        self.all.append(function)
        if snap_start:
            # API Gateway invokes the alias, so every deployment publishes a version (its
            # snapshot is taken then) and moves `live` to it.
            self.entry[construct_id] = lambda_.Alias(
                self,
                f"{construct_id}{constants.LIVE_ALIAS.title()}",
                alias_name=constants.LIVE_ALIAS,
                version=function.current_version,
            )
            Annotations.of(function).acknowledge_warning(
                "@aws-cdk/aws-lambda:snapStartRequirePublish",
                "Published: current_version is a new version at each deployment, and API Gateway "
                "invokes the live alias pointing to it.",
            )
        return function

    def api_target(self, function: lambda_.Function) -> lambda_.IFunction:
        """The alias API Gateway must invoke for a SnapStart function, else the function."""
        return self.entry.get(function.node.id, function)

    def _function_code(self, asset_dir: str) -> lambda_.Code:
        """The built asset (the `functions` package with its bytecode), or the source tree
        without bytecode: it runs, but compiles every module at each cold start."""
        built = _absolute(asset_dir)
        if (built / constants.FUNCTIONS_PACKAGE).is_dir():
            return lambda_.Code.from_asset(str(built))
        Annotations.of(self).add_warning_v2(
            PLACEHOLDER_WARNING,
            f"{built} does not exist: the function asset is the source tree, without bytecode. "
            "Run `make layer` before deploying (make deploy does).",
        )
        return lambda_.Code.from_asset(
            str(constants.REPO_ROOT),
            exclude=FUNCTIONS_ASSET_EXCLUDE,
            ignore_mode=IgnoreMode.GIT,
        )

    def _layer_source(self, layer_dir: str) -> Path:
        """The built layer directory, or an empty stand-in so synthesis never installs anything."""
        built = _absolute(layer_dir)
        if built.is_dir():
            return built
        Annotations.of(self).add_warning_v2(
            PLACEHOLDER_WARNING,
            f"{built} does not exist: the dependency layer is an empty placeholder. "
            "Run `make layer` before deploying (make deploy does).",
        )
        stage = Stage.of(self)
        outdir = stage.outdir if stage else tempfile.gettempdir()
        placeholder = Path(outdir) / "layer-placeholder" / "python"
        placeholder.mkdir(parents=True, exist_ok=True)
        return placeholder.parent


def _absolute(directory: str) -> Path:
    path = Path(directory)
    return path if path.is_absolute() else constants.REPO_ROOT / path


def _grant(
    grantee: iam.IGrantable,
    table: dynamodb.ITable,
    *actions: str,
    indexes: Sequence[str] = (),
) -> None:
    """`actions` on the table's items, and Query on exactly the named global secondary indexes."""
    if actions:
        iam.Grant.add_to_principal(
            grantee=grantee, actions=list(actions), resource_arns=[table.table_arn]
        )
    if indexes:
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["dynamodb:Query"],
            resource_arns=[f"{table.table_arn}/index/{name}" for name in indexes],
        )


def _grant_key(grantee: lambda_.Function, key: kms.IKey, action: str) -> None:
    """One KMS action on one key, only with an encryption context naming an integration (the
    key's policy leaves access to IAM, as CDK's default key policy does)."""
    grantee.add_to_role_policy(
        iam.PolicyStatement(
            actions=[action],
            resources=[key.key_arn],
            conditions={
                "StringLike": {
                    f"kms:EncryptionContext:{contracts.INVOICE_SECRET_CONTEXT_KEY}": "*",
                }
            },
        )
    )


def _grant_send(grantee: iam.IGrantable, *queues: sqs.IQueue) -> None:
    """SendMessage (which also authorizes SendMessageBatch) on the queues, nothing else. The
    queues use SQS-managed encryption: no KMS permission is needed."""
    iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["sqs:SendMessage"],
        resource_arns=[queue.queue_arn for queue in queues],
    )


def _grant_objects(
    grantee: lambda_.Function,
    bucket: s3.Bucket,
    *actions: str,
    prefix: str = contracts.INVOICE_OBJECT_PREFIX,
    reason: str = INVOICE_OBJECTS_REASON,
) -> None:
    """`actions` on the objects under one prefix (invoices by default), never on the bucket
    itself."""
    prefix = f"{prefix}*"
    iam.Grant.add_to_principal(
        grantee=grantee, actions=list(actions), resource_arns=[bucket.arn_for_objects(prefix)]
    )
    bucket_resource = bucket.node.default_child
    assert isinstance(bucket_resource, s3.CfnBucket)
    logical_id = Stack.of(bucket).get_logical_id(bucket_resource)
    if grantee.role is not None:
        acknowledge(
            grantee.role,
            f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/{prefix}]",
            reason,
        )
