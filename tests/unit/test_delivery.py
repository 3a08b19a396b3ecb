"""Invoice delivery, pure: how every answer is judged, the delivery setting on an integration,
and one delivery through in-memory ports."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from functions import delivery, integrations
from functions.cxml.build import response
from functions.cxml.model import Credential
from functions.cxml.parse import parse_response
from functions.delivery import (
    CREATED,
    DELIVERED,
    FAILED,
    REJECTED,
    STORED,
    DeliveryLog,
    PendingInvoice,
    RetryLater,
    classify,
)
from functions.delivery_transport import Answer, EndpointRefused, Unanswered
from functions.errors import BadRequest, NotAcceptable
from functions.integrations import Integration, InvoiceDelivery, SealedSecret, SecretUnreadable
from tests.delivery_support import (
    FRESH,
    LOST,
    NOW,
    cxml_answer,
    deliver_invoice,
    delivery_ports,
    with_setting,
)
from tests.support import INVOICE_DELIVERY, coupa_integration

# --- classification ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", [200, 201])
def test_a_2xx_status_is_delivered(code: int) -> None:
    verdict = classify(cxml_answer(code), FRESH)

    assert (verdict.state, verdict.code, verdict.retry) == (DELIVERED, code, False)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (401, "Invalid credentials. Bad credentials"),
        (403, "cXML invoicing not allowed for supplier."),
        (406, "Request did not validate successfully with DTD."),
        (417, "Invalid order/document reference."),
        (417, "Invalid attributes in document."),
        (450, "cXML Version of document is not supported."),
        (400, "Bad Request"),
    ],
)
def test_a_4xx_status_is_a_permanent_rejection(code: int, message: str) -> None:
    verdict = classify(cxml_answer(code, message), FRESH)

    assert (verdict.state, verdict.code, verdict.retry) == (REJECTED, code, False)
    assert message in verdict.text, "the admin sees what Coupa said"


@pytest.mark.parametrize("code", [500, 503])
def test_a_5xx_status_is_retried(code: int) -> None:
    verdict = classify(cxml_answer(code, "Unexpected server error."), FRESH)

    assert verdict.retry and verdict.code == code and verdict.answered


@pytest.mark.parametrize(
    ("http_status", "body"),
    [
        (502, b"<html><body>Bad gateway</body></html>"),
        (200, b'{"message": "Internal server error"}'),
        (404, b""),
        (200, b"<cXML><Response><Status code='OK'/></Response></cXML>"),
        (200, b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><cXML>&a;</cXML>'),
    ],
)
def test_an_answer_that_is_not_a_cxml_status_is_a_transport_failure(
    http_status: int, body: bytes
) -> None:
    verdict = classify(Answer(http_status, body), FRESH)

    assert verdict.retry and verdict.code is None and not verdict.answered
    assert f"HTTP {http_status}" in verdict.text


def test_no_answer_is_retried_and_counted_as_possibly_arrived() -> None:
    verdict = classify(Unanswered("timed out after 20 s"), FRESH)

    assert verdict.retry and not verdict.answered
    assert delivery.after(FRESH, verdict, NOW).may_have_arrived


def test_417_after_an_attempt_that_may_have_arrived_is_taken_as_delivered() -> None:
    verdict = classify(cxml_answer(417, "Invalid attributes in document."), LOST)

    assert verdict.state == DELIVERED and verdict.code == 417
    assert "already holding" in verdict.note


def test_417_naming_the_reference_is_rejected_even_after_a_lost_answer() -> None:
    verdict = classify(cxml_answer(417, "Invalid order/document reference."), LOST)

    assert verdict.state == REJECTED


def test_417_on_a_delivered_invoice_sent_again_stays_delivered() -> None:
    delivered = DeliveryLog(attempts=1, last_code=200, delivered_at="2026-12-01T00:00:00+00:00")

    assert (
        classify(cxml_answer(417, "Invalid attributes in document."), delivered).state == DELIVERED
    )


def test_a_5xx_answer_is_not_counted_as_possibly_arrived() -> None:
    log = delivery.after(FRESH, classify(cxml_answer(500), FRESH), NOW)

    assert not log.may_have_arrived
    assert classify(cxml_answer(417, "Invalid attributes in document."), log).state == REJECTED


def test_the_log_counts_attempts_and_keeps_the_first_delivery_time() -> None:
    first = delivery.after(FRESH, classify(cxml_answer(500), FRESH), NOW)
    second = delivery.after(first, classify(cxml_answer(200), first), NOW.replace(hour=4))
    third = delivery.after(second, classify(cxml_answer(200), second), NOW.replace(hour=5))

    assert (first.attempts, first.last_code, first.delivered_at) == (1, 500, None)
    assert (second.attempts, second.last_code) == (2, 200)
    assert second.delivered_at == third.delivered_at == "2026-12-02T04:00:00+00:00"
    assert DeliveryLog.from_json(third.to_json()) == third


def test_parse_response_reads_code_text_and_message() -> None:
    assert parse_response(response(417, "Invalid attributes in document.")) == (
        417, "Expectation Failed", "Invalid attributes in document.",
    )  # fmt: skip
    with pytest.raises(NotAcceptable):
        parse_response(b"<html/>")


# --- the setting on an integration ------------------------------------------------------------


def test_the_setting_is_validated_stored_and_shown_without_its_secret() -> None:
    integration = with_setting()

    assert integration.invoice_delivery == InvoiceDelivery(
        INVOICE_DELIVERY["url"],
        Credential("NetworkID", "procurement-gateway"),
        Credential("DUNS", "acme-coupa"),
        Credential("NetworkID", "procurement-gateway"),
        "coupa-supplier-secret",
    )
    view = integration.public_view()["invoice_delivery"]
    assert view == {**INVOICE_DELIVERY, "shared_secret": "set"}
    assert "coupa-supplier-secret" not in str(integration.public_view())
    sealed = replace(integration.invoice_delivery, shared_secret=SealedSecret("c2VhbGVk"))
    assert InvoiceDelivery.from_json(sealed.to_json()) == sealed
    assert "shared_secret" not in sealed.to_json()


def test_a_clear_secret_is_never_turned_into_its_stored_form() -> None:
    # Given a setting fresh from the admin's request (its secret still clear)
    delivery_setting = with_setting().invoice_delivery
    assert delivery_setting is not None
    # When something tries to store it unsealed, Then it is refused
    with pytest.raises(TypeError, match="sealed"):
        delivery_setting.to_json()


def test_an_item_stored_before_sealing_reads_as_a_clear_secret() -> None:
    # Given an item written when the secret was kept in clear
    legacy = {**INVOICE_DELIVERY, "shared_secret": "old-clear-secret"}
    # When read, Then the secret is clear (sealed at the next write or by the backfill)
    assert InvoiceDelivery.from_json(legacy).shared_secret == "old-clear-secret"


def test_no_setting_by_default() -> None:
    integration, _ = integrations.new_integration(coupa_integration())

    assert integration.invoice_delivery is None
    assert integration.public_view()["invoice_delivery"] is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"url": "http://acme.coupahost.com/cxml/invoices"}, "invoice_delivery.url"),
        ({"url": ""}, "invoice_delivery.url"),
        ({"url": 42}, "invoice_delivery.url"),
        ({"from": None}, "invoice_delivery.from"),
        ({"to": {"domain": "DUNS"}}, "invoice_delivery.to.identity"),
        ({"sender": {"domain": " ", "identity": "x"}}, "invoice_delivery.sender.domain"),
        (
            {"sender": {"domain": "D", "identity": "x", "secret": "y"}},
            "invoice_delivery.sender.secret",
        ),
        ({"shared_secret": None}, "invoice_delivery.shared_secret"),
        ({"shared_secret": ""}, "invoice_delivery.shared_secret"),
        ({"shared_secret": "set"}, "invoice_delivery.shared_secret"),
        ({"shared_secret": "a\nb"}, "invoice_delivery.shared_secret"),
        ({"cc": "x"}, "invoice_delivery.cc"),
    ],
)
def test_each_part_of_the_setting_is_checked_and_named(
    overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(BadRequest) as refused:
        with_setting(**overrides)

    assert refused.value.field == field
    assert f"'{field}'" in refused.value.message


def test_the_setting_must_be_an_object() -> None:
    with pytest.raises(BadRequest) as refused:
        integrations.new_integration(coupa_integration(invoice_delivery="https://x.example"))

    assert refused.value.field == "invoice_delivery"


def test_local_http_only_when_allowed() -> None:
    local = {**INVOICE_DELIVERY, "url": "http://127.0.0.1:8080/_local/coupa/cxml/invoices"}

    with pytest.raises(BadRequest):
        integrations.new_integration(coupa_integration(invoice_delivery=local))
    integration, _ = integrations.new_integration(
        coupa_integration(invoice_delivery=local), allow_local_http=True
    )
    assert integration.invoice_delivery is not None


def test_ariba_integrations_have_no_invoice_endpoint() -> None:
    from tests.support import ariba_integration

    with pytest.raises(BadRequest, match="Ariba Network") as refused:
        integrations.new_integration(ariba_integration(invoice_delivery=INVOICE_DELIVERY))

    assert refused.value.field == "invoice_delivery"
    integration, _ = integrations.new_integration(ariba_integration(invoice_delivery=None))
    assert integration.invoice_delivery is None


def test_patch_keeps_the_secret_when_omitted_or_sent_back_as_shown() -> None:
    integration = with_setting()
    moved = {k: v for k, v in INVOICE_DELIVERY.items() if k != "shared_secret"}
    moved["url"] = "https://acme-eu.coupahost.com/cxml/invoices"

    patched = integrations.patched(integration, {"invoice_delivery": moved})
    echoed = integrations.patched(
        integration, {"invoice_delivery": patched.public_view()["invoice_delivery"]}
    )
    renamed = integrations.patched(integration, {"name": "Acme EU"})

    assert patched.invoice_delivery is not None
    assert patched.invoice_delivery.url == moved["url"]
    assert patched.invoice_delivery.shared_secret == "coupa-supplier-secret"
    assert echoed.invoice_delivery == patched.invoice_delivery
    assert renamed.invoice_delivery == integration.invoice_delivery


def test_patch_replaces_the_secret_or_removes_the_setting() -> None:
    integration = with_setting()

    rotated = integrations.patched(
        integration, {"invoice_delivery": {**INVOICE_DELIVERY, "shared_secret": "new"}}
    )
    removed = integrations.patched(integration, {"invoice_delivery": None})

    assert rotated.invoice_delivery is not None and rotated.invoice_delivery.shared_secret == "new"
    assert removed.invoice_delivery is None


def test_patch_adding_a_setting_needs_the_secret() -> None:
    integration, _ = integrations.new_integration(coupa_integration())
    without_secret = {k: v for k, v in INVOICE_DELIVERY.items() if k != "shared_secret"}

    with pytest.raises(BadRequest) as refused:
        integrations.patched(integration, {"invoice_delivery": without_secret})

    assert refused.value.field == "invoice_delivery.shared_secret"


# --- one delivery through in-memory ports -----------------------------------------------------


def test_delivered_on_200() -> None:
    ports, ledger, sender = delivery_ports(cxml_answer(200))

    outcome = deliver_invoice(ports)

    assert (outcome.state, outcome.sent) == (DELIVERED, True)
    assert ledger.invoices["INV-1"].delivery.delivered_at == "2026-12-02T03:00:00+00:00"
    assert len(sender.sent) == 1


def test_a_transient_failure_is_recorded_then_retried() -> None:
    ports, ledger, _ = delivery_ports(cxml_answer(500))

    with pytest.raises(RetryLater):
        deliver_invoice(ports, receive_count=1)

    assert ledger.recorded == [("INV-1", CREATED)]
    assert ledger.invoices["INV-1"].delivery.last_code == 500


def test_the_last_attempt_marks_failed_without_raising() -> None:
    ports, ledger, _ = delivery_ports(Unanswered("timed out after 20 s"))

    outcome = deliver_invoice(ports, receive_count=delivery.MAX_RECEIVES)

    assert outcome.state == FAILED
    assert ledger.invoices["INV-1"].delivery.last_text == "No answer: timed out after 20 s"


def test_a_rejection_is_final() -> None:
    ports, ledger, _ = delivery_ports(cxml_answer(401, "Invalid credentials. Bad credentials"))

    assert deliver_invoice(ports).state == REJECTED
    assert ledger.invoices["INV-1"].delivery.last_code == 401


def test_no_endpoint_means_stored_and_nothing_sent() -> None:
    integration, _ = integrations.new_integration(coupa_integration())
    ports, ledger, sender = delivery_ports(integration=integration)

    outcome = deliver_invoice(ports)

    assert (outcome.state, outcome.sent) == (STORED, False)
    assert ledger.recorded == [("INV-1", STORED)] and sender.sent == []


def test_a_delivered_invoice_is_not_sent_again_unless_forced() -> None:
    ports, ledger, sender = delivery_ports(
        cxml_answer(417, "Invalid attributes in document."), state=DELIVERED
    )

    assert deliver_invoice(ports).sent is False
    assert sender.sent == [] and ledger.recorded == []
    forced = deliver_invoice(ports, force=True)
    assert (forced.state, forced.sent, forced.delivery.last_code) == (DELIVERED, True, 417)


def test_an_endpoint_no_longer_allowed_fails_at_once() -> None:
    ports, _, _ = delivery_ports(EndpointRefused("The invoice endpoint 'http://x' must be https."))

    outcome = deliver_invoice(ports)

    assert outcome.state == FAILED and "must be https" in outcome.delivery.last_text


def test_a_missing_invoice_is_an_error() -> None:
    ports, _, _ = delivery_ports()

    with pytest.raises(delivery.InvoiceMissing):
        delivery.deliver("INV-404", receive_count=1, force=False, ports=ports, now=NOW)


@pytest.mark.parametrize("state", [REJECTED, FAILED, STORED])
def test_a_finished_invoice_is_not_sent_again_by_a_duplicate_message(state: str) -> None:
    ports, ledger, sender = delivery_ports(cxml_answer(200), state=state)

    outcome = deliver_invoice(ports, receive_count=2)

    assert (outcome.state, outcome.sent) == (state, False)
    assert sender.sent == [] and ledger.recorded == []


def test_a_copy_that_lost_the_race_records_nothing_and_retries_nothing() -> None:
    ports, ledger, _ = delivery_ports(cxml_answer(500))
    racing = ledger.pending

    def delivered_meanwhile(invoice_id: str) -> PendingInvoice | None:
        found = racing(invoice_id)
        ledger.invoices[invoice_id] = replace(ledger.invoices[invoice_id], state=DELIVERED)
        return found

    ledger.pending = delivered_meanwhile  # type: ignore[method-assign]

    outcome = deliver_invoice(ports)

    assert outcome.superseded and outcome.state == DELIVERED
    assert ledger.recorded == []


def test_the_states_are_the_stores() -> None:
    from functions.store import invoices

    assert delivery.STATES == invoices.STATES


# --- the sealed shared secret -----------------------------------------------------------------


class FakeSecretBox:
    """Seals by naming the integration: opens only for the integration it was sealed for."""

    def seal(self, integration_id: str, clear: str) -> SealedSecret:
        return SealedSecret(f"{integration_id}:{clear[::-1]}")

    def open(self, integration_id: str, sealed: SealedSecret) -> str:
        owner, _, reversed_secret = sealed.ciphertext.partition(":")
        if owner != integration_id:
            raise SecretUnreadable("sealed for another integration")
        return reversed_secret[::-1]


def _sealed_for(owner: str) -> Integration:
    integration = with_setting()
    assert integration.invoice_delivery is not None
    sealed = FakeSecretBox().seal(owner, "coupa-supplier-secret")
    return replace(
        integration, invoice_delivery=replace(integration.invoice_delivery, shared_secret=sealed)
    )


def test_a_sealed_secret_is_opened_for_the_send() -> None:
    # Given an endpoint whose secret is sealed for this invoice's integration
    ports, _, sender = delivery_ports(cxml_answer(200), integration=_sealed_for("int_1"))
    ports = replace(ports, secrets=FakeSecretBox())

    # When the invoice is delivered
    outcome = deliver_invoice(ports)

    # Then Coupa receives the secret in clear
    assert outcome.state == DELIVERED
    assert b"<SharedSecret>coupa-supplier-secret</SharedSecret>" in sender.sent[0].body


def test_a_secret_sealed_for_another_integration_fails_the_delivery_cleanly() -> None:
    # Given an endpoint whose sealed secret was copied from another integration
    ports, ledger, sender = delivery_ports(cxml_answer(200), integration=_sealed_for("int_other"))
    ports = replace(ports, secrets=FakeSecretBox())

    # When the invoice is delivered
    outcome = deliver_invoice(ports)

    # Then nothing is sent, the invoice fails at once, and the reason tells the admin what to do
    assert (outcome.state, outcome.sent) == (FAILED, False)
    assert sender.sent == []
    text = ledger.invoices["INV-1"].delivery.last_text
    assert "cannot be decrypted" in text and "'int_1'" in text
    assert "invoice_delivery.shared_secret" in text and "coupa-supplier-secret" not in text
