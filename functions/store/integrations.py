"""Integrations in DynamoDB: the main item plus its buyer-credential lookup item, always
written together in one transaction. Both carry every setting; the invoice endpoint's secret
only sealed (KMS ciphertext, `functions.store.kms`): a store that writes is given a `SecretBox`
and seals a clear secret before anything is written (only `Integration.public_view` is ever
shown)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from functions.errors import Conflict
from functions.integrations.model import (
    SETTINGS,
    BuyerIdentity,
    Integration,
    InvoiceDelivery,
    SealedSecret,
    SecretBox,
)
from functions.store.accounts import PREFIX as ACCOUNT
from functions.store.accounts import AccountRecord
from functions.store.batch import connection_of
from functions.store.errors import findable, storage_errors
from functions.store.models import INTEGRATION_PREFIX, IntegrationRecord
from functions.unit_mapping import UnitMapping

MAIN = INTEGRATION_PREFIX
BUYER = "buyer#"


def _attributes(integration: Integration) -> dict[str, Any]:
    return {
        "integration_id": integration.id,
        "system": integration.system,
        **{name: getattr(integration, name) for name in SETTINGS},
        "buyer_domain": integration.buyer.domain,
        "buyer_identity": integration.buyer.identity,
        "enabled": integration.enabled,
        "secret_digest": integration.secret_digest,
        "invoice_delivery": integration.invoice_delivery.to_json()
        if integration.invoice_delivery
        else None,
        "unit_mapping": integration.unit_mapping.to_json() or None,
        "created_at": integration.created_at,
        "updated_at": integration.updated_at,
        "version": integration.version,
    }


def _records(integration: Integration) -> tuple[IntegrationRecord, IntegrationRecord]:
    values = _attributes(integration)
    return (
        IntegrationRecord(
            MAIN + integration.id, kind="integration", account_key=integration.account_id, **values
        ),
        IntegrationRecord(BUYER + integration.buyer.key, kind="buyer", **values),
    )


def integration_of(record: IntegrationRecord) -> Integration:
    return Integration(
        id=record.integration_id,
        system=record.system,  # type: ignore[arg-type]
        **{name: getattr(record, name) for name in SETTINGS},
        buyer=BuyerIdentity(record.buyer_domain, record.buyer_identity),
        enabled=record.enabled,
        secret_digest=record.secret_digest,
        invoice_delivery=InvoiceDelivery.from_json(record.invoice_delivery)
        if record.invoice_delivery
        else None,
        unit_mapping=UnitMapping.from_json(record.unit_mapping),
        created_at=record.created_at,
        updated_at=record.updated_at,
        version=int(record.version),
    )


def _conflict(
    error: TransactWriteError, integration: Integration, *, account_checked: bool = False
) -> Conflict:
    reasons = [r.code if r else None for r in (error.cancellation_reasons or [])]
    if account_checked and reasons and reasons.pop(0) == "ConditionalCheckFailed":
        return Conflict(
            f"No account {integration.account_id}: the operator creates it first "
            "(POST /admin/accounts), then its integrations.",
            field="account_id",
        )
    if "ConditionalCheckFailed" in reasons[1:]:
        return Conflict(
            f"The buyer identity {integration.buyer.domain}/{integration.buyer.identity} already "
            "belongs to another integration.",
            field="buyer_identity",
        )
    return Conflict("The integration changed meanwhile; read it again and retry.")


class DynamoIntegrationStore:
    def __init__(self, secrets: SecretBox | None = None) -> None:
        """`secrets` seals the invoice endpoint's secret on writes; a store without it reads
        only (writing a clear secret then fails before anything is written)."""
        self._secrets = secrets

    def _sealed(self, integration: Integration) -> Integration:
        delivery = integration.invoice_delivery
        if delivery is None or isinstance(delivery.shared_secret, SealedSecret):
            return integration
        if self._secrets is None:
            raise TypeError("This integration store cannot seal secrets: give it a SecretBox.")
        with storage_errors("sealing the invoice endpoint's shared secret"):
            sealed = self._secrets.seal(integration.id, delivery.shared_secret)
        return replace(integration, invoice_delivery=replace(delivery, shared_secret=sealed))

    def get(self, integration_id: str) -> Integration | None:
        if not findable(integration_id):
            return None
        with storage_errors("reading an integration"):
            try:
                return integration_of(IntegrationRecord.get(MAIN + integration_id))
            except IntegrationRecord.DoesNotExist:
                return None

    def find_by_buyer_keys(self, keys: list[str]) -> dict[str, Integration]:
        """One BatchGetItem over every From credential the document carries."""
        if not keys:
            return {}
        with storage_errors("looking up the buyer's integration"):
            found = IntegrationRecord.batch_get([BUYER + key for key in keys])
            return {record.pk[len(BUYER) :]: integration_of(record) for record in found}

    def by_account(self, account_id: str) -> list[Integration]:
        """The integrations of one buyer account (one Query on a sparse index)."""
        if not account_id:
            return []
        with storage_errors("looking up the account's integrations"):
            return [integration_of(r) for r in IntegrationRecord.by_account.query(account_id)]

    def list(self) -> list[Integration]:
        """Admin listing: integrations are few (one per buyer system), a filtered scan is fine."""
        with storage_errors("listing integrations"):
            records = IntegrationRecord.scan(IntegrationRecord.kind == "integration")
            return sorted(
                (integration_of(r) for r in records), key=lambda i: (i.created_at, i.name, i.id)
            )

    def create(self, integration: Integration) -> Integration:
        stored = _replace_version(self._sealed(integration), 1)
        main, buyer = _records(stored)
        with storage_errors("creating the integration"):
            try:
                with TransactWrite(connection=_connection()) as tx:
                    tx.save(main, condition=IntegrationRecord.pk.does_not_exist())
                    tx.save(buyer, condition=IntegrationRecord.pk.does_not_exist())
                    _check_account(tx, stored)
            except TransactWriteError as exc:
                raise _conflict(exc, stored, account_checked=True) from exc
        return stored

    def replace(self, previous: Integration, updated: Integration) -> Integration:
        """Write both items, guarded by the version read, moving the lookup item if the buyer
        identity changed; all or nothing."""
        stored = _replace_version(self._sealed(updated), previous.version + 1)
        main, buyer = _records(stored)
        moved = previous.buyer.key != stored.buyer.key
        account_moved = previous.account_id != stored.account_id
        with storage_errors("saving the integration"):
            try:
                with TransactWrite(connection=_connection()) as tx:
                    tx.save(main, condition=IntegrationRecord.version == previous.version)
                    if moved:
                        tx.save(buyer, condition=IntegrationRecord.pk.does_not_exist())
                        tx.delete(
                            IntegrationRecord(BUYER + previous.buyer.key),
                            condition=IntegrationRecord.integration_id == previous.id,
                        )
                    else:
                        tx.save(buyer, condition=IntegrationRecord.integration_id == previous.id)
                    if account_moved:
                        _check_account(tx, stored)
            except TransactWriteError as exc:
                raise _conflict(exc, stored, account_checked=account_moved) from exc
        return stored


def _check_account(tx: TransactWrite, integration: Integration) -> None:
    """An integration belongs to an existing account: checked in the writing transaction, so
    none is ever stored for an unknown one. pynamodb sends condition checks first: `_conflict`
    reads this one's reason first."""
    tx.condition_check(
        AccountRecord, ACCOUNT + integration.account_id, condition=AccountRecord.pk.exists()
    )


def _replace_version(integration: Integration, version: int) -> Integration:
    return replace(integration, version=version)


def _connection() -> Connection:
    """The model's own (cached) connection, so transactions reuse its botocore client."""
    return connection_of(IntegrationRecord)
