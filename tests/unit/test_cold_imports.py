"""The handlers' cold path, checked: importing a handler module (what Lambda does at a cold
start) must not import what its first request does not need. Each handler is imported in a
fresh interpreter and its `sys.modules` read; `make bench` measures what that costs.

Known imports of a watched module are allowed per handler with a reason; an allowance that is
no longer needed fails the test, so the list only shrinks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import coldstart
from infra import constants

ROOT = Path(__file__).resolve().parents[2]
HANDLER_MODULES = sorted(
    value.rpartition(".")[0]
    for name, value in vars(constants).items()
    if name.endswith("_HANDLER") and isinstance(value, str)
)

WATCHED: dict[str, str] = {
    "boto3": "AWS clients are created on first use, once (functions/store), never at import",
    "asyncio": "nothing of ours is async; Powertools' AppSync resolver drags it in",
    "aws_lambda_powertools.event_handler.appsync": "a resolver no function uses",
    "aws_lambda_powertools.event_handler.bedrock_agent": "a resolver no function uses",
    "aws_lambda_powertools.event_handler.vpc_lattice": "a resolver no function uses",
    "jinja2": "templates: only the functions rendering pages or mails",
    "pydantic": "Powertools' Parser costs 0.25-0.5x of import boto3 (STYLE.md)",
    "aws_xray_sdk": "the Tracer costs 190-280 ms and is not used (README, Observability)",
    "joserfc": "console token verification: the console's routes import it on first use",
    "cryptography": "RSA for console tokens: imported with joserfc, on first use only",
    "aws_lambda_powertools.utilities.data_classes.code_pipeline_job_event": (
        "Powertools' data_classes __init__ imports all its event sources (this one zipfile and "
        "tempfile): handlers import the one they read from its submodule (lean_imports)"
    ),
    "aws_lambda_powertools.utilities.data_classes.appsync_resolver_event": (
        "an event source no function reads: only data_classes' __init__ imports it"
    ),
    "aws_lambda_powertools.event_handler.openapi.merge": (
        "the OpenAPI spec merger, from openapi's __init__: no function serves a spec"
    ),
    "functions.integrations.admin": (
        "validating an admin's integration input (account, tax and URL rules): the package "
        "loads it when one of its names is first asked for"
    ),
    "functions.instalments": (
        "contract instalments: web pages and mails load them in their render filter, on first use"
    ),
    "functions.subscriptions": (
        "the subscriptions model: the email worker publishes seller events without it, and "
        "functions that never read a subscription must not load it"
    ),
}
"""Module → why a cold start should not import it."""

_BATCH = "Powertools' BatchProcessor (utilities/batch/base.py) imports asyncio itself"
_TERMS = "catalog and product pages state an offer's commitments (functions.commitments: term_end)"
_ORDERS = (
    "every OrderRequest creates or changes subscriptions, and saving one marks its instalments"
)
_METERING = "metering prices usage with functions.billing, which cuts contracts into instalments"
_BILLING = "the billing run invoices subscriptions and their contract instalments"
ALLOWED: dict[tuple[str, str], str] = {
    ("functions.handlers.web", "jinja2"): "every page is a template",
    ("functions.handlers.console", "jinja2"): "every console page is a template",
    ("functions.handlers.email_worker", "jinja2"): "mails are rendered when sent",
    ("functions.handlers.email_worker", "asyncio"): _BATCH,
    ("functions.handlers.billing_worker", "asyncio"): _BATCH,
    ("functions.handlers.delivery_worker", "asyncio"): _BATCH,
    ("functions.handlers.delivery_worker", "functions.integrations.admin"): (
        "functions.delivery_transport checks each delivery URL with delivery_url_problem"
    ),
    ("functions.handlers.web", "functions.subscriptions"): _TERMS,
    ("functions.handlers.orders_api", "functions.subscriptions"): _ORDERS,
    ("functions.handlers.orders_api", "functions.instalments"): _ORDERS,
    ("functions.handlers.metering_api", "functions.subscriptions"): _METERING,
    ("functions.handlers.metering_api", "functions.instalments"): _METERING,
    ("functions.handlers.billing_worker", "functions.subscriptions"): _BILLING,
    ("functions.handlers.billing_worker", "functions.instalments"): _BILLING,
    ("functions.handlers.billing_schedule", "functions.subscriptions"): _BILLING,
    ("functions.handlers.billing_schedule", "functions.instalments"): _BILLING,
}

_CHILD = """
import json, sys
import {module}
print(json.dumps(sorted(name for name in {watched!r} if name in sys.modules)))
"""


def _imported_at_cold_start(module: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD.format(module=module, watched=sorted(WATCHED))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"importing {module} failed:\n{done.stderr}"
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_every_function_is_checked_here_and_measured_by_the_bench():
    # Given the functions the stack deploys
    # Then each handler module is both checked below and timed by `make bench`
    assert len(HANDLER_MODULES) >= 10
    assert set(HANDLER_MODULES) == set(coldstart.HANDLERS)


@pytest.mark.parametrize("module", HANDLER_MODULES)
def test_a_cold_start_imports_only_what_the_first_request_needs(module):
    # Given a fresh interpreter, as on a new Lambda container
    # When the handler module is imported
    imported = _imported_at_cold_start(module)

    # Then none of the watched modules came with it, except those allowed for this handler
    unexpected = {name: WATCHED[name] for name in imported if (module, name) not in ALLOWED}
    assert not unexpected, f"{module} imports at cold start: {unexpected}"
    stale = {name for (handler, name) in ALLOWED if handler == module and name not in imported}
    assert not stale, f"{module} no longer imports {stale}: remove the allowance"


def test_the_deferred_event_handler_package_still_answers_every_name():
    # Given a handler imported without Powertools' event_handler __init__
    # When other code asks the package for a name it defines (not a submodule)
    code = (
        "import sys\n"
        "import functions.handlers.cxml_api\n"
        "assert 'aws_lambda_powertools.event_handler.appsync' not in sys.modules\n"
        "from aws_lambda_powertools.event_handler import APIGatewayRestResolver, AppSyncResolver\n"
        "from aws_lambda_powertools.event_handler import api_gateway\n"
        "assert APIGatewayRestResolver is api_gateway.APIGatewayRestResolver\n"
        "assert AppSyncResolver.__name__ == 'AppSyncResolver'\n"
        "print('whole')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )

    # Then the real __init__ runs and answers, with the classes the handlers already use
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "whole"


def test_the_deferred_data_classes_package_answers_its_names_from_their_own_modules():
    # Given a handler imported without Powertools' data_classes __init__
    code = (
        "import sys\n"
        "import functions.handlers.web\n"
        "prefix = 'aws_lambda_powertools.utilities.data_classes.'\n"
        "assert prefix + 'kafka_event' not in sys.modules\n"
        "from aws_lambda_powertools.utilities.data_classes import KafkaEvent, event_source\n"
        "from aws_lambda_powertools.utilities.data_classes import kafka_event\n"
        "assert KafkaEvent is kafka_event.KafkaEvent\n"
        "assert prefix + 'code_pipeline_job_event' not in sys.modules\n"
        "from aws_lambda_powertools.utilities import data_classes\n"
        "assert 'CodePipelineJobEvent' in data_classes.__all__\n"
        "assert data_classes.CodePipelineJobEvent.__name__ == 'CodePipelineJobEvent'\n"
        "assert prefix + 'code_pipeline_job_event' in sys.modules\n"
        "print('whole')\n"
    )

    # When other code asks the package for a name it re-exports, then for one it defines
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )

    # Then the re-exported name comes from its submodule alone (the same class), and any other
    # name runs the real __init__, which answers everything
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "whole"


def test_the_store_package_loads_without_the_observability_module():
    # The store loads with every function and with the bench's stack before the environment
    # is set; Powertools' Metrics reads its namespace when functions.observability is first
    # imported, so importing it from the store made the bench's punchouts fail after 100
    # unflushed metrics ("Must contain a metric namespace"). Log from the store on first use.
    done = subprocess.run(
        [sys.executable, "-c",
         "import sys, functions.store; print('functions.observability' in sys.modules)"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
