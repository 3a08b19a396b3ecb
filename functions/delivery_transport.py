"""Invoice delivery's transport: the HTTP post an attempt makes, and what can come back
(`functions.delivery` judges the answer and keeps the invoice's state; the adapter making the
post is `functions.store.invoice_sender`).

The document sent is the stored one, re-addressed. The S3 copy is the archive of record and
never holds a buyer system's secret; before each attempt its Header is replaced by the
integration's `invoice_delivery` credentials (From, To, Sender + SharedSecret, as Coupa's
supplier setup expects), everything else kept: the same payloadID and timestamp on every attempt
(docs/PROTOCOL.md §2), the amounts and references the archive shows. Credentials the admin
corrects after a 401 apply to the next re-delivery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from functions.cxml.build import readdressed_invoice
from functions.integrations import InvoiceDelivery, delivery_url_problem

TIMEOUT_SECONDS = 20.0
CONTENT_TYPE = "text/xml; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    """What the endpoint answered over HTTP."""

    http_status: int
    body: bytes


class Unanswered(Exception):
    """The post got no usable HTTP answer: timeout, refused or dropped connection, TLS failure.
    The invoice may or may not have arrived."""


class EndpointRefused(Exception):
    """The endpoint is not one we may post to (a plain-http URL the deployment does not allow):
    a configuration problem no retry fixes."""


@dataclass(frozen=True)
class Send:
    """One HTTP POST to make."""

    url: str
    body: bytes
    content_type: str = CONTENT_TYPE
    timeout: float = TIMEOUT_SECONDS


def build_send(
    stored_document: bytes, endpoint: InvoiceDelivery, timeout: float = TIMEOUT_SECONDS
) -> Send:
    """The stored invoice re-addressed to `endpoint` (see the module docstring), whose shared
    secret the caller has opened."""
    if not isinstance(endpoint.shared_secret, str):
        raise TypeError("The endpoint's shared secret must be opened before sending.")
    body = readdressed_invoice(
        stored_document,
        supplier=endpoint.from_credential,
        buyer=endpoint.to_credential,
        sender=endpoint.sender_credential,
        sender_secret=endpoint.shared_secret,
    )
    return Send(endpoint.url, body, timeout=timeout)


def check_endpoint(endpoint: InvoiceDelivery, *, allow_local_http: bool) -> None:
    """Checked again before every send: settings may have changed since the admin saved it."""
    problem = delivery_url_problem(endpoint.url, allow_local_http=allow_local_http)
    if problem:
        raise EndpointRefused(f"The invoice endpoint {endpoint.url!r} {problem}.")


class Sender(Protocol):
    def post(self, send: Send) -> Answer:
        """Raises Unanswered or EndpointRefused."""
        ...
