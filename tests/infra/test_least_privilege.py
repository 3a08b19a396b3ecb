"""Least privilege: what each function may read, write and send, as a matrix."""

from typing import Any

import pytest

from functions import contracts
from infra import constants
from tests.infra.support import (
    BUCKETS,
    DEAD_LETTER_QUEUES,
    FUNCTION_HANDLERS,
    QUEUE_OF_VARIABLE,
    TABLE_OF_VARIABLE,
    WRITE_ACTIONS,
    Synthesized,
    _actions,
    _allowed,
    _resource_name,
)


def _statements(stack: Synthesized) -> list[dict[str, Any]]:
    statements = []
    for policy in stack.of_type("AWS::IAM::Policy").values():
        statements += policy["Properties"]["PolicyDocument"]["Statement"]
    for role in stack.of_type("AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            statements += policy["PolicyDocument"]["Statement"]
    return statements


def test_no_policy_grants_wildcard_actions(stack: Synthesized) -> None:
    actions = [action for statement in _statements(stack) for action in _actions(statement)]

    assert actions
    assert [a for a in actions if a == "*" or a.endswith(":*")] == []


def test_cxml_function_reads_integrations_writes_only_sessions_and_reads_the_secret(
    stack: Synthesized,
) -> None:
    integrations = stack.logical_id("AWS::DynamoDB::Table", "IntegrationsTable")
    sessions = stack.logical_id("AWS::DynamoDB::Table", "SessionsTable")
    secret = stack.logical_id("AWS::SecretsManager::Secret", "AribaSharedSecret")
    on_integrations = _allowed(stack, constants.CXML_HANDLER, integrations)

    assert {a for a in on_integrations if a.startswith("dynamodb:")} == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
    }
    assert on_integrations.isdisjoint(WRITE_ACTIONS)
    assert {
        a for a in _allowed(stack, constants.CXML_HANDLER, sessions) if a.startswith("dynamodb:")
    } == {"dynamodb:PutItem"}
    assert "secretsmanager:GetSecretValue" in _allowed(stack, constants.CXML_HANDLER, secret)


def _construct_ids(stack: Synthesized) -> dict[str, str]:
    """Logical id -> construct id of every table, queue and bucket."""
    named = [
        *(("AWS::DynamoDB::Table", table_id) for table_id in TABLE_OF_VARIABLE.values()),
        *(("AWS::SQS::Queue", queue_id) for queue_id in QUEUE_OF_VARIABLE.values()),
        *(("AWS::SQS::Queue", queue_id) for queue_id in DEAD_LETTER_QUEUES),
        *(("AWS::S3::Bucket", bucket_id) for bucket_id in BUCKETS),
    ]
    return {stack.logical_id(kind, construct_id): construct_id for kind, construct_id in named}


def _grants(stack: Synthesized, handler: str, service: str) -> dict[str, set[str]]:
    """What a function may do in one service (`dynamodb`, `sqs`, `s3`): `Table`,
    `Table/index/<name>`, `Table/stream`, `Queue`, `Bucket/<key pattern>` or `*` -> actions."""
    construct_of = _construct_ids(stack)
    role_arn = stack.resources[stack.function_id(handler)]["Properties"]["Role"]
    role_ref = {"Ref": role_arn["Fn::GetAtt"][0]}
    grants: dict[str, set[str]] = {}
    for policy in stack.of_type("AWS::IAM::Policy").values():
        if role_ref not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = {a for a in _actions(statement) if a.startswith(f"{service}:")}
            resources = statement["Resource"]
            for resource in resources if isinstance(resources, list) else [resources]:
                if actions and statement["Effect"] == "Allow":
                    name = _resource_name(resource)
                    table_id, _, index = name.partition("/")
                    key = construct_of.get(table_id, table_id) + (f"/{index}" if index else "")
                    grants.setdefault(key, set()).update(actions)
    return grants


def _dynamodb_grants(stack: Synthesized, handler: str) -> dict[str, set[str]]:
    return _grants(stack, handler, "dynamodb")


READ_ITEMS = {"dynamodb:GetItem", "dynamodb:BatchGetItem"}


ADMIN_ITEMS = READ_ITEMS | {
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
}


QUERY = {"dynamodb:Query"}


# One TransactWriteItems: each item is authorized as its Put, Update or ConditionCheck.
TRANSACT = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"}


