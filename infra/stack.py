"""The whole Procurement Gateway in one stack: data, functions, API, and what to paste where."""

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra import constants
from infra.api import GatewayApi
from infra.data import GatewayData
from infra.functions import GatewayFunctions


class ProcurementGatewayStack(Stack):
    """Reads CDK context `layerDir` (built dependency layer), `publicBaseUrl` (custom domain),
    `supplierDomain`/`supplierIdentity` (who we are to buyers)."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)

        layer_dir = self.node.try_get_context(constants.CONTEXT_LAYER_DIR)
        public_base_url = self.node.try_get_context(constants.CONTEXT_PUBLIC_BASE_URL)

        data = GatewayData(self, "Data")
        functions = GatewayFunctions(
            self,
            "Functions",
            data=data,
            layer_dir=str(layer_dir or constants.DEFAULT_LAYER_DIR),
            public_base_url=str(public_base_url) if public_base_url else None,
            supplier_identity={
                env: str(value)
                for env, key in (
                    (constants.ENV_SUPPLIER_DOMAIN, constants.CONTEXT_SUPPLIER_DOMAIN),
                    (constants.ENV_SUPPLIER_IDENTITY, constants.CONTEXT_SUPPLIER_IDENTITY),
                )
                if (value := self.node.try_get_context(key))
            },
        )
        api = GatewayApi(
            self,
            "Api",
            cxml_function=functions.cxml_function,
            admin_function=functions.admin_function,
            web_function=functions.web_function,
            openbuy_function=functions.openbuy_function,
        )

        punchout_url = (
            f"{str(public_base_url).rstrip('/')}{constants.PUNCHOUT_PATH}"
            if public_base_url
            else api.punchout_url
        )
        CfnOutput(self, "ApiUrl", value=api.rest_api.url, description="Base URL of the API")
        CfnOutput(
            self,
            "PunchoutUrl",
            value=punchout_url,
            description="Punchout URL to paste into Coupa / Ariba",
        )
        CfnOutput(self, "IntegrationsTableName", value=data.integrations_table.table_name)
        CfnOutput(self, "SessionsTableName", value=data.sessions_table.table_name)
        CfnOutput(self, "ProductsTableName", value=data.products_table.table_name)
        CfnOutput(self, "RequestsTableName", value=data.requests_table.table_name)
        CfnOutput(
            self,
            "AribaSecretArn",
            value=data.ariba_secret.secret_arn,
            description="The marketplace's Ariba Network shared secret (read it, paste in Ariba)",
        )
