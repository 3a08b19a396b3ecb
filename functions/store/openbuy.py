"""Open Buy tokens in DynamoDB, on the sessions table under their own key prefix (one PutItem
to issue, one GetItem to read). DynamoDB TTL removes them eventually; expiry itself is checked on
read by `functions.openbuy.live_token`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from functions.store.errors import storage_errors
from functions.store.models import UNBOUND

if TYPE_CHECKING:
    from functions.openbuy import OpenBuyToken

PREFIX = "openbuy#"
"""Keeps tokens apart from punchout sessions (keyed by the bare digest) on the shared table."""


class OpenBuyTokenRecord(Model):
    """An Open Buy bearer token, keyed by `openbuy#` + the digest of the token."""

    class Meta:
        table_name = UNBOUND

    pk = UnicodeAttribute(hash_key=True)
    integration_id = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


class DynamoOpenBuyTokenStore:
    def put(self, token: OpenBuyToken) -> None:
        record = OpenBuyTokenRecord(
            PREFIX + token.token_digest,
            integration_id=token.integration_id,
            email=token.email or None,
            created_at=token.created_at,
            expires_at=token.expires_at,
        )
        with storage_errors("storing the Open Buy token"):
            record.save()

    def get(self, token_digest: str) -> OpenBuyToken | None:
        # Imported here, not at the top: `functions.store` binds this model for every handler,
        # and the web pages must not pay for the catalog and integration modules at cold start.
        from functions.openbuy import OpenBuyToken

        with storage_errors("reading the Open Buy token"):
            try:
                record = OpenBuyTokenRecord.get(PREFIX + token_digest)
            except OpenBuyTokenRecord.DoesNotExist:
                return None
        return OpenBuyToken(
            token_digest=token_digest,
            integration_id=record.integration_id,
            email=record.email or "",
            created_at=record.created_at,
            expires_at=record.expires_at,
        )
