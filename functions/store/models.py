"""pynamodb models: the shape of every item we keep. Table names and region are bound once at
start-up by `functions.store.bind` (never read from the environment at import)."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

UNBOUND = "unbound-call-functions.store.bind"


class IntegrationRecord(Model):
    """One integration, stored twice in one transaction: under `integration#<id>` (admin reads)
    and under `buyer#<credential key>` (the punchout's single lookup by From credential)."""

    class Meta:
        table_name = UNBOUND

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # "integration" | "buyer"
    integration_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    system = UnicodeAttribute()
    buyer_domain = UnicodeAttribute()
    buyer_identity = UnicodeAttribute()
    account_id = UnicodeAttribute()
    account_email = UnicodeAttribute()
    test_mode = BooleanAttribute()
    preapprove_free = BooleanAttribute()
    preapprove_byol = BooleanAttribute()
    cart_field = UnicodeAttribute()
    approval_redirect_url = UnicodeAttribute(null=True)
    enabled = BooleanAttribute()
    secret_digest = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute()


class SessionRecord(Model):
    """A punchout session, keyed by the digest of its URL token; DynamoDB TTL removes it."""

    class Meta:
        table_name = UNBOUND

    pk = UnicodeAttribute(hash_key=True)
    integration_id = UnicodeAttribute()
    integration_name = UnicodeAttribute()
    system = UnicodeAttribute()
    buyer_cookie = UnicodeAttribute()
    browser_form_post_url = UnicodeAttribute(default="")
    operation = UnicodeAttribute()
    deployment_mode = UnicodeAttribute()
    requester = JSONAttribute()
    payload_id = UnicodeAttribute(default="")
    selected_item = JSONAttribute(null=True)
    items_out = JSONAttribute(default=list)
    extrinsics = JSONAttribute(default=dict)
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


ALL_MODELS: dict[str, type[Model]] = {
    "integrations": IntegrationRecord,
    "sessions": SessionRecord,
}
