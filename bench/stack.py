"""The stack every in-process figure runs against: moto, the tables as infra/ defines them, the
real handlers behind the local API Gateway stand-in, and one Coupa integration created the way
a buyer's admin creates it (through the admin API), so the punchout finds a real item."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from moto import mock_aws

from functions.cxml.parse import credential_key
from functions.store.integrations import BUYER
from local.aws import configure_environment, create_resources
from local.stack import LocalApi
from tests.support import (
    ADMIN_TOKEN,
    ARIBA_SECRET,
    BASE_URL,
    admin,
    coupa_integration,
    punchout_setup,
)

HOST = "gateway.test"
PUNCHOUT_PATH = "/cxml/punchout"
XML_HEADERS = (("Content-Type", "text/xml; charset=utf-8"),)


@dataclass(frozen=True)
class BenchStack:
    api: LocalApi
    dynamodb: Any
    """A boto3 DynamoDB client, created once: the floor's calls and the setup use it."""
    document: bytes
    """A PunchOutSetupRequest the integration accepts (right From credential and secret)."""
    buyer_pk: str
    """The lookup item the punchout reads: the floor reads the same one."""
    integrations_table: str
    sessions_table: str
    buyer: tuple[str, str] = ("", "")
    """The integration's From credential (domain, identity)."""
    secret: str = ""
    """The integration's Coupa shared secret, for documents other than the punchout."""

    def post_punchout(self) -> bytes:
        """One PunchOutSetupRequest through the gateway stand-in; fails loudly unless it got a
        StartPage, since a refused request would be measuring the error path."""
        answer = self.api.handle("POST", PUNCHOUT_PATH, headers=XML_HEADERS, body=self.document)
        if answer.status != 200 or b"<StartPage>" not in answer.body:
            raise RuntimeError(f"punchout failed: HTTP {answer.status}: {answer.text[:500]}")
        return answer.body


class _Discard(io.TextIOBase):
    """A log sink that still costs the formatting (as in Lambda) but keeps the report readable."""

    def write(self, text: str) -> int:
        return len(text)


@contextmanager
def _quiet_logs() -> Iterator[None]:
    from functions.observability import logger

    handler = logger.registered_handler
    if not isinstance(handler, logging.StreamHandler):
        yield
        return
    previous = handler.setStream(_Discard())
    try:
        yield
    finally:
        if previous is not None:
            handler.setStream(previous)


@contextmanager
def moto_stack() -> Iterator[BenchStack]:
    """Everything in-process, fake credentials and moto only: nothing can reach AWS."""
    configure_environment(
        BASE_URL,
        ADMIN_TOKEN=ADMIN_TOKEN,
        ARIBA_SHARED_SECRET=ARIBA_SECRET,
        # EMF records are still built (same cost, measured), not printed: a billing run would
        # print thousands of lines.
        POWERTOOLS_METRICS_DISABLED="true",
    )
    with mock_aws(), _quiet_logs():
        dynamodb = boto3.client("dynamodb", region_name=os.environ["AWS_REGION"])
        create_resources(
            dynamodb,
            boto3.client("ses", region_name=os.environ["AWS_REGION"]),
            boto3.client("s3", region_name=os.environ["AWS_REGION"]),
            boto3.client("sqs", region_name=os.environ["AWS_REGION"]),
            boto3.client("kms", region_name=os.environ["AWS_REGION"]),
        )
        api = LocalApi(host=HOST)
        status, created = admin(api, "POST", "/admin/integrations", coupa_integration())
        if status != 201:
            raise RuntimeError(f"creating the integration failed: HTTP {status}: {created}")
        buyer = created["integration"]["buyer_identity"]
        document = punchout_setup(
            from_credentials=[(buyer["domain"], buyer["identity"])],
            secret=created["purchase_information"]["shared_secret"],
            sender=buyer["identity"],
        ).encode("utf-8")
        yield BenchStack(
            api=api,
            dynamodb=dynamodb,
            document=document,
            buyer_pk=BUYER + credential_key(buyer["domain"], buyer["identity"]),
            integrations_table=os.environ["INTEGRATIONS_TABLE"],
            sessions_table=os.environ["SESSIONS_TABLE"],
            buyer=(buyer["domain"], buyer["identity"]),
            secret=created["purchase_information"]["shared_secret"],
        )
