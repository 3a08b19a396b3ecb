"""The subscription emails (subject, text part, HTML part) and `deliver`'s claim → send → mark
sent, with in-memory stand-ins for the outbox and SES."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from functions.errors import Transient
from functions.links import verify_subscriptions_link
from functions.notifications import (
    SUBSCRIPTION_CANCELLED,
    SUBSCRIPTION_READY,
    OutboxMail,
    RenderedEmail,
    UnsendableMail,
    compose,
    deliver,
    is_fresh,
    render_email,
)

KEY = b"unit-test-link-key-0123456789abcdef"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
LINK = re.compile(
    r"https://gateway\.test/subscriptions/111122223333\?expires=\d+&signature=[0-9a-f]{64}"
)
HOSTILE = '<script>alert("x")</script> & <b>Pro</b>'


def _context(**overrides: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "base_url": "https://gateway.test",
        "account_id": "111122223333",
        "integration_name": "Acme Coupa",
        "product_name": "DataStream Pro",
        "offer_name": "Platform",
        "order_id": "PO-2026-0042",
        "subscription_id": "req-0123456789abcdef",
        "test": False,
        "usage_instructions": "Sign in at https://datastream.example/start\nUse your AWS account ID.",
        "requester_name": "Jim Halpert",
        "requester_email": "jim@acme.example",
        "cancelled_at": None,
    }
    context.update(overrides)
    return context


def _mail(template: str = SUBSCRIPTION_READY, **overrides: Any) -> OutboxMail:
    return OutboxMail(
        key="email#req-0123456789abcdef#ready",
        template=template,
        recipients=("it@acme.example", "jim@acme.example"),
        context=_context(**overrides),
        attempts=1,
    )


def _email(template: str = SUBSCRIPTION_READY, **overrides: Any) -> RenderedEmail:
    return compose(_mail(template, **overrides), KEY, NOW)


def _link_verifies(link: str) -> bool:
    url = urlsplit(link)
    query = parse_qs(url.query)
    account = url.path.rsplit("/", 1)[-1]
    return verify_subscriptions_link(
        KEY, account, query["expires"][0], query["signature"][0], NOW + timedelta(days=29)
    )


def test_ready_email_says_the_software_is_available_with_product_offer_and_po() -> None:
    email = _email()

    assert email.subject == "Your subscription to DataStream Pro is ready"
    for part in (email.text, unescape(email.html)):
        assert "The subscription succeeded: " in re.sub(r"<[^>]+>", "", part)
        assert "DataStream Pro" in part
        assert "Platform" in part
        assert "PO-2026-0042" in part
        assert "Sign in at https://datastream.example/start" in part
        assert "Jim Halpert" in part
        assert "test mode" not in part.lower()
        assert "no subscription was created" not in part.lower()


def test_ready_email_links_to_the_accounts_subscriptions_with_a_verifiable_signature() -> None:
    email = _email()

    text_links = LINK.findall(email.text)
    html_links = LINK.findall(unescape(email.html))
    assert len(text_links) == 1
    assert html_links == text_links
    assert _link_verifies(text_links[0])
    assert "until 26 December 2026" in email.text  # 30 days after NOW


def test_test_mode_email_says_clearly_no_subscription_was_created() -> None:
    email = _email(test=True)

    assert email.subject.startswith("[TEST] ")
    assert "no subscription created" in email.subject
    assert email.text.startswith("TEST ONLY: NO SUBSCRIPTION WAS CREATED\n")
    for part in (email.text, email.html):
        assert "Test only: no subscription was created." in part or "TEST ONLY" in part
        assert "in test mode" in part
        assert "nothing will be invoiced" in part
        assert "The subscription succeeded" not in part
        assert "PO-2026-0042" in part


def test_only_a_real_true_means_test_mode() -> None:
    assert _email(test=True).subject.startswith("[TEST]")
    assert not _email(test="false").subject.startswith("[TEST]")


def test_product_text_cannot_inject_html_into_the_html_part() -> None:
    email = _email(
        product_name=HOSTILE,
        offer_name="<img src=x onerror=alert(1)>",
        usage_instructions='Step 1\n<a href="https://evil.example">click</a>',
        requester_name="<i>Jim</i>",
    )

    assert "<script" not in email.html
    assert "<img" not in email.html
    assert '<a href="https://evil' not in email.html
    assert "<i>Jim" not in email.html
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Pro&lt;/b&gt;" in email.html
    )
    assert "Step 1<br>" in email.html  # our line breaks, their text escaped
    assert "&lt;a href=&#34;https://evil.example&#34;&gt;click&lt;/a&gt;" in email.html


def test_plain_text_part_and_subject_show_product_text_verbatim_never_escaped() -> None:
    # text/plain is never interpreted as HTML: escaping would only garble the name
    email = _email(product_name=HOSTILE)

    assert f"Product:        {HOSTILE}\n" in email.text
    assert "&lt;" not in email.text and "&amp;" not in email.text
    assert email.subject == f"Your subscription to {HOSTILE} is ready"


def test_product_text_cannot_add_lines_to_the_text_part_or_the_subject() -> None:
    sneaky = "DataStream Pro\r\n\r\nURGENT: pay at https://evil.example\u202e"

    email = _email(product_name=sneaky)

    assert "\n" not in email.subject and "\r" not in email.subject
    assert "Product:        DataStream Pro URGENT: pay at https://evil.example\n" in email.text
    assert "\u202e" not in email.text and "\u202e" not in email.html


def test_cancelled_email_names_the_po_and_when() -> None:
    email = _email(SUBSCRIPTION_CANCELLED, cancelled_at="2026-11-30T15:45:00+01:00")

    assert email.subject == "Your subscription to DataStream Pro was cancelled"
    for part in (email.text, email.html):
        assert "PO-2026-0042" in part
        assert "30 November 2026, 14:45 UTC" in part
        assert "no longer available" in part
    assert _link_verifies(LINK.findall(email.text)[0])


def test_test_mode_cancellation_says_nothing_changed() -> None:
    email = _email(SUBSCRIPTION_CANCELLED, test=True, cancelled_at="2026-11-30T15:45:00+00:00")

    assert email.subject.startswith("[TEST] ")
    assert "no subscription was ever created, nothing changed" in email.text


def test_optional_context_may_be_missing() -> None:
    context = {
        k: v
        for k, v in _context().items()
        if k in ("base_url", "account_id", "product_name", "order_id", "subscription_id")
    }

    email = render_email(SUBSCRIPTION_READY, context, "https://gateway.test/link", NOW)

    assert "Requested by" not in email.text
    assert "How to start using" not in email.text
    assert "its procurement system" in email.text


@pytest.mark.parametrize("missing", ["base_url", "account_id", "product_name", "order_id"])
def test_mail_missing_required_context_is_unsendable(missing: str) -> None:
    with pytest.raises(UnsendableMail, match=missing):
        _email(**{missing: ""})


@pytest.mark.parametrize("test", [False, True])
def test_a_preapproved_subscription_needs_no_order_and_names_none(test: bool) -> None:
    email = _email(order_id="", preapproved=True, test=test)

    for part in (email.text, email.html):
        assert "PO number" not in part
        assert "purchase order  " not in part and "purchase order went" not in part
        assert "no purchase order" in part or "the pre-approved subscription went" in part


def test_unknown_template_is_unsendable() -> None:
    with pytest.raises(UnsendableMail, match="no email template"):
        _email("../base")


@pytest.mark.parametrize(
    ("image", "fresh"),
    [
        ({"status": "pending", "attempts": Decimal(0)}, True),
        ({"status": "pending"}, True),
        ({"status": "pending", "attempts": Decimal(1)}, False),  # the echo of a release
        ({"status": "sending", "attempts": Decimal(1)}, False),  # the echo of a claim
        ({"status": "sent", "attempts": Decimal(1)}, False),  # the echo of mark sent
        ({}, False),
    ],
)
def test_only_the_producers_write_is_fresh_mail(image: dict[str, Any], fresh: bool) -> None:
    assert is_fresh(image) is fresh


class FakeOutbox:
    def __init__(self, mail: OutboxMail | None, fail_marking: bool = False) -> None:
        self.mail = mail
        self.status = "pending" if mail else "gone"
        self.fail_marking = fail_marking
        self.message_id: str | None = None

    def claim(self, key: str, now: datetime, lease_seconds: int = 60) -> OutboxMail | None:
        if self.status != "pending":
            return None
        self.status = "sending"
        return self.mail

    def mark_sent(self, key: str, message_id: str, now: datetime) -> None:
        if self.fail_marking:
            raise Transient("storage down")
        self.status, self.message_id = "sent", message_id

    def release(self, key: str) -> None:
        self.status = "pending"


class FakeMailer:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[tuple[str, tuple[str, ...], str]] = []

    def send(
        self, sender: str, recipients: Sequence[str], subject: str, text: str, html: str
    ) -> str:
        if self.fail:
            raise Transient("SES down")
        self.sent.append((sender, tuple(recipients), subject))
        return f"msg-{len(self.sent)}"


def _deliver(outbox: FakeOutbox, mailer: FakeMailer) -> Any:
    return deliver("email#k#ready", outbox, mailer, "marketplace@gw.test", lambda: KEY, NOW)


def test_deliver_sends_once_and_marks_sent() -> None:
    outbox, mailer = FakeOutbox(_mail()), FakeMailer()

    first = _deliver(outbox, mailer)
    second = _deliver(outbox, mailer)

    assert (first.outcome, first.message_id) == ("sent", "msg-1")
    assert second.outcome == "already_handled"
    assert mailer.sent == [
        (
            "marketplace@gw.test",
            ("it@acme.example", "jim@acme.example"),
            "Your subscription to DataStream Pro is ready",
        )
    ]
    assert (outbox.status, outbox.message_id) == ("sent", "msg-1")


def test_deliver_releases_the_claim_when_ses_fails() -> None:
    outbox, mailer = FakeOutbox(_mail()), FakeMailer(fail=True)

    with pytest.raises(Transient, match="SES down"):
        _deliver(outbox, mailer)

    assert outbox.status == "pending"
    mailer.fail = False
    assert _deliver(outbox, mailer).outcome == "sent"
    assert len(mailer.sent) == 1


def test_deliver_releases_unsendable_mail_and_raises() -> None:
    mail = _mail()
    outbox = FakeOutbox(OutboxMail(mail.key, mail.template, (" ", ""), mail.context, 1))

    with pytest.raises(UnsendableMail, match="no recipients"):
        _deliver(outbox, FakeMailer())

    assert outbox.status == "pending"


def test_deliver_deduplicates_recipients() -> None:
    mail = _mail()
    outbox = FakeOutbox(
        OutboxMail(mail.key, mail.template, ("a@x.example", " a@x.example"), mail.context, 1)
    )
    mailer = FakeMailer()

    _deliver(outbox, mailer)

    assert mailer.sent[0][1] == ("a@x.example",)


def test_mail_accepted_but_not_recorded_is_reported_not_raised() -> None:
    # raising would retry the record, and a retry after the lease lapses would send it twice
    outbox, mailer = FakeOutbox(_mail(), fail_marking=True), FakeMailer()

    delivery = _deliver(outbox, mailer)

    assert (delivery.outcome, delivery.message_id) == ("sent_unrecorded", "msg-1")
    assert outbox.status == "sending"
    assert len(mailer.sent) == 1


def test_nothing_to_claim_sends_nothing() -> None:
    mailer = FakeMailer()

    assert _deliver(FakeOutbox(None), mailer).outcome == "already_handled"
    assert mailer.sent == []


def test_test_mode_email_tells_whom_to_ask_and_gives_no_getting_started_steps() -> None:
    email = _email(test=True)

    for part in (email.text, unescape(email.html)):
        flat = " ".join(re.sub(r"<[^>]+>", "", part).split())
        assert "Turn test mode off" not in flat
        assert re.search(
            "To subscribe for real, ask your marketplace administrator to turn test mode off "
            'for the integration ["“]Acme Coupa["”]',
            flat,
        )
        assert "Your subscriptions lists it with the status" in flat
        assert "How to start using" not in flat
        assert "Sign in at https://datastream.example/start" not in flat


def test_emails_name_the_marketplace_account_id_as_the_storefront_does() -> None:
    ready = _email(usage_instructions="")
    cancelled = _email(SUBSCRIPTION_CANCELLED, cancelled_at="2026-11-30", usage_instructions="")

    for email in (ready, cancelled):
        for part in (email.text, unescape(email.html)):
            assert "AWS account" not in part
            assert "Marketplace account ID" in part
            assert "marketplace account ID 111122223333" in part
