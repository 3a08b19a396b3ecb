"""The activity table: an integration's cXML exchanges, newest first (docs/CONSOLE.md
"Activity"). pk = integration id, sk = ISO time + entry id (a Query, descending, Limit 100
gives the console's page), `expires_at` the TTL.

An entry is written three ways: beside a punchout session in one TransactWriteItems
(`SessionsWithActivity`: a successful punchout stays two DynamoDB calls), as one more item of
a purchase order's transaction (`activity_record`, functions/store/orders.py), or alone with a
PutItem that never raises (`DynamoActivityLog`: refusals, status updates, outbound documents)."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from functions.activity import SHOWN, ActivityEntry, punchout_started
from functions.sessions import PunchOutSession
from functions.store.batch import connection_of
from functions.store.errors import findable, storage_errors
from functions.store.models import UNBOUND
from functions.store.sessions import DynamoSessionStore, session_record


class ActivityRecord(Model):
    """One exchange. No document, secret, token or URL: only ActivityEntry's clipped facts."""

    class Meta:
        table_name = UNBOUND

    pk = UnicodeAttribute(hash_key=True)  # the integration id
    sk = UnicodeAttribute(range_key=True)  # "<ISO time>#<entry id>": sorts by time
    direction = UnicodeAttribute()
    document = UnicodeAttribute()
    payload_id = UnicodeAttribute(default="")
    code = NumberAttribute(null=True)
    text = UnicodeAttribute(default="")
    who = UnicodeAttribute(default="")
    reference = UnicodeAttribute(default="")
    expires_at = TTLAttribute()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def activity_record(entry: ActivityEntry) -> ActivityRecord:
    return ActivityRecord(
        entry.integration_id,
        f"{_iso(entry.at)}#{entry.entry_id}",
        direction=entry.direction,
        document=entry.document,
        payload_id=entry.payload_id,
        code=entry.code,
        text=entry.text,
        who=entry.who,
        reference=entry.reference,
        expires_at=entry.expires_at,
    )


def entry_of(record: ActivityRecord) -> ActivityEntry:
    at, _, entry_id = record.sk.partition("#")
    return ActivityEntry(
        integration_id=record.pk,
        at=datetime.fromisoformat(at),
        direction=record.direction,
        document=record.document,
        payload_id=record.payload_id,
        code=int(record.code) if record.code is not None else None,
        text=record.text,
        who=record.who,
        reference=record.reference,
        entry_id=entry_id,
    )


class DynamoActivityLog:
    """`functions.activity.ActivityLog`: one PutItem; a failure is logged, never raised (the
    exchange's answer is already decided and must not turn into an error)."""

    def record(self, entry: ActivityEntry) -> None:
        try:
            activity_record(entry).save()
        except Exception:  # whatever it is, the answer stands
            # Imported here: the store package loads with every function, before anything it
            # logs is needed (and, in the bench, before the environment names the metrics).
            from functions.observability import logger

            logger.warning(
                "activity entry not recorded",
                extra={"integration_id": entry.integration_id, "document": entry.document},
                exc_info=True,
            )


def recent(integration_id: str, limit: int = SHOWN) -> list[ActivityEntry]:
    """The integration's newest entries, newest first: one Query."""
    if not findable(integration_id):
        return []
    with storage_errors("reading the integration's activity"):
        return [
            entry_of(record)
            for record in ActivityRecord.query(
                integration_id, scan_index_forward=False, limit=min(limit, SHOWN)
            )
        ]


class SessionsWithActivity(DynamoSessionStore):
    """The punchout's session store (`functions.sessions.SessionRepository`), its `put` writing
    the session and its activity entry in one TransactWriteItems: the punchout's budget stays two
    DynamoDB calls (the integration's read, this write), and the entry exists exactly when the
    session does."""

    def put(self, session: PunchOutSession) -> None:
        with (
            storage_errors("storing the punchout session"),
            TransactWrite(connection=connection_of(ActivityRecord)) as transaction,
        ):
            transaction.save(session_record(session))
            transaction.save(activity_record(punchout_started(session)))
