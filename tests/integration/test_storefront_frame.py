"""Error pages inside the procurement frame: Coupa and Ariba show the storefront in a frame
served from their own origin, so an error page must be framable there, keep the session bar
with its Return button when the session is known, and say what happened and what to do next."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.storefront_support import (
    CONTRACT_PAYG,
    cart_of,
    create_integration,
    create_products,
    post_form,
    punch_out,
)
from tests.support import admin, coupa_integration

COUPA_FRAME = "frame-ancestors https://acme.coupahost.com https://*.coupahost.com"
ANY_FRAME = "frame-ancestors *;"


@pytest.fixture
def coupa(api: Any) -> dict[str, Any]:
    create_products(api, CONTRACT_PAYG)
    return create_integration(api, coupa_integration())


def _csp(page: Any) -> str:
    return page.header("Content-Security-Policy") or ""


def test_an_ended_session_page_shows_in_its_coupa_frame_with_the_return_button(
    api: Any, coupa: dict[str, Any], clock: Any
) -> None:
    # Given a Coupa punchout whose hour is over
    session = punch_out(api, coupa)
    clock.advance(timedelta(hours=2))

    # When the buyer clicks on in the page Coupa still frames
    page = api.handle("GET", f"{session}/products/datastream-pro")

    # Then Coupa may frame the error, which names the session and offers the way back
    assert page.status == 404
    assert COUPA_FRAME in _csp(page)
    assert '<h1 id="problem">Your shopping session has ended</h1>' in page.text
    assert "Return to Coupa and open the marketplace again from there." in page.text
    assert 'class="session-bar"' in page.text and "session ended" in page.text
    assert '>Return<span class="wide-only"> to Coupa</span></button>' in page.text
    assert "Cancel and return" not in page.text and "Request approval" not in page.text


def test_the_return_button_of_an_ended_session_sends_an_empty_cart_back_to_coupa(
    api: Any, coupa: dict[str, Any], clock: Any
) -> None:
    session = punch_out(api, coupa)
    clock.advance(timedelta(hours=5))

    returned = post_form(api, f"{session}/cancel", {})

    cart = cart_of(returned)  # DTD-valid
    assert cart.url == "https://acme.coupahost.com/punchout/checkout/4"
    assert cart.lines == []
    assert cart.root.find("Message/PunchOutOrderMessage") is not None


def test_an_ended_session_cannot_request_even_while_it_is_remembered(
    api: Any, coupa: dict[str, Any], clock: Any
) -> None:
    session = punch_out(api, coupa)
    clock.advance(timedelta(hours=2))

    page = post_form(
        api,
        f"{session}/requests",
        {"product_id": "datastream-pro", "offer_id": "annual", "estimate.hours": "1"},
    )

    assert page.status == 404
    assert "Your shopping session has ended" in page.text


def test_a_day_after_it_ended_a_session_is_forgotten_and_its_page_framable_by_any_host(
    api: Any, coupa: dict[str, Any], clock: Any
) -> None:
    # Given a session that ended more than a day ago (its record not yet removed by TTL)
    session = punch_out(api, coupa)
    clock.advance(timedelta(hours=1, days=1, seconds=1))

    page = api.handle("GET", session)
    returned = post_form(api, f"{session}/cancel", {})

    # Then nothing of it is shown, and the page still renders in whichever frame holds it
    assert page.status == returned.status == 404
    assert ANY_FRAME in _csp(page)
    assert 'class="session-bar"' not in page.text
    assert "Return to your procurement system (Coupa or SAP Ariba)" in page.text


@pytest.mark.parametrize(
    "token", ["B" * 43, "int_unknown." + "A" * 43, "<script>"], ids=["old", "new", "hostile"]
)
def test_an_unknown_token_gets_the_ended_page_framable_by_any_host(
    api: Any, tables: dict[str, Any], token: str
) -> None:
    page = api.handle("GET", f"/s/{token}/catalog")

    assert page.status == 404
    assert ANY_FRAME in _csp(page)
    assert "Your shopping session has ended" in page.text
    assert "<form" not in page.text.split("<main", 1)[1], "nothing to click that changes state"


def test_an_unknown_product_in_a_session_keeps_the_session_bar_and_frame(
    api: Any, coupa: dict[str, Any]
) -> None:
    session = punch_out(api, coupa)

    product = api.handle("GET", f"{session}/products/retired-tool")
    offer = api.handle("GET", f"{session}/products/datastream-pro/subscribe", query="offer=old")

    assert product.status == offer.status == 404
    assert "This product is no longer available" in product.text
    assert "This offer is no longer available" in offer.text
    for page in (product, offer):
        assert COUPA_FRAME in _csp(page)
        assert '>Cancel and return<span class="wide-only"> to Coupa</span></button>' in page.text
        assert "Choose another product from the catalog." in page.text
        assert f'href="https://gateway.test{session}/catalog">Browse the catalog' in page.text


def test_a_request_outside_the_session_is_refused_in_the_session_frame(
    api: Any, coupa: dict[str, Any]
) -> None:
    session = punch_out(api, coupa)

    page = api.handle("GET", f"{session}/requests/req-0000000000000000")

    assert page.status == 404
    assert COUPA_FRAME in _csp(page)
    assert "This request is not part of your procurement session." in page.text
    assert '>Cancel and return<span class="wide-only"> to Coupa</span></button>' in page.text


def test_public_error_pages_are_framable_by_any_host(api: Any, tables: dict[str, Any]) -> None:
    unknown_product = api.handle("GET", "/catalog/products/retired-tool")
    bad_link = api.handle("GET", "/subscriptions/111122223333", query="expires=1&signature=x")

    assert unknown_product.status == 404 and bad_link.status == 403
    assert "This product is no longer available" in unknown_product.text
    for page in (unknown_product, bad_link):
        assert ANY_FRAME in _csp(page)
        assert 'class="session-bar"' not in page.text


def test_a_session_stored_before_sessions_had_an_end_time_ends_at_its_ttl() -> None:
    from datetime import UTC, datetime

    from functions.store.models import SessionRecord
    from functions.store.sessions import session_of

    ttl = datetime(2026, 11, 30, 12, tzinfo=UTC)
    record = SessionRecord(
        "digest", integration_id="int_1", integration_name="Acme", system="coupa",
        buyer_cookie="c", operation="create", deployment_mode="production", requester={},
        created_at=ttl - timedelta(hours=1), expires_at=ttl,
    )  # fmt: skip

    assert session_of(record).expires_at == ttl


def test_a_disabled_integration_page_keeps_the_session_bar_and_its_return(
    api: Any, coupa: dict[str, Any]
) -> None:
    # Given a live Coupa session whose integration the operator then disables
    session = punch_out(api, coupa)
    status, _ = admin(api, "POST", f"/admin/integrations/{coupa['id']}/disable")
    assert status == 200

    # When the buyer clicks on in the page Coupa frames
    page = api.handle("GET", f"{session}/catalog")

    # Then the refusal shows in Coupa's frame with the way back, and nothing else to do
    assert page.status == 403
    assert COUPA_FRAME in _csp(page)
    assert "This integration is disabled" in page.text
    assert 'class="session-bar"' in page.text
    assert '>Return<span class="wide-only"> to Coupa</span></button>' in page.text
    assert "Request approval" not in page.text
    # And Return sends an empty cart back to Coupa
    cart = cart_of(post_form(api, f"{session}/cancel", {}))
    assert cart.url == "https://acme.coupahost.com/punchout/checkout/4" and cart.lines == []
