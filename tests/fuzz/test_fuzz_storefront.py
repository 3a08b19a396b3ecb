"""Fuzz: the storefront's forms and pages, inside a punchout session and on the public catalog,
with fields dropped, repeated, reordered, retyped, oversized and mis-encoded, and queries and
path segments likewise. Every answer is an HTML page (or a redirect), never a 5xx, never a
trace, and a refused form stores nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import World
from tests.fuzz.support import (
    Exchange,
    byte_mutations,
    exchange_and_check,
    fuzz_settings,
    hostile_text,
    mutated_form,
)

FORM = "application/x-www-form-urlencoded"
APPROVAL = [("product_id", "datastream-pro"), ("offer_id", "annual"), ("estimate.hours", "1000"),
            ("request_key", "k-1")]  # fmt: skip
PUBLIC_REQUEST = [("product_id", "sentinel-siem-trial"), ("offer_id", "trial"),
                  ("account_id", "111122223333")]  # fmt: skip
FORMS = {
    "request approval": (lambda w: f"{w.session}/requests", APPROVAL),
    "cancel": (lambda w: f"{w.session}/cancel", []),
    "public request": (lambda w: "/catalog/requests", PUBLIC_REQUEST),
}
PAGES = [
    ("/catalog", [("q", "stream"), ("type", "saas"), ("model", "contract"), ("page", "1")]),
    ("{session}/catalog", [("q", "siem"), ("page", "2")]),
    ("{session}", []),
    ("{session}/products/{product}", []),
    ("{session}/products/{product}/subscribe", [("offer", "annual")]),
    ("/catalog/products/{product}", []),
    ("/catalog/products/{product}/subscribe", [("offer", "trial")]),
    ("{session}/subscriptions", []),
    ("{session}/requests/{product}", []),
    ("/subscriptions/111122223333", [("expires", "1999999999"), ("signature", "abc")]),
]
PRODUCTS = ["datastream-pro", "sentinel-siem-trial", "zurich-qa", "nope"]


def _path_segment() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(PRODUCTS), hostile_text().map(lambda t: t[:2000])).map(
        lambda text: quote(text, safe="") or "x"
    )


@fuzz_settings(examples=150)
@given(data=st.data())
def test_storefront_forms_mutated(world: World, data: Any) -> None:
    name = data.draw(st.sampled_from(sorted(FORMS)), label="form")
    path, fields = FORMS[name]
    body = data.draw(mutated_form(fields), label="body")
    body = data.draw(st.one_of(st.just(body), byte_mutations(body)), label="bytes")
    content_type = data.draw(st.sampled_from([FORM, FORM, "multipart/form-data", "text/plain"]))

    exchange = Exchange("html", "POST", path(world), "", [("Content-Type", content_type)], body)
    exchange_and_check(world.api, world.aws, exchange)


@fuzz_settings(examples=150)
@given(data=st.data())
def test_storefront_pages_with_mutated_queries_and_paths(world: World, data: Any) -> None:
    template, fields = data.draw(st.sampled_from(PAGES), label="page")
    product = data.draw(_path_segment(), label="segment")
    session = data.draw(
        st.sampled_from([world.session, world.session, "/s/unknown-token", "/s/" + "A" * 3000])
    )
    path = template.format(session=session, product=product)
    query = data.draw(mutated_form(fields), label="query").decode("ascii", errors="replace")
    query = data.draw(st.sampled_from([query, urlencode(fields)]), label="query choice")

    exchange = Exchange("html", "GET", path, query, [], b"")
    exchange_and_check(world.api, world.aws, exchange)
