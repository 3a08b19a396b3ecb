"""The success email states what the buyer committed to: start, trial and term end dates, the
licence, the support contact and the refund policy (issue 12 item 3)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from html import unescape
from typing import Any

from functions.notifications import SUBSCRIPTION_READY, render_email
from functions.subscriptions import (
    ACTIVE,
    LineApproval,
    Subscription,
    SubscriptionLine,
    announce,
    term_end,
)

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def _subscription(**overrides: Any) -> Subscription:
    approval = LineApproval("PO-7", "p@x", 1, Decimal(12), 1, NOW.isoformat())
    contract = SubscriptionLine(
        "req-0123456789abcdef-1", "contract", "meshline/enterprise", Decimal("299.00"), "USD",
        "MON", Decimal(12), approval,
    )  # fmt: skip
    subscription = Subscription(
        id="req-0123456789abcdef",
        account_id="111122223333",
        integration_id="int-1",
        integration_name="Acme Coupa",
        product_id="meshline",
        offer_id="enterprise",
        product_name="Meshline API Gateway",
        offer_name="Enterprise, 12-month agreement",
        pricing_model="contract",
        currency="USD",
        lines=(contract,),
        state=ACTIVE,
        activated_at=NOW.isoformat(),
        eula_url="https://meshline.example/terms",
        support_contact="enterprise@meshline.example",
        refund_policy="Pro rata within 30 days.\nNothing after that.",
    )
    return replace(subscription, **overrides)


def _texts(subscription: Subscription) -> tuple[str, str]:
    """The text part, and the HTML part as a reader sees it (tags gone; `<br>` a line break)."""
    mail = announce("ready", subscription, "it@acme.example", "PO-7", "https://gateway.test")
    email = render_email(SUBSCRIPTION_READY, mail.context, "https://gateway.test/l", NOW)
    return email.text, re.sub(r"<[^>]+>", "", unescape(email.html.replace("<br>\n", "|")))


def test_the_ready_email_states_dates_licence_support_and_refunds() -> None:
    # Given an active 12-month contract with its commitments
    # When its ready email is rendered
    text, html = _texts(_subscription())

    # Then both parts say when it started and ends, that it does not renew, and the terms
    for part in (text, html):
        assert "30 November 2026" in part
        assert "30 November 2027 (no automatic renewal" in part
        assert "https://meshline.example/terms" in part
        assert "enterprise@meshline.example" in part
        assert "Pro rata within 30 days." in part
    assert "Pro rata within 30 days.|Nothing after that." in html  # its line break kept


def test_a_trial_email_says_when_it_ends_and_that_nothing_converts() -> None:
    trial = _subscription(
        pricing_model="free_trial",
        lines=(),
        trial_days=30,
        trial_ends_at=datetime(2026, 12, 30, 10, tzinfo=UTC).isoformat(),
    )

    text, html = _texts(trial)

    for part in (text, html):
        assert "Trial ends" in part and "30 December 2026" in part
        assert "nothing converts or is invoiced on its own" in part
        assert "Term ends" not in part


def test_a_link_that_is_not_https_is_not_mailed() -> None:
    text, html = _texts(_subscription(eula_url="javascript:alert(1)"))

    assert "javascript:" not in text and "javascript:" not in html
    assert "Licence (EULA)" not in text


def test_a_term_ends_on_the_same_day_or_the_last_day_of_a_shorter_month() -> None:
    assert term_end(datetime(2026, 11, 30, tzinfo=UTC), 3, "ANN") == datetime(
        2029, 11, 30, tzinfo=UTC
    )
    assert term_end(datetime(2027, 1, 31, tzinfo=UTC), 1, "month") == datetime(
        2027, 2, 28, tzinfo=UTC
    )
