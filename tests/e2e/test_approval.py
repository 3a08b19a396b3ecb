"""The buyer company approves: the buyer simulator (playing Coupa) turns the requisition the
storefront returned into a purchase order, posts it to the marketplace's order URL and shows the
answer; the marketplace completes the subscription, shows it on "Your subscriptions" and mails
the account once. The demo integrations are in test mode (local/seed.py leaves the default on),
so the subscription is a test one and the mail says so."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import requests
from playwright.sync_api import Locator, Page, expect

from tests.e2e.browser_support import (
    choose_offer,
    demo_product,
    find_product,
    open_your_subscriptions,
    press,
    punch_out,
    read_requisition,
    request_datastream,
    sent_mails,
    wait_for_mails,
)

PO_NUMBER = re.compile(r"^SIM-PO-\d+$")


def _coupa_account_email(stack: dict[str, Any]) -> str:
    """The demo Coupa integration's account email, checking it is in test mode."""
    coupa = next(i for i in stack["banner"]["integrations"] if i["system"] == "coupa")
    answer = requests.get(
        f"{stack['base']}/admin/integrations/{coupa['id']}",
        headers={"Authorization": f"Bearer {stack['banner']['admin_token']}"},
        timeout=10,
    )
    assert answer.status_code == 200
    integration = answer.json()["integration"]
    assert integration["test_mode"] is True
    return str(integration["account_email"])


def _request_trial(page: Page, base: str) -> None:
    """A Coupa user punches out, finds Sentinel SIEM's free trial and requests approval."""
    product = demo_product("sentinel-siem-trial")
    (offer,) = product["offers"]
    punch_out(page, base, "coupa")
    find_product(page, "Sentinel", product["name"])
    choose_offer(page, offer["name"])
    page.get_by_role("button", name="Request approval").click()
    (line,) = read_requisition(page, base).lines
    assert line["supplier-part-id"] == f"sentinel-siem-trial/{offer['id']}"


def _subscription_card(page: Page, base: str, order_ids: list[str]) -> Locator:
    """The account's subscriptions page, reached from a new punchout; the one card naming
    these POs."""
    open_your_subscriptions(page, base, "coupa")
    cards = page.locator("article.subscription")
    for order_id in order_ids:
        cards = cards.filter(has_text=re.compile(rf"\b{re.escape(order_id)}\b"))
    expect(cards).to_have_count(1)
    return cards


def _assert_one_test_mail(
    page: Page, stack: dict[str, Any], order_ids: list[str], product: str
) -> str:
    """Exactly one mail names these POs: to the account, saying the test purchase completed."""
    (mail,) = wait_for_mails(stack["base"], order_ids)
    to = mail["destinations"]
    addresses = [a for values in to.values() for a in values] if isinstance(to, dict) else to
    assert _coupa_account_email(stack) in addresses
    text = mail["text"]
    assert mail["subject"].startswith(f"[TEST] {product}: test purchase completed")
    assert "TEST ONLY: NO SUBSCRIPTION WAS CREATED" in text
    assert f"Test purchase of {product} completed" in text
    assert "The approval flow worked end to end." in text
    return str(text)


def test_approving_a_trial_activates_it_shows_it_and_mails_the_account_once(
    page: Page, stack: dict[str, Any]
) -> None:
    base = stack["base"]
    # Given a Coupa requisition for Sentinel SIEM's free trial
    _request_trial(page, base)
    # When the buyer company approves it
    (po,) = press(page, "Approve", adds=1)

    # Then Coupa shows the PO it sent and the marketplace's Status 200
    assert PO_NUMBER.match(po.order_id)
    assert (po.order_type, po.http_status, po.status_code) == ("new", "200", "200")
    assert po.status == "200 OK"
    assert "Sentinel SIEM: test subscription recorded." in po.message
    assert "Test order recorded" in po.message
    last = page.locator("#last-answer")
    expect(last).to_contain_text(f"PO {po.order_id}: Status 200 OK")
    expect(last).to_contain_text("test subscription recorded")
    # And the marketplace's "Your subscriptions" shows it as a test (never "Active"), by that PO
    card = _subscription_card(page, base, [po.order_id])
    expect(card.get_by_role("heading", level=2)).to_contain_text("Sentinel SIEM")
    expect(card.get_by_role("heading", level=2)).to_contain_text("Test")
    expect(card.get_by_role("heading", level=2)).not_to_contain_text("Active")
    expect(card).to_contain_text("not a real subscription: nothing was made available")
    expect(card).to_contain_text(f"(PO {po.order_id}, line 1)")
    # And one mail tells the account, naming the PO
    text = _assert_one_test_mail(page, stack, [po.order_id], "Sentinel SIEM")
    assert re.search(rf"^PO number:\s+{po.order_id}$", text, re.M)
    assert "Sentinel SIEM" in text


