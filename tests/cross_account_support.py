"""What the cross-account suite (tests/integration/test_console_cross_account.py) needs: the
console's routes read from the Powertools resolver itself, what the suite knows about probing
them, two accounts built through the real code paths, and a snapshot of everything stored.

## Teaching the suite a new console route

Every route of `functions.handlers.console.app` is probed automatically; the suite fails on a
route it cannot probe and says why. What it needs to know:

- **Path parameters** come from the fixed vocabulary `PARAMETERS` (`<integration_id>`,
  `<subscription_id>`, `<invoice_id>`, `<username>`): each names how to find that object of an
  account in `Account`. A route with another parameter fails until its name is added here
  (with the object, built in `world()` through the real code path, and a field of
  `Account`). Prefer renaming the route's parameter to one of the vocabulary.
- **A POST route** needs an entry in `FORMS`: the plausible fields of its form (what its page
  would post), as a function of the account being attacked. The suite adds the session's CSRF
  token and the attacked account's ids in every id-like field (`ID_FIELDS`).
- **A public route** (answering without a session, as the sign-in) is listed in `PUBLIC`.
- GET routes need nothing else: their query string gets the attacked account's ids.

Entries naming a route the console no longer has fail the suite too (the tables stay true).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.billing_support import LocalStack, batch_write
from tests.console_support import new_user
from tests.order_support import subscribe
from tests.storefront_support import CONTRACT_PAYG, create_integration, create_products
from tests.support import coupa_integration

WRONG_PASSWORD = "Not-The-Password-9!"


@dataclass(frozen=True)
class Account:
    """A buyer account and what it owns, each made as its users and buyers make it."""

    id: str
    name: str
    contact_email: str
    integration_id: str
    subscription_id: str
    invoice_id: str
    admin_email: str
    admin_username: str
    member_email: str
    member_username: str

    def markers(self) -> dict[str, str]:
        """Values identifying this account: none may reach another account's pages or
        change through another account's requests."""
        return {
            "account_id": self.id,
            "integration name": self.name,
            "contact email": self.contact_email,
            "integration_id": self.integration_id,
            "subscription_id": self.subscription_id,
            "invoice_id": self.invoice_id,
            "admin email": self.admin_email,
            "admin username": self.admin_username,
            "member email": self.member_email,
            "member username": self.member_username,
        }


PARAMETERS: dict[str, Callable[[Account], str]] = {
    "integration_id": lambda account: account.integration_id,
    "subscription_id": lambda account: account.subscription_id,
    "invoice_id": lambda account: account.invoice_id,
    "username": lambda account: account.member_username,
}
"""The path parameters console routes may have, and the attacked account's value of each."""

ID_FIELDS: dict[str, Callable[[Account], str]] = {
    "account_id": lambda account: account.id,
    **PARAMETERS,
    "email": lambda account: account.member_email,
}
"""Form (and query) fields a probe fills with the attacked account's ids."""


@dataclass(frozen=True)
class Form:
    """How a POST route's form is filled. `fields(target)`: its plausible fields, given the
    account under attack (they win over `ID_FIELDS`); `csrf`: `session` (the signed-in
    user's token) or `pre-session` (the sign-in form's nonce cookie and token)."""

    fields: Callable[[Account], dict[str, str]] = lambda _target: {}
    csrf: str = "session"


FORMS: dict[str, Form] = {
    "POST /console/sign-in": Form(
        lambda target: {
            "step": "password",
            "username": target.admin_email,
            "password": WRONG_PASSWORD,
        },
        csrf="pre-session",
    ),
    "POST /console/sign-out": Form(),
    # Procurement integrations (admins): a valid Coupa integration's form, so a refusal can
    # only come from the scoping (creating one concerns the sender's own account alone).
    "POST /console/integrations": Form(
        lambda target: {
            "system": "coupa",
            "name": f"Probe of {target.name}",
            "buyer_domain": "DUNS",
            "buyer_identity": f"probe-{target.id}",
            "account_email": target.contact_email,
            "cart_field": "cxml-base64",
            "test_mode": "on",
        }
    ),
    "POST /console/integrations/<integration_id>": Form(
        lambda target: {"name": f"Renamed by a probe of {target.name}", "test_mode": "on"}
    ),
    "POST /console/integrations/<integration_id>/secret": Form(),
    "POST /console/integrations/<integration_id>/disable": Form(),
    "POST /console/integrations/<integration_id>/enable": Form(),
    # Members (admins): invite, re-role, remove.
    "POST /console/members": Form(  # a new colleague: only the sender's account may gain one
        lambda _target: {"email": f"probe-{uuid.uuid4().hex[:12]}@probe.example", "role": "admin"}
    ),
    "POST /console/members/<username>/role": Form(lambda _target: {"role": "admin"}),
    "POST /console/members/<username>/remove": Form(),
}
"""Every POST route of the console, keyed `"POST <rule>"`."""

