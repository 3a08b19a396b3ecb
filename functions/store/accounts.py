"""Buyer accounts in DynamoDB, on the integrations table under `account#<id>` (one GetItem to
read, one conditional PutItem to create). The same table, so an integration's creation can
check in its own transaction that its account exists (`functions.store.integrations`); the
operator's listing is a filtered Scan (accounts are few, listed rarely, by the operator)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from functions.errors import Conflict
from functions.store.errors import findable, storage_errors
from functions.store.models import UNBOUND

if TYPE_CHECKING:  # `functions.store` binds this model for every handler: keep its import lean
    from functions.accounts import Account

PREFIX = "account#"
KIND = "account"


class AccountRecord(Model):
    """One buyer account. `kind` keeps it out of the integrations' listing, and it carries no
    `account_key`, so the sparse integrations-by-account index never holds it."""

    class Meta:
        table_name = UNBOUND

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    account_id = UnicodeAttribute()
    name = UnicodeAttribute()
    contact_email = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UnicodeAttribute()


def account_of(record: AccountRecord) -> Account:
    from functions.accounts import Account

    return Account(
        id=record.account_id,
        name=record.name,
        contact_email=record.contact_email,
        created_at=record.created_at,
        status=record.status,
    )


@dataclass(frozen=True)
class Created:
    account: Account
    created: bool  # False: the same account existed already (a retry)


@dataclass(frozen=True)
class AccountPage:
    accounts: list[Account]
    cursor: str | None  # the last account ID of this page, when more may follow


class DynamoAccountStore:
    def get(self, account_id: str) -> Account | None:
        if not findable(account_id):
            return None
        with storage_errors("reading an account"):
            try:
                return account_of(AccountRecord.get(PREFIX + account_id, consistent_read=True))
            except AccountRecord.DoesNotExist:
                return None

    def create(self, account: Account) -> Created:
        """Write the account unless its ID is taken: the same content again is a retry and
        answers the stored account; different content is a 409."""
        record = AccountRecord(
            PREFIX + account.id,
            kind=KIND,
            account_id=account.id,
            name=account.name,
            contact_email=account.contact_email,
            status=account.status,
            created_at=account.created_at,
        )
        with storage_errors("creating the account"):
            try:
                record.save(condition=AccountRecord.pk.does_not_exist())
                return Created(account, True)
            except PutError as exc:
                if exc.cause_response_code != "ConditionalCheckFailedException":
                    raise
        existing = self.get(account.id)
        if existing is not None and existing.same_request(account):
            return Created(existing, False)
        raise Conflict(
            f"Account {account.id} already exists with another name or contact email.",
            field="id",
        )

    def page(self, limit: int, after: str | None) -> AccountPage:
        """Up to `limit` accounts after the account ID `after` (the previous page's cursor), in
        the table's order."""
        start = {"pk": {"S": PREFIX + after}} if after else None
        with storage_errors("listing accounts"):
            found = AccountRecord.scan(
                AccountRecord.kind == KIND, limit=limit, last_evaluated_key=start
            )
            accounts = [account_of(record) for record in found]
            more = found.last_evaluated_key is not None
        cursor = accounts[-1].id if more and accounts else None
        return AccountPage(accounts, cursor)
