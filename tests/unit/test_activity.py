"""The activity entry (functions/activity.py): what it keeps of an exchange, clipped, and what
a refusal records (only under a known integration, with the reason its admin may read)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from functions import activity
from functions.cxml.model import Credential, Header
from functions.cxml.parse import CxmlRequest, parse_request
from functions.errors import BadRequest, Unauthenticated
from functions.integrations import NOT_AUTHENTICATED
from tests.support import punchout_setup

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


SECRET = "s3cret-value"  # a shared secret the entry must not keep


def _request() -> CxmlRequest:
    return parse_request(
        punchout_setup(from_credentials=[("DUNS", "acme-coupa")], secret=SECRET).encode()
    )


def test_every_text_is_one_clipped_line() -> None:
    entry = activity.entry(
        "int_1", AT, activity.INBOUND, "OrderRequest", "p" * 5000, 200, "line one\nline two",
        who="w" * 1000, reference="r" * 1000,
    )  # fmt: skip

    assert len(entry.payload_id) == activity.MAX_PAYLOAD_ID and entry.payload_id.endswith("…")
    assert len(entry.who) == activity.MAX_WHO and len(entry.reference) == activity.MAX_REFERENCE
    assert entry.text == "line one line two"
    assert entry.expires_at == AT + timedelta(days=30)
    assert not entry.failed


def test_two_entries_of_the_same_instant_have_their_own_ids() -> None:
    first = activity.entry("int_1", AT, activity.INBOUND, "ProfileRequest", "p", 200, "OK")
    second = activity.entry("int_1", AT, activity.INBOUND, "ProfileRequest", "p", 200, "OK")

    assert first.entry_id != second.entry_id


def test_a_refusal_under_a_known_integration_says_why_and_keeps_no_secret() -> None:
    request = _request()
    refusal = Unauthenticated(NOT_AUTHENTICATED, detail="shared secret does not match int_1")
    refusal.integration_id = "int_1"
    refusal.admin_reason = "Shared secret does not match"

    entry = activity.refused(request, refusal, AT)

    assert entry is not None and entry.failed and entry.code == 401
    assert entry.text.startswith("Shared secret does not match. The credentials were not")
    assert entry.who == "DUNS/acme-coupa"
    assert SECRET not in repr(entry)


def test_a_refusal_naming_no_integration_is_not_recorded() -> None:
    assert activity.refused(_request(), BadRequest("no"), AT) is None


def test_who_is_never_the_sender_secret() -> None:
    header = Header(
        from_credentials=(Credential("", "buyer-1"),),
        to_credentials=(),
        sender_credentials=(Credential("NetworkID", "sender", "top-secret"),),
        user_agent="x",
    )

    assert activity.sender_of(header) == "(no domain)/buyer-1"
    assert activity.person("jim@acme.example", "Jim") == "Jim <jim@acme.example>"
    assert activity.person("", "Jim") == "Jim"


def test_an_unanswered_outbound_document_is_an_error() -> None:
    entry = activity.sent("int_1", "InvoiceDetailRequest", None, "", AT, reference="INV-1")

    assert entry.failed and entry.text == "No answer" and entry.direction == activity.OUTBOUND