STREAM_READ = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (
            constants.CXML_HANDLER,
            {
                "IntegrationsTable": READ_ITEMS,
                "SessionsTable": {"dynamodb:PutItem"},
                "ActivityTable": {"dynamodb:PutItem"},  # with the session, or a refusal alone
            },
        ),
        (
            constants.ORDERS_HANDLER,
            {
                "IntegrationsTable": READ_ITEMS,
                "RequestsTable": READ_ITEMS | TRANSACT,
                "SubscriptionsTable": READ_ITEMS | TRANSACT,
                "OrdersTable": READ_ITEMS | TRANSACT,
                "OutboxTable": TRANSACT,
                # StatusUpdateRequests: read the invoice, set its buyer status (in a transaction)
                "InvoicesTable": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
                "ActivityTable": {"dynamodb:PutItem"},  # in the PO's transaction, or alone
            },
        ),
        (
            constants.ADMIN_HANDLER,
            {
                "IntegrationsTable": ADMIN_ITEMS,
                "IntegrationsTable/index/by-account": QUERY,
                "ProductsTable": ADMIN_ITEMS,
                "ProductsTable/index/catalog": QUERY,
                # Invoices are listed and read; a re-delivery resets the state, then queues;
                # a credit memo is put as an invoice is, a cancellation updates the state.
                "InvoicesTable": {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"},
                "InvoicesTable/index/by-integration": QUERY,
                "InvoicesTable/index/by-subscription": QUERY,
                # The subscription and order views read single items, nothing more.
                "SubscriptionsTable": {"dynamodb:GetItem"},
                "UsageTable": {"dynamodb:GetItem"},  # the budget ledger
                "OrdersTable": {"dynamodb:GetItem"},
                "OutboxTable": {"dynamodb:GetItem"},  # an order's confirmation
            },
        ),
        (
            constants.WEB_HANDLER,
            {
                "SessionsTable": READ_ITEMS,
                "IntegrationsTable": READ_ITEMS,
                "IntegrationsTable/index/by-account": QUERY,
                "ProductsTable": READ_ITEMS,
                "ProductsTable/index/catalog": QUERY,
                "RequestsTable": READ_ITEMS | {"dynamodb:PutItem"},
                "RequestsTable/index/awaiting-punchout": QUERY,
                # Pre-approved offers: request, subscription and mail in one transaction of puts.
                "SubscriptionsTable": {"dynamodb:GetItem", "dynamodb:PutItem"},
                "SubscriptionsTable/index/by-account": QUERY,
                "OutboxTable": {"dynamodb:PutItem"},
                "UsageTable": READ_ITEMS,  # usage so far against the approved budget
            },
        ),
        (
            constants.OPENBUY_HANDLER,
            {
                "IntegrationsTable": READ_ITEMS,
                "ProductsTable": READ_ITEMS,
                "ProductsTable/index/catalog": QUERY,
                "SessionsTable": {"dynamodb:PutItem", "dynamodb:GetItem"},
            },
        ),
        (
            constants.EMAIL_HANDLER,
            {
                "OutboxTable": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
                "OutboxTable/stream": STREAM_READ,
                "*": {"dynamodb:ListStreams"},  # CDK's stream grant; lists ARNs, reads nothing
            },
        ),
        (
            constants.METERING_HANDLER,
            {
                "ProductsTable": {"dynamodb:GetItem"},
                # the customer's subscriptions to the product
                "SubscriptionsTable/index/by-account-product": QUERY,
                # GetEntitlements: a page of the product's entitlements, one Query of the
                # lifecycle index's `entitlement#<product>` partition
                "SubscriptionsTable/index/lifecycle": QUERY,
                # Hourly record and totals in one TransactWriteItems.
                "UsageTable": {"dynamodb:GetItem"} | TRANSACT,
            },
        ),
        (
            constants.BILLING_HANDLER,
            {
                "SubscriptionsTable": READ_ITEMS,
                "SubscriptionsTable/index/billable": QUERY,
                "UsageTable": READ_ITEMS | {"dynamodb:PutItem"},  # budget ledgers
                "IntegrationsTable": READ_ITEMS,
                "InvoicesTable": {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:BatchGetItem"},
                "InvoicesTable/index/by-subscription": QUERY,  # refunds: the contract invoices
                "OutboxTable": {"dynamodb:PutItem"},  # the budget mail
                "OutboxTable/stream": STREAM_READ,  # contract invoices, refunds
                "*": {"dynamodb:ListStreams"},
            },
        ),
        (constants.BILLING_SCHEDULE_HANDLER, {}),
        (
            constants.UNSUBSCRIBE_SWEEP_HANDLER,
            {
                # cancelled subscriptions whose metering window closed; each one marked
                # unsubscribed with its event in one TransactWriteItems (two puts)
                "SubscriptionsTable/index/lifecycle": QUERY,  # its `unsubscribing` partition
                "SubscriptionsTable": {"dynamodb:PutItem"},
                "OutboxTable": {"dynamodb:PutItem"},
            },
        ),
        (
            constants.DELIVERY_HANDLER,
            {
                "InvoicesTable": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
                "IntegrationsTable": {"dynamodb:GetItem"},
                # order confirmations: read the outbox item, record its delivery state
                "OutboxTable": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
                "ActivityTable": {"dynamodb:PutItem"},  # each attempt, with the answer's code
            },
        ),
    ],
)
def test_each_function_has_exactly_the_dynamodb_access_it_needs(
    stack: Synthesized, handler: str, expected: dict[str, set[str]]
) -> None:
    assert _dynamodb_grants(stack, handler) == expected


