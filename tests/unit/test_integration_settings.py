"""One table of plain integration settings drives the admin parser, the stored attributes and
the public view: a setting missing from any of them fails here, not in production."""

from __future__ import annotations

from dataclasses import fields

from functions.integrations import BuyerIdentity, Integration
from functions.integrations.admin import _PARSERS
from functions.integrations.model import SETTINGS
from functions.store.integrations import _attributes
from functions.store.models import IntegrationRecord


def _integration() -> Integration:
    return Integration(
        id="int_1",
        name="Acme Coupa",
        system="coupa",
        buyer=BuyerIdentity("duns", "acme"),
        account_id="111122223333",
        account_email="it@acme.example",
    )


def test_every_plain_setting_is_parsed_stored_and_shown_under_its_name() -> None:
    # Given an integration
    integration = _integration()

    # Then each plain setting is a field of the model, parsed by the admin API, an attribute of
    # the stored record holding the model's value, and shown under the same name
    model_fields = {field.name for field in fields(Integration)}
    stored = _attributes(integration)
    shown = integration.public_view()
    assert tuple(_PARSERS) == SETTINGS
    for name in SETTINGS:
        assert name in model_fields
        assert name in IntegrationRecord.get_attributes()
        assert stored[name] == shown[name] == getattr(integration, name)
