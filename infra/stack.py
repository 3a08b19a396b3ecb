"""The whole Procurement Gateway in one stack: data, queues, functions, API, mail, invoicing,
alarms, and what to paste where."""

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra import constants
from infra.accounts import grant_user_pool_admin, grant_user_pool_members
from infra.alarms import GatewayAlarms
from infra.api import GatewayApi
from infra.console import ConsoleUsers, default_console_url
from infra.dashboard import GatewayDashboard
from infra.data import GatewayData
from infra.email import GatewayEmail
from infra.functions import GatewayFunctions
from infra.invoicing import InvoicingQueues, InvoicingTriggers
from infra.seller_events import SellerEventsBus, seller_accounts
from infra.unsubscribes import UnsubscribeSweepSchedule


class ProcurementGatewayStack(Stack):
    """Reads CDK context `layerDir` and `assetDir` (built layer and asset), `publicBaseUrl`
    (custom domain), `supplierDomain`/`supplierIdentity` (who we are to buyers), the legal
    entity invoices name (`supplierLegalName`, `supplierTaxId`, `remitTo*`), `emailSender`
    (the address mail comes from), `alarmEmail` (who hears the alarms, optional), `logLevel`
    (the functions' log level, INFO by default), `sellerAccounts` (AWS accounts that may attach
    rules to the seller events' bus)."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)

        layer_dir = self.node.try_get_context(constants.CONTEXT_LAYER_DIR)
        public_base_url = self.node.try_get_context(constants.CONTEXT_PUBLIC_BASE_URL)
        email_sender = str(
            self.node.try_get_context(constants.CONTEXT_EMAIL_SENDER)
            or constants.DEFAULT_EMAIL_SENDER
        )
        alarm_email = self.node.try_get_context(constants.CONTEXT_ALARM_EMAIL)

        data = GatewayData(self, "Data")
        queues = InvoicingQueues(self, "Queues")
        functions = GatewayFunctions(
            self,
            "Functions",
            data=data,
            queues=queues,
            layer_dir=str(layer_dir or constants.DEFAULT_LAYER_DIR),
            asset_dir=str(
                self.node.try_get_context(constants.CONTEXT_ASSET_DIR)
                or constants.DEFAULT_ASSET_DIR
            ),
            email_sender=email_sender,
            log_level=str(
                self.node.try_get_context(constants.CONTEXT_LOG_LEVEL) or constants.LOG_LEVEL
            ).upper(),
            public_base_url=str(public_base_url) if public_base_url else None,
            supplier_identity={
                env: str(value)
                for env, key in (
                    (constants.ENV_SUPPLIER_DOMAIN, constants.CONTEXT_SUPPLIER_DOMAIN),
                    (constants.ENV_SUPPLIER_IDENTITY, constants.CONTEXT_SUPPLIER_IDENTITY),
                    *((e, k) for k, e in constants.SUPPLIER_ENTITY_SETTINGS),
                )
                if (value := self.node.try_get_context(key))
            },
            business_network={
                env: str(value)
                for env, key in (
                    (constants.ENV_ARIBA_SUPPLIER_ANID, constants.CONTEXT_ARIBA_SUPPLIER_ANID),
                    (constants.ENV_ARIBA_INVOICE_URL, constants.CONTEXT_ARIBA_INVOICE_URL),
                )
                if (value := self.node.try_get_context(key))
            },
        )
        api = GatewayApi(
            self,
            "Api",
            cxml_function=functions.api_target(functions.cxml_function),
            orders_function=functions.api_target(functions.orders_function),
            admin_function=functions.admin_function,
            web_function=functions.api_target(functions.web_function),
            console_function=functions.console_function,
            openbuy_function=functions.openbuy_function,
            metering_function=functions.metering_function,
        )
        console_url = (
            f"{str(public_base_url).rstrip('/')}/console"
            if public_base_url
            else default_console_url(api.rest_api.rest_api_id)
        )
        console = ConsoleUsers(self, "Console", console_url=console_url)
        console.serve(functions.console_function)
        # The operator invites each account's users into the console's pool (infra/accounts.py).
        grant_user_pool_admin(functions.admin_function, console.user_pool)
        # Console, members (admins): its admins list, invite, re-role and remove their account's
        # users (infra/functions.py's anchor; the pool is made here, after the functions).
        grant_user_pool_members(functions.console_function, console.user_pool)
        CfnOutput(self, "ConsoleUrl", value=console_url, description="The buyer console")
        CfnOutput(
            self,
            "ConsoleUserPoolId",
            value=console.user_pool.user_pool_id,
            description="The buyer console's Cognito user pool (users are invited into it)",
        )
        email = GatewayEmail(
            self,
            "Email",
            sender=email_sender,
            outbox_table=data.outbox_table,
            worker=functions.email_function,
        )
        seller_events_bus = SellerEventsBus(
            self,
            "SellerEvents",
            publisher=functions.email_function,
            sellers=seller_accounts(self.node.try_get_context(constants.CONTEXT_SELLER_ACCOUNTS)),
        )
        invoicing = InvoicingTriggers(
            self,
            "Invoicing",
            queues=queues,
            outbox_table=data.outbox_table,
            billing_worker=functions.billing_function,
            delivery_worker=functions.delivery_function,
            billing_schedule=functions.billing_schedule_function,
        )
        alarms = GatewayAlarms(
            self,
            "Alarms",
            rest_api=api.rest_api,
            orders_function=functions.orders_function,
            email_dead_letter_queue=email.dead_letter_queue,
            billing_dead_letter_queue=queues.billing_dead_letter_queue,
            delivery_dead_letter_queue=queues.delivery_dead_letter_queue,
            contract_invoice_dead_letter_queue=invoicing.contract_invoice_dead_letter_queue,
            billing_schedule_function=functions.billing_schedule_function,
            alarm_email=str(alarm_email) if alarm_email else None,
        )
        UnsubscribeSweepSchedule(
            self, "UnsubscribeSweep", sweep=functions.unsubscribe_sweep_function, topic=alarms.topic
        )
        GatewayDashboard(
            self,
            "Monitoring",
            functions=functions.all,
            topic=alarms.topic,
            errors_alarmed_elsewhere=[
                functions.orders_function,
                functions.billing_schedule_function,
                functions.unsubscribe_sweep_function,
            ],
        )

        base_url = str(public_base_url).rstrip("/") if public_base_url else None
        punchout_url = f"{base_url}{constants.PUNCHOUT_PATH}" if base_url else api.punchout_url
        orders_url = f"{base_url}{constants.ORDERS_PATH}" if base_url else api.orders_url
        CfnOutput(self, "ApiUrl", value=api.rest_api.url, description="Base URL of the API")
        CfnOutput(
            self,
            "PunchoutUrl",
            value=punchout_url,
            description="Punchout URL to paste into Coupa / Ariba",
        )
        CfnOutput(
            self,
            "OrdersUrl",
            value=orders_url,
            description="Purchase order (cXML OrderRequest) URL to paste into Coupa / Ariba",
        )
        CfnOutput(self, "IntegrationsTableName", value=data.integrations_table.table_name)
        CfnOutput(self, "SessionsTableName", value=data.sessions_table.table_name)
        CfnOutput(self, "ProductsTableName", value=data.products_table.table_name)
        CfnOutput(self, "RequestsTableName", value=data.requests_table.table_name)
        CfnOutput(self, "OrdersTableName", value=data.orders_table.table_name)
        CfnOutput(self, "SubscriptionsTableName", value=data.subscriptions_table.table_name)
        CfnOutput(self, "OutboxTableName", value=data.outbox_table.table_name)
        CfnOutput(self, "UsageTableName", value=data.usage_table.table_name)
        CfnOutput(self, "InvoicesTableName", value=data.invoices_table.table_name)
        CfnOutput(
            self,
            "InvoiceBucketName",
            value=data.invoice_bucket.bucket_name,
            description="The invoices as sent (cXML) and their summaries (JSON), under invoices/",
        )
        CfnOutput(
            self,
            "AccessLogBucketName",
            value=data.access_log_bucket.bucket_name,
            description="Server access logs of the invoice bucket",
        )
        CfnOutput(
            self,
            "BillingQueueUrl",
            value=queues.billing_queue.queue_url,
            description="Billing-run messages (shard walks and invoice batches)",
        )
        CfnOutput(
            self,
            "BillingDeadLetterQueueUrl",
            value=queues.billing_dead_letter_queue.queue_url,
            description="Billing-run messages the billing worker failed 5 times",
        )
        CfnOutput(
            self,
            "DeliveryQueueUrl",
            value=queues.delivery_queue.queue_url,
            description="Invoices waiting to be sent to the buyers' endpoints",
        )
        CfnOutput(
            self,
            "DeliveryDeadLetterQueueUrl",
            value=queues.delivery_dead_letter_queue.queue_url,
            description="Invoices the delivery worker could not send in 5 attempts",
        )
        CfnOutput(
            self,
            "ContractInvoiceDeadLetterQueueUrl",
            value=invoicing.contract_invoice_dead_letter_queue.queue_url,
            description="Outbox records (contract invoices) the billing worker gave up on",
        )
        CfnOutput(
            self,
            "AribaSecretArn",
            value=data.ariba_secret.secret_arn,
            description="The marketplace's Ariba Network shared secret (read it, paste in Ariba)",
        )
        CfnOutput(
            self,
            "LinkSigningKeyArn",
            value=data.link_signing_key.secret_arn,
            description="Signs the 'Your subscriptions' links (rotate by hand: old links break)",
        )
        CfnOutput(
            self,
            "EmailSenderIdentity",
            value=email.sender_identity.email_identity_name,
            description="SES identity mail is sent as: confirm the verification mail SES sent it",
        )
        CfnOutput(
            self,
            "SellerEventBusArn",
            value=seller_events_bus.bus.event_bus_arn,
            description="Seller events: sellers' accounts attach rules to this bus (README)",
        )
        CfnOutput(
            self,
            "EmailDeadLetterQueueUrl",
            value=email.dead_letter_queue.queue_url,
            description="Outbox records the email worker gave up on",
        )
