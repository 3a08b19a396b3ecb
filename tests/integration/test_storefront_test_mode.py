"""Test mode, as the buyer sees it: an order through a test-mode integration creates no
subscription, and every page and email says so the same way, with whom to ask to change it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.storefront_support import (
    FREE_AND_BYOL,
    create_integration,
    create_products,
    post_form,
    punch_out,
)
from tests.support import coupa_integration

GUIDE = "Sign in at https://notes.example/start"


@pytest.fixture
def product(api: Any) -> None:
    create_products(api, {**FREE_AND_BYOL, "usage_instructions": GUIDE})


def _subscribe(api: Any, test_mode: bool) -> tuple[str, Any]:
    integration = create_integration(
        api, coupa_integration(name="Acme Coupa", preapprove_free=True, test_mode=test_mode)
    )
    session = punch_out(api, integration)
    page = post_form(api, f"{session}/requests", {"product_id": "open-notes", "offer_id": "free"})
    return session, page


def test_a_test_mode_subscription_is_never_called_active_nor_given_getting_started_steps(
    api: Any, product: None
) -> None:
    # Given a test-mode integration that pre-approves free offers
    # When a buyer subscribes to one
    session, done = _subscribe(api, test_mode=True)
    listed = api.handle("GET", f"{session}/subscriptions")

    # Then the page says it is a test, and whom to ask to subscribe for real
    assert done.status == 200
    assert "Test subscription to Open Notes recorded" in done.text
    assert "no subscription was created" in done.text
    assert (
        "ask your marketplace administrator to turn test mode off for the integration "
        "“Acme Coupa”" in done.text
    )
    assert "You are subscribed" not in done.text
    # And Your subscriptions shows it as "Test", without getting-started steps
    assert '<span class="badge test">Test</span>' in listed.text
    assert ">Active<" not in listed.text
    assert "not a real subscription" in listed.text
    for page in (done, listed):
        assert "Getting started" not in page.text and GUIDE not in page.text


def test_a_real_subscription_is_active_with_its_getting_started_steps(
    api: Any, product: None
) -> None:
    session, done = _subscribe(api, test_mode=False)
    listed = api.handle("GET", f"{session}/subscriptions")

    assert "You are subscribed to Open Notes" in done.text
    assert '<span class="badge">Active</span>' in listed.text
    assert "Marketplace account ID 111122223333" in listed.text  # as the emails name it
    assert "not a real subscription" not in listed.text
    for page in (done, listed):
        assert "Getting started" in page.text and GUIDE in page.text