PUBLIC = {"GET /console/sign-in", "POST /console/sign-in", "POST /console/sign-out"}
"""Routes that answer without a session (the rest redirect to the sign-in or refuse)."""

_PARAMETER = re.compile(r"<(\w+)>")


@dataclass(frozen=True)
class Route:
    method: str
    rule: str
    parameters: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        return f"{self.method} {self.rule}"

    @property
    def public(self) -> bool:
        return self.name in PUBLIC

    def path(self, account: Account) -> str:
        """The route's path with `account`'s object for every parameter."""
        return _PARAMETER.sub(lambda m: PARAMETERS[m.group(1)](account), self.rule)


def console_routes() -> list[Route]:
    """Every (method, rule) the console's resolver serves, as Powertools keeps them: static
    and dynamic `Route`s with the method and the rule as written (`/console/x/<name>`)."""
    from functions.handlers.console import app

    routes = {
        (route.method.upper(), route.path) for route in [*app._static_routes, *app._dynamic_routes]
    }
    return [Route(m, r, tuple(_PARAMETER.findall(r))) for m, r in sorted(routes, key=_order)]


def _order(route: tuple[str, str]) -> tuple[str, str]:
    return route[1], route[0]


def unprobeable(route: Route) -> list[str]:
    """Why the suite cannot probe `route` (empty when it can), each with how to teach it."""
    problems = []
    if route.method not in ("GET", "POST"):
        problems.append(f"{route.name}: the console's pages only GET and POST; a {route.method} "
                        "route needs a probe of its own in tests/cross_account_support.py")  # fmt: skip
    for name in route.parameters:
        if name not in PARAMETERS:
            problems.append(
                f"{route.name}: path parameter <{name}> is not in the vocabulary "
                f"({', '.join(f'<{p}>' for p in PARAMETERS)}): use one of them, or add "
                f"'{name}' to PARAMETERS in tests/cross_account_support.py with the object it "
                "names built for each account in world()"
            )
    if route.method == "POST" and route.name not in FORMS:
        problems.append(
            f"{route.name}: the suite does not know its form; add "
            f'"{route.name}": Form(lambda target: {{...plausible fields...}}) to FORMS in '
            "tests/cross_account_support.py"
        )
    return problems


def stale_entries(routes: list[Route]) -> list[str]:
    names = {route.name for route in routes}
    return [
        f"{name} is taught in tests/cross_account_support.py ({table}) but the console has no "
        "such route: remove the entry"
        for table, entries in (("FORMS", set(FORMS)), ("PUBLIC", PUBLIC))
        for name in sorted(entries - names)
    ]


# --- the two accounts -------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    a: Account
    b: Account
    dump: dict[str, Any]


_BUILT: dict[str, World] = {}
"""The world once built in this process, per Cognito pool: its users live in the session's
pool; its stored items are put back into each test's fresh tables."""

_ACCOUNTS = {
    "a": ("111122223333", "Acme Coupa", "it@acme.example", "acme-coupa"),
    "b": ("444455556666", "Globex Coupa", "it@globex.example", "globex-coupa"),
}


def world(api: Any, aws: dict[str, Any], pool: dict[str, Any]) -> World:
    """Accounts A and B, each with an admin, a member, a live Coupa integration, a subscription
    from a real punchout and PO, and the contract invoice the billing worker issued for it.
    Built through the real code paths once per process, then restored item for item (a
    punchout, a PO and the triggers take seconds; restoring takes milliseconds)."""
    built = _BUILT.get(pool["CONSOLE_USER_POOL_ID"])
    if built is not None:
        _restore(aws, built.dump)
        return built
    create_products(api, CONTRACT_PAYG)
    integrations = {}
    for key, (account_id, name, email, identity) in _ACCOUNTS.items():
        integrations[key] = create_integration(api, coupa_integration(
            name=name, account_id=account_id, account_email=email, test_mode=False,
            buyer_identity={"domain": "DUNS", "identity": identity}))  # fmt: skip
        subscribe(api, integrations[key])
    stack = LocalStack.on(api, aws, clock=None)
    stack.run_triggers()  # the contract invoices, as the outbox stream and queues make them
    accounts = {}
    for key, (account_id, name, email, _identity) in _ACCOUNTS.items():
        integration_id = integrations[key]["id"]
        (invoice,) = stack.invoices(integration_id)
        people = {}
        for role in ("admin", "member"):
            address = new_user(pool, account_id, role)
            user = pool["cognito"].admin_get_user(
                UserPoolId=pool["CONSOLE_USER_POOL_ID"], Username=address
            )
            people[role] = (address, user["Username"])
        accounts[key] = Account(
            account_id, name, email, integration_id, invoice["subscription_id"],
            invoice["invoice_id"], *people["admin"], *people["member"],
        )  # fmt: skip
    built = World(accounts["a"], accounts["b"], _dump(aws))
    _BUILT[pool["CONSOLE_USER_POOL_ID"]] = built
    return built


