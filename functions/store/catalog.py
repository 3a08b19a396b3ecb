"""Products in DynamoDB. The catalog is one Query on a sparse index of listed products."""

from __future__ import annotations

from pynamodb.exceptions import PutError

from functions.catalog import Product
from functions.catalog_input import offer_from_json
from functions.errors import Conflict
from functions.store.batch import get_many
from functions.store.errors import findable, storage_errors
from functions.store.models import ProductRecord

LISTED = "listed"


def record_of(product: Product) -> ProductRecord:
    return ProductRecord(
        product.id,
        name=product.name,
        name_key=f"{product.name.casefold()}#{product.id}",
        catalog=LISTED if product.listed else None,
        seller=product.seller,
        seller_account=product.seller_account,
        product_type=product.product_type,
        document=product.to_json(),
        version=product.version,
    )


def product_of(record: ProductRecord) -> Product:
    data = record.document
    return Product(
        id=data["id"],
        name=data["name"],
        seller=data["seller"],
        seller_account=data.get("seller_account", ""),
        short_description=data["short_description"],
        long_description=data.get("long_description", ""),
        usage_instructions=data.get("usage_instructions", ""),
        eula_url=data.get("eula_url", ""),
        support_contact=data.get("support_contact", ""),
        refund_policy=data.get("refund_policy", ""),
        product_type=data["product_type"],
        offers=tuple(offer_from_json(o) for o in data["offers"]),
        listed=bool(data.get("listed", True)),
        fulfillment_url=data.get("fulfillment_url", ""),
        created_at=data.get("created_at", ""),
        updated_at=data.get("updated_at", ""),
        version=int(record.version),
    )


class DynamoProductStore:
    def get(self, product_id: str) -> Product | None:
        if not findable(product_id):
            return None
        with storage_errors("reading the product"):
            try:
                return product_of(ProductRecord.get(product_id))
            except ProductRecord.DoesNotExist:
                return None

    def fulfillment_urls(self, product_ids: list[str]) -> dict[str, str]:
        """Product id → its fulfillment URL ("" for none), for the products found: one
        BatchGetItem for a page of subscriptions (at most 100 products)."""
        wanted = [p for p in dict.fromkeys(product_ids) if findable(p)][:100]
        if not wanted:
            return {}
        records = get_many(*((ProductRecord, p) for p in wanted))
        return {
            record.pk: str(record.document.get("fulfillment_url") or "")
            for record in records
            if record is not None
        }

    def listed(self) -> list[Product]:
        """Every listed product, by name: one Query per MB of catalog."""
        with storage_errors("reading the catalog"):
            return [product_of(r) for r in ProductRecord.by_catalog.query(LISTED)]

    def all(self) -> list[Product]:
        """Admin listing, unlisted products included (admin only, never on a buyer's path)."""
        with storage_errors("listing products"):
            return sorted((product_of(r) for r in ProductRecord.scan()), key=lambda p: p.name)

    def save(self, product: Product, *, expected_version: int | None) -> Product:
        """Create (`expected_version` None: the id must be new) or replace the version read."""
        stored = product._replace(version=(expected_version or 0) + 1)
        condition = (
            ProductRecord.pk.does_not_exist()
            if expected_version is None
            else ProductRecord.version == expected_version
        )
        with storage_errors("saving the product"):
            try:
                record_of(stored).save(condition=condition)
            except PutError as exc:
                if exc.cause_response_code == "ConditionalCheckFailedException":
                    raise Conflict(
                        f"Product {product.id!r} already exists or changed meanwhile.", field="id"
                    ) from exc
                raise
        return stored

    def delete(self, product_id: str) -> bool:
        with storage_errors("deleting the product"):
            try:
                ProductRecord.get(product_id).delete()
            except ProductRecord.DoesNotExist:
                return False
        return True
