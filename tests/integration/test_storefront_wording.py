"""What buyers read on the storefront, through the web handler against moto (issue 12 items 2,
3, 7): numbers and units as people write them, the commitments before and after requesting,
and the smaller texts (approvals, Update request, inspect sessions, search, aria)."""

from __future__ import annotations

import copy
import html
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.order_support import order_request, post_order
from tests.storefront_support import (
    CONTRACT_PAYG,
    FREE_AND_BYOL,
    FREE_TRIAL,
    HOSTILE,
    cart_of,
    create_integration,
    create_products,
    post_form,
    punch_out,
)
from tests.support import admin, coupa_integration

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
BUYER = ("DUNS", "acme-coupa")
AUX = re.compile(r"^(req-[0-9a-f]{16})-\d$")

COMMITTED = copy.deepcopy(CONTRACT_PAYG)
COMMITTED.update(
    eula_url="https://streamline.example/legal/eula",
    support_contact="support@streamline.example",
    refund_policy="Pro rata within 30 days.\nUsage is not refundable.",
    usage_instructions="1. Open the console.\n2. Create a stream.",
)
WAF = {
    "id": "cloudguard-waf",
    "name": "CloudGuard WAF",
    "seller": "Perimeter Labs",
    "short_description": "Managed web application firewall.",
    "product_type": "saas",
    "offers": [
        {
            "id": "usage",
            "name": "Pay as you go",
            "currency": "USD",
            "pricing": {
                "model": "payg",
                "dimensions": [
                    {"key": "requests", "name": "Million inspected requests", "unit": "EA",
                     "unit_price": "0.60"}
                ],
            },
        },
        {
            "id": "monthly",
            "name": "Enterprise, 12-month agreement",
            "currency": "USD",
            "pricing": {"model": "contract", "price": "299.00", "period": "month", "term": 12},
        },
    ],
}  # fmt: skip


@pytest.fixture
def coupa(api: Any, clock: Any) -> dict[str, Any]:
    clock.freeze(NOW)
    create_products(api, COMMITTED, WAF, FREE_TRIAL, FREE_AND_BYOL, HOSTILE)
    return create_integration(api, coupa_integration(test_mode=False))


def _request(api: Any, session: str, product: str, offer: str, **estimates: str) -> Any:
    fields = {"product_id": product, "offer_id": offer}
    fields.update({f"estimate.{k}": v for k, v in estimates.items()})
    return post_form(api, f"{session}/requests", fields)


def _order(api: Any, integration: dict[str, Any], cart: Any, order_id: str = "PO-1001") -> None:
    secret = integration["purchase_information"]["shared_secret"]
    answer = post_order(api, order_request(cart.lines, buyer=BUYER, secret=secret,
                                           order_id=order_id))  # fmt: skip
    assert answer.code == 200, answer.message


