"""URLs from outside are taken apart once, strictly; origins come from the parts."""

from __future__ import annotations

import pytest

from functions.urls import BadUrl, origin_of, parse_web_url


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://acme.coupahost.com/punchout/checkout/4", "https://acme.coupahost.com"),
        ("HTTPS://Acme.Example:8443/x?y#z", "https://acme.example:8443"),
        ("https://bücher.example/cart", "https://xn--bcher-kva.example"),
        ("https://[::1]:8080/cart", "https://[::1]:8080"),
        ("https://[0:0:0:0:0:0:0:1]/cart", "https://[::1]"),
        ("https://10.0.0.1/cart", "https://10.0.0.1"),
        ("https://a.example./cart", "https://a.example"),
    ],
)
def test_origins_are_rebuilt_from_checked_parts(url: str, origin: str) -> None:
    assert parse_web_url(url).origin == origin


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://[x", "not a valid URL"),
        ("https://a.example;frame-ancestors;x/cart", "not a valid domain name"),
        ("https://a.example/ cart", "spaces or control characters"),
        ("https://a.example:0/", "port 0"),
        ("https://a.example:65536/", "not a valid URL"),
        ("https://u@a.example/", "user name or password"),
        ("ftp://a.example/", "absolute https URL"),
        ("//a.example/", "absolute https URL"),
        ("https://" + "a" * 2000, "longer than 2000"),
        ("https://xn--/", "not a valid domain name"),
    ],
)
def test_anything_else_is_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(BadUrl, match=reason):
        parse_web_url(url)


def test_a_stored_url_that_no_longer_passes_has_no_origin() -> None:
    assert origin_of("https://a.example;frame-ancestors *") is None
    assert origin_of("http://a.example/x") == "http://a.example"
