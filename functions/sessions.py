"""Punchout sessions: who punched out from which integration, and where the cart goes back.

Kept apart from the punchout setup logic so the pages that only read a session stay light."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from functions.cxml.model import ItemOut, ItemRef
from functions.errors import Forbidden
from functions.urls import origin_of

PROCUREMENT_HOSTS = {
    "coupa": ("https://*.coupahost.com", "https://*.coupacloud.com"),
    "ariba": ("https://*.ariba.com",),
}
"""Where the procurement UI that may frame our pages lives, beside the BrowserFormPost origin."""

SYSTEM_LABELS = {"coupa": "Coupa", "ariba": "SAP Ariba"}

SESSION_REMEMBERED = timedelta(hours=24)
"""How long an ended session is kept, for its error page only (docs/decisions.md): framed by
the session's procurement host, with the Return button, for a buyer who left the tab open
overnight. Nothing can be requested in it."""


@dataclass(frozen=True)
class Requester:
    """Who punched out, from Extrinsics, then Contact, then ShipTo (docs/PROTOCOL.md §4)."""

    email: str = ""
    first_name: str = ""
    last_name: str = ""
    unique_name: str = ""
    name: str = ""  # Contact/Name: a person's name, where Ariba puts it

    @property
    def display_name(self) -> str:
        full = f"{self.first_name} {self.last_name}".strip()
        return full or self.name or self.unique_name or self.email or "procurement user"


@dataclass(frozen=True)
class IntegrationSnapshot:
    """The integration settings a session acts on, copied at punchout so the pages and the cart
    return need no second read (settings changed mid-session apply to the next session)."""

    account_id: str = ""
    account_email: str = ""
    cart_field: str = "cxml-base64"
    test_mode: bool = True
    preapprove_free: bool = False
    preapprove_byol: bool = False
    buyer_domain: str = ""
    buyer_identity: str = ""
    unit_mapping: dict[str, str] = field(default_factory=dict)  # our unit code -> theirs


@dataclass(frozen=True)
class PunchOutSession:
    token_digest: str
    integration_id: str
    integration_name: str
    system: str
    buyer_cookie: str
    browser_form_post_url: str
    operation: str
    deployment_mode: str
    requester: Requester
    created_at: datetime
    expires_at: datetime
    payload_id: str = ""
    selected_item: ItemRef | None = None
    items_out: tuple[ItemOut, ...] = ()
    extrinsics: dict[str, str] = field(default_factory=dict)
    integration: IntegrationSnapshot = field(default_factory=IntegrationSnapshot)

    def is_expired(self, at: datetime) -> bool:
        return at >= self.expires_at

    def is_remembered(self, at: datetime) -> bool:
        """Ended, but recently enough that its error page still names it (SESSION_REMEMBERED)."""
        return at < self.expires_at + SESSION_REMEMBERED

    @property
    def test_mode(self) -> bool:
        """Orders from this session create no subscription and no invoice (PROTOCOL.md §9)."""
        return self.integration.test_mode or self.deployment_mode == "test"

    @property
    def system_label(self) -> str:
        return SYSTEM_LABELS.get(self.system, self.system)

    @property
    def read_only(self) -> bool:
        return self.operation == "inspect"

    @property
    def frame_ancestors(self) -> tuple[str, ...]:
        """Origins allowed to show our pages in a frame: the procurement system only."""
        origin = origin_of(self.browser_form_post_url)
        return (*((origin,) if origin else ()), *PROCUREMENT_HOSTS.get(self.system, ()))


class IntegrationDisabled(Forbidden):
    """The session's integration was disabled (or deleted) after the punchout: every session
    page refuses from that moment, not when the session expires."""

    def __init__(self, integration_name: str, session: PunchOutSession | None = None) -> None:
        super().__init__(
            f"The integration '{integration_name}' is disabled: this marketplace session can no "
            "longer request or subscribe. Ask your procurement admin to enable it again."
        )
        self.session = session  # the page shows its bar with Return only (an empty cart)


class SessionRepository(Protocol):
    def put(self, session: PunchOutSession) -> None: ...

    def get(self, token_digest: str) -> PunchOutSession | None: ...
