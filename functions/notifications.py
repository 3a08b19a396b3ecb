"""The mail the marketplace sends about subscriptions, from outbox item to sent email.

The order handler writes an outbox item in the same transaction as the subscription it
announces; the outbox table's stream triggers the email worker, which calls `deliver`: claim the
item (so duplicate or concurrent deliveries of the stream record send once), render it, hand it to
SES, mark it sent. A failure releases the claim and raises, so Lambda retries the record (and,
after its retries, puts it in the dead-letter queue). Plain Python: the outbox and the mailer are
ports, implemented in `functions.store.outbox` and `functions.store.mail`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from functions.errors import Transient
from functions.formatting import FILTERS, day
from functions.links import SUBSCRIPTIONS_LINK_LIFETIME, sign_subscriptions_link
from functions.urls import BadUrl, parse_web_url
from functions.web.render import render

SUBSCRIPTION_READY = "subscription_ready"
SUBSCRIPTION_CANCELLED = "subscription_cancelled"
BUDGET_HELD = "budget_held"  # usage held awaiting a higher budget (`functions.budgets`)
TEMPLATES = (SUBSCRIPTION_READY, SUBSCRIPTION_CANCELLED, BUDGET_HELD)

PENDING = "pending"
SENDING = "sending"
SENT = "sent"

_TEMPLATE_DIR = Path(__file__).parent / "web" / "templates"
_text_environment = Environment(
    # Subjects and text/plain parts: no HTML escaping (a text part shows `&lt;` literally), and
    # none needed, as no mail client interprets a text part as HTML. The HTML part is rendered
    # by the one autoescaped environment (`functions.web.render`).
    loader=FileSystemLoader(_TEMPLATE_DIR),
    autoescape=False,  # noqa: S701 (text/plain and subject lines only, never HTML)
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    auto_reload=False,
)
_text_environment.filters.update(FILTERS)

_REQUIRED = ("base_url", "account_id", "product_name", "subscription_id")
"""And `order_id`, unless the mail announces a pre-approved subscription (no PO exists)."""
_ONE_LINE = (
    "account_id",
    "integration_name",
    "product_name",
    "offer_name",
    "order_id",
    "subscription_id",
    "requester_name",
    "requester_email",
    "support_contact",
)
# Control characters and bidirectional overrides: product and buyer text could otherwise fake
# lines, reorder what a reader sees, or break the subject header.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
MAX_INSTRUCTIONS = 4000
MAX_POLICY = 1000


@dataclass(frozen=True)
class OutboxMail:
    """An outbox item as the worker claimed it."""

    key: str  # "email#<subscription id>#<event>"
    template: str
    recipients: tuple[str, ...]
    context: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Delivery:
    """What `deliver` did: `sent`, `already_handled` (sent, claimed by another worker, or gone),
    or `sent_unrecorded` (SES accepted it but marking it sent failed: see `deliver`)."""

    key: str
    outcome: str
    message_id: str | None = None


class UnsendableMail(Exception):
    """The item can never be sent as it stands (unknown template, missing context, no
    recipients): retries cannot help, it ends in the dead-letter queue for a person to fix."""


class MailBeingSent(Transient):
    """Another worker holds a live claim on the item: retry later. If that worker died, its
    lease expires and the retry sends the mail; if it succeeded, the retry finds it sent."""


class Outbox(Protocol):
    def claim(self, key: str, now: datetime, lease_seconds: int = ...) -> OutboxMail | None: ...

    def mark_sent(self, key: str, message_id: str, now: datetime) -> None: ...

    def release(self, key: str) -> None: ...


class Mailer(Protocol):
    def send(
        self, sender: str, recipients: Sequence[str], subject: str, text: str, html: str
    ) -> str: ...


def is_fresh(image: Mapping[str, Any]) -> bool:
    """Does this stream image announce mail to send? Only an item as its producer wrote it:
    pending, never attempted. The worker's own writes reach the stream too (claim → sending,
    mark sent → sent, release → pending with attempts ≥ 1) and must not trigger a send: a
    failed attempt is retried by Lambda re-delivering the original record, never by the echo of
    the release (which would multiply the retries of every failure)."""
    try:
        attempts = int(image.get("attempts") or 0)
    except (TypeError, ValueError):
        return False
    return image.get("status") == PENDING and attempts == 0


def _one_line(value: Any) -> str:
    return " ".join(_INVISIBLE.sub("", str(value or "")).split())


def _paragraphs(value: Any) -> str:
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text.replace("\t", "    "))
    return text.strip()[:MAX_INSTRUCTIONS]


def _date(value: Any) -> str:
    """An ISO instant as a reader would write it, in UTC: `26 November 2026, 10:00 UTC`."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return _one_line(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{day(moment)}, {moment:%H:%M} UTC"


