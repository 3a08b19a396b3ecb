"""Authentication of cXML requests against an integration (docs/PROTOCOL.md §4)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from functions import ids
from functions.cxml.model import Credential, Header
from functions.errors import Forbidden, Unauthenticated
from functions.integrations.model import Integration


@dataclass(frozen=True)
class Authenticated:
    integration: Integration
    buyer_credential: Credential


NOT_AUTHENTICATED = (
    "The credentials were not accepted: check the From identity and the shared secret "
    "configured in your procurement system against the marketplace's purchase information."
)
"""One text for an unknown identity and a wrong secret, so no one can probe which buyers exist;
the reason goes to our logs only (`GatewayError.detail`)."""


def describe(credentials: tuple[Credential, ...]) -> str:
    """For logs: the first credentials, each clipped (they come from outside)."""
    return ", ".join(
        f"{(c.domain or '(no domain)')[:40]}/{c.identity[:80]}" for c in credentials[:5]
    )


def authenticate(
    header: Header,
    candidates: Mapping[str, Integration],
    ariba_secret: Callable[[], str | None],
) -> Authenticated:
    """Find the integration by any From credential, then check the secret docs/PROTOCOL.md §4 asks
    for: Coupa's per-integration secret, or, for Ariba (which replaces the buyer's secret with
    the supplier's), the marketplace Ariba secret. `candidates` maps credential keys to the
    integrations found for them (one batch read)."""
    for credential in header.from_credentials:
        integration = candidates.get(credential.key)
        if integration is not None:
            break
    else:
        raise Unauthenticated(
            NOT_AUTHENTICATED,
            detail="no integration for the buyer credential(s) "
            + describe(header.from_credentials),
        )
    secrets_sent = header.sender_secrets
    if integration.system == "coupa":
        ok = any(ids.matches_digest(s, integration.secret_digest) for s in secrets_sent)
        problem = f"shared secret does not match integration {integration.id}"
    else:
        expected = ariba_secret() if secrets_sent else None
        ok = any(ids.same_secret(s, expected) for s in secrets_sent)
        problem = f"shared secret does not match the Ariba secret (integration {integration.id})"
    if not secrets_sent:
        problem = f"the Sender credential carries no SharedSecret (integration {integration.id})"
    if not ok:
        refusal: Unauthenticated | Forbidden = Unauthenticated(NOT_AUTHENTICATED, detail=problem)
        refusal.admin_reason = (
            "The Sender credential carries no SharedSecret"
            if not secrets_sent
            else "Shared secret does not match"
        )
    elif not integration.enabled:
        refusal = Forbidden(
            f"Integration '{integration.name}' is disabled: ask the marketplace admin to enable it."
        )
    else:
        return Authenticated(integration, credential)
    refusal.integration_id = integration.id  # its activity shows the refusal
    raise refusal
