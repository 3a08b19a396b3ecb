"""The marketplace's legal entity from the deployment's settings (SUPPLIER_LEGAL_NAME,
SUPPLIER_TAX_ID, REMIT_TO_*): read once, checked, a mistake failing loudly at start-up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from functions.config import ConfigurationError, settings
from functions.invoice_terms import legal_entity


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    settings.cache_clear()
    yield
    settings.cache_clear()


def test_the_remit_to_address_and_tax_id_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "SUPPLIER_LEGAL_NAME": "  Gateway   GmbH ", "SUPPLIER_TAX_ID": "DE123456789",
        "REMIT_TO_STREET": "Hauptstr. 1 | Haus B", "REMIT_TO_CITY": "Berlin",
        "REMIT_TO_STATE": "", "REMIT_TO_POSTAL_CODE": "10115", "REMIT_TO_COUNTRY": "de",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)

    entity = legal_entity(settings())

    assert (entity.name, entity.tax_id) == ("Gateway GmbH", "DE123456789")
    assert entity.remit_to is not None
    assert entity.remit_to.street == ("Hauptstr. 1", "Haus B")
    assert (entity.remit_to.city, entity.remit_to.country) == ("Berlin", "DE")


def test_no_remit_to_address_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REMIT_TO_STREET", "REMIT_TO_CITY", "REMIT_TO_POSTAL_CODE", "REMIT_TO_COUNTRY"):
        monkeypatch.delenv(name, raising=False)

    assert legal_entity(settings()).remit_to is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [("REMIT_TO_COUNTRY", "Germany"), ("REMIT_TO_COUNTRY", "D1"), ("REMIT_TO_CITY", "")],
)
def test_an_unusable_remit_to_address_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv("REMIT_TO_STREET", "1 Demo Street")
    monkeypatch.setenv("REMIT_TO_CITY", "London")
    monkeypatch.setenv("REMIT_TO_COUNTRY", "GB")
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigurationError, match="REMIT_TO"):
        settings()
