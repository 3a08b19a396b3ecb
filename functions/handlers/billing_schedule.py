"""Lambda: the monthly EventBridge schedule → a billing run for the month just ended.

The rule fires early on the 1st (UTC), when the previous month's usage is complete. An event
carrying `{"period": "YYYY-MM"}` (a manual invoke, or a scheduler input) bills that month
instead. Starting a run twice is harmless: a re-run issues and announces nothing new."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions import billing
from functions.clock import now
from functions.observability import logger


def period_to_bill(event: dict[str, Any]) -> str:
    chosen = event.get("period") if isinstance(event, dict) else None
    return billing.parse_period(chosen) if chosen else billing.previous_period(now())


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    period = period_to_bill(event)
    from functions.store.billing_ports import start_billing_run  # the adapters: once a month

    sent = start_billing_run(period)
    logger.info("Billing run started", extra={"period": period, "messages": sent})
    return {"period": period, "messages": sent}
