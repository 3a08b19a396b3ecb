"""Amazon SES: one `SendEmail` per mail, a text and an HTML part, both UTF-8."""

from __future__ import annotations

from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError

from functions.errors import Transient
from functions.store.timeouts import LazyClient


class MailNotSent(Transient):
    """SES did not accept the mail (throttled, unreachable, sender not verified...). The worker
    releases the outbox item and fails the record, so Lambda retries it."""


class SesMailer:
    def __init__(self, region: str) -> None:
        self._ses = LazyClient("ses", region)  # created on the first send

    def send(
        self, sender: str, recipients: Sequence[str], subject: str, text: str, html: str
    ) -> str:
        """SES's message id."""
        try:
            answer = self._ses().send_email(
                Source=sender,
                Destination={"ToAddresses": list(recipients)},
                Message={
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": text, "Charset": "UTF-8"},
                        "Html": {"Data": html, "Charset": "UTF-8"},
                    },
                },
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise MailNotSent(
                f"SES refused the mail to {len(recipients)} recipient(s): {code}."
            ) from exc
        except BotoCoreError as exc:
            raise MailNotSent(f"SES could not be reached: {type(exc).__name__}.") from exc
        return str(answer["MessageId"])