SEND = {"sqs:SendMessage"}  # also authorizes SendMessageBatch


# What an SQS trigger needs (CDK's consume grant), and what an on-failure destination needs.
CONSUME = {
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueUrl",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
}


ON_FAILURE = {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}


NO_QUEUE_OR_BUCKET: dict[str, set[str]] = {}


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (constants.CXML_HANDLER, NO_QUEUE_OR_BUCKET),
        (constants.ORDERS_HANDLER, {"InvoiceBucket/orders/*": {"s3:PutObject"}}),
        (
            constants.ADMIN_HANDLER,
            {
                "BillingQueue": SEND,  # starts a billing run
                "DeliveryQueue": SEND,  # re-delivers an invoice, sends a credit memo
                "InvoiceBucket/invoices/*": {"s3:GetObject", "s3:PutObject"},  # credit memos
            },
        ),
        (constants.WEB_HANDLER, NO_QUEUE_OR_BUCKET),
        (constants.OPENBUY_HANDLER, NO_QUEUE_OR_BUCKET),
        (constants.EMAIL_HANDLER, {"EmailDeadLetters": ON_FAILURE}),
        (constants.METERING_HANDLER, NO_QUEUE_OR_BUCKET),
        (
            constants.BILLING_HANDLER,
            {
                "BillingQueue": CONSUME | SEND,  # sends the next page of a shard walk
                "DeliveryQueue": SEND,
                "ContractInvoiceDeadLetters": ON_FAILURE,
                "InvoiceBucket/invoices/*": {"s3:PutObject", "s3:GetObject"},
            },
        ),
        (constants.BILLING_SCHEDULE_HANDLER, {"BillingQueue": SEND}),
        (constants.UNSUBSCRIBE_SWEEP_HANDLER, NO_QUEUE_OR_BUCKET),
        (
            constants.DELIVERY_HANDLER,
            {"DeliveryQueue": CONSUME, "InvoiceBucket/invoices/*": {"s3:GetObject"}},
        ),
    ],
)
def test_each_function_has_exactly_the_queue_and_bucket_access_it_needs(
    stack: Synthesized, handler: str, expected: dict[str, set[str]]
) -> None:
    granted = {**_grants(stack, handler, "sqs"), **_grants(stack, handler, "s3")}

    assert granted == expected


def test_no_function_may_touch_the_access_logs_nor_the_bucket_itself(
    stack: Synthesized,
) -> None:
    for handler in FUNCTION_HANDLERS:
        on_buckets = _grants(stack, handler, "s3")
        assert set(on_buckets) <= {"InvoiceBucket/invoices/*", "InvoiceBucket/orders/*"}, handler


def test_functions_and_infra_agree_on_the_order_object_prefix() -> None:
    from functions.orders import ORDER_OBJECT_PREFIX

    assert ORDER_OBJECT_PREFIX == contracts.ORDER_OBJECT_PREFIX


def test_queries_name_their_index_never_every_index_of_a_table(stack: Synthesized) -> None:
    for handler in FUNCTION_HANDLERS:
        granted = _dynamodb_grants(stack, handler)
        wildcards = {r: a for r, a in granted.items() if r.endswith("/*") or r == "*"}
        assert wildcards in ({}, {"*": {"dynamodb:ListStreams"}}), handler


