"""Lambda: the hourly EventBridge schedule → the unsubscribe sweep (`functions.unsubscribes`):
cancelled subscriptions whose metering window has closed are announced `unsubscribe-success`.
Running it twice, or twice at once, announces nothing twice."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.clock import now
from functions.observability import logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from functions import store
    from functions.config import settings
    from functions.store.unsubscribes import DynamoUnsubscribes
    from functions.unsubscribes import sweep

    store.bind(settings())
    result = sweep(DynamoUnsubscribes(), now())
    logger.info(
        "Unsubscribe sweep done",
        extra={"announced": len(result.announced), "skipped": result.skipped},
    )
    return {"announced": list(result.announced), "skipped": result.skipped}