def _dump(aws: dict[str, Any]) -> dict[str, Any]:
    dynamodb, s3 = aws["dynamodb"], aws["s3"]
    tables = {name: _scan(dynamodb, name) for name in dynamodb.list_tables()["TableNames"]}
    objects = {}
    for bucket in s3.list_buckets()["Buckets"]:
        for key in _keys(s3, bucket["Name"]):
            stored = s3.get_object(Bucket=bucket["Name"], Key=key)
            objects[(bucket["Name"], key)] = (stored["Body"].read(), stored.get("ContentType"))
    return {"tables": tables, "objects": objects}


def _restore(aws: dict[str, Any], dump: dict[str, Any]) -> None:
    for name, items in dump["tables"].items():
        batch_write(aws["dynamodb"], name, items)
    for (bucket, key), (body, content_type) in dump["objects"].items():
        extra = {"ContentType": content_type} if content_type else {}
        aws["s3"].put_object(Bucket=bucket, Key=key, Body=body, **extra)


def _scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = dynamodb.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _keys(s3: Any, bucket: str) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.extend(entry["Key"] for entry in page.get("Contents", []))
    return keys


# --- everything stored, before and after a probe -----------------------------------------------


def snapshot(aws: dict[str, Any]) -> dict[str, str]:
    """Every DynamoDB item of every table moto has, every S3 object (key and ETag), every user
    of every Cognito pool (username, attributes, enabled, status) and every mail SES accepted,
    each as one canonical JSON text under a key naming it. Read from moto's in-memory backends
    (what a Scan, ListObjects or ListUsers would answer), not through boto3: serializing each
    answer costs a third of a second per snapshot, and a probe takes two."""
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.ses.models import ses_backends

    state: dict[str, str] = {}
    for name, table in dynamodb_backends[DEFAULT_ACCOUNT_ID][_REGION].tables.items():
        for item in table.all_items():
            document = item.to_json()["Attributes"]
            key = {part: document[part] for part in ("pk", "sk") if part in document}
            state[f"dynamodb {name} {_canonical(key)}"] = _canonical(document)
    s3 = aws["s3"]
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for entry in page.get("Contents", []):
                state[f"s3 {bucket['Name']}/{entry['Key']}"] = entry["ETag"]
    for pool in cognitoidp_backends[DEFAULT_ACCOUNT_ID][_REGION].user_pools.values():
        for username, user in pool.users.items():
            attributes = {a["Name"]: a["Value"] for a in user.attributes}
            state[f"cognito {pool.id} {username}"] = _canonical(
                {"attributes": attributes, "enabled": user.enabled, "status": user.status}
            )
    sent = ses_backends[DEFAULT_ACCOUNT_ID][_REGION].sent_messages
    for number, message in enumerate(sent):
        state[f"ses message {number}"] = _canonical(
            {
                "subject": getattr(message, "subject", ""),
                "destinations": getattr(message, "destinations", {}),
            }
        )
    return state


_REGION = "us-east-1"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """What differs, one line per added, removed or changed entry (with its contents)."""
    lines = []
    for key in sorted(before.keys() | after.keys()):
        if before.get(key) != after.get(key):
            lines.append(f"{key}: {before.get(key, '(absent)')} -> {after.get(key, '(absent)')}")
    return lines


def concerning(lines: list[str], account: Account) -> list[str]:
    """The changes that touch `account` (mention any of its identifying values)."""
    values = account.markers().values()
    return [line for line in lines if any(value in line for value in values)]


def leaks(body: str, account: Account, asked: str) -> list[str]:
    """`account`'s identifying values in a page's body, except those the request itself named
    (`asked`: its path; a 404 page may say which id it could not find)."""
    return [
        f"{what} {value!r}"
        for what, value in account.markers().items()
        if value in body and value not in asked
    ]
