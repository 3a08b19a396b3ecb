"""CloudFormation adds or deletes at most one global secondary index per table in one stack
update ("You can delete or add one global secondary index without interruption. If you do both
in the same update ... the update fails"): a release changing more fails every existing
deployment's upgrade. Changing an index's keys is a delete and an add, so it counts twice."""

from tests.infra.support import TABLE_OF_VARIABLE, Synthesized

Indexes = dict[str, tuple[str, str | None]]
RELEASED_INDEXES: dict[str, Indexes] = {
    "IntegrationsTable": {"by-account": ("account_key", None)},
    "SessionsTable": {},
    "ProductsTable": {"catalog": ("catalog", "name_key")},
    "RequestsTable": {"awaiting-punchout": ("awaiting_integration", "created_at")},
    "OrdersTable": {},
    "SubscriptionsTable": {
        "by-account": ("account_id", "created_at"),
        "billable": ("billing_shard", "created_at"),
        "by-account-product": ("account_product", "created_at"),
    },
    "OutboxTable": {},
    "UsageTable": {},
    "ActivityTable": {},  # new in issue 15, with no index
    "InvoicesTable": {
        "by-integration": ("integration_id", "period_key"),
        "by-subscription": ("subscription_id", "period_key"),
    },
}
"""Each table's GSIs as deployed by the last release (main before issue 14, f610f1c).
NEXT ENGINEER: after each release, set this to that release's indexes (`contracts.*_INDEXES`),
so the test judges the next upgrade against what is deployed."""


def _changes(released: Indexes, now: Indexes) -> tuple[set[str], set[str]]:
    """The indexes an update would delete or add (a changed key schema is both)."""
    removed = {name for name, keys in released.items() if now.get(name) != keys}
    added = {name for name, keys in now.items() if released.get(name) != keys}
    return removed, added


def test_an_upgrade_adds_or_removes_at_most_one_index_per_table(stack: Synthesized) -> None:
    synthesized: dict[str, Indexes] = {}
    for construct_id in TABLE_OF_VARIABLE.values():
        properties = stack.resources[stack.logical_id("AWS::DynamoDB::Table", construct_id)][
            "Properties"
        ]
        indexes = {}
        for index in properties.get("GlobalSecondaryIndexes", []):
            keys = {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]}
            indexes[index["IndexName"]] = (keys["HASH"], keys.get("RANGE"))
        synthesized[construct_id] = indexes

    assert set(synthesized) == set(RELEASED_INDEXES), "a table was added: record its indexes"
    for table, released in RELEASED_INDEXES.items():
        removed, added = _changes(released, synthesized[table])
        assert len(removed) + len(added) <= 1, (
            f"{table}: an update would delete {sorted(removed)} and add {sorted(added)}; "
            "CloudFormation does one GSI per table per update: ship them in separate releases"
        )


def test_a_changed_key_schema_counts_as_a_delete_and_an_add() -> None:
    released = {"billable": ("billing_shard", "created_at")}

    assert _changes(released, {"billable": ("billing_shard", None)}) == ({"billable"}, {"billable"})
    assert _changes(released, {**released, "lifecycle": ("k", "s")}) == (set(), {"lifecycle"})
