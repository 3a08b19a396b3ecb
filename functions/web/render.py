"""The one Jinja2 environment. Autoescaping is on for every template: product and buyer text
is hostile until escaped."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from functions.formatting import FILTERS

if TYPE_CHECKING:  # loaded by the first page showing a contract's invoicing (cold start)
    from functions.subscriptions import Subscription

_environment = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    auto_reload=False,
)
_environment.filters.update(FILTERS)


def _contract_invoicing(subscription: Subscription) -> str:
    """The `contract_invoicing` filter. Its rules (`functions.instalments`) bring the whole
    subscriptions model, which most pages and mails rendered here never show: they load on the
    first one that does, not at every cold start of the functions that render."""
    from functions.instalments import subscription_invoicing

    return subscription_invoicing(subscription)


_environment.filters["contract_invoicing"] = _contract_invoicing


def render(template: str, **context: Any) -> str:
    return _environment.get_template(template).render(**context)
