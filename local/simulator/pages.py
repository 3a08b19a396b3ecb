"""The simulator's HTML answers: Jinja2 templates (autoescaped) in `templates/`, and the small
helpers every route uses to read a form and answer."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from local.stack import HttpAnswer

PREFIX = "/_local/simulator"
PAGES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
)


def form_fields(body: bytes) -> dict[str, list[str]]:
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)


def field_value(form: Mapping[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0].strip()


def see_other(cart_index: int) -> HttpAnswer:
    """Post/redirect/get: reloading the requisition page never sends a PO again."""
    location = f"{PREFIX}/requisitions/{cart_index}#purchase-orders"
    return HttpAnswer(303, [("Location", location), *headers("text/plain")], b"")


def headers(content_type: str) -> list[tuple[str, str]]:
    return [("Content-Type", content_type), ("Cache-Control", "no-store")]


def html(status: int, template: str, **context: Any) -> HttpAnswer:
    text = PAGES.get_template(template).render(prefix=PREFIX, **context)
    return HttpAnswer(status, headers("text/html; charset=utf-8"), text.encode("utf-8"))