def template_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """The item's context, checked and made safe to show: one-line fields stay one line, the
    test flag is a real bool, optional fields default to empty."""
    preapproved = context.get("preapproved") is True
    missing = [name for name in _REQUIRED if not _one_line(context.get(name))]
    if not preapproved and not _one_line(context.get("order_id")):
        missing.append("order_id")
    if missing:
        raise UnsendableMail(f"the mail context lacks {', '.join(missing)}")
    values: dict[str, Any] = {name: _one_line(context.get(name)) for name in _ONE_LINE}
    values["base_url"] = str(context["base_url"]).strip().rstrip("/")
    values["test"] = context.get("test") is True
    values["preapproved"] = preapproved
    values["set_up_account"] = context.get("set_up_account") is True  # functions/handoff.py
    values["usage_instructions"] = _paragraphs(context.get("usage_instructions"))
    values["cancelled_at"] = _date(context.get("cancelled_at"))
    values["refund_policy"] = _paragraphs(context.get("refund_policy"))[:MAX_POLICY]
    values["eula_url"] = _https(context.get("eula_url"))
    for name in ("activated_at", "trial_ends_at", "ends_at"):
        values[name] = day(str(context.get(name) or ""))
    values["budget"] = _budget(context.get("budget"))
    return values


def _budget(raw: Any) -> dict[str, Any]:
    """The budget mail's figures, each one line (formatted by `functions.budgets`)."""
    found = raw if isinstance(raw, Mapping) else {}
    held = found.get("held")
    return {
        **{name: _one_line(found.get(name)) for name in
           ("approved", "invoiced", "held_amount", "suggested")},
        "held": [_one_line(h) for h in held] if isinstance(held, list) else [],
    }  # fmt: skip


def _https(value: Any) -> str:
    """A link the mail may show: an https URL (checked on input, and again here), else none."""
    text = _one_line(value)
    try:
        return parse_web_url(text).text if text else ""
    except BadUrl:
        return ""


def render_email(
    template: str, context: Mapping[str, Any], subscriptions_link: str, link_expires: datetime
) -> RenderedEmail:
    """Subject, text and HTML parts of `template` (`subscription_ready`, ...)."""
    if template not in TEMPLATES:
        raise UnsendableMail(f"no email template {template!r}")
    values = template_context(context)
    values["subscriptions_link"] = subscriptions_link
    values["link_expires"] = day(link_expires)
    try:
        subject = _text_environment.get_template(f"email/{template}.subject.txt").render(values)
        text = _text_environment.get_template(f"email/{template}.txt").render(values)
        html = render(f"email/{template}.html", **values)
    except TemplateNotFound as exc:
        raise UnsendableMail(f"email template file {exc.name} is missing") from exc
    return RenderedEmail(subject=_one_line(subject), text=text, html=html)


def compose(mail: OutboxMail, key: bytes, at: datetime) -> RenderedEmail:
    """The email for a claimed item, with a freshly signed "Your subscriptions" link."""
    context = template_context(mail.context)
    expires = at + SUBSCRIPTIONS_LINK_LIFETIME
    link = sign_subscriptions_link(key, context["base_url"], context["account_id"], expires)
    return render_email(mail.template, mail.context, link, expires)


def deliver(
    key: str,
    outbox: Outbox,
    mailer: Mailer,
    sender: str,
    link_key: Callable[[], bytes],
    at: datetime,
) -> Delivery:
    """Claim, render, send, mark sent. Raises (after releasing the claim) when the mail was not
    sent, so the stream record is retried.

    Once SES has accepted the mail, a failure to mark it sent is reported, not raised: raising
    would have the record retried, and a retry after the lease expires sends the mail twice.
    The item then stays `sending` until its TTL, which is the lesser evil."""
    mail = outbox.claim(key, at)
    if mail is None:
        return Delivery(key, "already_handled")
    try:
        recipients = tuple(dict.fromkeys(r.strip() for r in mail.recipients if r.strip()))
        if not recipients:
            raise UnsendableMail("the mail has no recipients")
        email = compose(mail, link_key(), at)
        message_id = mailer.send(sender, recipients, email.subject, email.text, email.html)
    except BaseException:
        outbox.release(key)
        raise
    try:
        outbox.mark_sent(key, message_id, at)
    except Transient:
        return Delivery(key, "sent_unrecorded", message_id)
    return Delivery(key, "sent", message_id)
