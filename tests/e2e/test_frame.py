"""The storefront as Coupa shows it: inside an iframe of a page served by the procurement
system from another origin (here a small server on another port, which is also where the
cart goes back), so every page, error pages included, must let that origin frame it."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from playwright.sync_api import FrameLocator, Page, expect

from functions import ids
from tests.support import punchout_setup


class ProcurementSystem:
    """A requisition page framing a marketplace URL (`/requisition?frame=<url>`), and the
    BrowserFormPost endpoint (`/punchout/checkout/7`), recording the carts posted to it."""

    def __init__(self) -> None:
        self.carts: list[str] = []
        system = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                framed = parse_qs(urlsplit(self.path).query)["frame"][0]
                self._page(
                    "<h1>Procurement</h1><iframe title='Marketplace' "
                    f"src='{html.escape(framed)}' width='1100' height='700'></iframe>"
                )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                system.carts.append(self.rfile.read(length).decode())
                self._page("<h1>Cart received</h1>")

            def _page(self, body: str) -> None:
                data = f"<!doctype html><html lang='en'><title>Requisition</title>{body}</html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data.encode())))
                self.end_headers()
                self.wfile.write(data.encode())

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.cart_url = f"{self.origin}/punchout/checkout/7"

    def open_framed(self, page: Page, url: str) -> FrameLocator:
        page.goto(f"{self.origin}/requisition?frame={quote(url, safe='')}")
        expect(page.get_by_role("heading", name="Procurement", exact=True)).to_be_visible()
        return page.frame_locator("iframe[title='Marketplace']")


@pytest.fixture
def procurement() -> Iterator[ProcurementSystem]:
    system = ProcurementSystem()
    thread = threading.Thread(target=system.server.serve_forever, daemon=True)
    thread.start()
    yield system
    system.server.shutdown()
    system.server.server_close()


def _punch_out(stack: dict[str, Any], cart_url: str) -> str:
    """A Coupa PunchOutSetupRequest whose cart goes back to `cart_url`: the StartPage URL."""
    (coupa,) = [i for i in stack["banner"]["integrations"] if i["system"] == "coupa"]
    info = coupa["purchase_information"]
    document = punchout_setup(
        from_credentials=[(info["buyer_domain"], info["buyer_identity"])],
        secret=info["shared_secret"],
        form_post=cart_url,
    )
    answer = requests.post(
        info["punchout_url"],
        data=document.encode(),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=10,
    )
    found = re.search(r"<StartPage>\s*<URL>([^<]+)</URL>", answer.text)
    assert answer.status_code == 200 and found, answer.text
    return html.unescape(found.group(1))


def test_the_punchout_and_its_error_pages_render_inside_coupas_frame(
    page: Page, stack: dict[str, Any], procurement: ProcurementSystem
) -> None:
    start = _punch_out(stack, procurement.cart_url)
    assert not start.startswith(procurement.origin), "a cross-origin frame"

    # Given a Coupa user whose marketplace session is open in Coupa's frame
    frame = procurement.open_framed(page, start)
    expect(frame.get_by_role("region", name="Procurement session")).to_be_visible()

    # When a link names a product no longer in the catalog
    frame = procurement.open_framed(page, f"{start}/products/retired-tool")

    # Then the error shows in the frame, with the session bar and its Return button
    expect(frame.get_by_role("heading", name="This product is no longer available")).to_be_visible()
    expect(frame.get_by_text("Choose another product from the catalog.")).to_be_visible()
    back = frame.get_by_role("button", name="Cancel and return to Coupa")
    expect(back).to_be_visible()

    # And the Return button takes the buyer back to Coupa, with an empty cart
    back.click()
    expect(frame.get_by_role("heading", name="Cart received")).to_be_visible()
    assert len(procurement.carts) == 1 and procurement.carts[0].startswith("cxml-base64=")


def test_an_unknown_session_shows_its_page_inside_the_frame(
    page: Page, stack: dict[str, Any], procurement: ProcurementSystem
) -> None:
    frame = procurement.open_framed(page, f"{stack['base']}/s/{ids.session_token()}/catalog")

    expect(frame.get_by_role("heading", name="Your shopping session has ended")).to_be_visible()
    expect(frame.get_by_text("open the marketplace again from there")).to_be_visible()