def test_only_listing_streams_is_granted_on_every_resource(
    stack: Synthesized,
) -> None:
    """What the `AwsSolutions-IAM5[Resource::*]` acknowledgements say, and nothing more."""
    for handler in FUNCTION_HANDLERS:
        role = stack.resources[stack.function_id(handler)]["Properties"]["Role"]
        role_ref = {"Ref": role["Fn::GetAtt"][0]}
        on_everything: set[str] = set()
        for policy in stack.of_type("AWS::IAM::Policy").values():
            if role_ref in policy["Properties"]["Roles"]:
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                    if statement["Resource"] == "*":
                        on_everything.update(_actions(statement))
        stream_readers = {constants.EMAIL_HANDLER, constants.BILLING_HANDLER}
        expected = {"dynamodb:ListStreams"} if handler in stream_readers else set()
        assert on_everything == expected, handler


def test_admin_function_writes_integrations_and_products_but_not_sessions_requests_or_secret(
    stack: Synthesized,
) -> None:
    integrations = stack.logical_id("AWS::DynamoDB::Table", "IntegrationsTable")
    products = stack.logical_id("AWS::DynamoDB::Table", "ProductsTable")
    secret = stack.logical_id("AWS::SecretsManager::Secret", "AribaSharedSecret")

    for table in (integrations, products):
        assert {
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:ConditionCheckItem",
        } <= _allowed(stack, constants.ADMIN_HANDLER, table)
    for untouched in ("SessionsTable", "RequestsTable"):
        table = stack.logical_id("AWS::DynamoDB::Table", untouched)
        assert not any(
            a.startswith("dynamodb:") for a in _allowed(stack, constants.ADMIN_HANDLER, table)
        ), untouched
    assert not any(
        a.startswith("secretsmanager:") for a in _allowed(stack, constants.ADMIN_HANDLER, secret)
    )


def test_web_function_only_puts_new_items_and_does_not_read_the_ariba_secret(
    stack: Synthesized,
) -> None:
    for table_id in ("IntegrationsTable", "SessionsTable", "ProductsTable"):
        allowed = _allowed(
            stack, constants.WEB_HANDLER, stack.logical_id("AWS::DynamoDB::Table", table_id)
        )
        assert "dynamodb:GetItem" in allowed
        assert allowed.isdisjoint(WRITE_ACTIONS), table_id
    # Requests, and for pre-approved offers a new subscription and its mail: conditional puts.
    # Never an update or a delete: changing a subscription is a purchase order's job.
    for table_id in ("RequestsTable", "SubscriptionsTable", "OutboxTable"):
        allowed = _allowed(
            stack, constants.WEB_HANDLER, stack.logical_id("AWS::DynamoDB::Table", table_id)
        )
        assert allowed & WRITE_ACTIONS == {"dynamodb:PutItem"}, table_id
    orders = stack.logical_id("AWS::DynamoDB::Table", "OrdersTable")
    assert not any(
        a.startswith("dynamodb:") for a in _allowed(stack, constants.WEB_HANDLER, orders)
    )
    secret = stack.logical_id("AWS::SecretsManager::Secret", "AribaSharedSecret")
    assert not any(
        a.startswith("secretsmanager:") for a in _allowed(stack, constants.WEB_HANDLER, secret)
    )


def test_the_web_function_can_change_no_integration_and_no_user(stack: Synthesized) -> None:
    # The console (its own function) changes integrations and invites users: the public
    # storefront's role can do neither, nor seal an invoice secret.
    integrations = stack.logical_id("AWS::DynamoDB::Table", "IntegrationsTable")
    assert _allowed(stack, constants.WEB_HANDLER, integrations).isdisjoint(WRITE_ACTIONS)
    role = stack.resources[stack.function_id(constants.WEB_HANDLER)]["Properties"]["Role"]
    role_ref = {"Ref": role["Fn::GetAtt"][0]}
    actions = {
        action
        for policy in stack.of_type("AWS::IAM::Policy").values()
        if role_ref in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in _actions(statement)
    }
    assert "dynamodb:GetItem" in actions  # the role's policies were found
    assert not any(a.startswith("cognito-idp:") for a in actions)
    assert "kms:Encrypt" not in actions


def test_open_buy_function_writes_only_sessions_and_not_requests_nor_the_secret(
    stack: Synthesized,
) -> None:
    for table_id in ("IntegrationsTable", "ProductsTable"):
        allowed = _allowed(
            stack, constants.OPENBUY_HANDLER, stack.logical_id("AWS::DynamoDB::Table", table_id)
        )
        assert "dynamodb:GetItem" in allowed
        assert allowed.isdisjoint(WRITE_ACTIONS), table_id
    sessions = _allowed(
        stack, constants.OPENBUY_HANDLER, stack.logical_id("AWS::DynamoDB::Table", "SessionsTable")
    )
    assert sessions & WRITE_ACTIONS == {"dynamodb:PutItem"}
    requests = stack.logical_id("AWS::DynamoDB::Table", "RequestsTable")
    assert not any(
        a.startswith("dynamodb:") for a in _allowed(stack, constants.OPENBUY_HANDLER, requests)
    )
    secret = stack.logical_id("AWS::SecretsManager::Secret", "AribaSharedSecret")
    assert not any(
        a.startswith("secretsmanager:") for a in _allowed(stack, constants.OPENBUY_HANDLER, secret)
    )


