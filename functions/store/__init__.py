"""The only code touching AWS: pynamodb models and adapters that turn items into domain values.

`bind` points every model at its table once, at start-up, from the validated settings."""

from __future__ import annotations

from functions.config import Settings
from functions.store.models import IntegrationRecord, SessionRecord


def bind(settings: Settings) -> None:
    for model, table in (
        (IntegrationRecord, settings.integrations_table),
        (SessionRecord, settings.sessions_table),
    ):
        model.Meta.table_name = table
        model.Meta.region = settings.region