def test_a_contract_with_usage_approved_line_by_line_is_active_after_the_second_po(
    page: Page, stack: dict[str, Any]
) -> None:
    base = stack["base"]
    # Given a Coupa requisition for DataStream Pro: a contract line and a usage line
    contract, usage = request_datastream(page, base, "1200").lines
    # When the buyer company approves each line as its own purchase order
    first, second = press(page, "Approve each line as its own PO", adds=2)

    # Then two POs went out, one line each, and only the second completed the subscription
    assert PO_NUMBER.match(first.order_id) and PO_NUMBER.match(second.order_id)
    assert first.order_id != second.order_id
    assert first.payload_id != second.payload_id
    assert (first.lines, second.lines) == (f"1: {contract['aux-id']}", f"1: {usage['aux-id']}")
    assert first.total == f"{Decimal(contract['unit-price']) * int(contract['quantity']):.2f} USD"
    assert second.total == f"{Decimal(usage['unit-price']) * 1200:.2f} USD"
    assert first.status_code == second.status_code == "200"
    assert "DataStream Pro: subscription pending until line(s)" in first.message
    assert usage["aux-id"] in first.message
    assert "DataStream Pro: test subscription recorded." in second.message
    expect(page.locator("#last-answer")).to_contain_text(f"PO {second.order_id}: Status 200 OK")
    # And "Your subscriptions" shows one (test-mode) subscription paid by both POs
    card = _subscription_card(page, base, [first.order_id, second.order_id])
    expect(card.get_by_role("heading", level=2)).to_contain_text("Test")
    expect(card).to_contain_text(f"{first.order_id}, {second.order_id}")
    # And exactly one mail went out, when the second PO completed it
    text = _assert_one_test_mail(page, stack, [first.order_id, second.order_id], "DataStream Pro")
    assert re.search(rf"^PO number:\s+{second.order_id}$", text, re.M)


def test_the_same_po_sent_again_is_acknowledged_and_changes_nothing(
    page: Page, stack: dict[str, Any]
) -> None:
    base = stack["base"]
    # Given a Coupa requisition for Sentinel SIEM's trial, approved, and its mail sent
    _request_trial(page, base)
    (po,) = press(page, "Approve", adds=1)
    assert (po.status_code, po.order_type) == ("200", "new")
    _assert_one_test_mail(page, stack, [po.order_id], "Sentinel SIEM")
    # When the buyer presses Approve again, then Resend last PO
    (again,) = press(page, "Approve", adds=1)
    (resent,) = press(page, "Resend last PO", adds=1)

    # Then the same document went out (same PO number, same payloadID) and got 200 both times
    for retry in (again, resent):
        assert (retry.order_id, retry.payload_id, retry.order_type) == (
            po.order_id, po.payload_id, "new (resent)",
        )  # fmt: skip
        assert (retry.http_status, retry.status_code, retry.status) == ("200", "200", "200 OK")
        assert retry.message == f"Order {po.order_id} was already received; nothing changed."
    expect(page.locator("#last-answer")).to_contain_text(f"Resent PO {po.order_id}: Status 200")
    # And the marketplace still has one (test-mode) subscription for it, in effect
    card = _subscription_card(page, base, [po.order_id])
    expect(card.get_by_role("heading", level=2)).to_contain_text("Test")
    # And, the outbox pump having run meanwhile, still the one mail
    assert len(sent_mails(base, [po.order_id])) == 1


def test_deleting_the_po_ends_the_subscription_and_mails_once(
    page: Page, stack: dict[str, Any]
) -> None:
    base = stack["base"]
    # Given an approved Sentinel SIEM trial
    _request_trial(page, base)
    (po,) = press(page, "Approve", adds=1)
    wait_for_mails(base, [po.order_id])
    # When the buyer company cancels the PO
    *_, deleted = press(page, f"Delete PO {po.order_id}", adds=1)

    # Then a delete (version 2) of the same PO went out and the marketplace ended it
    assert (deleted.order_id, deleted.order_type, deleted.version) == (po.order_id, "delete", "2")
    assert deleted.payload_id != po.payload_id
    assert deleted.status_code == "200"
    assert "Sentinel SIEM: subscription cancelled." in deleted.message
    expect(page.get_by_role("button", name=f"Delete PO {po.order_id}")).to_have_count(0)
    card = _subscription_card(page, base, [po.order_id])
    expect(card.get_by_role("heading", level=2)).to_contain_text("Cancelled")
    # And a cancellation mail follows the ready mail: two mails for the PO, one of each
    subjects = sorted(m["subject"] for m in wait_for_mails(base, [po.order_id], count=2))
    assert subjects == [
        "[TEST] Sentinel SIEM: test cancellation, no subscription changed",
        "[TEST] Sentinel SIEM: test purchase completed, no subscription created",
    ]


def test_an_ariba_po_is_sent_as_ariba_network_and_accepted(
    page: Page, stack: dict[str, Any]
) -> None:
    base = stack["base"]
    product = demo_product("qa-insights-pro")
    offer = next(o for o in product["offers"] if o["pricing"]["model"] == "contract")
    # Given an Ariba requisition for a Q&A Insights Pro contract
    punch_out(page, base, "ariba")
    find_product(page, "Q&A", product["name"])
    choose_offer(page, offer["name"])
    page.get_by_role("button", name="Request approval").click()
    (line,) = read_requisition(page, base).lines
    # When the buyer company approves it (Ariba Network forwards the PO with its own sender)
    (po,) = press(page, "Approve", adds=1)

    # Then the marketplace accepted it and completed the subscription
    assert (po.status_code, po.status) == ("200", "200 OK")
    assert po.lines == f"1: {line['aux-id']}"
    assert po.total == f"{Decimal(line['unit-price']) * int(line['quantity']):.2f} USD"
    assert "test subscription recorded." in po.message
    assert "@ariba.simulator.local" in po.payload_id
