"""The one Jinja2 environment. Autoescaping is on for every template: product and buyer text
is hostile until escaped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from functions.formatting import FILTERS
from functions.instalments import subscription_invoicing

_environment = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    auto_reload=False,
)
_environment.filters.update(FILTERS)
_environment.filters["contract_invoicing"] = subscription_invoicing


def render(template: str, **context: Any) -> str:
    return _environment.get_template(template).render(**context)
