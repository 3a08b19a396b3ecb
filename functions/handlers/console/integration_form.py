"""The console's integration form, both ways: the admin API's JSON payload built from the posted
fields (so the console calls the same `integrations.new_integration` / `patched` and stores
identical records), the form's values read back from an integration, and a refusal's API field
(`invoice_delivery.from.identity`) mapped to the form field it is shown next to.

Plain Python: no AWS, no HTTP. The account is never a form field: the caller adds the signed-in
user's `account_id` to a new integration's payload."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.errors import BadRequest
from functions.integrations import Integration
from functions.unit_mapping import FIELD as UNIT_MAPPING

FLAGS = ("test_mode", "preapprove_free", "preapprove_byol", "order_confirmations")
"""Checkboxes: present ("on") is true, absent false, as browsers post them."""

TEXTS = (
    "name", "description", "account_email", "approval_redirect_url", "cart_field",
    "tax_rate", "tax_description", "tax_category", "tax_location", "tax_exemption",
    "tax_exemption_reason", "buyer_tax_id", "remit_to_code",
)  # fmt: skip
"""Settings posted as text under the admin API's own names, passed on as typed."""

PARTIES = ("from", "to", "sender")
"""The invoice endpoint's credentials (`invoice_delivery.<party>.domain|identity`)."""

DELIVERY = "delivery"
"""The checkbox that turns Coupa invoice delivery on; its fields are `delivery_*`."""

MAX_UNIT_LINES = 200


def _delivery_fields() -> list[str]:
    return [
        "delivery_url",
        *(f"delivery_{party}_{part}" for party in PARTIES for part in ("domain", "identity")),
        "delivery_secret",
    ]


FIELDS = (
    "system", "buyer_domain", "buyer_identity", *TEXTS, *FLAGS, UNIT_MAPPING, DELIVERY,
    *_delivery_fields(),
)  # fmt: skip
"""Every field of the form: the only keys of `values` a template reads."""


def _unit_mapping(text: str) -> dict[str, str]:
    """`HUR = HR` per line (blank lines ignored) into the API's `{"HUR": "HR"}`; the codes
    themselves are the API's to check."""
    mapping: dict[str, str] = {}
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_UNIT_LINES:
        raise BadRequest(f"At most {MAX_UNIT_LINES} lines, one unit each.", field=UNIT_MAPPING)
    for number, line in enumerate(lines, 1):
        ours, equals, theirs = line.partition("=")
        if not equals or not ours.strip() or not theirs.strip():
            raise BadRequest(
                f"Line {number} is not 'OUR = THEIRS' (like 'HUR = HR').", field=UNIT_MAPPING
            )
        if ours.strip() in mapping:
            raise BadRequest(f"Line {number} names {ours.strip()!r} again.", field=UNIT_MAPPING)
        mapping[ours.strip()] = theirs.strip()
    return mapping


def payload(form: Mapping[str, str], current: Integration | None = None) -> dict[str, Any]:
    """The admin API's JSON for a create (`current` None) or a full-form patch. The form always
    shows every setting, so an unchecked box is false and an empty mapping removes the units.
    On a patch the system and buyer identity are not sent (they stay: changing the identity is
    a new integration), nor an empty invoice secret (the stored one is kept)."""
    body: dict[str, Any] = {name: form.get(name, "") for name in TEXTS}
    if not body["tax_rate"].strip():
        del body["tax_rate"]  # the API's default (0) on create, the current rate on a patch
    body.update({name: form.get(name) == "on" for name in FLAGS})
    body[UNIT_MAPPING] = _unit_mapping(form.get(UNIT_MAPPING, ""))
    system = current.system if current is not None else form.get("system", "")
    if current is None:
        body["system"] = system
        body["buyer_identity"] = {
            "domain": form.get("buyer_domain", ""),
            "identity": form.get("buyer_identity", ""),
        }
    if system == "coupa":
        body["invoice_delivery"] = _invoice_delivery(form, current)
    return body


def _invoice_delivery(form: Mapping[str, str], current: Integration | None) -> Any:
    if form.get(DELIVERY) != "on":
        return None
    delivery: dict[str, Any] = {"url": form.get("delivery_url", "")}
    for party in PARTIES:
        delivery[party] = {
            part: form.get(f"delivery_{party}_{part}", "") for part in ("domain", "identity")
        }
    secret = form.get("delivery_secret", "")
    if secret or current is None or current.invoice_delivery is None:
        delivery["shared_secret"] = secret
    return delivery


def values(integration: Integration | None = None, *, email: str = "") -> dict[str, str]:
    """The form's values: an integration's settings, or a new one's defaults (test mode on,
    the signed-in admin's email for the account's mail)."""
    if integration is None:
        return {
            **dict.fromkeys(FIELDS, ""),
            "system": "coupa",
            "account_email": email,
            "test_mode": "on",
            "cart_field": "cxml-base64",
            "tax_rate": "0",
            "tax_category": "sales",
            "tax_exemption": "zeroRated",
        }
    view = integration.public_view()
    found = {name: "" if view[name] is None else str(view[name]) for name in TEXTS}
    found.update({name: "on" if view[name] else "" for name in FLAGS})
    found["system"] = integration.system
    found["buyer_domain"] = integration.buyer.domain
    found["buyer_identity"] = integration.buyer.identity
    found[UNIT_MAPPING] = "\n".join(f"{o} = {t}" for o, t in integration.unit_mapping.pairs)
    delivery = view["invoice_delivery"]
    found[DELIVERY] = "on" if delivery else ""
    found["delivery_url"] = delivery["url"] if delivery else ""
    for party in PARTIES:
        for part in ("domain", "identity"):
            found[f"delivery_{party}_{part}"] = delivery[party][part] if delivery else ""
    found["delivery_secret"] = ""  # never shown: left empty, the stored secret is kept
    return found


def posted(form: Mapping[str, str]) -> dict[str, str]:
    """The posted values to show again with a refusal (only the form's own fields)."""
    shown = {name: form.get(name, "") for name in FIELDS}
    shown["delivery_secret"] = ""  # a secret is never echoed back into a page
    return shown


def form_field(api_field: str | None) -> str:
    """The form field a refusal of the API's `api_field` is shown next to ("" for the form)."""
    if not api_field:
        return ""
    if api_field in ("buyer_identity", "buyer_identity.identity"):
        return "buyer_identity"
    if api_field == "buyer_identity.domain":
        return "buyer_domain"
    if api_field.startswith(UNIT_MAPPING):
        return UNIT_MAPPING
    if api_field.startswith("invoice_delivery"):
        parts = api_field.split(".")[1:]
        if not parts or parts[0] not in ("url", "shared_secret", *PARTIES):
            return "delivery_url"
        if parts[0] == "shared_secret":
            return "delivery_secret"
        if parts[0] in PARTIES:
            part = parts[1] if len(parts) > 1 and parts[1] in ("domain", "identity") else "domain"
            return f"delivery_{parts[0]}_{part}"
        return "delivery_url"
    return api_field if api_field in FIELDS else ""