def _visible(page_html: str) -> str:
    """The text a reader sees (attributes and tags gone)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page_html)))


def _subscribe_page(api: Any, session: str, product: str, offer: str) -> Any:
    page = api.handle("GET", f"{session}/products/{product}/subscribe", query=f"offer={offer}")
    assert page.status == 200, page.text
    return page


# --- item 2: numbers, units, labels ----------------------------------------------------------


def test_your_subscriptions_shows_grouped_numbers_units_and_labels_not_ids(
    api: Any, coupa: dict[str, Any]
) -> None:
    # Given a contract with 3,000 approved pipeline hours and a 260-million-request budget
    _order(api, coupa, cart_of(_request(api, punch_out(api, coupa), "datastream-pro", "annual",
                                        hours="3000")))  # fmt: skip
    _order(api, coupa, cart_of(_request(api, punch_out(api, coupa), "cloudguard-waf", "usage",
                                        requests="260")), "PO-1002")  # fmt: skip

    # When the buyer opens Your subscriptions
    page = api.handle("GET", f"{punch_out(api, coupa)}/subscriptions")
    text = _visible(page.text)

    # Then numbers are grouped, units are words, lines have labels
    assert page.status == 200
    assert "3,000 hours (PO PO-1001, line 2)" in text
    assert "1 year (PO PO-1001, line 1)" in text
    assert "15,000.00 USD per year" in text
    assert "0.08 USD per hour (Broker hours)" in text
    assert "260 million inspected requests (PO PO-1002, line 1)" in text
    assert "0.60 USD per million inspected requests" in text
    assert "Contract" in text and "Usage budget" in text
    for machine in ("E+", "per ANN", "per HUR", " EA", "each (", "Usage req-", "Contract req-"):
        assert machine not in text, machine
    assert not re.search(r"req-[0-9a-f]{16}-\d", text), "no internal line IDs in the text"
    # and the getting-started steps keep their line breaks
    assert "1. Open the console.<br>\n2. Create a stream." in page.text


def test_a_preapproved_subscription_says_so_in_a_sentence(api: Any, clock: Any) -> None:
    clock.freeze(NOW)
    create_products(api, FREE_AND_BYOL)
    trusting = create_integration(api, coupa_integration(preapprove_free=True))
    session = punch_out(api, trusting)
    assert _request(api, session, "open-notes", "free").status == 200

    text = _visible(api.handle("GET", f"{session}/subscriptions").text)

    assert "Purchase order None needed: your company pre-approves this offer." in text
    assert "Free subscription" in text and "No charge" in text
    assert "preapproved" not in text


# --- item 3: commitments ---------------------------------------------------------------------


def test_your_subscriptions_shows_dates_term_end_and_the_sellers_terms(
    api: Any, coupa: dict[str, Any]
) -> None:
    _order(api, coupa, cart_of(_request(api, punch_out(api, coupa), "datastream-pro", "annual",
                                        hours="100")))  # fmt: skip

    text = _visible(api.handle("GET", f"{punch_out(api, coupa)}/subscriptions").text)

    assert "Started 30 November 2026" in text
    assert "Term ends 30 November 2027 . No automatic renewal" in text
    assert "End-user licence agreement (EULA)" in text
    assert "support@streamline.example" in text
    assert "Pro rata within 30 days." in text


def test_the_subscribe_page_says_when_what_is_invoiced_and_over_what_period(
    api: Any, coupa: dict[str, Any]
) -> None:
    session = punch_out(api, coupa)

    monthly = _visible(_subscribe_page(api, session, "cloudguard-waf", "monthly").text)
    both = _subscribe_page(api, session, "datastream-pro", "annual")
    both_text = _visible(both.text)
    usage = _visible(_subscribe_page(api, session, "cloudguard-waf", "usage").text)

    # A "12-month agreement" priced per month is invoiced in full on day one, and says so
    assert (
        "The whole contract, 3,588.00 USD for 12 months, is invoiced once, in full (not each "
        "month), when your company's purchase order is accepted." in monthly
    )
    assert "12 months after it starts (30 November 2027 if it starts 30 November 2026)" in monthly
    assert "No automatic renewal" in monthly
    assert "Contract: 12 months" in monthly
    # The usage estimate says over what period it runs
    assert "Your estimate counts for the whole term (1 year), not per month." in both_text
    assert "Your estimate counts in total, not per month" in usage
    assert (
        "Usage is invoiced on the 1st of each month for what was used in the month before" in usage
    )
    # One approval, two cart lines
    assert "One approval: your Coupa cart gets two lines" in both_text
    assert "two approvals" not in both_text
    # The seller's terms
    assert 'href="https://streamline.example/legal/eula"' in both.text
    assert "support@streamline.example" in both_text
    assert "Pro rata within 30 days.<br>\nUsage is not refundable." in both.text


def test_a_free_trial_says_when_it_ends_and_that_nothing_converts(
    api: Any, coupa: dict[str, Any]
) -> None:
    text = _visible(
        _subscribe_page(api, punch_out(api, coupa), "sentinel-siem-trial", "trial").text
    )

    assert (
        "The trial ends 30 days after it starts (30 December 2026 if it starts 30 November 2026)"
        in text
    )
    assert (
        "After the trial nothing converts or is invoiced on its own: continuing at 0.45 USD per "
        "hour (Instance hours) is a new request your company approves." in text
    )
    assert "Never invoiced: the trial is free." in text
    assert "approved separately" not in text


def test_the_product_page_shows_terms_and_invoicing_per_offer(
    api: Any, coupa: dict[str, Any]
) -> None:
    page = api.handle("GET", f"{punch_out(api, coupa)}/products/datastream-pro")
    text = _visible(page.text)

    assert 'href="https://streamline.example/legal/eula"' in page.text
    assert "support@streamline.example" in text
    assert "is invoiced once, in full, when your company's purchase order is accepted" in text


def test_the_admin_api_keeps_the_commitment_fields(api: Any, coupa: dict[str, Any]) -> None:
    status, body = admin(api, "GET", "/admin/products/datastream-pro")
    refused, problem = admin(api, "PATCH", "/admin/products/datastream-pro",
                             {"eula_url": "http://streamline.example/eula"})  # fmt: skip

    assert status == 200
    assert body["product"]["eula_url"] == "https://streamline.example/legal/eula"
    assert body["product"]["support_contact"] == "support@streamline.example"
    assert refused == 400 and "eula_url" in str(problem)


# --- item 7: smaller texts, search, aria -----------------------------------------------------


def test_counted_usage_reads_as_a_sentence_on_the_subscribe_page(
    api: Any, coupa: dict[str, Any]
) -> None:
    text = _visible(_subscribe_page(api, punch_out(api, coupa), "cloudguard-waf", "usage").text)

    assert "0.60 USD per million inspected requests" in text
    assert "Your estimate, in million inspected requests" in text
    assert "each (Million" not in text and "Estimated Million" not in text


def test_the_live_total_is_announced_and_a_bad_estimate_is_tied_to_its_field(
    api: Any, coupa: dict[str, Any]
) -> None:
    session = punch_out(api, coupa)

    blank = _subscribe_page(api, session, "datastream-pro", "annual")
    refused = _request(api, session, "datastream-pro", "annual", hours="lots")

    assert 'id="approval-total" aria-live="polite"' in blank.text
    assert 'aria-invalid="true"' not in blank.text
    assert refused.status == 400
    field = re.search(r'<input id="estimate-hours"[^>]*>', refused.text)
    assert field is not None
    assert 'aria-invalid="true"' in field.group(0)
    assert 'aria-describedby="form-error rate-hours estimate-period"' in field.group(0)
    assert 'id="form-error"' in refused.text


def _item_out(cart: Any) -> str:
    return "".join(
        f'<ItemOut quantity="{line.get("quantity")}" lineNumber="{number}"><ItemID>'
        f"<SupplierPartID>{line.findtext('ItemID/SupplierPartID')}</SupplierPartID>"
        f"<SupplierPartAuxiliaryID>{line.findtext('ItemID/SupplierPartAuxiliaryID')}"
        "</SupplierPartAuxiliaryID></ItemID><ItemDetail><UnitPrice><Money currency="
        f'"USD">{line.findtext("ItemDetail/UnitPrice/Money")}</Money></UnitPrice>'
        '<Description xml:lang="en">x</Description><UnitOfMeasure>EA</UnitOfMeasure>'
        '<Classification domain="UNSPSC">unknown</Classification></ItemDetail></ItemOut>'
        for number, line in enumerate(cart.lines, start=1)
    )


def test_an_edit_says_update_request_and_an_inspect_is_not_shopping(
    api: Any, coupa: dict[str, Any]
) -> None:
    cart = cart_of(_request(api, punch_out(api, coupa), "datastream-pro", "annual", hours="100"))
    request_id = AUX.match(cart.lines[0].findtext("ItemID/SupplierPartAuxiliaryID")).group(1)
    edit = punch_out(api, coupa, operation="edit", extra=_item_out(cart))
    inspect = punch_out(api, coupa, operation="inspect", extra=_item_out(cart))

    editing = api.handle("GET", f"{edit}/requests/{request_id}")
    viewing = api.handle("GET", f"{inspect}/requests/{request_id}")
    new = _subscribe_page(api, punch_out(api, coupa), "datastream-pro", "annual")

    assert "Update request</button>" in editing.text
    assert "Request approval</button>" not in editing.text
    assert "Request approval</button>" in new.text
    assert "Shopping for" not in viewing.text
    assert "Viewing a request of" in _visible(viewing.text)
    assert "Shopping for" in new.text


def test_catalog_cards_show_every_offer_and_search_ignores_accents(
    api: Any, coupa: dict[str, Any]
) -> None:
    session = punch_out(api, coupa)

    catalog = _visible(api.handle("GET", f"{session}/catalog").text)
    found = api.handle("GET", f"{session}/catalog", query="q=zurich")

    assert "Pay as you go: 0.60 USD per million inspected requests" in catalog
    assert "Enterprise, 12-month agreement: 299.00 USD per month for 12 months" in catalog
    assert found.status == 200
    assert "1 product</p>" in found.text
    assert "Zürich Q&amp;A" in found.text


def test_cart_descriptions_have_one_period_and_real_plurals(
    api: Any, coupa: dict[str, Any]
) -> None:
    seller = copy.deepcopy(WAF)
    seller.update(id="waf-inc", seller="Perimeter Labs Inc.")
    create_products(api, seller)

    cart = cart_of(_request(api, punch_out(api, coupa), "waf-inc", "monthly"))

    (line,) = cart.lines
    description = line.findtext("ItemDetail/Description")
    assert description.endswith("for 12 months. Sold by Perimeter Labs Inc.")
    assert ".." not in description and "(s)" not in description


def test_usage_against_the_budget_reads_in_the_lines_unit(
    api: Any, coupa: dict[str, Any], clock: Any
) -> None:
    from tests.support import meter

    # Given 1,000 approved hours of which 1,250 were used this hour
    _order(api, coupa, cart_of(_request(api, punch_out(api, coupa), "datastream-pro", "annual",
                                        hours="1000")))  # fmt: skip
    hour = clock.now().replace(minute=0, second=0, microsecond=0).isoformat()
    status, body = meter(api, {"ProductCode": "datastream-pro", "UsageRecords": [
        {"Timestamp": hour, "CustomerIdentifier": "111122223333", "Dimension": "hours",
         "Quantity": 1250}]})  # fmt: skip
    assert status == 200, body

    # When the buyer opens Your subscriptions
    text = _visible(api.handle("GET", f"{punch_out(api, coupa)}/subscriptions").text)

    # Then both amounts are grouped and in hours
    assert "Usage so far: 1,250 hours of the 1,000 hours approved on the purchase order;" in text


def test_a_bad_estimate_on_the_public_storefront_is_tied_to_its_field(api: Any, clock: Any) -> None:
    clock.freeze(NOW)
    create_products(api, COMMITTED)
    create_integration(api, coupa_integration(
        approval_redirect_url="https://acme.coupahost.com/requisitions/new"))  # fmt: skip

    refused = post_form(api, "/catalog/requests", {
        "product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "lots",
        "account_id": "111122223333", "email": "jim@acme.example"})  # fmt: skip

    assert refused.status == 400
    field = re.search(r'<input id="estimate-hours"[^>]*>', refused.text)
    assert field is not None and 'aria-invalid="true"' in field.group(0)
    assert 'aria-describedby="form-error rate-hours estimate-period"' in field.group(0)
