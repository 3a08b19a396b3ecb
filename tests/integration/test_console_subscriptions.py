"""The console's subscription and invoice pages, on invoices made by the real billing run: a
member of the account sees usage against the PO budget and the invoices; the HTML invoice shows
what was invoiced; the cXML download is the stored document without credentials, DTD-valid;
other accounts' and hostile ids are 404 pages."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from lxml import etree

from functions.config import settings
from functions.links import sign_subscriptions_link
from tests.billing_support import CUSTOMER, invoicing_stack, meter_hours, seed, stored_document
from tests.billing_support import subscription as made_subscription
from tests.console_support import Browser, console, console_pool, new_user
from tests.order_support import po_from, post_order, request_approval
from tests.support import BASE_URL, admin, dtd_errors

__all__ = ["console", "console_pool"]  # fixtures


@pytest.fixture
def invoiced(
    api: Any, tables: dict[str, Any], clock: Any, console: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """DataStream Pro approved on PO-1001 (contract invoice at once), 1,200 hours metered
    against 1,000 approved, November's billing run: a contract and a usage invoice."""
    with invoicing_stack(api, tables, clock) as stack:
        integration = stack.integration()
        cart = request_approval(stack.api, integration, {
            "product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "1000"})  # fmt: skip
        assert (
            post_order(stack.api, po_from(integration, cart.lines, order_id="PO-1001")).code == 200
        )
        stack.run_triggers()
        assert meter_hours(stack, [400, 500, 300]) == ["Success"] * 3
        stack.clock.freeze(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
        stack.billing_run("2026-11")
        found = stack.invoices(integration["id"])
        usage = next(i for i in found if i["kind"] == "usage")
        contract = next(i for i in found if i["kind"] == "contract")
        stack.clock.freeze(datetime.now(UTC))  # moto's Cognito signs tokens at the real time
        yield {"stack": stack, "usage": usage, "contract": contract,
               "subscription_id": usage["subscription_id"], "pool": console}  # fmt: skip


def _member(invoiced: dict[str, Any], account_id: str = CUSTOMER) -> Browser:
    browser = Browser(invoiced["stack"].api)
    assert browser.sign_in(new_user(invoiced["pool"], account_id, role="member")).status == 303
    return browser


def _detail(api: Any, invoice_id: str) -> dict[str, Any]:
    status, body = admin(api, "GET", f"/admin/invoices/{invoice_id}")
    assert status == 200
    return dict(body["invoice"])


def test_a_member_opens_a_subscription_from_the_home_and_sees_usage_budget_and_invoices(
    invoiced: dict[str, Any],
) -> None:
    subscription_id = invoiced["subscription_id"]
    browser = _member(invoiced)
    # Given the console home, each subscription's heading links to its page
    home = browser.get("/console")
    link = f"{BASE_URL}/console/subscriptions/{subscription_id}"
    assert home.status == 200 and f'href="{link}"' in home.text
    # When the member opens it
    page = browser.get(f"/console/subscriptions/{subscription_id}")
    # Then usage so far stands against the PO's budget, as "Your subscriptions" shows it
    assert page.status == 200, page.text
    assert "Usage so far" in page.text and "approved on the purchase order" in page.text
    assert re.search(r'data-usage="1200" data-budget="1000" data-invoiced="1000"', page.text)
    assert "Awaiting budget" in page.text, "200 hours beyond the budget are held"
    assert "PO-1001" in page.text
    # And its invoices, newest first, with state and amount due
    rows = re.findall(r'<tr data-invoice="([^"]+)" data-kind="(\w+)" data-state="(\w+)"', page.text)
    assert rows == [(invoiced["usage"]["invoice_id"], "usage", "delivered"),
                    (invoiced["contract"]["invoice_id"], "contract", "delivered")]  # fmt: skip
    assert "80.00 USD" in page.text and "15,000.00 USD" in page.text
    assert "Delivered to your procurement system" in page.text
    assert f'href="{BASE_URL}/console/invoices/{invoiced["usage"]["invoice_id"]}"' in page.text
    assert page.header("Cache-Control") == "no-store"
    assert "frame-ancestors 'none'" in (page.header("Content-Security-Policy") or "")


def test_the_invoice_page_shows_the_stored_parties_lines_tax_and_totals(
    invoiced: dict[str, Any],
) -> None:
    usage = invoiced["usage"]
    detail = _detail(invoiced["stack"].api, usage["invoice_id"])
    summary = detail["summary"]
    stored = etree.fromstring(stored_document(usage))
    page = _member(invoiced).get(f"/console/invoices/{usage['invoice_id']}")
    assert page.status == 200, page.text
    text = page.text
    # number, date, PO reference, period, currency
    assert f'<dd data-field="number">{usage["invoice_id"]}</dd>' in text
    assert f'<time datetime="{summary["invoice_date"]}">' in text
    assert '<dd data-field="order">PO-1001</dd>' in text
    assert "November 2026" in text and '<dd data-field="currency">USD</dd>' in text
    # the parties as the stored document names them
    names = [n.text for n in stored.iterfind(".//InvoicePartner/Contact/Name")]
    assert names and all(name in text for name in names)
    assert "From (seller)" in text and "Sold to" in text
    # each line as invoiced: quantity, unit, unit price, amount
    [line] = summary["lines"]
    row = re.search(r'<tr data-line="1">(.*?)</tr>', text, re.S)
    assert row is not None
    assert '<td class="num" data-quantity>1,000</td>' in row.group(1)
    assert "hours" in row.group(1) and "(HUR)" in row.group(1)
    assert '<td class="num" data-unit-price>0.08 USD</td>' in row.group(1)
    assert '<td class="num" data-amount>80.00 USD</td>' in row.group(1)
    assert line["description"] in row.group(1)
    # tax and totals as stored
    for name in ("subtotal", "tax", "due"):
        total = re.search(rf'data-total="{name}">.*?<td class="num">([^<]+)</td>', text, re.S)
        assert total is not None and total.group(1) == f"{Decimal(summary[name]):,.2f} USD"
    assert "Sales tax (0%)" in text or "Tax" in text
    # printable: a print stylesheet hides the bars and the links around the invoice
    assert '<style media="print">' in text and ".session-bar" in text
    assert 'class="pager no-print"' in text


def test_the_cxml_download_is_the_stored_document_valid_against_the_dtd(
    invoiced: dict[str, Any],
) -> None:
    usage = invoiced["usage"]
    answer = _member(invoiced).get(f"/console/invoices/{usage['invoice_id']}/cxml")
    assert answer.status == 200
    assert (answer.header("Content-Type") or "").startswith("application/xml")
    assert answer.header("Content-Disposition") == (
        f'attachment; filename="{usage["invoice_id"]}.xml"'
    )
    assert answer.header("X-Content-Type-Options") == "nosniff"
    assert answer.body == stored_document(usage)
    assert dtd_errors(answer.body, "InvoiceDetail.dtd") == []


def test_a_stored_document_holding_a_shared_secret_is_downloaded_without_it(
    invoiced: dict[str, Any],
) -> None:
    from functions.store import invoice_files

    # Given an invoice document stored with the Sender's SharedSecret (as an older or a
    # hand-made document might be)
    usage = invoiced["usage"]
    original = stored_document(usage)
    key = usage["location"].removeprefix(f"s3://{settings().invoice_bucket}/")
    secret = "Sup3r-Secret-Of-Acme-4711"
    with_secret = original.replace(
        b"</Identity></Credential><UserAgent>",
        f"</Identity><SharedSecret>{secret}</SharedSecret></Credential><UserAgent>".encode(),
        1,
    )
    assert secret.encode() in with_secret and dtd_errors(with_secret, "InvoiceDetail.dtd") == []
    invoice_files.put(key, with_secret, invoice_files.XML_TYPE)
    # When a member downloads it
    answer = _member(invoiced).get(f"/console/invoices/{usage['invoice_id']}/cxml")
    # Then the secret is nowhere in it, it is still DTD-valid, and nothing else changed
    assert answer.status == 200
    assert secret.encode() not in answer.body and b"SharedSecret" not in answer.body
    assert dtd_errors(answer.body, "InvoiceDetail.dtd") == []
    assert etree.tostring(etree.fromstring(answer.body)) == etree.tostring(
        etree.fromstring(original)
    )
    # And the HTML page does not show it either
    page = _member(invoiced).get(f"/console/invoices/{usage['invoice_id']}")
    assert page.status == 200 and secret not in page.text


def test_another_accounts_subscription_and_invoices_are_404_pages(
    invoiced: dict[str, Any],
) -> None:
    stranger = _member(invoiced, account_id="999988887777")
    usage = invoiced["usage"]
    for path in (
        f"/console/subscriptions/{invoiced['subscription_id']}",
        f"/console/invoices/{usage['invoice_id']}",
        f"/console/invoices/{usage['invoice_id']}/cxml",
        f"/console/invoices/{invoiced['contract']['invoice_id']}",
    ):
        answer = stranger.get(path)
        assert answer.status == 404, path
        assert "DataStream" not in answer.text and "PO-1001" not in answer.text
        assert "not one of your account" in answer.text
    # the same page as an id that does not exist at all
    unknown = stranger.get("/console/subscriptions/req-0000000000000000")
    assert unknown.status == 404 and "not one of your account" in unknown.text


@pytest.mark.parametrize(
    "bad_id",
    ["req-0000000000000000", "INV-U-202611-000000000000", "x" * 2000, "..", "..%2F..%2Fetc",
     "%2E%2E", "r%C3%A9q-%E2%98%83", "%00", "a%20b", "<script>", "INV'--"],
)  # fmt: skip
def test_unknown_and_hostile_ids_are_404_pages_never_errors(
    invoiced: dict[str, Any], bad_id: str
) -> None:
    browser = _member(invoiced)
    for path in (
        f"/console/subscriptions/{bad_id}",
        f"/console/invoices/{bad_id}",
        f"/console/invoices/{bad_id}/cxml",
    ):
        answer = browser.get(path)
        assert answer.status == 404, (path, answer.status)
        assert "Traceback" not in answer.text and "<script>" not in answer.text


def test_signed_out_visitors_are_sent_to_sign_in(invoiced: dict[str, Any]) -> None:
    api = invoiced["stack"].api
    for path in (
        f"/console/subscriptions/{invoiced['subscription_id']}",
        f"/console/invoices/{invoiced['usage']['invoice_id']}",
        f"/console/invoices/{invoiced['usage']['invoice_id']}/cxml",
    ):
        answer = api.handle("GET", path)
        assert answer.status == 303 and answer.header("Location") == f"{BASE_URL}/console/sign-in"


def test_a_test_subscription_is_never_invoiced(
    api: Any, tables: dict[str, Any], console: dict[str, Any]
) -> None:
    # Given a test-mode subscription of the account
    test_subscription = made_subscription("req-00000000000000aa", test=True)
    seed(tables["dynamodb"], [test_subscription], {})
    browser = Browser(api)
    browser.sign_in(new_user(console, CUSTOMER, role="member"))
    page = browser.get(f"/console/subscriptions/{test_subscription.id}")
    assert page.status == 200, page.text
    assert "None: a test subscription is never invoiced." in page.text
    assert "data-invoice=" not in page.text


def test_the_signed_storefront_page_links_no_console_pages(invoiced: dict[str, Any]) -> None:
    import os

    key = os.environ["LINK_SIGNING_KEY"].encode()
    link = sign_subscriptions_link(key, BASE_URL, CUSTOMER, datetime.now(UTC) + timedelta(days=1))
    query = link.split("?", 1)[1]
    page = invoiced["stack"].api.handle("GET", f"/subscriptions/{quote(CUSTOMER)}", query=query)
    assert page.status == 200
    assert f'id="subscription-{invoiced["subscription_id"]}"' in page.text
    assert "Usage so far" in page.text
    assert "data-subscription-link" not in page.text and "/console/subscriptions" not in page.text


def test_credit_memos_are_listed_under_their_invoice(invoiced: dict[str, Any]) -> None:
    api = invoiced["stack"].api
    usage = invoiced["usage"]
    status, body = admin(api, "POST", f"/admin/invoices/{usage['invoice_id']}/credit-memos",
                         {"amount": "10.00", "reason": "Outage on 3 November"})  # fmt: skip
    assert status == 201, json.dumps(body)
    memo_id = body["credit_memo"]["invoice_id"]
    browser = _member(invoiced)
    page = browser.get(f"/console/subscriptions/{invoiced['subscription_id']}")
    assert f'data-credit-memo="{memo_id}" data-credits="{usage["invoice_id"]}"' in page.text
    assert "Outage on 3 November" in page.text
    memo = browser.get(f"/console/invoices/{memo_id}")
    assert memo.status == 200 and "Credit memo" in memo.text
    assert f'data-field="credits"><a href="{BASE_URL}/console/invoices/{usage["invoice_id"]}"' in (
        memo.text
    )
