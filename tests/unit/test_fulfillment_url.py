"""A product's fulfillment URL (the seller's registration page the buyer's browser posts the
registration token to): what an admin may set, what is refused with a 400 naming the field, and
which subscriptions a page hands over with which token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from functions import registration
from functions.catalog_input import product_from_json
from functions.errors import BadRequest
from functions.handoff import form_origins, handoffs, page_handoffs
from functions.notifications import SUBSCRIPTION_READY, render_email
from functions.subscriptions import ACTIVE, CANCELLED, PENDING, WITHDRAWN, Subscription
from tests.catalog_support import product_payload

KEY = b"link-signing-key-for-tests"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _refusal(url: Any, *, allow_local_http: bool = False) -> BadRequest:
    with pytest.raises(BadRequest) as refused:
        product_from_json(product_payload(fulfillment_url=url), allow_local_http=allow_local_http)
    return refused.value


@pytest.mark.parametrize(
    "url",
    [
        "https://seller.example/register",
        "https://seller.example:8443/saas/register?product=prod-1",
        "https://xn--bcher-kva.example/r",
        "https://seller.example/" + "a" * (2048 - len("https://seller.example/")),
    ],
)
def test_an_https_registration_page_is_stored_and_shown(url: str) -> None:
    product = product_from_json(product_payload(fulfillment_url=url))

    assert product.fulfillment_url == url
    assert product.to_json()["fulfillment_url"] == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://seller.example/register", "https"),
        ("ftp://seller.example/register", "https"),
        ("javascript:alert(1)", "https"),
        ("data:text/html,<form>", "https"),
        ("//seller.example/register", "https"),
        ("/register", "https"),
        ("https:///register", "https"),
        ("https://user:pass@seller.example/register", "user name or password"),
        ("https://token@seller.example/register", "user name or password"),
        ("https://seller.example/reg ister", "control characters"),
        ("https://seller.example/\x00register", "control characters"),
        ("https://seller.example/\u0085x", "control characters"),
        ("https://seller..example/", "valid domain name"),
        ("https://sel_ler.example/", "valid domain name"),
        ("https://seller.example;frame-ancestors/x", "valid domain name"),
        ("https://[zz]/", "not a valid URL"),
        ("https://seller.example:0/", "port 0"),
        ("https://seller.example:99999/", "not a valid URL"),
        ("https://seller.example/" + "a" * 2048, "longer than 2048"),
        ("http://127.0.0.1:8899/register", "https"),  # not without FULFILLMENT_LOCAL_HTTP
        (42, "must be a string"),
        (["https://seller.example"], "must be a string"),
    ],
)
def test_a_hostile_fulfillment_url_is_refused_naming_the_field(url: Any, reason: str) -> None:
    refused = _refusal(url)

    assert refused.status == 400
    assert refused.field == "fulfillment_url"
    assert "'fulfillment_url'" in refused.message
    assert reason in refused.message


def test_plain_http_reaches_loopback_only_and_only_where_the_local_stack_allows_it() -> None:
    for url in ("http://127.0.0.1:8899/register", "http://localhost:8899/r", "http://[::1]/r"):
        assert (
            product_from_json(
                product_payload(fulfillment_url=url), allow_local_http=True
            ).fulfillment_url
            == url
        )
    for url in ("http://seller.example/r", "http://10.0.0.1/r", "http://127.0.0.1.nip.io/r"):
        assert _refusal(url, allow_local_http=True).field == "fulfillment_url"


@pytest.mark.parametrize("removed", [None, "", "   "])
def test_a_patch_removes_the_fulfillment_url(removed: Any) -> None:
    base = product_from_json(product_payload(fulfillment_url="https://seller.example/r"))

    patched = product_from_json({"fulfillment_url": removed}, base=base)

    assert patched.fulfillment_url == ""
    assert product_from_json({"name": "Renamed"}, base=base).fulfillment_url == (
        "https://seller.example/r"
    )


def _subscription(sub_id: str, state: str = ACTIVE, **kw: Any) -> Subscription:
    defaults: dict[str, Any] = {
        "account_id": "111122223333",
        "integration_id": "int-1",
        "integration_name": "Acme Coupa",
        "product_id": "datastream-pro",
        "offer_id": "annual",
        "product_name": "DataStream Pro",
        "offer_name": "Annual",
        "pricing_model": "contract",
        "currency": "USD",
        "lines": (),
    }
    return Subscription(id=sub_id, state=state, **{**defaults, **kw})


def test_only_active_subscriptions_of_products_with_a_url_are_handed_over() -> None:
    # Given a page with subscriptions in every state, and one product without a URL
    page = [
        _subscription("active"),
        _subscription("test", test=True),
        _subscription("pending", PENDING),
        _subscription("cancelled", CANCELLED),
        _subscription("withdrawn", WITHDRAWN),
        _subscription("no-url", product_id="open-notes"),
    ]
    urls = {"datastream-pro": "https://seller.example:8443/register", "open-notes": ""}

    # When the page's hand-offs are made
    found = handoffs(page, urls, KEY, NOW)

    # Then only the active ones of the product with a URL get a form and a token naming them
    assert sorted(found) == ["active", "test"]
    for sub_id, test in (("active", False), ("test", True)):
        claims = registration.verify(KEY, found[sub_id].token, NOW)
        assert (claims.subscription_id, claims.account_id, claims.product_id, claims.test) == (
            sub_id,
            "111122223333",
            "datastream-pro",
            test,
        )
        assert found[sub_id].field == "x-amzn-marketplace-token"
    assert form_origins(found) == ("https://seller.example:8443",)


def test_a_page_reads_products_once_and_not_at_all_without_an_active_subscription() -> None:
    asked: list[list[str]] = []

    def read(product_ids: list[str]) -> dict[str, str]:
        asked.append(product_ids)
        return dict.fromkeys(product_ids, "https://seller.example/r")

    def key() -> bytes:
        raise AssertionError("no key is needed when nothing is handed over")

    page = [_subscription("a"), _subscription("b"), _subscription("c", product_id="other")]
    assert sorted(page_handoffs(page, read, lambda: KEY, NOW)) == ["a", "b", "c"]
    assert asked == [["datastream-pro", "other"]]

    assert page_handoffs([_subscription("p", PENDING)], read, key, NOW) == {}
    assert page_handoffs([_subscription("x")], lambda ids: {}, key, NOW) == {}
    assert len(asked) == 1


def test_a_stored_url_that_no_longer_passes_is_not_offered() -> None:
    page = [_subscription("a")]
    local = {"datastream-pro": "http://127.0.0.1:8899/register"}

    assert handoffs(page, local, KEY, NOW) == {}
    assert list(handoffs(page, local, KEY, NOW, allow_local_http=True)) == ["a"]


def _mail_context(**overrides: Any) -> dict[str, Any]:
    return {
        "base_url": "https://gateway.test",
        "account_id": "111122223333",
        "product_name": "DataStream Pro",
        "order_id": "PO-1",
        "subscription_id": "req-0123456789abcdef",
        "test": False,
        **overrides,
    }


@pytest.mark.parametrize("test", [False, True])
def test_the_success_mail_links_to_the_set_up_button_only_when_told_there_is_one(
    test: bool,
) -> None:
    link = "https://gateway.test/subscriptions/111122223333?expires=1&signature=s"
    anchored = f"{link}#subscription-req-0123456789abcdef"

    shown = render_email(
        SUBSCRIPTION_READY, _mail_context(set_up_account=True, test=test), link, NOW
    )
    for absent in (None, False, "true", 1):
        hidden = render_email(
            SUBSCRIPTION_READY, _mail_context(set_up_account=absent, test=test), link, NOW
        )
        assert "Set up your account" not in hidden.text + hidden.html

    assert "Set up your account" in shown.text and anchored in shown.text
    assert f'href="{anchored.replace("&", "&amp;")}"' in shown.html
    assert ("A test hand-off" in shown.text) is test