def test_orders_function_touches_neither_sessions_nor_products_and_deletes_nothing(
    stack: Synthesized,
) -> None:
    for untouched in ("SessionsTable", "ProductsTable"):
        table = stack.logical_id("AWS::DynamoDB::Table", untouched)
        assert not any(
            a.startswith("dynamodb:") for a in _allowed(stack, constants.ORDERS_HANDLER, table)
        ), untouched
    for table_id in TABLE_OF_VARIABLE.values():
        table = stack.logical_id("AWS::DynamoDB::Table", table_id)
        allowed = _allowed(stack, constants.ORDERS_HANDLER, table)
        # Kept orders are replaced, never deleted; no listings (Query, Scan) either.
        assert allowed.isdisjoint(
            {"dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:Query", "dynamodb:Scan"}
        ), table_id


def test_email_function_touches_only_the_outbox(stack: Synthesized) -> None:
    granted = _dynamodb_grants(stack, constants.EMAIL_HANDLER)

    assert {r.partition("/")[0] for r in granted} - {"*"} == {"OutboxTable"}
    assert granted["OutboxTable"] & WRITE_ACTIONS == {"dynamodb:UpdateItem"}


def _secret_readers(stack: Synthesized, construct_id: str) -> set[str]:
    secret = stack.logical_id("AWS::SecretsManager::Secret", construct_id)
    return {
        handler
        for handler in FUNCTION_HANDLERS
        if "secretsmanager:GetSecretValue" in _allowed(stack, handler, secret)
    }


def test_only_the_cxml_functions_and_the_delivery_worker_read_the_ariba_secret(
    stack: Synthesized,
) -> None:
    # The delivery worker signs Ariba invoices to SAP Business Network with it.
    assert _secret_readers(stack, "AribaSharedSecret") == {
        constants.CXML_HANDLER,
        constants.ORDERS_HANDLER,
        constants.DELIVERY_HANDLER,
    }


def test_only_the_email_web_console_and_metering_functions_read_the_link_signing_key(
    stack: Synthesized,
) -> None:
    # The email worker signs the links it mails; the web function checks them; the console
    # derives its CSRF and registration-token keys from it; the metering function checks
    # registration tokens (ResolveCustomer) and signs NextTokens.
    assert _secret_readers(stack, "LinkSigningKey") == {
        constants.EMAIL_HANDLER,
        constants.WEB_HANDLER,
        constants.CONSOLE_HANDLER,
        constants.METERING_HANDLER,
    }


def test_only_the_admin_and_console_seal_and_only_the_delivery_worker_opens_invoice_secrets(
    stack: Synthesized,
) -> None:
    key = stack.logical_id("AWS::KMS::Key", "InvoiceSecretKey")
    on_key = {
        handler: {a for a in _allowed(stack, handler, key) if a.startswith("kms:")}
        for handler in FUNCTION_HANDLERS
    }

    assert on_key == {
        handler: {
            constants.ADMIN_HANDLER: {"kms:Encrypt"},
            constants.CONSOLE_HANDLER: {"kms:Encrypt"},  # a console admin's Coupa invoice secret
            constants.DELIVERY_HANDLER: {"kms:Decrypt"},
        }.get(handler, set())
        for handler in FUNCTION_HANDLERS
    }
    context = f"kms:EncryptionContext:{contracts.INVOICE_SECRET_CONTEXT_KEY}"
    for statement in _statements(stack):
        if any(a.startswith("kms:") for a in _actions(statement)) and key in str(statement):
            assert statement["Condition"] == {"StringLike": {context: "*"}}, statement
    with_the_key = {
        handler
        for handler in FUNCTION_HANDLERS
        if "INVOICE_SECRET_KEY"
        in stack.resources[stack.function_id(handler)]["Properties"]["Environment"]["Variables"]
    }
    assert with_the_key == {
        constants.ADMIN_HANDLER,
        constants.CONSOLE_HANDLER,
        constants.DELIVERY_HANDLER,
    }
